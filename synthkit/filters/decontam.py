"""Decontamination: drop records that share word n-grams with evaluation sets.

The eval files are read once into an index of n-gram hashes (13-grams by default, after
:func:`synthkit.filters.ngrams.normalize`, so case, punctuation and spacing do not hide a copy).
A record is dropped when it shares at least ``min_matches`` n-grams with one eval item;
the reason names the eval set, the item and the longest overlapping span. An eval text
shorter than ``n`` words is matched as a whole word sequence when it has at least
``min_words`` words.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthkit.errors import InputError
from synthkit.filters.heuristics import read_text
from synthkit.interfaces import Filter
from synthkit.filters.ngrams import ngram_hash_batch, words
from synthkit.records import Record, Verdict

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Decontaminate", "EvalItem", "read_eval_items"]

#: Fields of an eval record that hold text, checked in this order when ``eval_fields`` is not given.
EVAL_TEXT_FIELDS = ("text", "prompt", "question", "problem", "input", "instruction", "query", "response", "answer", "solution", "output", "completion", "target", "context", "passage")


class EvalItem:
    """One text of an evaluation set: its set name, item id and text."""

    __slots__ = ("set", "item", "text")

    def __init__(self, set: str, item: str, text: str) -> None:  # noqa: A002
        self.set, self.item, self.text = set, item, text


def _texts_of(obj: Any, fields: Sequence[str] | None) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
        return
    if not isinstance(obj, Mapping):
        return
    names = fields if fields is not None else [k for k in EVAL_TEXT_FIELDS if k in obj]
    if fields is None and not names:
        names = [k for k, v in obj.items() if isinstance(v, str) and k != "id"]
    for k in names:
        v = obj.get(k)
        if isinstance(v, str):
            yield v
    msgs = obj.get("messages")
    if fields is None and isinstance(msgs, list):
        for m in msgs:
            if isinstance(m, Mapping) and isinstance(m.get("content"), str):
                yield m["content"]


def read_eval_items(path: str | Path, *, name: str | None = None, fields: Sequence[str] | None = None) -> Iterator[EvalItem]:
    """Yield the texts of an eval file: JSONL (objects or strings) or plain text (one item per line).

    Args:
        path: the eval file.
        name: the set's name in reasons (default: the file name without its extension).
        fields: the object fields holding text (default: the usual ones, see ``EVAL_TEXT_FIELDS``).
    """
    p = Path(path)
    set_name = name or p.name.split(".")[0]
    try:
        fh = open(p, encoding="utf-8")  # noqa: SIM115
    except FileNotFoundError:
        msg = f"eval file {p} does not exist; give the path of a JSONL file of eval items (--against)"
        raise InputError(msg) from None
    plain = p.suffix not in (".jsonl", ".json", ".ndjson")
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if plain:
                yield EvalItem(set_name, str(lineno), line)
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                msg = f"{p}:{lineno}: not JSON ({exc.msg}); an eval file is JSONL, or plain text with a .txt name"
                raise InputError(msg) from None
            item = str(obj.get("id", lineno)) if isinstance(obj, Mapping) else str(lineno)
            for text in _texts_of(obj, fields):
                yield EvalItem(set_name, item, text)


class Decontaminate(Filter):
    """Drop records sharing word n-grams with evaluation items.

    Args:
        against: eval files (paths), or a mapping of set name to path, or ``EvalItem`` objects.
        n: n-gram size in words (13, as in GPT-3's decontamination).
        field: the record field to check; ``None`` means ``text``, else ``response``, else ``prompt``.
        eval_fields: the eval record fields to index (default: the usual text fields).
        min_matches: shared n-grams with one eval item needed to drop a record.
        min_words: an eval text shorter than ``n`` words is indexed whole if it has at
            least this many words (shorter ones are skipped).

    Memory: one 8-byte hash and two 4-byte indexes per eval n-gram.
    """

    name = "decontaminate"

    def __init__(
        self,
        against: Iterable[str | Path | EvalItem] | Mapping[str, str | Path],
        *,
        n: int = 13,
        field: str | None = None,
        eval_fields: Sequence[str] | str | None = None,
        min_matches: int = 1,
        min_words: int = 8,
    ) -> None:
        import numpy as np

        if n < 1 or min_matches < 1:
            msg = f"decontaminate: n ({n}) and min_matches ({min_matches}) must be at least 1"
            raise ValueError(msg)
        if isinstance(eval_fields, str):
            eval_fields = [s.strip() for s in eval_fields.split(",") if s.strip()]
        if isinstance(against, (str, Path)):
            against = [against]
        self.n, self.field, self.min_matches, self.min_words = n, field, min_matches, min_words
        items: list[EvalItem] = []
        if isinstance(against, Mapping):
            for set_name, path in against.items():
                items.extend(read_eval_items(path, name=set_name, fields=eval_fields))
        else:
            for src in against:
                if isinstance(src, EvalItem):
                    items.append(src)
                else:
                    items.extend(read_eval_items(src, fields=eval_fields))
        self.sets = sorted({it.set for it in items})
        self.n_items = len(items)
        # full-length n-grams, and whole short texts grouped by their word count
        keys: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        self._short_lengths: set[int] = set()
        self._items = items
        texts = [it.text for it in items]
        for start in range(0, len(texts), 2048):
            chunk = texts[start : start + 2048]
            grams, offsets = ngram_hash_batch(chunk, n)
            lengths = self._word_counts(chunk, offsets)
            for j in range(len(chunk)):
                lo, hi = offsets[j], offsets[j + 1]
                if hi == lo:
                    continue
                length = lengths[j]
                g = grams[lo:hi]
                if length < n:
                    if length < min_words:
                        continue
                    self._short_lengths.add(length)
                    g, _ = ngram_hash_batch([chunk[j]], length)  # the whole text as one length-L gram
                keys.append(g)
                owners.append(np.full(g.size, start + j, dtype=np.int64))
        if keys:
            k = np.concatenate(keys)
            o = np.concatenate(owners)
            order = np.argsort(k, kind="stable")
            self._keys, self._owner = k[order], o[order]
        else:
            self._keys, self._owner = np.zeros(0, np.uint64), np.zeros(0, np.int64)

    @staticmethod
    def _word_counts(texts: Sequence[str], offsets: np.ndarray) -> list[int]:
        # only texts with a single gram can be shorter than n; count their words exactly
        counts = []
        for j, t in enumerate(texts):
            counts.append(len(words(t)) if offsets[j + 1] - offsets[j] <= 1 else 1 << 30)
        return counts

    def __len__(self) -> int:
        """Return the number of indexed eval n-grams."""
        return int(self._keys.size)

    def check(self, record: Record) -> Verdict:
        """Judge one record (see :meth:`check_batch`)."""
        return self.check_batch([record])[0]

    def check_batch(self, records: Sequence[Record]) -> list[Verdict]:
        """Return one verdict per record: dropped when it shares n-grams with an eval item."""
        import numpy as np

        read = [read_text(r, self.field) for r in records]
        texts = [t or "" for t, _ in read]
        sizes = [self.n, *sorted(self._short_lengths)]
        hits: list[list[tuple[int, int, int]]] = [[] for _ in records]  # (owner, gram start, gram length)
        if self._keys.size:
            for size in sizes:
                grams, offsets = ngram_hash_batch(texts, size)
                if grams.size == 0:
                    continue
                pos = np.searchsorted(self._keys, grams)
                pos[pos == self._keys.size] = 0
                found = np.flatnonzero(self._keys[pos] == grams)
                if found.size == 0:
                    continue
                doc = np.searchsorted(offsets, found, side="right") - 1
                for f, d in zip(found.tolist(), doc.tolist()):
                    start = f - int(offsets[d])
                    p = int(pos[f])
                    while p < self._keys.size and self._keys[p] == grams[f]:
                        hits[d].append((int(self._owner[p]), start, size))
                        p += 1
        return [
            Verdict(self.name, False, read[i][1]) if read[i][0] is None else self._verdict(texts[i], hits[i])
            for i in range(len(records))
        ]

    def _verdict(self, text: str, hits: list[tuple[int, int, int]]) -> Verdict:
        if not hits:
            return Verdict(self.name, True)
        by_owner: dict[int, list[tuple[int, int]]] = {}
        for owner, start, size in hits:
            by_owner.setdefault(owner, []).append((start, start + size))
        owner, spans = max(by_owner.items(), key=lambda kv: (len(kv[1]), -kv[0]))
        if len(spans) < self.min_matches:
            return Verdict(self.name, True)
        # the longest run of overlapping matched grams
        spans.sort()
        best = cur = spans[0]
        for s, e in spans[1:]:
            if s <= cur[1]:
                cur = (cur[0], max(cur[1], e))
            else:
                cur = (s, e)
            if cur[1] - cur[0] > best[1] - best[0]:
                best = cur
        ws = words(text)[best[0] : best[1]]
        span = " ".join(ws)
        if len(span) > 160:
            span = span[:157] + "..."
        item = self._items[owner]
        return Verdict(
            self.name,
            False,
            f"overlaps eval set {item.set!r} item {item.item}: span {span!r} ({len(ws)} words, {len(spans)} shared n-grams)",
            score=float(len(spans)),
        )
