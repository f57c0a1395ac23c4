"""The viewer's index: one SQLite table row per kept or rejected record, built streaming from the JSONL files.

The index lives beside the first file (``OUT.view.sqlite``) and remembers the size and
modification time of every file it read: a later open with the same files reuses it at once;
any change rebuilds it. The full record is not copied: each row keeps its file and byte
offset, and the record page reads the line back from there.

The build cuts the files into pieces of 8 MB at line ends; worker processes parse the pieces
(``orjson``, only the fields the table needs), each into a small SQLite file of its rows, and
this process copies each piece in file order with one ``INSERT ... SELECT`` (no Python object per
row here) and adds it to the full-text index while the workers parse the next pieces, then
builds the facet indexes (sorting on two threads).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
from orjson import JSONDecodeError as _DecodeError
from orjson import loads as _loads  # about three times as fast as the standard library

from synthkit.errors import InputError


__all__ = ["COLUMNS", "FACETS", "Index", "build_index", "index_path", "open_index", "read_line"]

#: The columns of the ``records`` table, in order.
COLUMNS = (
    "id", "status", "step", "reason", "verdicts", "teacher", "model", "template", "generation",
    "origin", "stratum", "prompt", "response", "detail", "file",
)

#: The columns the table page offers as facets (``verdicts`` as an array facet).
FACETS = ("status", "step", "reason", "teacher", "model", "template", "generation", "origin", "stratum")

#: Characters of prompt and response kept in the table (the record page shows them whole).
SNIPPET = 240

_SCHEMA_VERSION = 1
_CHUNK = 8 << 20  # bytes of JSONL one worker task parses

#: The index's tables of rows: ``records`` (what the table page shows) and ``lines`` (where each record's line is).
_TABLES = """
create table records (
    id text, status text, step text, reason text, verdicts text, teacher text, model text, template text,
    generation integer, origin text, stratum text, prompt text, response text, detail text, file text
);
create table lines (rowid integer primary key, file integer not null, offset integer not null);
"""
#: How the index is written: no journal and no syncs (a failed build is thrown away whole), a 200 MB cache,
#: the file read through a memory map (the ten index builds each scan the table), sorts on two threads.
_PRAGMAS = (
    "pragma journal_mode = off; pragma synchronous = off; pragma temp_store = memory; pragma cache_size = -200000;"
    " pragma mmap_size = 4294967296; pragma threads = 2;"
)
#: A piece's one table: the ``records`` row of each line, then where the line is (file number, byte offset).
_PIECE = f"create table piece ({', '.join(COLUMNS)}, file_no integer, offset integer);"
_INSERT = f"insert into piece values ({', '.join('?' * (len(COLUMNS) + 2))})"


@attrs.frozen
class Index:
    """A built index: its SQLite file and the JSONL files it covers (kept first, then rejects)."""

    path: Path
    files: tuple[Path, ...]
    rows: int
    reused: bool


def index_path(first: str | Path) -> Path:
    """Where the index of a set of files whose first is ``first`` lives: ``OUT.view.sqlite`` beside it."""
    p = Path(first)
    stem = p.name
    for suffix in (".jsonl.gz", ".jsonl"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return p.with_name(stem + ".view.sqlite")


def _stamp(files: Sequence[Path], stratum_field: str) -> str:
    parts = [f"v{_SCHEMA_VERSION}", stratum_field]
    for f in files:
        st = f.stat()
        parts.append(f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}")
    return "\n".join(parts)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is not str:
        value = json.dumps(value, ensure_ascii=False)
    return value[:SNIPPET]


def _prompt(rec: dict[str, Any]) -> str | None:
    prompt = rec.get("prompt")
    if prompt is not None:
        return _text(prompt)
    for m in reversed(rec.get("messages") or ()):
        if isinstance(m, dict) and m.get("role") == "user":
            return _text(m.get("content"))
    return _text(rec.get("text"))


def _row(rec: dict[str, Any], file_label: str, stratum_field: str, mask: Callable[[str], str]) -> tuple[Any, ...]:
    """The ``records`` row of one record (hot: runs once per line)."""
    lin = rec.get("lineage") or _EMPTY
    rej = rec.get("reject")
    verdicts = lin.get("verdicts")
    names = None
    if verdicts:
        items = [f"{v.get('name')}: {'passed' if v.get('passed') else 'failed'}" for v in verdicts if type(v) is dict]
        joined = '", "'.join(items)
        names = f'["{joined}"]' if '"' not in joined and "\\" not in joined else json.dumps(items)
    if type(rej) is dict:
        status = str(rej.get("status") or "dropped")
        detail = str(rej.get("reason") or "")
        reason = mask(detail) if status == "dropped" else (rej.get("kind") or mask(detail))
        step = rej.get("step")
    else:
        status = "kept"
        step = reason = detail = None
    stratum = rec.get(stratum_field)
    if stratum is not None and type(stratum) is not str:
        stratum = None if isinstance(stratum, (dict, list)) else str(stratum)
    rid = rec.get("id")
    response = rec.get("response")
    return (
        rid if rid is None or type(rid) is str else str(rid),
        status,
        step,
        reason,
        names,
        lin.get("teacher"),
        lin.get("model"),
        lin.get("template"),
        lin.get("generation"),
        lin.get("origin"),
        stratum,
        _prompt(rec),
        response[:SNIPPET] if type(response) is str else _text(response),
        detail,
        file_label,
    )


_EMPTY: dict[str, Any] = {}


def _chunks(paths: Sequence[Path], size: int) -> list[tuple[int, str, int, int]]:
    """Cut the files into pieces of about ``size`` bytes that end at a line end: (file number, path, start, end)."""
    pieces = []
    for file_no, p in enumerate(paths):
        total = p.stat().st_size
        with open(p, "rb") as fh:
            start = 0
            while start < total:
                fh.seek(min(start + size, total))
                fh.readline()
                end = min(fh.tell(), total)
                pieces.append((file_no, str(p), start, end))
                start = end
    return pieces


def _extract(piece: tuple[int, str, int, int], stratum_field: str, folder: str) -> tuple[str | None, int, int, str | None]:
    """Parse one piece into a SQLite file of its own rows in ``folder``.

    Runs in a worker process (hot: once per line). Returns the file (``None`` when the piece has
    a bad line), its rows, the piece's line count (up to the bad line), and the bad line's message.
    """
    from synthkit.pipeline.summary import reason_key

    file_no, path, start, end = piece
    label = Path(path).name
    mask = _masker(reason_key)
    rows: list[tuple[Any, ...]] = []
    with open(path, "rb") as fh:
        fh.seek(start)
        lines = fh.read(end - start).split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    offset = start
    lineno = 0
    for raw in lines:
        lineno += 1
        here = offset
        offset += len(raw) + 1
        if not raw.strip():
            continue
        try:
            rec = _loads(raw)
        except (_DecodeError, ValueError) as exc:
            return None, 0, lineno, f"not a JSON object ({exc}); fix or drop the line"
        if type(rec) is not dict:
            return None, 0, lineno, f"a record must be a JSON object, got {type(rec).__name__}"
        rows.append((*_row(rec, label, stratum_field, mask), file_no, here))
    part = os.path.join(folder, f"{file_no}-{start}.sqlite")
    db = sqlite3.connect(part, isolation_level=None)
    try:
        db.executescript(f"pragma journal_mode = off; pragma synchronous = off; {_PIECE}")
        db.execute("begin")
        db.executemany(_INSERT, rows)
        db.execute("commit")
    finally:
        db.close()
    return part, len(rows), lineno, None


def _masker(reason_key: Callable[[str], str]) -> Callable[[str], str]:
    cache: dict[str, str] = {}

    def mask(reason: str) -> str:
        key = cache.get(reason)
        if key is None:
            if len(cache) > 100_000:
                cache.clear()
            key = cache[reason] = reason_key(reason)
        return key

    return mask


def _pieces(
    paths: Sequence[Path], stratum_field: str, workers: int, folder: str
) -> Iterator[tuple[tuple[int, str, int, int], tuple[str | None, int, int, str | None]]]:
    """Yield each piece with what :func:`_extract` made of it, in file order; ``workers`` processes parse ahead."""
    from functools import partial

    pieces = _chunks(paths, _CHUNK)
    extract = partial(_extract, stratum_field=stratum_field, folder=folder)
    if workers <= 0 or len(pieces) < 2:
        for piece in pieces:
            result = extract(piece)
            yield piece, result
            if result[3] is not None:
                return
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import synthkit.pipeline.summary  # noqa: F401 - imported before the fork, so the workers import nothing

    # fork, not spawn: a spawned worker would re-run the caller's script (a top-level build_index in it, unguarded
    # by ``if __name__ == "__main__"``, fails); the worker only parses, holding no lock of the parent's threads.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        ahead = [pool.submit(extract, piece) for piece in pieces[: 2 * workers]]
        for i, piece in enumerate(pieces):
            result = ahead[i].result()
            if i + 2 * workers < len(pieces):
                ahead.append(pool.submit(extract, pieces[i + 2 * workers]))
            yield piece, result
            if result[3] is not None:
                for f in ahead[i + 1 :]:
                    f.cancel()
                return


def _workers() -> int:
    """Processes that parse: two on Linux with two cores or more (this one only copies their rows), else none."""
    if not sys.platform.startswith("linux"):  # fork is only safe (and the default) on Linux; elsewhere parse here
        return 0
    return 2 if len(os.sched_getaffinity(0)) >= 2 else 0


def build_index(
    files: Sequence[str | Path],
    *,
    path: str | Path | None = None,
    stratum_field: str = "stratum",
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> Index:
    """Build (or reuse) the index of ``files``: the kept records' files first, then rejects files.

    Args:
        files: JSONL files (not gzipped: the record page seeks into them).
        path: the SQLite file (default :func:`index_path` of the first file).
        stratum_field: the record field holding the mixer stratum.
        progress: called with (bytes read, total bytes) as the files are read.
        workers: processes that parse the lines, each piece into a SQLite file of its own that this
            one copies in order (default: two on Linux with two cores or more, else none: parsed here).

    Raises:
        InputError: a file is missing, gzipped, or has a line that is not a JSON object (named by file and line).
    """
    paths = tuple(Path(f) for f in files)
    for p in paths:
        if not p.is_file():
            msg = f"{p} does not exist; give the JSONL file of a run (kept records or rejects)"
            raise InputError(msg)
        if p.suffix == ".gz":
            msg = f"{p} is gzipped; the viewer reads records back by byte offset, so gunzip it first"
            raise InputError(msg)
    target = Path(path) if path is not None else index_path(paths[0])
    stamp = _stamp(paths, stratum_field)
    if target.exists():
        try:
            with sqlite3.connect(f"file:{target}?mode=ro", uri=True) as db:
                old = db.execute("select value from meta where key='stamp'").fetchone()
                rows = db.execute("select max(rowid) from lines").fetchone()[0] or 0
            if old is not None and old[0] == stamp:
                return Index(target, paths, rows, reused=True)
        except sqlite3.Error:
            pass
    total = sum(p.stat().st_size for p in paths)
    fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
    os.close(fd)
    db = sqlite3.connect(tmp, isolation_level=None)
    try:
        db.executescript(
            _PRAGMAS
            + """
            create table meta (key text primary key, value text);
            create table files (file integer primary key, path text not null);
            """
            + _TABLES
        )
        db.execute("begin")
        for file_no, p in enumerate(paths):
            db.execute("insert into files values (?, ?)", (file_no, str(p.resolve())))
        db.execute("create virtual table records_fts using fts5 (prompt, response, content='records', content_rowid='rowid', detail=none)")
        db.execute("commit")
        rowid = done = 0
        seen = [0] * len(paths)  # lines of each file before the current piece
        with tempfile.TemporaryDirectory(prefix=target.name, suffix=".parts", dir=target.parent) as folder, contextlib.closing(
            _pieces(paths, stratum_field, _workers() if workers is None else workers, folder)
        ) as parsed:
            for (file_no, name, start, end), (part, rows, count, error) in parsed:
                if error is not None:
                    msg = f"{name}:{seen[file_no] + count}: {error}"
                    raise InputError(msg)
                seen[file_no] += count
                db.execute("attach ? as piece", (part,))  # the piece's rows, copied by SQLite: no Python object per row
                db.execute("begin")
                db.execute(f"insert into records select {', '.join(COLUMNS)} from piece.piece order by rowid")
                db.execute("insert into lines (file, offset) select file_no, offset from piece.piece order by rowid")
                db.execute("insert into records_fts (rowid, prompt, response) select rowid, prompt, response from records where rowid > ?", (rowid,))
                db.execute("commit")
                db.execute("detach piece")
                os.unlink(part)
                rowid += rows
                done += end - start
                if progress is not None:
                    progress(done, total)
        db.execute("begin")
        if progress is not None:
            progress(total, total)
        for col in (*FACETS, "id"):
            db.execute(f"create index records_{col} on records ({col})")
        db.execute("insert into meta values ('stamp', ?)", (stamp,))
        db.execute("commit")
    except BaseException:
        db.close()
        Path(tmp).unlink(missing_ok=True)
        raise
    db.close()
    os.replace(tmp, target)
    return Index(target, paths, rowid, reused=False)


def open_index(path: str | Path) -> sqlite3.Connection:
    """Open an index read-only."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def read_line(db: sqlite3.Connection, rowid: int) -> dict[str, Any] | None:
    """Return the full record of row ``rowid``, read back from its file, or ``None`` when it is gone."""
    found = db.execute("select f.path, l.offset from lines l join files f on f.file = l.file where l.rowid = ?", (rowid,)).fetchone()
    if found is None:
        return None
    with open(found[0], "rb") as fh:
        fh.seek(found[1])
        return json.loads(fh.readline())
