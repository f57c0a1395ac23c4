"""Reading a plan's source in blocks: by Ray tasks (JSONL and Parquet files) or by the driver (anything else).

A JSONL file is cut into byte ranges that end after a newline; small index tasks count the
newlines of each range, so every read task knows the number of its first line, and a record
read there gets the id, and a bad line the message, the local reader gives it. A Parquet file
(or a folder of them) is read a row group per task, numbered from the files' footers. So the
driver never reads the records: it sends descriptions of blocks and gets back rows to write.

Every other source (a ``.jsonl.gz`` file, standard input, a ``Dataset``, a frame, an iterable of
records) is read by the driver with the local engine's reader, a block at a time: the engine
keeps only a bounded number of blocks in flight, so the driver never holds the whole input
either.

Why not Ray Data's ``read_json``/``read_parquet``: they infer one Arrow schema for the whole
file (records whose fields differ fight over it) and lose line numbers, which the ids of lines
without one and the messages of bad lines depend on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from synthkit.errors import InputError
from synthkit.io.interchange import PARQUET_SUFFIXES, decode_row, row_stop_error
from synthkit.io.jsonl import BadLine, decode_line, stop_error
from synthkit.io.tables import rows_of
from synthkit.pipeline.summary import Outcome
from synthkit.records import Record

from .stages import fatal_row, outcome_row, record_row, to_table

__all__ = ["JsonlBlock", "ParquetBlock", "index_jsonl", "read_block", "read_rows", "with_json", "worker_readable"]

#: JSONL bytes one index task counts the newlines of.
SEGMENT_BYTES = 256 << 20


@attrs.frozen
class JsonlBlock:
    """Lines ``first_line, ...`` of a JSONL file: the bytes ``[start, end)``, which end after a newline (or at the end).

    ``path`` is the absolute path a worker opens; ``name`` the path as given, which messages name.
    """

    path: str
    name: str
    start: int
    end: int
    first_line: int
    on_bad_line: str

    @property
    def nbytes(self) -> int:
        return self.end - self.start


@attrs.frozen
class ParquetBlock:
    """One row group of a Parquet file; its first row is row ``first_row`` of the source (``where``)."""

    path: str
    where: str
    row_group: int
    first_row: int
    rows: int
    nbytes: int
    on_bad_line: str


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES or (path.is_dir() and any(path.glob("*.parquet")))


def worker_readable(source: Any) -> str | None:
    """Return ``"jsonl"`` or ``"parquet"`` when Ray tasks can read ``source`` in blocks, else ``None`` (the driver reads it)."""
    if not isinstance(source, (str, Path)) or str(source) == "-":
        return None
    path = Path(source)
    if _is_parquet(path):
        return "parquet"
    if path.is_file() and not str(path).endswith(".gz"):
        return "jsonl"
    return None


# -- JSONL -----------------------------------------------------------------------------


def _align(fh: Any, x: int, size: int) -> int:
    """Return the first position at or after ``x`` where a line starts (``0``, after a newline, or ``size``)."""
    if x <= 0:
        return 0
    if x >= size:
        return size
    fh.seek(x - 1)
    pos = x - 1
    while True:
        chunk = fh.read(1 << 16)
        if not chunk:
            return size
        i = chunk.find(b"\n")
        if i >= 0:
            return pos + i + 1
        pos += len(chunk)


def _count_newlines(fh: Any, start: int, end: int) -> int:
    fh.seek(start)
    left, n = end - start, 0
    while left > 0:
        chunk = fh.read(min(left, 8 << 20))
        if not chunk:
            break
        n += chunk.count(b"\n")
        left -= len(chunk)
    return n


def index_segment(path: str, a: int, b: int, block_bytes: int) -> list[tuple[int, int, int]]:
    """Cut ``[a, b)`` of a JSONL file into blocks at line starts; return ``(start, end, newlines)`` of each.

    The cut points are a function of the file only, so adjacent segments agree on the one between them.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        cuts = [_align(fh, x, size) for x in range(a, b, block_bytes)] + [_align(fh, b, size)]
        out = []
        for s, e in zip(cuts, cuts[1:]):
            if e > s:
                out.append((s, e, _count_newlines(fh, s, e)))
    return out


