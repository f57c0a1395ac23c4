"""JSONL sources and sinks. Errors name the file and the line."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

import attrs
from orjson import loads as _fast_loads  # parses a line about three times as fast as the standard library, to the same values

from synthkit.errors import InputError
from synthkit.records import Record, content_id, encode_line

__all__ = ["BadLine", "decode_line", "iter_records", "JsonlWriter", "OnBadLine", "stop_error"]

OnBadLine = Literal["stop", "skip"]


def _has_float(value: Any) -> bool:
    """Whether a parsed value holds a float anywhere: orjson reads an integer beyond 64 bits as one, so such a line is read again by the standard library."""
    t = type(value)
    if t is float:
        return True
    if t is dict:
        value = value.values()
    elif t is not list:
        return False
    for v in value:
        tv = type(v)
        if tv is str or tv is int or tv is bool or v is None:
            continue
        if tv is float or _has_float(v):
            return True
    return False


@attrs.frozen
class BadLine:
    """A line of an input file that could not be read (kept in the stream to be counted as failed)."""

    path: str
    lineno: int
    error: str
    text: str

    @property
    def message(self) -> str:
        return f"{self.path}:{self.lineno}: {self.error}"


def _open(path: str | Path) -> IO[bytes]:
    try:
        if str(path) == "-":
            return sys.stdin.buffer
        if str(path).endswith(".gz"):
            import gzip

            return gzip.open(path, "rb")  # type: ignore[return-value]
        return open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        msg = f"input file {path} does not exist"
        raise InputError(msg) from None
    except IsADirectoryError:
        msg = f"input {path} is a folder; give a .jsonl file"
        raise InputError(msg) from None


def iter_records(path: str | Path, *, on_bad_line: OnBadLine = "stop") -> Iterator[Record | BadLine]:
    """Yield a :class:`Record` per non-blank line of ``path``.

    Args:
        path: a JSONL file (gzipped when it ends in ``.gz``; ``-`` reads standard input); each
            line a JSON object such as ``{"prompt": ...}``, ``{"text": ...}`` or a full record. A
            line that is not valid UTF-8 is a bad line like any other, named by its number.
        on_bad_line: ``"stop"`` raises :class:`InputError` naming file and line;
            ``"skip"`` yields a :class:`BadLine` (the pipeline counts it as failed) and goes on.
    """
    if on_bad_line not in ("stop", "skip"):
        msg = f"on_bad_line must be 'stop' or 'skip', got {on_bad_line!r}"
        raise ValueError(msg)
    fh = _open(path)
    try:
        for lineno, raw in _lines(fh, path):
            item = decode_line(raw, lineno, str(path))
            if item is None:
                continue
            if isinstance(item, BadLine) and on_bad_line == "stop":
                raise stop_error(item) from None
            yield item
    finally:
        if fh is not getattr(sys.stdin, "buffer", None):
            fh.close()


def decode_line(raw: bytes, lineno: int, path: str) -> Record | BadLine | None:
    """Decode line ``lineno`` of the JSONL file ``path``: its record, a :class:`BadLine`, or ``None`` for a blank line.

    A line without an ``id`` gets one from its number and content, so identical lines at
    different places stay distinct records. Every reader of JSONL (local or in a Ray task)
    decodes lines with this function, so ids and messages agree.
    """
    if not raw.strip():
        return None
    try:
        obj = _fast_loads(raw)
    except ValueError:
        obj = None  # the standard library's reading below names what is wrong (or reads what orjson refuses: NaN, lone surrogates)
    if obj is not None and not _has_float(obj):
        if type(obj) is dict and obj.get("id") is None:
            obj["id"] = content_id([lineno, obj])
        try:
            return Record.from_dict(obj)
        except (InputError, TypeError, ValueError):
            pass
    return _decode_standard(raw, lineno, path)


def _decode_standard(raw: bytes, lineno: int, path: str) -> Record | BadLine:
    """:func:`decode_line` by the standard library alone: what orjson refuses or could misread, and every error's message."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.decode("utf-8", "replace")
        return BadLine(path=path, lineno=lineno, error=f"not valid UTF-8 (byte {exc.start + 1} of the line)", text=line[:200])
    try:
        obj = json.loads(line)
        if isinstance(obj, dict) and obj.get("id") is None:
            obj["id"] = content_id([lineno, obj])
        return Record.from_dict(obj)
    except (json.JSONDecodeError, InputError, TypeError, ValueError) as exc:
        err = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        return BadLine(path=path, lineno=lineno, error=err, text=line[:200])


def stop_error(bad: BadLine) -> InputError:
    """The error that stops a read at ``bad`` (the bad line rides along as ``exc.bad``)."""
    msg = f"{bad.message}. Fix the line, or rerun with on_bad_line='skip' (CLI: --on-bad-line skip) to count it as failed and go on"
    exc = InputError(msg)
    exc.bad = bad  # type: ignore[attr-defined]
    return exc


def _lines(fh: IO[bytes], path: str | Path) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line number, line)``; a file that cannot be decoded stops with its name and the line reached."""
    lineno = 0
    try:
        for lineno, line in enumerate(fh, 1):  # noqa: B007 - lineno is read after the loop
            yield lineno, line
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        msg = (
            f"{path}:{lineno + 1}: cannot read the file ({type(exc).__name__}: {exc}); the records before this "
            f"line were read. Give UTF-8 JSONL, or a complete gzip file for a .gz name"
        )
        raise InputError(msg) from None


class JsonlWriter:
    """JSONL writer that flushes at least every ``flush_every`` seconds and on close.

    Args:
        path: the file; its parent folder is created. ``None`` discards; ``-`` writes to
            standard output.
        append: add to an existing file instead of replacing it.
        lazy: create the file only when the first line is written (an old file of that name
            is removed at once, so no stale lines survive); for rejects and failures files.
    """

    def __init__(
        self, path: str | Path | None, *, append: bool = False, flush_every: float = 0.2, lazy: bool = False
    ) -> None:
        self.path = None if path is None else Path(path)
        self.flush_every = flush_every
        self._last_flush = time.monotonic()
        self._fh: IO[str] | None = None
        self._mode = "a" if append else "w"
        self._pending = False
        if self.path is not None and str(path) == "-":
            self._fh = sys.stdout
        elif self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if lazy and not append:
                self.path.unlink(missing_ok=True)
                self._pending = True
            else:
                self._fh = open(self.path, self._mode, encoding="utf-8")  # noqa: SIM115
        self.count = 0

    def write(self, obj: Record | dict[str, Any]) -> None:
        """Write a record, or a JSON-able row, as one line."""
        if self._fh is None and not self._pending:
            self.count += 1
            return
        self.write_line(obj.to_json() if isinstance(obj, Record) else encode_line(obj))

    def write_line(self, line: str) -> None:
        """Write one ready-made JSON line (without its newline)."""
        self.count += 1
        if self._pending:
            assert self.path is not None
            self._fh = open(self.path, self._mode, encoding="utf-8")  # noqa: SIM115
            self._pending = False
        if self._fh is None:
            return
        self._fh.write(line + "\n")
        now = time.monotonic()
        if now - self._last_flush >= self.flush_every:
            self._fh.flush()
            self._last_flush = now

    def close(self) -> None:
        if self._fh is sys.stdout:
            self._fh.flush()
            self._fh = None
        elif self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
