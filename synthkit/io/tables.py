"""Records as Arrow tables: the column rule, a streaming Parquet (or Arrow) writer, a row reader.

The column rule keeps every field, with absent and ``null`` apart:

* one column per top-level key of a row (for a record, its JSON form: ``id``, ``prompt``,
  ``messages``, ``response``, each ``data`` key, ``lineage``), in first-seen order;
* a column whose values all have one shape gets a native Arrow type: ``bool``, ``int64``,
  ``float64``, ``string``, a list of one shape, or a struct when every object has the same keys;
* any other column (mixed types, ints beside floats, objects with varying keys, an explicit
  ``null`` value) is a JSON column: Arrow's canonical ``arrow.json`` type, which Parquet stores
  as its JSON logical type and Hugging Face ``datasets`` reads as a ``Json`` feature.
  ``lineage`` is always a JSON column;
* a null cell means the key is absent from that row; a JSON column holds ``null`` as ``"null"``.

Column types are fixed by the first row group. When a later row group brings a new key, or a
value that does not fit its column, the writer rewrites what it has written so far with the
widened schema (new column; or the conflicting column turned JSON), streaming row group by row
group. Each column widens at most twice, so rewrites are rare and memory stays bounded.

pyarrow is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from synthkit.errors import InputError
from synthkit.records import Record

__all__ = ["ROW_GROUP_SIZE", "TableWriter", "iter_rows", "rows_of"]

#: Records per Parquet row group (and per batch when reading).
ROW_GROUP_SIZE = 4096

Kind = tuple[Any, ...]
_JSON: Kind = ("json",)
_NULL: Kind = ("null",)
_STR: Kind = ("str",)
_INT: Kind = ("int",)
_FLOAT: Kind = ("float",)
_BOOL: Kind = ("bool",)
_MISSING = object()
_INT64 = (-(2**63), 2**63)


def _kind(v: Any) -> Kind:
    """Return the shape of one JSON value (``_JSON`` when no native Arrow type keeps it exactly)."""
    t = type(v)
    if t is str:
        return _STR
    if t is bool:
        return _BOOL
    if t is int:
        return _INT if _INT64[0] <= v < _INT64[1] else _JSON
    if t is float:
        return _FLOAT
    if v is None:
        return _NULL
    if t is list or t is tuple:
        k = _NULL
        for x in v:
            k = _unify(k, _kind(x))
            if k is _JSON:
                return _JSON
        return ("list", k)
    if isinstance(v, Mapping):
        if not v or not all(type(key) is str and "\x00" not in key for key in v):
            return _JSON
        fields = []
        for key, x in v.items():
            k = _kind(x)
            if k is _JSON:
                return _JSON
            fields.append((key, k))
        return ("struct", tuple(fields))
    return _JSON


def _unify(a: Kind, b: Kind) -> Kind:
    """Return the shape that holds values of both shapes exactly, or ``_JSON``."""
    if a == b:
        return a
    if a is _JSON or b is _JSON:
        return _JSON
    if a == _NULL:
        return b
    if b == _NULL:
        return a
    if a[0] == b[0] == "list":
        e = _unify(a[1], b[1])
        return _JSON if e is _JSON else ("list", e)
    if a[0] == b[0] == "struct":
        fb = dict(b[1])
        if len(fb) != len(a[1]) or any(k not in fb for k, _ in a[1]):
            return _JSON
        fields = []
        for k, ka in a[1]:
            u = _unify(ka, fb[k])
            if u is _JSON:
                return _JSON
            fields.append((k, u))
        return ("struct", tuple(fields))
    return _JSON


def _infer(rows: list[dict[str, Any]], json_columns: frozenset[str], kinds: dict[str, Kind] | None = None) -> dict[str, Kind]:
    """Return each column's shape over ``rows``, widening ``kinds`` (first-seen key order)."""
    out = dict(kinds or {})
    for row in rows:
        for key, v in row.items():
            old = out.get(key)
            if old is _JSON:
                continue
            # a top-level null must stay apart from an absent key, so it needs a JSON column
            k = _JSON if (v is None or key in json_columns) else _kind(v)
            out[key] = k if old is None else _unify(old, k)
    return out


