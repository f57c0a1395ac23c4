"""The viewer's index: one SQLite table row per kept or rejected record, built streaming from the JSONL files.

The index lives beside the first file (``OUT.view.sqlite``) and remembers the size and
modification time of every file it read: a later open with the same files reuses it at once;
any change rebuilds it. The full record is not copied: each row keeps its file and byte
offset, and the record page reads the line back from there.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from synthkit.errors import InputError

try:  # orjson (the ``view`` extra) parses about three times as fast; the standard library does the same job
    from orjson import JSONDecodeError as _DecodeError
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - without the extra
    from json import JSONDecodeError as _DecodeError
    from json import loads as _loads

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
_BATCH = 20_000


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


def _lines(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """Yield (line number, byte offset, raw line) of each non-blank line."""
    with open(path, "rb") as fh:
        offset = 0
        for lineno, raw in enumerate(fh, 1):
            if raw.strip():
                yield lineno, offset, raw
            offset += len(raw)


def build_index(
    files: Sequence[str | Path],
    *,
    path: str | Path | None = None,
    stratum_field: str = "stratum",
    progress: Callable[[int, int], None] | None = None,
) -> Index:
    """Build (or reuse) the index of ``files``: the kept records' files first, then rejects files.

    Args:
        files: JSONL files (not gzipped: the record page seeks into them).
        path: the SQLite file (default :func:`index_path` of the first file).
        stratum_field: the record field holding the mixer stratum.
        progress: called with (bytes read, total bytes) as the files are read.

    Raises:
        InputError: a file is missing, gzipped, or has a line that is not a JSON object (named by file and line).
    """
    from synthkit.pipeline.summary import reason_key

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
            """
            pragma journal_mode = off; pragma synchronous = off; pragma temp_store = memory; pragma cache_size = -200000;
            create table meta (key text primary key, value text);
            create table files (file integer primary key, path text not null);
            create table records (
                id text, status text, step text, reason text, verdicts text, teacher text, model text, template text,
                generation integer, origin text, stratum text, prompt text, response text, detail text, file text
            );
            create table lines (rowid integer primary key, file integer not null, offset integer not null);
            """
        )
        db.execute("begin")
        rowid = 0
        cache: dict[str, str] = {}

        def mask(reason: str) -> str:
            key = cache.get(reason)
            if key is None:
                key = cache[reason] = reason_key(reason)
                if len(cache) > 100_000:
                    cache.clear()
            return key

        for file_no, p in enumerate(paths):
            db.execute("insert into files values (?, ?)", (file_no, str(p.resolve())))
            rows: list[tuple[Any, ...]] = []
            where: list[tuple[int, int, int]] = []
            label = p.name
            for lineno, offset, raw in _lines(p):
                try:
                    rec = _loads(raw)
                except (_DecodeError, ValueError) as exc:
                    msg = f"{p}:{lineno}: not a JSON object ({exc}); fix or drop the line"
                    raise InputError(msg) from None
                if not isinstance(rec, dict):
                    msg = f"{p}:{lineno}: a record must be a JSON object, got {type(rec).__name__}"
                    raise InputError(msg)
                rowid += 1
                rows.append(_row(rec, label, stratum_field, mask))
                where.append((rowid, file_no, offset))
                if len(rows) >= _BATCH:
                    _flush(db, rows, where)
                    if progress is not None:
                        progress(offset + len(raw) + sum(q.stat().st_size for q in paths[:file_no]), total)
            _flush(db, rows, where)
        if progress is not None:
            progress(total, total)
        for col in (*FACETS, "id"):
            db.execute(f"create index records_{col} on records ({col})")
        db.execute("create virtual table records_fts using fts5 (prompt, response, content='records', content_rowid='rowid', detail=none)")
        db.execute("insert into records_fts (records_fts) values ('rebuild')")
        db.execute("insert into meta values ('stamp', ?)", (stamp,))
        db.execute("commit")
    except BaseException:
        db.close()
        Path(tmp).unlink(missing_ok=True)
        raise
    db.close()
    os.replace(tmp, target)
    return Index(target, paths, rowid, reused=False)


def _flush(db: sqlite3.Connection, rows: list[tuple[Any, ...]], where: list[tuple[int, int, int]]) -> None:
    if rows:
        db.executemany(f"insert into records values ({', '.join('?' * len(COLUMNS))})", rows)
        db.executemany("insert into lines values (?, ?, ?)", where)
        rows.clear()
        where.clear()


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
