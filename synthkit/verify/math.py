"""The ``math`` verifier: final-answer equivalence, on top of math-verify and sympy.

**Which answer.** A response's final answers are, in this order of precedence:

1. every ``\\boxed{...}`` (or ``\\fbox``) in it;
2. else the last line of the form ``Final answer: ...``, ``The answer is ...``,
   ``Answer: ...`` or ``#### ...``: its inline maths (``$...$``) if it has any, else the
   values written in its text;
3. else the last inline math of the response, or every inline math of its line when they
   are joined by *or*, *either*, *to*, *between* or a dash;
4. else the values written in the response, when it is one short line (60 characters);
5. else math-verify's own extraction from the whole response.

The *values written in a text* are what is left of it once the prose is set aside:
``The total is 1,000 apples.`` gives ``1000``, ``It costs $12.`` gives ``12``, ``3 or 4``
gives ``3`` and ``4``, ``between 3 and 5`` gives ``3`` and ``5``.

**Hedging is wrong.** When a response commits to several different answers (two boxed
values, ``3 or 4``, a range ``3 to 5``, ``x = 3 or x = 4``) it is not verified, even if one
of them is the reference: the reason says it hedges. So is a list or set of several values
(``3, 4``, ``\\{3, 4\\}``) where the reference is a single value. Saying the same value twice
(``\\boxed{1/2}`` ... ``\\boxed{0.5}``) is one answer.

**Notation.** Both answers are parsed (LaTeX or plain) and compared with
``math_verify.verify`` on sympy, after these readings:

* ``1,000`` is ``1000`` (a comma before exactly three digits separates thousands);
* currency signs and words go (``$12``, ``\\$12``, ``€5``, ``12 dollars``), as do units after a
  number (``5 km``, ``5 cm^2``, ``3 m/s`` when the reference is a number) and ``°``;
* ``25%``, ``25\\%`` and ``25 percent`` are ``1/4``; ``50`` and ``50%`` also count as the same
  answer (a question asking for a percentage is answered either way);
* ``2 1/2`` is the mixed number ``5/2`` (as is ``2\\frac{1}{2}``);
* ``pi`` and ``π`` are ``\\pi``: ``\\boxed{16\\pi}`` equals ``16*pi``;
* ``1.5e3``, ``1.5E+3``, ``1.5 \\times 10^3``, ``1.5 × 10^3`` and ``1.5 x 10^3`` are ``1500``.

What counts as equal:

* ``1/2``, ``0.5``, ``\\frac{2}{4}`` and ``50%`` are one number; ``1/3`` and ``0.33`` are not
  (decimals must agree to 6 places).
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

__all__ = ["MathVerifier", "final_answer", "final_answers", "parse_answer", "equivalent"]

_ANSWER_LINE = re.compile(
    r"(?:final answer|the answer is|answer)\s*(?:is)?\s*[:=]?\s*(.+?)\s*$|^\s*####\s*(.+?)\s*$", re.I | re.M
)
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
_SCI = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[eE]\+?(-?\d+)(?![\w.])")
# plain-text notations, read the same way in the reference and in the response
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,])")
_CURRENCY = re.compile(r"(?:\\\$|\$|€|£|¥)\s*(?=[\d.])|(?<=\d)\s*(?:US\$|USD|EUR|GBP|dollars?|euros?|pounds?)\b", re.I)
_PERCENT_WORD = re.compile(r"(?<=\d)\s*(?:percent|per cent)\b", re.I)
_MIXED = re.compile(r"(?<![\d./^])(\d+)\s+(\d+)\s*/\s*(\d+)(?![\d/.])")
_TIMES_TEN = re.compile(r"(\d)\s*[x×·]\s*10\s*\^")
_PLAIN_PI = re.compile(r"(?<![\\A-Za-z])pi(?![A-Za-z])|π")
# prose: words that are not maths, and the units written after a number
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}(?:'[a-z]+)?")
_MATH_WORDS = frozenset(
    "sqrt pi sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh log ln exp inf infty infinity mod".split()
)
_UNIT_POWER = re.compile(r"(?<=[A-Za-z]{2})\s*(?:\^\s*\{?-?\d+\}?|[²³])")
_UNIT_LETTERS = re.compile(r"(?<=[\d)}])\s*[A-Za-z](?:\s*/\s*[A-Za-z]+)*\s*(?:\^\s*\{?-?\d+\}?|[²³])?$")
_MEANINGFUL = re.compile(r"\d|\\pi|\\infty|\\sqrt|sqrt|\binf")
_HEDGE_JOIN = re.compile(r"\b(?:or|either|to|between)\b|[–—]", re.I)


_INLINE_MATH = re.compile(r"\$\$(.+?)\$\$|(?<!\\)\$(.+?)(?<!\\)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
_PROSE_IN_MATH = re.compile(r"(?<![\\A-Za-z{])(?:[A-Za-z]{3,}|or|to)(?![A-Za-z]*})")


def _inline_maths(text: str) -> list[str]:
    """The inline maths of a text, in order; a ``$...$`` holding prose (``$3 and $``) is two prices, not maths."""
    found = []
    for m in _INLINE_MATH.finditer(text):
        body = next(g for g in m.groups() if g is not None).strip()
        words = [w for w in _PROSE_IN_MATH.findall(re.sub(r"\\text\{[^}]*\}", "", body)) if w.lower() not in _MATH_WORDS]
        if body and not words:
            found.append(body)
    return found


def _last_inline_math(text: str) -> str | None:
    found = _inline_maths(text)
    return found[-1] if found else None


def _all_boxed(text: str) -> list[str]:
    """The contents of every ``\\boxed{...}`` / ``\\fbox{...}``, braces balanced, in order."""
    out = []
    for m in re.finditer(r"\\(?:boxed|fbox)\s*\{", text):
        depth = 0
        for j in range(m.end() - 1, len(text)):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                out.append(text[m.end() : j].strip())
                break
    return out


def _values_in(text: str, *, numeric: bool) -> list[str]:
    """The values written in a text, prose set aside (``The total is 1,000 apples.`` -> ``['1000']``).

    Empty when nothing in it looks like a value (the caller then reads the text whole).
    With ``numeric`` (the reference is a number) a unit after a number goes too: ``3 m/s``.
    """
    plain = _UNIT_POWER.sub("", _plain_notation(text))
    marked = _WORD.sub(lambda m: m.group(0) if m.group(0).lower() in _MATH_WORDS else "\0", plain)
    parts = [p.strip(" \t,;:.!?") for p in re.split(r"\0|[–—]", marked)]
    if numeric:
        parts = [_UNIT_LETTERS.sub("", p).strip(" \t,;:.!?") for p in parts]
    return [p for p in parts if p and _MEANINGFUL.search(p)]


def _plain_notation(s: str) -> str:
    s = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), s)
    s = _CURRENCY.sub("", s)
    s = _PERCENT_WORD.sub(r"\\%", s)
    s = _MIXED.sub(r"(\1+\2/\3)", s)
    s = _TIMES_TEN.sub(r"\1\\times 10^", s)
    s = _PLAIN_PI.sub(r"\\pi ", s)
    return s.replace("°", "^\\circ")


def final_answer(text: str) -> str | None:
    """Return the final answer written in a response, or ``None`` if there is no clear one.

    >>> final_answer("So x = 3.\\nFinal answer: \\\\frac{1}{2}")
    '\\\\frac{1}{2}'
    >>> final_answer("we get $\\\\boxed{(1, 2)}$.")
    '(1, 2)'
    """
    boxed = _all_boxed(text)
    if boxed:
        return boxed[-1]
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
    s = _plain_notation(s).strip()
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


def final_answers(text: str, *, split: bool = True, numeric: bool = False) -> list[str]:
    """Return every final answer a response commits to, by the module's rule; several mean it hedges.

    Args:
        text: the response.
        split: read the values written in an answer's text one by one (``3 or 4`` is two);
            off, an answer's text is one answer (for a reference that is a set or a tuple).
        numeric: the reference is a number, so a unit after a number is dropped.

    >>> final_answers("It is \\\\boxed{3}, or maybe \\\\boxed{4}.")
    ['3', '4']
    >>> final_answers("The total is 1,000 apples.")
    ['1000']
    """

    def values(answer: str) -> list[str]:
        found = _values_in(answer, numeric=numeric) if split else []
        return found or [answer]

    boxed = _all_boxed(text)
    if boxed:
        return list(dict.fromkeys(boxed))
    matches = list(_ANSWER_LINE.finditer(text))
    if matches:
        m = matches[-1]
        answer = (m.group(1) or m.group(2)).strip().rstrip(".").strip()
        maths = _inline_maths(answer)
        if maths:
            return maths if split else maths[-1:]
        return values(answer)
    maths = _inline_maths(text)
    if maths:
        line = next(x for x in reversed(text.splitlines()) if _inline_maths(x)) if "\n" in text else text
        in_line = _inline_maths(line)
        between = _INLINE_MATH.split(line)
        if split and len(in_line) > 1 and _HEDGE_JOIN.search(" ".join(b for b in between[1:-1] if b)):
            return in_line
        return maths[-1:]
    stripped = text.strip()
    if stripped and "\n" not in stripped and len(stripped) <= 60:
        return values(stripped)
    return []


def _kind(parsed: list[Any]) -> str:
    """``"number"``, ``"collection"`` (set, tuple, interval) or ``"expression"``: what a parsed reference is."""
    import sympy

    value = parsed[0] if parsed else None
    if isinstance(value, (sympy.Set, sympy.Tuple, list, tuple)):  # intervals are sets
        return "collection"
    if isinstance(value, sympy.Basic) and not value.free_symbols and not isinstance(value, sympy.Rel):
        return "number"
    return "expression"


def _is_several(parsed: list[Any]) -> bool:
    import sympy

    value = parsed[0] if parsed else None
    if isinstance(value, sympy.Interval):
        return True
    return isinstance(value, (sympy.FiniteSet, sympy.Tuple, list, tuple)) and len(value) > 1


def _same(a: list[Any], b: list[Any]) -> bool:
    from math_verify import verify

    return bool(verify(a, b, timeout_seconds=_timeout()))


def _read_response(response: str, kind: str) -> tuple[list[Any], str | None, str | None]:
    """Return the response's parsed answer, how it was written, and why it hedges (``None`` if it does not)."""
    from math_verify import parse

    found = final_answers(response, split=kind != "collection", numeric=kind == "number")
    parsed = [(a, p) for a in found if (p := parse_answer(a))]
    distinct: list[tuple[str, list[Any]]] = []
    for a, p in parsed:
        if not any(_same(p, q) for _, q in distinct):
            distinct.append((a, p))
    if len(distinct) > 1:
        shown = ", ".join(a for a, _ in distinct[:4])
        where = "boxes" if _all_boxed(response) else "gives"
        return distinct[0][1], shown, f"the response {where} {len(distinct)} different answers ({shown})"
    if distinct:
        answer, p = distinct[0]
        if kind != "collection" and _is_several(p):
            return p, answer, f"the response lists several values ({answer}) where one is asked"
        return p, answer, None
    fallback = parse(response, parsing_timeout=_timeout())
    return fallback, (str(fallback[-1]) if fallback else None), None


