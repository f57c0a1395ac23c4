"""The ``math`` verifier: final-answer equivalence, on top of math-verify and sympy.

The response's final answer is found in this order: the last ``\\boxed{...}``; the last
line of the form ``Final answer: ...``, ``The answer is ...`` or ``#### ...`` (its last
``$...$`` if it has math in it); the last inline math (``$...$``, ``\\(...\\)``); the whole
response when it is a single short line; otherwise math-verify's own extraction. The
gold answer and the final answer are then parsed (LaTeX or plain notation: fractions,
decimals, percentages, sets, tuples, intervals, expressions) and compared with
``math_verify.verify``.

What counts as equal:

* ``1/2``, ``0.5``, ``\\frac{2}{4}`` and ``50%`` are one number; ``1/3`` and ``0.33`` are not
  (decimals must agree to 6 places).
* ``50`` and ``50%`` are taken as the same answer (a question asking for a percentage is
  answered either way).
* ``{1, 2}`` and ``{2, 1}`` are one set; ``(1, 2)`` and ``(2, 1)`` are different tuples (or
  intervals).
* ``x^2+2x+1`` and ``(x+1)^2`` are one expression.

``math_verify`` and ``sympy`` are imported on first use.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from synthkit.interfaces import Verifier
from synthkit.records import Record, Verdict

__all__ = ["MathVerifier", "final_answer", "parse_answer", "equivalent"]

_ANSWER_LINE = re.compile(
    r"(?:final answer|the answer is|answer)\s*(?:is)?\s*[:=]?\s*(.+?)\s*$|^\s*####\s*(.+?)\s*$", re.I | re.M
)
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
_SCI = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[eE]([+-]?\d+)(?![\w.])")


def _last_boxed(text: str) -> str | None:
    """Return the content of the last ``\\boxed{...}`` (or ``\\fbox{...}``), braces balanced."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    i = text.find("{", start)
    if i < 0:
        return None
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
    return None


_INLINE_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)


def _last_inline_math(text: str) -> str | None:
    found = [next(g for g in m.groups() if g is not None) for m in _INLINE_MATH.finditer(text)]
    found = [f.strip() for f in found if f.strip()]
    return found[-1] if found else None


def final_answer(text: str) -> str | None:
    """Return the final answer written in a response, or ``None`` if there is no clear one.

    >>> final_answer("So x = 3.\\nFinal answer: \\\\frac{1}{2}")
    '\\\\frac{1}{2}'
    >>> final_answer("we get $\\\\boxed{(1, 2)}$.")
    '(1, 2)'
    """
    boxed = _last_boxed(text)
    if boxed is not None:
        return boxed.strip()
    matches = list(_ANSWER_LINE.finditer(text))
    if matches:
        m = matches[-1]
        answer = (m.group(1) or m.group(2)).strip().rstrip(".").strip()
        return _last_inline_math(answer) or answer
    math = _last_inline_math(text)
    if math is not None:
        return math
    stripped = text.strip()
    if stripped and "\n" not in stripped and len(stripped) <= 60:
        return stripped
    return None


def _normalise(answer: str) -> str:
    s = answer.strip().rstrip(".").strip()
    if len(s) >= 2 and s[0] == "$" and s[-1] == "$":
        s = s.strip("$").strip()
    for wrapper in ("\\(", "\\["):
        if s.startswith(wrapper):
            s = s[2:-2].strip()
    s = _UNESCAPED_PERCENT.sub(r"\\%", s)
    s = _SCI.sub(r"\1\\cdot 10^{\2}", s)
    if s.startswith("{") and s.endswith("}") and "," in s:
        s = "\\{" + s[1:-1] + "\\}"  # a plain-text set; in LaTeX bare braces only group
    return s


def _timeout() -> int | None:
    # math-verify's timeouts use SIGALRM, which works only in the main thread
    return 5 if threading.current_thread() is threading.main_thread() else None


def parse_answer(answer: str) -> list[Any]:
    """Parse one answer (LaTeX or plain) into math-verify's form; empty if it cannot."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    s = _normalise(answer)
    t = _timeout()
    parsed = parse(f"${s}$", extraction_config=[LatexExtractionConfig()], parsing_timeout=t)
    if not parsed:
        parsed = parse(s, extraction_config=[ExprExtractionConfig()], parsing_timeout=t)
    return parsed


def _parse_response(response: str) -> tuple[list[Any], str | None]:
    from math_verify import parse

    answer = final_answer(response)
    if answer is not None:
        parsed = parse_answer(answer)
        if parsed:
            return parsed, answer
    parsed = parse(response, parsing_timeout=_timeout())
    return parsed, (str(parsed[-1]) if parsed else answer)


def _show(parsed: list[Any], fallback: str) -> str:
    return str(parsed[-1]) if parsed else fallback


def equivalent(gold: str | int | float, response: str) -> tuple[bool, str]:
    """Return whether ``response``'s final answer equals ``gold``, and the reason.

    Args:
        gold: the reference answer, LaTeX or plain (``"\\\\frac{1}{3}"``, ``"1/3"``, ``"50%"``).
        response: a model response, or just an answer.

    >>> equivalent("1/3", "The answer is $\\\\boxed{\\\\frac{1}{3}}$")[0]
    True
    >>> equivalent("1/3", "0.33")
    (False, 'expected 1/3, got 0.33: not equivalent')
    """
    from math_verify import verify

    gold_text = str(gold)
    gold_parsed = parse_answer(gold_text)
    if not gold_parsed:
        return False, f"cannot parse the reference answer {gold_text!r}"
    pred_parsed, pred_text = _parse_response(response)
    if not pred_parsed:
        return False, "no final answer found in the response"
    shown = pred_text if pred_text is not None else _show(pred_parsed, "?")
    t = _timeout()
    if verify(gold_parsed, pred_parsed, timeout_seconds=t):
        return True, f"final answer {shown} equals {gold_text}"
    return False, f"expected {gold_text}, got {shown}: not equivalent"


class MathVerifier(Verifier):
    """Final-answer equivalence with the record's reference answer.

    Args:
        answer_field: the data field holding the reference answer.
        field: the field holding the response.
    """

    name = "math"

    def __init__(self, *, answer_field: str = "answer", field: str = "response") -> None:
        self.answer_field = answer_field
        self.field = field

    async def verify(self, record: Record) -> Verdict:
        gold = record.data.get(self.answer_field)
        if gold is None or gold == "":
            return Verdict(self.name, False, f"the record has no reference answer in {self.answer_field!r}")
        text = record.get(self.field)
        if not isinstance(text, str) or not text.strip():
            return Verdict(self.name, False, f"the record has no {self.field!r} to check")
        ok, reason = equivalent(gold, text)
        return Verdict(self.name, ok, reason, 1.0 if ok else 0.0)