def estimate_line_bytes(path: str) -> float:
    """Return the mean bytes per line of the first megabyte of a file."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    return len(head) / max(1, head.count(b"\n"))


def index_jsonl(source: str | Path, block_size: int, on_bad_line: str, submit: Any) -> Iterator[JsonlBlock]:
    """Yield the blocks of a JSONL file in order, about ``block_size`` lines each.

    ``submit(fn, *args)`` runs ``fn`` as a Ray task and returns a callable that waits for its
    result; index tasks run a few segments ahead of the blocks yielded.
    """
    path, name = os.path.abspath(source), str(source)
    size = os.path.getsize(path)
    block_bytes = max(1, int(block_size * estimate_line_bytes(path)))
    segment = max(block_bytes, SEGMENT_BYTES // block_bytes * block_bytes)
    starts = list(range(0, size, segment)) or [0]
    ahead = 4
    pending = [submit(index_segment, path, a, min(a + segment, size), block_bytes) for a in starts[:ahead]]
    line = 1
    for k in range(len(starts)):
        if k + ahead < len(starts):
            a = starts[k + ahead]
            pending.append(submit(index_segment, path, a, min(a + segment, size), block_bytes))
        for s, e, n in pending[k]():
            yield JsonlBlock(path, name, s, e, line, on_bad_line)
            line += n
        pending[k] = None


def _bad_row(seq: int, bad: BadLine) -> dict[str, Any]:
    # what RunLedger.admit makes of a BadLine
    return outcome_row(seq, "", Outcome("failed", "source", bad.message, None, kind="bad_line"))


def _rows_of(items: Iterator[tuple[int, Record | BadLine | None]], on_bad_line: str, stop: Any) -> tuple[list[dict[str, Any]], list[Record | None]]:
    """Rows (and records) of decoded items: a bad one is a failed outcome, or with ``"stop"`` a fatal row that ends the block."""
    rows: list[dict[str, Any]] = []
    records: list[Record | None] = []
    for seq, item in items:
        if item is None:
            continue
        if isinstance(item, BadLine):
            records.append(None)
            if on_bad_line == "stop":
                rows.append(fatal_row(seq, "", stop(item)))
                break
            rows.append(_bad_row(seq, item))
            continue
        rows.append(_record_row(seq))
        records.append(item)
    return rows, records


def read_jsonl(block: JsonlBlock) -> tuple[list[dict[str, Any]], list[Record | None]]:
    """Read a block's lines into rows (and the records of the rows that hold one) with the local reader's :func:`~synthkit.io.jsonl.decode_line`.

    A bad line becomes a failed outcome (``on_bad_line="skip"``) or a fatal ``InputError`` row
    after which the block ends (``"stop"``).
    """
    with open(block.path, "rb") as fh:
        fh.seek(block.start)
        data = fh.read(block.end - block.start)
    parts = data.split(b"\n")
    last = parts.pop()
    lines = [p + b"\n" for p in parts]
    if last:
        lines.append(last)
    decoded = ((n, decode_line(raw, n, block.name)) for n, raw in enumerate(lines, block.first_line))
    return _rows_of(decoded, block.on_bad_line, stop_error)


# -- Parquet ---------------------------------------------------------------------------


def index_parquet(source: str | Path, on_bad_line: str) -> Iterator[ParquetBlock | InputError]:
    """Yield a block per row group of the file (or of each ``*.parquet`` file of the folder, in name order).

    A file that cannot be opened yields the local reader's ``InputError`` in its place.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(source)
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    row = 1
    for f in files:
        try:
            meta = pq.ParquetFile(f).metadata
        except (OSError, pa.ArrowInvalid) as exc:
            msg = f"{f} is not a readable Parquet file ({exc}); check the file, or give it a .jsonl suffix if it holds JSON lines"
            yield InputError(msg)
            return
        for g in range(meta.num_row_groups):
            rg = meta.row_group(g)
            yield ParquetBlock(os.path.abspath(f), str(source), g, row, rg.num_rows, rg.total_byte_size, on_bad_line)
            row += rg.num_rows


def read_parquet(block: ParquetBlock) -> tuple[list[dict[str, Any]], list[Record | None]]:
    """Read a row group into rows (and records) with the local reader's :func:`~synthkit.io.interchange.decode_row`."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(block.path)
    try:
        table = pf.read_row_group(block.row_group)
    finally:
        pf.close()
    decoded = ((i, decode_row(row, i, block.where)) for i, row in enumerate(rows_of(table), block.first_row))
    return _rows_of(decoded, block.on_bad_line, row_stop_error)


def _record_row(seq: int) -> dict[str, Any]:
    # a record's row; its JSON is written once the block's first program has run (or by read_block)
    return {"seq": seq, "sub": "", "status": "", "step": "", "why": "", "json": None}


def read_rows(block: JsonlBlock | ParquetBlock) -> tuple[list[dict[str, Any]], list[Record | None]]:
    """Read one block into rows, and the record of each row that holds one (``None`` for an outcome).

    A record's row has no JSON yet (``json`` is ``None``): :func:`with_json` writes it.
    """
    return read_jsonl(block) if isinstance(block, JsonlBlock) else read_parquet(block)


def with_json(rows: list[dict[str, Any]], records: list[Any]) -> list[dict[str, Any]]:
    """Return the rows with each record's JSON written in."""
    return [record_row(r["seq"], "", rec) if r["json"] is None else r for r, rec in zip(rows, records)]


def read_block(block: JsonlBlock | ParquetBlock) -> Any:
    """Read one block (in a Ray task) into a table of rows."""
    rows, records = read_rows(block)
    return to_table(with_json(rows, records))