def _check_names(kinds: dict[str, Kind]) -> dict[str, Kind]:
    for name in kinds:
        if not isinstance(name, str) or "\x00" in name:
            msg = f"the key {name!r} cannot be a Parquet column name (NUL character); rename it, or write JSONL instead"
            raise InputError(msg)
    return kinds


def _arrow_type(k: Kind) -> Any:
    import pyarrow as pa

    tag = k[0]
    if tag == "list":
        return pa.list_(_arrow_type(k[1]))
    if tag == "struct":
        return pa.struct([(name, _arrow_type(f)) for name, f in k[1]])
    return {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "null": pa.null(), "json": pa.json_()}[tag]


def _schema(kinds: dict[str, Kind]) -> Any:
    import pyarrow as pa

    return pa.schema([(name, _arrow_type(k)) for name, k in kinds.items()])


def _dumps(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def _encode(rows: list[dict[str, Any]], kinds: dict[str, Kind], schema: Any) -> Any:
    """Return ``rows`` as an Arrow record batch with ``schema`` (absent keys as nulls)."""
    import pyarrow as pa

    arrays = []
    for (name, k), field in zip(kinds.items(), schema):
        values = [row.get(name, _MISSING) for row in rows]
        if k is _JSON or k == _JSON:
            storage = pa.array([None if v is _MISSING else _dumps(v) for v in values], pa.string())
            arrays.append(pa.ExtensionArray.from_storage(pa.json_(), storage))
        else:
            arrays.append(pa.array([None if v is _MISSING else v for v in values], field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _is_json_type(t: Any) -> bool:
    return getattr(t, "extension_name", None) == "arrow.json"


def _readable(arr: Any) -> Any:
    """Return ``arr`` with types a record cannot hold (timestamps, decimals, binary...) cast to strings."""
    import pyarrow as pa
    import pyarrow.types as pt

    t = arr.type
    if _is_json_type(t) or pt.is_null(t) or pt.is_boolean(t) or pt.is_integer(t) or pt.is_floating(t):
        return arr
    if pt.is_string(t) or pt.is_large_string(t) or pt.is_string_view(t) or pt.is_dictionary(t):
        return arr
    if pt.is_list(t) or pt.is_large_list(t) or pt.is_fixed_size_list(t) or pt.is_list_view(t) or pt.is_struct(t):
        return arr
    return arr.cast(pa.string())


def _decode(arr: Any, name: str) -> list[Any]:
    arr = _readable(arr)
    if _is_json_type(arr.type):
        return [_MISSING if s is None else json.loads(s) for s in arr.storage.to_pylist()]
    values = arr.to_pylist()
    if name == "lineage":  # a lineage column written as plain JSON text by another tool
        return [_MISSING if v is None else _maybe_json(v) for v in values]
    return [_MISSING if v is None else v for v in values]


def _maybe_json(v: Any) -> Any:
    if not isinstance(v, str):
        return v
    try:
        return json.loads(v)
    except ValueError:
        return v  # Record.from_dict names the bad value


def rows_of(batch: Any) -> Iterator[dict[str, Any]]:
    """Yield the rows of an Arrow record batch or table as dicts; null cells are absent keys."""
    if hasattr(batch, "to_batches"):
        for b in batch.to_batches():
            yield from rows_of(b)
        return
    names = batch.schema.names
    columns = [_decode(batch.column(i), name) for i, name in enumerate(names)]
    for r in range(batch.num_rows):
        row = {}
        for name, col in zip(names, columns):
            v = col[r]
            if v is not _MISSING:
                row[name] = v
        yield row


def iter_rows(path: str | Path, *, batch_size: int = ROW_GROUP_SIZE) -> Iterator[dict[str, Any]]:
    """Yield the rows of a Parquet file (or an Arrow IPC stream for ``.arrow``), a batch at a time."""
    import pyarrow.parquet as pq

    if Path(path).suffix == ".arrow":
        yield from _iter_stream(Path(path))
        return
    pf = pq.ParquetFile(path)
    try:
        for batch in pf.iter_batches(batch_size=batch_size):
            yield from rows_of(batch)
    finally:
        pf.close()


class TableWriter:
    """Stream records (or plain JSON-able rows) to a Parquet file, a row group at a time.

    The file is written beside ``path`` under a temporary name and moved into place on
    :meth:`close`, so a reader never sees half a file. See the module docs for the column rule.

    Args:
        path: the ``.parquet`` file (``fmt="arrow"``: an Arrow IPC stream); its folder is created.
        row_group_size: rows buffered before a row group is written.
        json_columns: columns always stored as JSON (default ``lineage``).
        fmt: ``"parquet"`` or ``"arrow"``.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        row_group_size: int = ROW_GROUP_SIZE,
        json_columns: Iterable[str] = ("lineage",),
        fmt: Literal["parquet", "arrow"] = "parquet",
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.row_group_size = row_group_size
        self.json_columns = frozenset(json_columns)
        self.fmt = fmt
        self.count = 0
        self.rewrites = 0
        self._rows: list[dict[str, Any]] = []
        self._kinds: dict[str, Kind] | None = None
        self._schema: Any = None
        self._writer: Any = None
        self._sink: Any = None
        self._tmp: Path | None = None
        self._closed = False

    def write(self, obj: Record | Mapping[str, Any]) -> None:
        """Add one record or row; a full buffer is written out as a row group."""
        self._rows.append(obj.to_dict() if isinstance(obj, Record) else dict(obj))
        self.count += 1
        if len(self._rows) >= self.row_group_size:
            self._flush()

    def write_line(self, line: str) -> None:
        """Add one record or row given as a JSON line (as :meth:`JsonlWriter.write_line` takes it)."""
        self.write(json.loads(line))

    def _open(self, kinds: dict[str, Kind]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # the mode an ordinary open() would give, not mkstemp's 0600
        self._tmp = Path(tmp)
        self._kinds = kinds
        self._schema = _schema(kinds)
        if self.fmt == "arrow":
            self._sink = pa.OSFile(tmp, "wb")
            self._writer = pa.ipc.new_stream(self._sink, self._schema)
        else:
            self._writer = pq.ParquetWriter(tmp, self._schema)

    def _close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    def _put(self, rows: list[dict[str, Any]]) -> None:
        assert self._kinds is not None
        batch = _encode(rows, self._kinds, self._schema)
        if self.fmt == "arrow":
            self._writer.write_batch(batch)
        else:
            self._writer.write_batch(batch, row_group_size=len(rows))

    def _flush(self) -> None:
        rows, self._rows = self._rows, []
        if not rows:
            return
        if self._kinds is None:
            self._open(_check_names(_infer(rows, self.json_columns)))
        else:
            kinds = _infer(rows, self.json_columns, self._kinds)
            if kinds != self._kinds:
                _check_names(kinds)
                self._rewrite(kinds)
        self._put(rows)

    def _rewrite(self, kinds: dict[str, Kind]) -> None:
        """Re-encode what is written so far with the widened ``kinds``."""
        self._close_writer()
        old = self._tmp
        assert old is not None
        self._open(kinds)
        try:
            buf: list[dict[str, Any]] = []
            rows = _iter_stream(old) if self.fmt == "arrow" else iter_rows(old, batch_size=self.row_group_size)
            for row in rows:
                buf.append(row)
                if len(buf) >= self.row_group_size:
                    self._put(buf)
                    buf = []
            if buf:
                self._put(buf)
        finally:
            old.unlink(missing_ok=True)
        self.rewrites += 1

    def close(self) -> None:
        """Write the last row group and move the file into place (an empty input makes an empty table)."""
        if self._closed:
            return
        try:
            self._flush()
            if self._kinds is None:
                self._open({})
        finally:
            self._closed = True
            self._close_writer()
        assert self._tmp is not None
        os.replace(self._tmp, self.path)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _iter_stream(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow as pa

    with pa.OSFile(str(path), "rb") as fh, pa.ipc.open_stream(fh) as reader:
        for batch in reader:
            yield from rows_of(batch)
