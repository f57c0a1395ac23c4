"""The ``regex`` verifier: a field must match a regular expression.
"""

from __future__ import annotations

import re
from synthkit.interfaces import Verifier
from synthkit.records import Record, Verdict


__all__ = [
    "RegexVerifier",
]


class RegexVerifier(Verifier):
    """Passes when a field matches a regular expression.

    Args:
        pattern: the regular expression.
        field: the field to match (default the response).
        mode: ``"search"`` (anywhere), ``"fullmatch"`` (the whole text, stripped) or
            ``"none"`` (passes when the pattern does *not* occur).
        ignore_case: match case-insensitively.
    """

    name = "regex"

    def __init__(self, pattern: str, *, field: str = "response", mode: str = "search", ignore_case: bool = False) -> None:
        if mode not in ("search", "fullmatch", "none"):
            msg = f"mode must be 'search', 'fullmatch' or 'none', got {mode!r}"
            raise ValueError(msg)
        try:
            self.regex = re.compile(pattern, re.I if ignore_case else 0)
        except re.error as exc:
            msg = f"invalid regular expression {pattern!r}: {exc}"
            raise ValueError(msg) from None
        self.field = field
        self.mode = mode

    async def verify(self, record: Record) -> Verdict:
        text = record.get(self.field)
        if not isinstance(text, str):
            return Verdict(self.name, False, f"the record has no text field {self.field!r}")
        p = self.regex.pattern
        if self.mode == "fullmatch":
            ok = self.regex.fullmatch(text.strip()) is not None
            return Verdict(self.name, ok, f"{self.field} {'matches' if ok else 'does not match'} /{p}/ in full")
        m = self.regex.search(text)
        if self.mode == "none":
            if m is None:
                return Verdict(self.name, True, f"{self.field} has no match of /{p}/")
            return Verdict(self.name, False, f"{self.field} contains {m.group(0)[:80]!r}, a match of /{p}/")
        if m is None:
            return Verdict(self.name, False, f"{self.field} has no match of /{p}/")
        return Verdict(self.name, True, f"{self.field} contains {m.group(0)[:80]!r}, a match of /{p}/")
