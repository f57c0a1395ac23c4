"""Date arithmetic: the date and weekday ``N`` days after or before a given date.

Difficulty ``d`` sets how far to count: up to 10, 40, 120, 400 and 2000 days, so the
higher levels cross months, years and leap days. The generator uses ``datetime``'s
``timedelta``; the solver walks month by month (and year by year when it can), then
moves the weekday by ``N mod 7``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import re

from ..problem import Problem, Solution

NAME = "dates"

_PATTERN = re.compile(r"(\d+) days? (after|before) (\d{4})-(\d{2})-(\d{2})")
_SPANS = {1: (1, 10), 2: (10, 40), 3: (30, 120), 4: (100, 400), 5: (365, 2000)}
_MAX_DAYS = 100_000
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # not locale-dependent


def make(rng: random.Random, difficulty: int) -> Problem:
    """Return a date question and its answer ``"Weekday, YYYY-MM-DD"``."""
    start = dt.date(1990, 1, 1) + dt.timedelta(days=rng.randint(0, 40 * 365))
    n = rng.randint(*_SPANS[difficulty])
    direction = rng.choice(("after", "before"))
    end = start + dt.timedelta(days=n if direction == "after" else -n)
    unit = "day" if n == 1 else "days"
    text = (
        f"What is the date {n} {unit} {direction} {start.isoformat()}? "
        "Answer with the weekday and the date, as in Monday, 2024-01-01."
    )
    return Problem(text, format_answer(end))


def format_answer(day: dt.date) -> str:
    """Return ``"Weekday, YYYY-MM-DD"``."""
    return f"{WEEKDAYS[day.weekday()]}, {day.isoformat()}"


def solve(question: str) -> Solution | None:
    """Count the days in ``question`` month by month, or return ``None``."""
    m = _PATTERN.search(question)
    if m is None:
        return None
    n, direction = int(m.group(1)), m.group(2)
    try:
        start = dt.date(int(m.group(3)), int(m.group(4)), int(m.group(5)))
    except ValueError:
        return None
    if n > _MAX_DAYS:
        return None
    walk = _forward if direction == "after" else _backward
    steps: list[str] = []
    try:
        end = walk(start, n, steps)
    except (ValueError, OverflowError):  # beyond year 9999 or before year 1
        return None
    shift = n % 7 if direction == "after" else -n % 7
    weekday = WEEKDAYS[(start.weekday() + shift) % 7]
    steps.append(
        f"{start.isoformat()} is a {WEEKDAYS[start.weekday()]}; {n} = {n // 7} * 7 + {n % 7}, so the weekday "
        f"moves {n % 7} {'forward' if direction == 'after' else 'back'}: {weekday}."
    )
    answer = f"{weekday}, {end.isoformat()}"
    steps.append(f"So {n} days {direction} {start.isoformat()} is {answer}.")
    return Solution(steps, answer)


def _days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _year_length(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def _forward(day: dt.date, left: int, steps: list[str]) -> dt.date:
    """Return ``day`` plus ``left`` days, one step per month (or per whole year from 1 January)."""
    while left:
        if (day.month, day.day) == (1, 1) and left >= _year_length(day.year):
            size = _year_length(day.year)
            nxt = dt.date(day.year + 1, 1, 1)
            steps.append(f"{day.year} has {size} days: {day.isoformat()} + {size} days = {nxt.isoformat()}; {left - size} days left.")
        else:
            to_next = _days_in(day.year, day.month) - day.day + 1
            if left < to_next:
                nxt = day.replace(day=day.day + left)
                steps.append(f"{day.isoformat()} + {left} days = {nxt.isoformat()}.")
                return nxt
            nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
            size = to_next
            steps.append(f"From {day.isoformat()} to {nxt.isoformat()} is {size} days; {left - size} days left.")
        day, left = nxt, left - size
    return day


def _backward(day: dt.date, left: int, steps: list[str]) -> dt.date:
    """Return ``day`` minus ``left`` days, one step per month (or per whole year from 31 December)."""
    while left:
        if (day.month, day.day) == (12, 31) and left >= _year_length(day.year):
            size = _year_length(day.year)
            nxt = dt.date(day.year - 1, 12, 31)
            steps.append(f"{day.year} has {size} days: {day.isoformat()} - {size} days = {nxt.isoformat()}; {left - size} days left.")
        else:
            if left < day.day:
                nxt = day.replace(day=day.day - left)
                steps.append(f"{day.isoformat()} - {left} days = {nxt.isoformat()}.")
                return nxt
            year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
            nxt = dt.date(year, month, _days_in(year, month))
            size = day.day
            steps.append(f"Back from {day.isoformat()} to {nxt.isoformat()} is {size} days; {left - size} days left.")
        day, left = nxt, left - size
    return day


def slip(question: str, answer: str, rng: random.Random) -> str:
    """Return the day before or after the right one: the classic fencepost error."""
    day = dt.date.fromisoformat(answer.split(", ")[1])
    return format_answer(day + dt.timedelta(days=rng.choice((-1, 1))))
