"""Shared text tools: normalisation, word tokenisation, n-grams and 64-bit hashing.

Every text-level step (exact and near dedup, decontamination, heuristic filters, diagnostics)
uses these, so "the same text" and "the same n-gram" mean the same thing everywhere:

* :func:`normalize` applies NFKC, casefolds, turns every Unicode punctuation (``P*``) and
  control (``Cc``) character into a space and collapses whitespace to single spaces.
* :func:`words` is ``normalize(text).split()``.
* :func:`word_ngrams` returns word n-grams as strings (a text shorter than ``n`` words is one gram).
* :func:`hash64` is xxh3-64 of the UTF-8 text (used for whole-text keys).
* :func:`ngram_hash_batch` hashes the word n-grams of many texts at once with numpy
  (about 10 µs per 1 KB text), returning a flat ``uint64`` array and per-text offsets;
  :func:`ngram_hashes` is the same for one text, as a set. Gram ``k`` of a text starts at
  word ``k`` of :func:`words`, so a matching gram maps back to its words.

numpy is imported inside the batch functions, so importing this module stays cheap.
"""

from __future__ import annotations

import functools
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import xxhash

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "normalize_table",
    "normalize",
    "words",
    "raw_words",
    "word_ngrams",
    "hash64",
    "hash64_many",
    "word_hash_batch",
    "ngram_hash_batch",
    "ngram_hashes",
]

_ASCII_TABLE = {i: " " for i in range(128) if unicodedata.category(chr(i))[0] == "P" or unicodedata.category(chr(i)) == "Cc"}
_xxh3 = xxhash.xxh3_64_intdigest


@functools.cache
def normalize_table() -> dict[int, str]:
    """Return the ``str.translate`` table mapping punctuation (``P*``) and control (``Cc``) code points to a space."""
    out = {}
    for i in range(sys.maxunicode + 1):
        cat = unicodedata.category(chr(i))
        if cat[0] == "P" or cat == "Cc":
            out[i] = " "
    return out


def normalize(text: str) -> str:
    """Return ``text`` NFKC-normalised, casefolded, punctuation as spaces, whitespace collapsed.

    >>> normalize("  Hello,   WORLD!\\n")
    'hello world'
    """
    if text.isascii():
        return " ".join(text.lower().translate(_ASCII_TABLE).split())
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.translate(normalize_table()).split())


def _normalized_bytes(text: str) -> bytes:
    """Return normalised text as UTF-8; words are separated by one or more ASCII spaces."""
    if text.isascii():
        return text.lower().translate(_ASCII_TABLE).encode("ascii")
    return normalize(text).encode("utf-8")


def words(text: str) -> list[str]:
    """Return the words of :func:`normalize` (``text``).

    >>> words("It's a dog-eat-dog world.")
    ['it', 's', 'a', 'dog', 'eat', 'dog', 'world']
    """
    return normalize(text).split()


def raw_words(text: str) -> list[str]:
    """Return whitespace-separated tokens of ``text`` unchanged (the Gopher rules count these)."""
    return text.split()


