"""The ``quote`` verifier: a document-QA record's quote must occur in its chunk.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from synthkit.interfaces import Verifier
from synthkit.records import Record, Verdict

__all__ = [
    "QuoteVerifier",
    "doc_qa_fields",
    "normalize_quote",
]


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})


def normalize_quote(text: str) -> str:
    """Casefold, NFKC, straighten quote marks, collapse whitespace, trim outer quotes and dots."""
    t = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    t = " ".join(t.split())
    return t.strip(" \"'.…")


def doc_qa_fields(record: Record, keys: Sequence[str] = ("quote",)) -> Mapping[str, Any] | None:
    """A document-QA record's fields: its ``parsed`` field or its data when they hold ``keys``, else the JSON object in its response."""
    for source in (record.data.get("parsed"), record.data):
        if isinstance(source, Mapping) and all(k in source for k in keys):
            return source
    if record.response is not None:
        from synthkit.verify.schema import find_json

        try:
            value = find_json(record.response)
        except ValueError:
            return None
        if isinstance(value, Mapping):
            return value
    return None


class QuoteVerifier(Verifier):
    """Passes a QA record whose supporting quote occurs in its chunk (the ``quote`` verifier).

    The question, answer and quote are read from the response's JSON object (or from the
    record's ``question``/``answer``/``quote`` fields, or its ``parsed`` field).

    Args:
        chunk_field: the field holding the source text.
        min_quote_chars: a shorter quote is rejected as too weak to support anything.
    """

    name = "quote"

    def __init__(self, *, chunk_field: str = "chunk", min_quote_chars: int = 8) -> None:
        self.chunk_field = chunk_field
        self.min_quote_chars = min_quote_chars


    async def verify(self, record: Record) -> Verdict:
        chunk = record.data.get(self.chunk_field)
        if not isinstance(chunk, str):
            return Verdict(self.name, False, f"the record has no {self.chunk_field!r} text to check the quote against")
        fields = doc_qa_fields(record)
        if fields is None:
            return Verdict(self.name, False, "the response is not a JSON object with question, answer and quote")
        empty = [k for k in ("question", "answer", "quote") if not str(fields.get(k) or "").strip()]
        if empty:
            return Verdict(self.name, False, f"empty or missing {', '.join(empty)}")
        quote = normalize_quote(str(fields["quote"]))
        if len(quote) < self.min_quote_chars:
            return Verdict(self.name, False, f"quote {fields['quote']!r} is shorter than {self.min_quote_chars} characters")
        if quote not in normalize_quote(chunk):
            shown = str(fields["quote"])[:120]
            return Verdict(self.name, False, f"quote {shown!r} does not occur in its chunk")
        return Verdict(self.name, True, "the quote occurs in its chunk")
