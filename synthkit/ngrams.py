"""Shared text tools: normalisation, word tokenisation, n-grams and 64-bit hashing.

Every text-level step (exact and near dedup, decontamination, heuristic filters, diagnostics)
uses these, so "the same text" means the same thing everywhere:

* :func:`normalize` lowercases (Unicode casefold), applies NFKC, turns every Unicode punctuation
  character into a space and collapses runs of whitespace to one space.
* :func:`words` splits normalised text on whitespace.
* :func:`word_ngrams` returns word n-grams joined by single spaces.
* :func:`hash64` is xxh3-64 of the UTF-8 text, an unsigned 64-bit int.

Only the standard library and ``xxhash`` are imported here, so importing this module is cheap.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence

import xxhash

__all__ = [
    "punctuation",
    "normalize",
    "words",
    "raw_words",
    "word_ngrams",
    "hash64",
    "hash64_many",
    "ngram_hashes",
]

_ASCII_PUNCT = {i: " " for i in range(128) if unicodedata.category(chr(i)).startswith("P")}
_xxh3 = xxhash.xxh3_64_intdigest
_WORD = re.compile(r"\S+")


@functools.cache
def punctuation() -> dict[int, str]:
    """Return a ``str.translate`` table mapping every Unicode punctuation code point (``P*``) to a space."""
    return {i: " " for i in range(sys.maxunicode + 1) if unicodedata.category(chr(i)).startswith("P")}


def normalize(text: str) -> str:
    """Return ``text`` casefolded, NFKC-normalised, punctuation as spaces, whitespace collapsed.

    >>> normalize("  Hello,   WORLD!\\n")
    'hello world'
    """
    if text.isascii():
        return " ".join(text.lower().translate(_ASCII_PUNCT).split())
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.translate(punctuation()).split())


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


def ngram_hashes(text: str, n: int) -> set[int]:
    """Return the set of 64-bit hashes of the word ``n``-grams of normalised ``text``."""
    return set(hash64_many(word_ngrams(words(text), n)))