def word_ngrams(tokens: Sequence[str], n: int) -> list[str]:
    """Return the word ``n``-grams of ``tokens`` joined by spaces.

    A text shorter than ``n`` words yields one gram, the whole text (so short texts still
    compare); an empty text yields none.

    >>> word_ngrams(["a", "b", "c"], 2)
    ['a b', 'b c']
    """
    if not tokens:
        return []
    if len(tokens) <= n:
        return [" ".join(tokens)]
    return [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def hash64(text: str) -> int:
    """Return the xxh3-64 hash of ``text`` (UTF-8) as an unsigned int in ``[0, 2**64)``."""
    return _xxh3(text.encode("utf-8"))


def hash64_many(texts: Iterable[str]) -> list[int]:
    """Return :func:`hash64` of each text."""
    h = _xxh3
    return [h(t.encode("utf-8")) for t in texts]


# -- vectorised word and n-gram hashing ------------------------------------------------

_SEGMENT = 1 << 20  # bytes hashed per numpy pass
_BASE = 0x100000001B3  # odd, so invertible mod 2**64


class _Powers:
    """Cached powers of the byte-hash base and of its inverse, mod 2**64."""

    pw: np.ndarray | None = None
    pinv: np.ndarray | None = None

    @classmethod
    def get(cls, n: int) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        if cls.pw is None or len(cls.pw) < n:
            m = max(n, 1 << 16)
            with np.errstate(over="ignore"):
                p = np.full(m, _BASE, dtype=np.uint64)
                p[0] = 1
                q = np.full(m, pow(_BASE, -1, 1 << 64), dtype=np.uint64)
                q[0] = 1
                cls.pw, cls.pinv = np.cumprod(p), np.cumprod(q)
        assert cls.pw is not None and cls.pinv is not None
        return cls.pw, cls.pinv


def mix64(x: np.ndarray) -> np.ndarray:
    """Return the splitmix64 finaliser of a ``uint64`` array (a bijection with good avalanche)."""
    import numpy as np

    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _segment_gram_hashes(buf: bytes, doc_starts: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (gram hashes, grams per text) for the texts joined by spaces in ``buf``.

    ``doc_starts`` holds each text's first byte. Runs of spaces are collapsed, so a gram
    is the bytes ``"w1 w2 ... wn"``, hashed as a polynomial mod 2**64 (from prefix sums of
    ``byte * base**-position``) and finished with :func:`mix64`.
    """
    import numpy as np

    n_docs = len(doc_starts)
    a = np.frombuffer(buf, dtype=np.uint8)
    solid = a != 32
    keep = solid.copy()
    keep[1:] |= solid[:-1]  # a word byte, or the first space after a word
    where = np.flatnonzero(keep)
    c = a[where]
    inword = (c != 32).view(np.int8)
    edges = np.diff(inword, prepend=np.int8(0), append=np.int8(0))
    wstart = np.flatnonzero(edges == 1)
    wend = np.flatnonzero(edges == -1)
    wdoc = np.searchsorted(doc_starts, where[wstart], side="right") - 1
    lengths = np.bincount(wdoc, minlength=n_docs)
    woff = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(lengths, out=woff[1:])
    pos = np.arange(wstart.size) - woff[:-1][wdoc]
    doc_len = lengths[wdoc]
    first = np.flatnonzero((pos <= doc_len - n) | ((pos == 0) & (doc_len < n)))
    last = np.minimum(first + (n - 1), woff[1:][wdoc[first]] - 1)
    s, e = wstart[first], wend[last]
    pw, pinv = _Powers.get(c.size)
    with np.errstate(over="ignore"):
        prefix = np.cumsum(c.astype(np.uint64) * pinv[: c.size])
        before = np.where(s > 0, prefix[s - 1], np.uint64(0))
        # sum_{j=s}^{e-1} c_j * B**(e-1-j)
        h = mix64(((prefix[e - 1] - before) * pw[e - 1]) ^ (e - s).astype(np.uint64))
    return h, np.bincount(wdoc[first], minlength=n_docs)


def _pieces(text: str, n: int) -> list[str]:
    """Split a very long text into overlapping pieces whose grams, concatenated, are the text's grams."""
    ws = normalize(text).split()
    step = max(_SEGMENT // 64, n)
    out = []
    for a in range(0, max(len(ws) - n + 1, 1), step):
        out.append(" ".join(ws[a : a + step + n - 1]))
    return out


def ngram_hash_batch(texts: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the 64-bit hashes of the word ``n``-grams of each text, flat, with offsets.

    Gram ``k`` of a text is words ``k .. k+n-1`` of :func:`words`, joined by spaces; a text
    of fewer than ``n`` words (but at least one) has one gram, its whole normalised text; an
    empty text has none. A gram's hash depends only on its string, so equal grams hash
    equal across batches, processes and values of ``n``.

    Returns:
        ``(hashes, offsets)``: ``hashes[offsets[i]:offsets[i+1]]`` are the grams of ``texts[i]``.
    """
    import numpy as np

    if n < 1:
        msg = f"n-gram size must be at least 1, got {n}"
        raise ValueError(msg)
    hashes: list[np.ndarray] = []
    counts = np.zeros(len(texts), dtype=np.int64)
    chunks: list[bytes] = []  # normalised bytes of the current segment, joined by spaces
    starts: list[int] = []  # first byte of each part in the segment
    owners: list[int] = []  # the text each part belongs to
    run: list[str] = []  # consecutive short ASCII texts, normalised in one call
    size = 0

    def flush_run() -> None:
        if run:
            chunks.append(" ".join(run).lower().translate(_ASCII_TABLE).encode("ascii"))
            run.clear()

    def flush_segment() -> None:
        nonlocal size
        flush_run()
        if owners:
            h, per_part = _segment_gram_hashes(b" ".join(chunks), np.asarray(starts, dtype=np.int64), n)
            hashes.append(h)
            np.add.at(counts, np.asarray(owners, dtype=np.int64), per_part)
        chunks.clear()
        starts.clear()
        owners.clear()
        size = 0

    for i, t in enumerate(texts):
        if t.isascii() and len(t) <= _SEGMENT:
            if size + len(t) > _SEGMENT:
                flush_segment()
            run.append(t)
            starts.append(size)
            owners.append(i)
            size += len(t) + 1
            continue
        flush_run()
        b = _normalized_bytes(t)
        for piece in [b] if len(b) <= _SEGMENT else [p.encode("utf-8") for p in _pieces(t, n)]:
            if size + len(piece) > _SEGMENT:
                flush_segment()
            chunks.append(piece)
            starts.append(size)
            owners.append(i)
            size += len(piece) + 1
    flush_segment()
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    flat = np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
    return flat, offsets


def word_hash_batch(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return the 64-bit hashes of the :func:`words` of each text, flat, with offsets (1-grams)."""
    return ngram_hash_batch(texts, 1)


def ngram_hashes(text: str, n: int) -> set[int]:
    """Return the set of 64-bit hashes of the word ``n``-grams of ``text`` (as :func:`ngram_hash_batch`)."""
    grams, _ = ngram_hash_batch([text], n)
    return set(grams.tolist())