def _show(parsed: list[Any], fallback: str) -> str:
    return str(parsed[-1]) if parsed else fallback


def equivalent(gold: str | int | float, response: str) -> tuple[bool, str]:
    """Return whether ``response``'s final answer equals ``gold``, and the reason.

    A response that hedges (several different final answers, a range, a list where one
    value is asked) is not equivalent, whichever of its answers matches.

    Args:
        gold: the reference answer, LaTeX or plain (``"\\\\frac{1}{3}"``, ``"1/3"``, ``"50%"``).
        response: a model response, or just an answer.

    >>> equivalent("1/3", "The answer is $\\\\boxed{\\\\frac{1}{3}}$")[0]
    True
    >>> equivalent("1/3", "0.33")
    (False, 'expected 1/3, got 0.33: not equivalent')
    >>> equivalent("3", "It is 3 or 4.")
    (False, 'expected one answer, 3; the response gives 2 different answers (3, 4): hedging is not verified')
    """
    from math_verify import verify

    gold_text = str(gold)
    gold_parsed = parse_answer(gold_text)
    if not gold_parsed:
        return False, f"cannot parse the reference answer {gold_text!r}"
    pred_parsed, pred_text, hedge = _read_response(response, _kind(gold_parsed))
    if hedge is not None:
        return False, f"expected one answer, {gold_text}; {hedge}: hedging is not verified"
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
