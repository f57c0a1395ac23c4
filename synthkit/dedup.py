"""Duplicate removal: exact (normalised text, 64-bit hash) and near (MinHash LSH).

Both are :class:`~synthkit.Filter` steps with an index that grows as records pass, so in a
pipeline a duplicate is dropped before any later (paid) step sees it. The first copy is kept;
every later copy is dropped with a reason naming the id of the kept copy.
"""

from __future__ import annotations

from collections.abc import Sequence

from .interfaces import Filter
from .ngrams import hash64, normalize
from .records import Record, Verdict

__all__ = ["ExactDedup"]


class ExactDedup(Filter):
    """Drop records whose normalised text was seen before.

    Text is normalised with :func:`synthkit.ngrams.normalize` (case, Unicode form,
    punctuation, whitespace) and hashed to 64 bits (xxh3). The index keeps one hash and
    one id per distinct text, whatever the text's length.

    Args:
        field: the record field holding the text; ``None`` means ``text``, else
            ``response``, else ``prompt`` (see :meth:`Record.text`).

    Note:
        Two different texts collide with probability about ``n**2 / 2**65`` for ``n``
        distinct texts (about 3e-8 for a million).
    """

    name = "exact-dedup"

    def __init__(self, field: str | None = None) -> None:
        self.field = field
        self._seen: dict[int, str] = {}

    def __len__(self) -> int:
        """Return the number of distinct texts seen."""
        return len(self._seen)

    def check(self, record: Record) -> Verdict:
        """Keep the first record with a given normalised text; drop later copies naming the first."""
        key = hash64(normalize(record.text(self.field)))
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = record.id
            return Verdict(self.name, True)
        return Verdict(self.name, False, f"exact duplicate of {first}")

    def check_batch(self, records: Sequence[Record]) -> list[Verdict]:
        """Return one verdict per record, in order (same result as :meth:`check` one by one)."""
        return [self.check(r) for r in records]
