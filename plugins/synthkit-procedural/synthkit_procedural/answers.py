"""Reading a final answer out of a response, and comparing answers.

A response's answer is its last ``Final answer: X`` line, else its last ``\\boxed{X}``.
Two answers are the same when they agree after :func:`normalise`, or when both are numbers
(integers, decimals or fractions) of exactly the same value, item by item for lists:
``3/4`` equals ``0.75``, but ``1/3`` does not equal ``0.333``.
"""

from __future__ import annotations

import re
from fractions import Fraction

__all__ = ["extract_final_answer", "normalise", "as_number", "same_answer"]

_FINAL = re.compile(r"^[ \t>*_#]*final answer[ \t*_]*[:：](?:\*\*|__)?[ \t]*(.*?)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_FRAC = re.compile(r"\\[dt]?frac\{(-?\d+)\}\{(-?\d+)\}")
_INTEGER = re.compile(r"[-+]?\d+")
_DECIMAL = re.compile(r"[-+]?\d*\.\d+")
_RATIO = re.compile(r"([-+]?\d+)\s*/\s*([-+]?\d+)")
_WRAPPERS = ("**", "__", "$", "`", '"', "'")


def extract_final_answer(text: str) -> str | None:
    """Return the answer a response gives, or ``None`` if it gives none.

    A ``Final answer:`` line with nothing after the colon takes the next non-empty line.
    """
    answers = []
    for m in _FINAL.finditer(text):
        answer = m.group(1) or next((line for line in text[m.end() :].splitlines() if line.strip()), "")
        if answer.strip():
            answers.append(answer.strip())
    return answers[-1] if answers else _last_boxed(text)


def _last_boxed(text: str) -> str | None:
    """Return the content of the last ``\\boxed{...}``, braces balanced."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1 : j].strip()
    return None


def normalise(answer: str) -> str:
    """Return ``answer`` trimmed of markup and trailing periods, in lower case, spaced ``a, b``."""
    s = answer.strip()
    boxed = _last_boxed(s) if s.startswith("\\boxed{") else None
    s = boxed if boxed is not None else s
    s = _FRAC.sub(r"\1/\2", s)
    changed = True
    while changed:
        before = s
        s = s.strip().rstrip(".").strip()
        for w in _WRAPPERS:
            if len(s) > 2 * len(w) and s.startswith(w) and s.endswith(w):
                s = s[len(w) : -len(w)]
        if "," in s and s.startswith("[") and s.endswith("]"):
            s = s[1:-1]
        changed = s != before
    s = re.sub(r"^[a-z]\s*=\s*", "", s, flags=re.IGNORECASE)  # "x = 9/4" -> "9/4"
    s = re.sub(r"\s*,\s*", ", ", s)
    return re.sub(r"\s+", " ", s).lower()


def as_number(text: str) -> Fraction | None:
    """Return the exact value of an integer, decimal or fraction such as ``-9/4``, else ``None``."""
    s = text.strip()
    if _INTEGER.fullmatch(s) or _DECIMAL.fullmatch(s):
        return Fraction(s)
    m = _RATIO.fullmatch(s)
    if m and int(m.group(2)) != 0:
        return Fraction(int(m.group(1)), int(m.group(2)))
    return None


def same_answer(got: str, expected: str) -> bool:
    """Return whether ``got`` states the ``expected`` answer."""
    g, e = normalise(got), normalise(expected)
    if g == e:
        return True
    g_items, e_items = g.split(", "), e.split(", ")
    if len(g_items) != len(e_items):
        return False
    for a, b in zip(g_items, e_items):
        if a != b:
            x, y = as_number(a), as_number(b)
            if x is None or x != y:
                return False
    return True
