"""The ``novelty`` filter: drop a text too close (ROUGE-L or word n-gram Jaccard) to a seed or an earlier kept text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from synthkit.interfaces import Filter
from synthkit.filters.ngrams import word_ngrams, words
from synthkit.records import Record, Verdict


__all__ = [
    "NoveltyFilter",
    "rouge_l",
    "ngram_jaccard",
    "seed_texts",
]


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(a: str, b: str) -> float:
    """Return the ROUGE-L F1 of two texts on normalised words (0 to 1).

    >>> rouge_l("write a poem about the sea", "Write a poem about the sea!")
    1.0
    """
    wa, wb = words(a), words(b)
    if not wa or not wb:
        return 0.0
    lcs = _lcs(wa, wb)
    if lcs == 0:
        return 0.0
    p, r = lcs / len(wb), lcs / len(wa)
    return 2 * p * r / (p + r)


def ngram_jaccard(a: str, b: str, n: int = 2) -> float:
    """Return the Jaccard similarity of the word ``n``-gram sets of two texts (0 to 1)."""
    sa, sb = set(word_ngrams(words(a), n)), set(word_ngrams(words(b), n))
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def seed_texts(seeds: Iterable[str] | str | Path) -> list[str]:
    """Return seed texts from strings, records (their prompt or text), or a JSONL file of records."""
    if isinstance(seeds, (str, Path)) and Path(seeds).is_file():
        from synthkit.io.jsonl import iter_records

        out = []
        for r in iter_records(seeds):
            if isinstance(r, Record):
                out.append(r.user_content() or r.text())
        return out
    if isinstance(seeds, str):
        return [seeds]
    return [s.user_content() if isinstance(s, Record) else str(s) for s in seeds]


class NoveltyFilter(Filter):
    """Drop a text too close to a seed or to a text this filter kept before (the ``novelty`` filter).

    Args:
        seeds: the seed texts (strings, records, or a JSONL path of records).
        threshold: drop at this similarity or above (self-instruct uses ROUGE-L 0.7).
        metric: ``"rouge-l"`` or ``"jaccard"`` (word n-grams, ``n`` words).
        field: the field compared; default the record's prompt (or last user message).
        grow: also compare with texts kept earlier (the pool grows, as in self-instruct).
    """

    name = "novelty"
    stateful = True  # the index grows as records pass: one place, input order

    def __init__(
        self,
        seeds: Iterable[str] | str | Path = (),
        *,
        threshold: float = 0.7,
        metric: str = "rouge-l",
        n: int = 2,
        field: str | None = None,
        grow: bool = True,
    ) -> None:
        if metric not in ("rouge-l", "jaccard"):
            msg = f"metric must be 'rouge-l' or 'jaccard', got {metric!r}"
            raise ValueError(msg)
        self.seeds = seed_texts(seeds)
        self.pool: list[tuple[str, str]] = [("seed", s) for s in self.seeds]
        self.threshold = threshold
        self.metric = metric
        self.n = n
        self.field = field
        self.grow = grow

    def similarity(self, a: str, b: str) -> float:
        return rouge_l(a, b) if self.metric == "rouge-l" else ngram_jaccard(a, b, self.n)

    def check(self, record: Record) -> Verdict:
        text = record.text(self.field) if self.field else (record.user_content() or record.text())
        best, which, source = 0.0, "", ""
        for kind, other in self.pool:
            s = self.similarity(text, other)
            if s > best:
                best, which, source = s, other, kind
                if s >= self.threshold:
                    break
        label = "ROUGE-L" if self.metric == "rouge-l" else f"{self.n}-gram Jaccard"
        if best >= self.threshold:
            shown = which if len(which) <= 80 else which[:77] + "..."
            what = "seed" if source == "seed" else "earlier task"
            return Verdict(self.name, False, f"too close to {what} {shown!r}: {label} {best:.2f} >= {self.threshold}", best)
        if self.grow:
            self.pool.append(("kept", text))
        return Verdict(self.name, True, f"novel: highest {label} {best:.2f} < {self.threshold}", best)
