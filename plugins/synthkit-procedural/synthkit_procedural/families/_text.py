"""Reading a run of fixed-phrase sentences."""

from __future__ import annotations

import re

__all__ = ["sentences"]


def sentences(pattern: re.Pattern[str], text: str, start: int, end: int) -> list[re.Match[str]] | None:
    """Return the matches of ``pattern`` that fill ``text[start:end]``, or ``None``.

    Only whitespace may sit between the matches, so a sentence the solver does not
    understand makes the whole problem unreadable instead of being skipped.
    """
    matches, pos = [], start
    for m in pattern.finditer(text, start, end):
        if text[pos : m.start()].strip():
            return None
        matches.append(m)
        pos = m.end()
    return matches if not text[pos:end].strip() else None
