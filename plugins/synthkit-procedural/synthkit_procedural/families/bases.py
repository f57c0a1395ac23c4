"""Base conversion between bases 2 to 16 (digits ``0-9A-F``).

Difficulty 1 converts between base 10 and base 2; difficulty 2 between base 10 and any
base up to 10; from difficulty 3 any pair up to 16, going through base 10 when neither is
10. Numbers grow as ``20 * 5^(d - 1)``. The solver expands positional values to reach base
10 and divides repeatedly to leave it.
"""

from __future__ import annotations

import random
import re

from ..problem import Problem, Solution

NAME = "bases"

DIGITS = "0123456789ABCDEF"
_PATTERN = re.compile(r"Convert ([0-9A-F]+) from base (\d+) to base (\d+)")
_MAX_DIGITS = 40


def make(rng: random.Random, difficulty: int) -> Problem:
    """Return a conversion question and the number written in the target base."""
    n = rng.randint(2, 20 * 5 ** (difficulty - 1))
    if difficulty == 1:
        pair = [10, 2]
    elif difficulty == 2:
        pair = [10, rng.randint(2, 9)]
    else:
        pair = rng.sample(range(2, 17), 2)
    rng.shuffle(pair)
    src, dst = pair
    return Problem(f"Convert {to_base(n, src)} from base {src} to base {dst}.", to_base(n, dst))


def to_base(n: int, base: int) -> str:
    """Return the digits of ``n >= 0`` in ``base``."""
    out = ""
    while True:
        n, r = divmod(n, base)
        out = DIGITS[r] + out
        if n == 0:
            return out


def solve(question: str) -> Solution | None:
    """Convert the number in ``question`` step by step, or return ``None``."""
    m = _PATTERN.search(question)
    if m is None:
        return None
    digits, src, dst = m.group(1), int(m.group(2)), int(m.group(3))
    if not (2 <= src <= 16 and 2 <= dst <= 16) or src == dst or len(digits) > _MAX_DIGITS:
        return None
    if any(DIGITS.index(ch) >= src for ch in digits):
        return None
    steps: list[str] = []
    n = _to_decimal(digits, src, steps)
    answer = _from_decimal(n, dst, steps)
    return Solution(steps, answer)


def _to_decimal(digits: str, base: int, steps: list[str]) -> int:
    """Return the value of ``digits``, with one step expanding place values (none for base 10)."""
    n = sum(DIGITS.index(ch) * base**i for i, ch in enumerate(reversed(digits)))
    if base != 10:
        terms = " + ".join(f"{DIGITS.index(ch)}*{base}^{i}" for i, ch in zip(range(len(digits) - 1, -1, -1), digits))
        steps.append(f"Expand {digits} (base {base}) by place value: {terms} = {n} in base 10.")
    return n


def _from_decimal(n: int, base: int, steps: list[str]) -> str:
    """Return ``n`` written in ``base``, with one step per division (none for base 10)."""
    if base == 10:
        return str(n)
    remainders, q = [], n
    while True:
        nq, r = divmod(q, base)
        steps.append(f"{q} / {base} = {nq} remainder {r}" + (f" (digit {DIGITS[r]})" if r > 9 else "") + ".")
        remainders.append(DIGITS[r])
        q = nq
        if q == 0:
            break
    answer = "".join(reversed(remainders))
    steps.append(f"Read the remainders from last to first: {answer} in base {base}.")
    return answer


def slip(question: str, answer: str, rng: random.Random) -> str:
    """Return the answer with its last digit misread (still a valid digit in any base)."""
    last = DIGITS.index(answer[-1])
    return answer[:-1] + DIGITS[last - 1 if last else 1]
