"""Records in and out of JSONL, Parquet, Hugging Face ``datasets``, pandas and polars.

Every reader yields :class:`~synthkit.Record` objects and every writer streams, so a million
records pass in bounded memory. Parquet columns follow the rule in :mod:`synthkit.io.tables`:
native Arrow types where a key's values have one shape, JSON columns otherwise (and for
``lineage``), null meaning absent; a round trip gives back equal records.

pyarrow, ``datasets``, pandas and polars are imported only when used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthkit._deps import require
from synthkit.errors import InputError
from synthkit.io.jsonl import BadLine, JsonlWriter, OnBadLine, iter_records
from synthkit.records import Record, content_id
from synthkit.io.tables import ROW_GROUP_SIZE, TableWriter, iter_rows, rows_of

if TYPE_CHECKING:
    import datasets
    import pandas as pd
    import polars as pl
    import pyarrow as pa

__all__ = [
    "PARQUET_SUFFIXES",
    "from_dataset",
    "from_hub",
    "is_table_source",
    "check_source",
    "decode_row",
    "open_writer",
    "push_to_hub",
    "read_records",
    "row_stop_error",
    "to_arrow",
    "to_dataset",
    "to_pandas",
    "to_polars",
    "write_records",
]

#: File suffixes read and written as Parquet; every other file is JSONL.
PARQUET_SUFFIXES = (".parquet", ".pq")

_TABLES = {
    ("datasets", "Dataset"): "dataset",
    ("datasets", "IterableDataset"): "dataset",
    ("datasets", "DatasetDict"): "dict",
    ("datasets", "IterableDatasetDict"): "dict",
    ("pandas", "DataFrame"): "pandas",
    ("polars", "DataFrame"): "polars",
    ("polars", "LazyFrame"): "polars",
    ("pyarrow", "Table"): "arrow",
    ("pyarrow", "RecordBatch"): "arrow",
}


def _table_kind(obj: Any) -> str | None:
    for cls in type(obj).__mro__:
        kind = _TABLES.get((cls.__module__.split(".")[0], cls.__name__))
        if kind is not None:
            return kind
    return None


def is_table_source(obj: Any) -> bool:
    """Return whether ``obj`` is a path or a table :func:`read_records` opens (Dataset, DataFrame, Arrow table)."""
    return isinstance(obj, (str, Path)) or _table_kind(obj) is not None


def _is_parquet(path: str | Path) -> bool:
    p = Path(path)
    return p.suffix.lower() in PARQUET_SUFFIXES or (p.is_dir() and any(p.glob("*.parquet")))


def read_records(
    source: Any,
    *,
    on_bad_line: OnBadLine = "stop",
    batch_size: int = ROW_GROUP_SIZE,
) -> Iterator[Record | BadLine]:
    """Yield the records of ``source``, streaming.

    Args:
        source: a path (``.parquet``/``.pq`` or a folder of ``.parquet`` files read as Parquet,
            anything else as JSONL; ``-`` is JSONL on standard input); a Hugging Face ``Dataset`` or ``IterableDataset``; a pandas or
            polars ``DataFrame``; a pyarrow ``Table``; or an iterable of records or dicts.
        on_bad_line: ``"stop"`` raises :class:`InputError` naming the file and line (or row);
            ``"skip"`` yields a :class:`~synthkit.io.jsonl.BadLine` for it and goes on.
        batch_size: rows decoded at a time from a table.

    A row without an ``id`` gets one from its position and content, as for JSONL lines.
    """
    if on_bad_line not in ("stop", "skip"):
        msg = f"on_bad_line must be 'stop' or 'skip', got {on_bad_line!r}"
        raise ValueError(msg)
    if isinstance(source, (str, Path)):
        check_source(source)
        if not _is_parquet(source):
            yield from iter_records(source, on_bad_line=on_bad_line)
            return
        yield from _from_rows(_parquet_rows(Path(source), batch_size), str(source), on_bad_line)
        return
    kind = _table_kind(source)
    if kind == "dict":
        splits = ", ".join(repr(s) for s in source)
        msg = f"got a {type(source).__name__} of splits ({splits}); give one split, e.g. ds['train']"
        raise InputError(msg)
    if kind is not None:
        rows, where = _table_rows(source, kind, batch_size)
        yield from _from_rows(rows, where, on_bad_line)
        return
    if isinstance(source, Mapping) or not isinstance(source, Iterable):
        msg = f"cannot read records from a {type(source).__name__}; give a path, a Dataset, a DataFrame or an iterable of records"
        raise InputError(msg)
    yield from _from_rows(source, "records", on_bad_line)


def check_source(source: Any) -> None:
    """Raise :class:`InputError` now if ``source`` is a path that does not exist, before any output is opened."""
    if isinstance(source, (str, Path)) and str(source) != "-" and not Path(source).exists():
        msg = f"input file {source} does not exist"
        raise InputError(msg)


def _parquet_rows(path: Path, batch_size: int) -> Iterator[dict[str, Any]]:
    import pyarrow as pa

    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    for f in files:
        try:
            yield from iter_rows(f, batch_size=batch_size)
        except (OSError, pa.ArrowInvalid) as exc:
            msg = f"{f} is not a readable Parquet file ({exc}); check the file, or give it a .jsonl suffix if it holds JSON lines"
            raise InputError(msg) from None


def _table_rows(source: Any, kind: str, batch_size: int) -> tuple[Iterator[dict[str, Any]], str]:
    if kind == "dataset":
        where = f"{type(source).__name__} {getattr(source.info, 'dataset_name', None) or ''}".rstrip()

        def gen() -> Iterator[dict[str, Any]]:
            for table in source.with_format("arrow").iter(batch_size=batch_size):
                yield from rows_of(table)

        return gen(), where
    if kind == "pandas":
        return _pandas_rows(source, batch_size), "pandas DataFrame"
    if kind == "polars":
        frame = source.collect() if type(source).__name__ == "LazyFrame" else source
        return rows_of(frame.to_arrow()), "polars DataFrame"
    return rows_of(source), f"pyarrow {type(source).__name__}"


def _pandas_rows(df: pd.DataFrame, batch_size: int) -> Iterator[dict[str, Any]]:
    import pyarrow as pa

    for start in range(0, len(df), batch_size):
        part = df.iloc[start : start + batch_size]
        try:
            table = pa.Table.from_pandas(part, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            # object columns mixing types: take the Python values as they are, NaN/None/NA as absent
            yield from _pandas_objects(part)
            continue
        yield from rows_of(table)


def _pandas_objects(df: pd.DataFrame) -> Iterator[dict[str, Any]]:
    import pandas as pd

    for row in df.to_dict("records"):
        out = {}
        for k, v in row.items():
            if pd.api.types.is_scalar(v) and pd.isna(v):
                continue
            out[str(k)] = v.tolist() if hasattr(v, "tolist") else v
        yield out


def _from_rows(rows: Iterable[Any], where: str, on_bad_line: OnBadLine) -> Iterator[Record | BadLine]:
    for i, row in enumerate(rows, 1):
        item = decode_row(row, i, where)
        if isinstance(item, BadLine) and on_bad_line == "stop":
            raise row_stop_error(item) from None
        yield item


def decode_row(row: Any, i: int, where: str) -> Record | BadLine:
    """Decode row ``i`` (from 1) of a table source ``where``: its record, or a :class:`~synthkit.io.jsonl.BadLine`.

    A row without an ``id`` gets one from its position and content, as a JSONL line does. Every
    reader of tables (local or in a Ray task) decodes rows with this function.
    """
    if isinstance(row, Record):
        return row
    try:
        if not isinstance(row, Mapping):
            msg = f"a record must be a Record or a dict, got {type(row).__name__}"
            raise InputError(msg)
        if row.get("id") is None:
            # identical rows at different places stay distinct records, as for JSONL lines
            row = {**row, "id": content_id([i, dict(row)])}
        return Record.from_dict(row)
    except (InputError, TypeError, ValueError) as exc:
        text = json.dumps(row, ensure_ascii=False, default=str)[:200] if isinstance(row, Mapping) else repr(row)[:200]
        return BadLine(path=where, lineno=i, error=str(exc), text=text)


def row_stop_error(bad: BadLine) -> InputError:
    """The error that stops a read of a table at the bad row ``bad``."""
    msg = (
        f"{bad.path} row {bad.lineno}: {bad.error}. Fix the row, or rerun with on_bad_line='skip' "
        f"(CLI: --on-bad-line skip) to count it as failed and go on"
    )
    return InputError(msg)


def open_writer(path: str | Path | None, *, append: bool = False) -> JsonlWriter | TableWriter:
    """Return a writer for ``path``: Parquet for ``.parquet``/``.pq``, else JSONL (``None`` discards).

    Both have ``write(record_or_dict)``, ``close()`` and ``count``, and work as context managers.
    """
    if path is not None and str(path) != "-" and Path(path).suffix.lower() in PARQUET_SUFFIXES:
        if append:
            msg = f"cannot append to the Parquet file {path}; write a new file, or use a .jsonl sink"
            raise InputError(msg)
        return TableWriter(path)
    return JsonlWriter(path, append=append)


def write_records(records: Iterable[Record | Mapping[str, Any]], path: str | Path) -> int:
    """Write ``records`` (or JSON-able rows) to ``path``, Parquet or JSONL by suffix; return how many."""
    with open_writer(path) as out:
        for r in records:
            out.write(r)
    return out.count


def to_arrow(records: Iterable[Record | Mapping[str, Any]]) -> pa.Table:
    """Return ``records`` as one pyarrow ``Table`` (columns as in :mod:`synthkit.io.tables`), held in memory."""
    import tempfile

    import pyarrow as pa

    with tempfile.TemporaryDirectory(prefix="synthkit-arrow-") as tmp:
        path = Path(tmp) / "records.arrow"
        with TableWriter(path, fmt="arrow") as out:
            for r in records:
                out.write(r)
        with pa.OSFile(str(path), "rb") as fh, pa.ipc.open_stream(fh) as reader:
            return reader.read_all()


def to_dataset(records: Iterable[Record | Mapping[str, Any]]) -> datasets.Dataset:
    """Return ``records`` as a Hugging Face ``Dataset`` (held in memory, like ``Dataset.from_list``).

    ``messages`` is a list of ``{role, content}`` structs, so TRL reads it as a conversation;
    ``lineage`` and columns of mixed types are ``Json`` features.
    """
    ds = require("datasets", "hf")
    return ds.Dataset(to_arrow(records))


def from_dataset(dataset: Any, *, on_bad_line: OnBadLine = "stop") -> Iterator[Record | BadLine]:
    """Yield the records of a Hugging Face ``Dataset`` or ``IterableDataset`` (see :func:`read_records`)."""
    return read_records(dataset, on_bad_line=on_bad_line)


def from_hub(
    path: str,
    *,
    split: str = "train",
    streaming: bool = True,
    on_bad_line: OnBadLine = "stop",
    **kwargs: Any,
) -> Iterator[Record | BadLine]:
    """Yield records from ``datasets.load_dataset(path, split=split, streaming=streaming, **kwargs)``.

    ``path`` is a Hub dataset id, or a builder such as ``"json"`` or ``"parquet"`` with
    ``data_files=...`` for local files. Streaming (the default) keeps memory bounded.
    """
    ds = require("datasets", "hf")
    dataset = ds.load_dataset(path, split=split, streaming=streaming, **kwargs)
    return read_records(dataset, on_bad_line=on_bad_line)


def push_to_hub(records: Iterable[Record | Mapping[str, Any]], repo_id: str, **kwargs: Any) -> Any:
    """Upload ``records`` to the Hugging Face Hub as dataset ``repo_id`` (``Dataset.push_to_hub``).

    ``kwargs`` go to ``Dataset.push_to_hub`` (``split``, ``private``, ``token``...). Returns its result.
    """
    return to_dataset(records).push_to_hub(repo_id, **kwargs)


def to_pandas(records: Iterable[Record | Mapping[str, Any]]) -> pd.DataFrame:
    """Return ``records`` as a pandas ``DataFrame`` with Arrow-backed columns (exact types; JSON columns as text).

    ``read_records(df)`` gives the records back.
    """
    pd = require("pandas", "frames")
    return to_arrow(records).to_pandas(types_mapper=pd.ArrowDtype)


def to_polars(records: Iterable[Record | Mapping[str, Any]]) -> pl.DataFrame:
    """Return ``records`` as a polars ``DataFrame`` (JSON columns keep the ``arrow.json`` type).

    ``read_records(df)`` gives the records back.
    """
    pl = require("polars", "frames")
    return pl.from_arrow(to_arrow(records))
