"""Document-grounded QA: chunk text files, ask for a question with a supporting quote, check the quote.

:func:`chunk_documents` turns a text file, a folder of them, or a list of paths into seed
records, one per chunk (``chunk``, ``source``, ``chunk_index``). The ``doc-qa`` template asks
for a JSON object ``{"question", "answer", "quote"}`` about the chunk, where ``quote`` is
copied word for word from it; :class:`~synthkit.verify.quote.QuoteVerifier` (the ``quote`` verifier) passes a record
only if its quote occurs in its chunk (whitespace, case and quote marks normalised) and
the question and answer are not empty.

Examples:
    >>> recs = list(chunk_text_records("Water boils at 100 C at sea level. It freezes at 0 C.", size=40))
    >>> [r.data["chunk"] for r in recs]
    ['Water boils at 100 C at sea level.', 'It freezes at 0 C.']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from synthkit.errors import InputError
from synthkit.records import Record


__all__ = [
    "chunk_text",
    "chunk_text_records",
    "chunk_documents",
]


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{2,}")


def chunk_text(text: str, *, size: int = 1500, overlap: int = 0) -> list[str]:
    """Split ``text`` into chunks of at most about ``size`` characters at sentence or paragraph ends.

    A single sentence longer than ``size`` is cut at word boundaries. With ``overlap``,
    each chunk starts with up to that many characters of whole sentences from the end of
    the previous one.
    """
    if size < 1:
        msg = f"chunk size must be positive, got {size}"
        raise ValueError(msg)
    pieces: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE.split(text)):
        if not sentence:
            continue
        while len(sentence) > size:
            cut = sentence.rfind(" ", 0, size)
            cut = cut if cut > 0 else size
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    chunks: list[str] = []
    current: list[str] = []
    for piece in pieces:
        if current and len(" ".join([*current, piece])) > size:
            chunks.append(" ".join(current))
            carry: list[str] = []
            for prev in reversed(current):
                if overlap and len(" ".join([prev, *carry])) <= overlap:
                    carry.insert(0, prev)
                else:
                    break
            current = carry
        current.append(piece)
    if current:
        chunks.append(" ".join(current))
    return chunks


def chunk_text_records(text: str, *, source: str = "text", size: int = 1500, overlap: int = 0) -> Iterator[Record]:
    """Yield one seed record per chunk of ``text``."""
    for i, chunk in enumerate(chunk_text(text, size=size, overlap=overlap)):
        yield Record.create(data={"chunk": chunk, "source": source, "chunk_index": i})


def chunk_documents(
    paths: str | Path | Iterable[str | Path],
    *,
    size: int = 1500,
    overlap: int = 0,
    suffixes: tuple[str, ...] = (".txt", ".md", ".rst"),
) -> Iterator[Record]:
    """Yield one seed record per chunk of each text file (a file, a folder, or a list of them).

    Folders are read recursively in sorted order; only files ending in ``suffixes`` are read.

    Raises:
        InputError: a path does not exist or a file is not UTF-8 text.
    """
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    for item in items:
        p = Path(item)
        if not p.exists():
            msg = f"document path {p} does not exist"
            raise InputError(msg)
        files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in suffixes) if p.is_dir() else [p]
        for f in files:
            try:
                text = f.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                msg = f"document {f} is not UTF-8 text: {exc}"
                raise InputError(msg) from None
            yield from chunk_text_records(text, source=str(f), size=size, overlap=overlap)
