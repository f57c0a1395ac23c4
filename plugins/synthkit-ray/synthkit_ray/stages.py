"""What runs on Ray workers: rows, programs of per-block steps, the async step actor and the ordered filter actor.

Every item of the stream is one row of an Arrow table with fixed string columns, so records
with different fields never fight over an Arrow schema:

* ``seq``: the item's position in the source (its line or row number when a worker read it);
  ``sub``: its place among the outputs of fanning-out generators (``""``, ``"1"``, ``"1.0"``...).
  Together they order the stream.
* ``status``: ``""`` for a record still in the pipeline, ``"dropped"`` or ``"failed"`` for an
  outcome, ``"fatal"`` for an item after which the run stopped.
* ``step``, ``why``: the outcome's step and reason (dropped) or error kind (failed).
* ``json``: the record's JSON, or for an outcome the exact line the rejects file gets.

Outcomes ride along to the end, so the driver writes kept records and rejects in input
order and counts them exactly as the local engine does.

A block's stateless work (filters, applying a dedup filter's verdicts, preparing a dedup
filter's keys) runs as one :class:`Program` in a Ray task, anywhere; the record JSON is parsed
once and written once per program.
"""

from __future__ import annotations

import asyncio
import json
import pickle
from collections.abc import Sequence
from typing import Any

import attrs

from synthkit.errors import FatalError
from synthkit.interfaces import Context, Filter
from synthkit.pipeline.plan import GeneratorStep, VerifyStep
from synthkit.pipeline.steps import apply_filters, run_step
from synthkit.pipeline.summary import Outcome
from synthkit.records import Record, Verdict

__all__ = [
    "COLUMNS",
    "AsyncStep",
    "Op",
    "OrderedFilters",
    "Program",
    "StepActor",
    "fatal_row",
    "outcome_row",
    "record_row",
    "run_filters",
    "read_and_run",
    "run_program",
    "stamp",
    "to_table",
]

COLUMNS = ("seq", "sub", "status", "step", "why", "json")


def record_row(seq: int, sub: str, record: Record) -> dict[str, Any]:
    return {"seq": seq, "sub": sub, "status": "", "step": "", "why": "", "json": record.to_json()}


def outcome_row(seq: int, sub: str, outcome: Outcome) -> dict[str, Any]:
    why = outcome.reason if outcome.status == "dropped" else outcome.kind
    line = outcome.to_json()
    return {"seq": seq, "sub": sub, "status": outcome.status, "step": outcome.step, "why": why, "json": line}


def fatal_row(seq: int, sub: str, exc: BaseException) -> dict[str, Any]:
    return {"seq": seq, "sub": sub, "status": "fatal", "step": type(exc).__name__, "why": str(exc), "json": ""}


def to_table(rows: Sequence[dict[str, Any]]) -> Any:
    import pyarrow as pa

    cols = {c: [r[c] for r in rows] for c in COLUMNS}
    return pa.table(
        {c: pa.array(v, type=pa.int64() if c == "seq" else pa.string()) for c, v in cols.items()}
    )


def _rows(table: Any) -> list[dict[str, Any]]:
    cols = table.to_pydict()
    return [dict(zip(COLUMNS, vals)) for vals in zip(*(cols[c] for c in COLUMNS))]


def _record(row: dict[str, Any]) -> Record:
    return Record.from_dict(json.loads(row["json"]))


def _result_row(row: dict[str, Any], sub: str, item: Record | Outcome) -> dict[str, Any]:
    if isinstance(item, Record):
        return record_row(row["seq"], sub, item)
    return outcome_row(row["seq"], sub, item)


class AsyncStep:
    """A generator or verifier in a Ray actor: one asyncio loop, ``concurrency`` records at a time.

    Args:
        step: the pickled :class:`~synthkit.pipeline.plan.GeneratorStep` or :class:`~synthkit.pipeline.plan.VerifyStep`.
        seed: the run's seed (per-record seeds derive from it, as locally).
        concurrency: records in flight in this actor.
    """

    def __init__(self, step: bytes, seed: int, concurrency: int) -> None:
        self.step: GeneratorStep | VerifyStep = pickle.loads(step)
        self.fans_out = isinstance(self.step, GeneratorStep)
        self.ctx = Context(seed=seed)
        self.concurrency = concurrency
        self.loop = asyncio.new_event_loop()
        self.fatal: BaseException | None = None

    def run(self, batch: Any) -> Any:
        """Run the step over one block; return the block of results."""
        rows = _rows(batch)
        return to_table(self.loop.run_until_complete(self._batch(rows)))

    __call__ = run

    async def _batch(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        sem = asyncio.Semaphore(self.concurrency)

        async def one(row: dict[str, Any]) -> list[dict[str, Any]]:
            if row["status"]:
                return [row]
            if self.fatal is not None:
                return [fatal_row(row["seq"], row["sub"], self.fatal)]
            async with sem:
                if self.fatal is not None:
                    return [fatal_row(row["seq"], row["sub"], self.fatal)]
                try:
                    items = await self._work(_record(row))
                except FatalError as exc:
                    self.fatal = exc
                    return [fatal_row(row["seq"], row["sub"], exc)]
            if not self.fans_out:
                return [_result_row(row, row["sub"], items[0])]
            base = row["sub"] + "." if row["sub"] else ""
            return [_result_row(row, f"{base}{i}", item) for i, item in enumerate(items)]

        out: list[dict[str, Any]] = []
        for produced in await asyncio.gather(*(one(r) for r in rows)):
            out.extend(produced)
        return out

    async def _work(self, record: Record) -> list[Record | Outcome]:
        """Run the step on one record exactly as the local pipeline's stage does."""
        return await run_step(self.step, record, self.ctx)

    def __del__(self) -> None:
        try:
            target = self.step.generator if isinstance(self.step, GeneratorStep) else self.step.verifier
            if not self.loop.is_closed():
                self.loop.run_until_complete(target.aclose())
                self.loop.close()
        except Exception:  # noqa: BLE001, S110 - closing must not raise in a dying actor
            pass


class StepActor:
    """A sync Ray actor around :class:`AsyncStep` (an actor class with ``async`` methods would run in Ray's own event loop)."""

    def __init__(self, step: bytes, seed: int, concurrency: int) -> None:
        self.step = AsyncStep(step, seed, concurrency)

    def run(self, batch: Any) -> Any:
        """Run the step over one block."""
        return self.step.run(batch)


def run_filters(filters: Sequence[Filter], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run consecutive filters over the records among ``rows``, each over the survivors of the ones before.

    The same rules as the local pipeline: a verdict is appended to the record's lineage, a
    failing check fails only its record, a :class:`~synthkit.errors.FatalError` stops the run.
    """
    try:
        out = apply_filters(filters, [_record(r) if not r["status"] else None for r in rows])
    except FatalError as exc:
        return [fatal_row(r["seq"], r["sub"], exc) if not r["status"] else r for r in rows]
    return [r if x is None else _result_row(r, r["sub"], x) for r, x in zip(rows, out)]


# -- programs: a block's stateless work in one task ----------------------------------------


@attrs.frozen
class Op:
    """One step of a :class:`Program`.

    * ``filters``: run ``parts`` (stateless filters) over the records, as the local pipeline does;
    * ``prepare``: ``parts[0]`` is a dedup filter: compute its batch of keys for the records
      (sent to that filter's router actor); a program's ``prepare`` steps come last;
    * ``apply``: ``parts`` are the dedup filters prepared by the program before, in order: give
      each record the verdicts their routers decided (each filter over the survivors of the
      ones before, as :func:`apply_filters` runs them); a program's ``apply`` comes first;
    * ``stamp``: ``parts[0]`` is the run's command line: append it to each kept record's
      ``lineage.commands`` (the driver then writes the lines as they come).
    """

    kind: str
    parts: tuple[Any, ...]


@attrs.frozen
class Program:
    """The stateless steps one Ray task runs on a block, in order."""

    ops: tuple[Op, ...]

    @property
    def prepares(self) -> int:
        """How many dedup filters this program prepares (its last steps)."""
        n = 0
        for op in reversed(self.ops):
            if op.kind != "prepare":
                break
            n += 1
        return n


_PROGRAMS: dict[str, Program] = {}  # unpickled once per worker process
_PASS = object()  # an outcome row that passes through unchanged


def _program(key: str, blob: bytes) -> Program:
    prog = _PROGRAMS.get(key)
    if prog is None:
        if len(_PROGRAMS) > 64:
            _PROGRAMS.clear()
        prog = _PROGRAMS[key] = pickle.loads(blob)
    return prog


def read_and_run(block: Any, key: str, blob: bytes) -> Any:
    """Read a source block (see :mod:`synthkit_ray.read`) and run the first program on it, in one task."""
    from .read import read_rows

    rows, records = read_rows(block)
    return _run(_program(key, blob), rows, [_PASS if r is None else r for r in records], None, ())


def run_program(key: str, blob: bytes, table: Any, *verdicts: Any) -> Any:
    """Run a program over a block: return the new block, then one prepared batch per ``prepare`` step.

    ``verdicts`` (for a leading ``apply``) hold, per dedup filter, one verdict (or the exception
    its check raised) per record that reached that filter, in order.
    """
    rows = _rows(table)
    return _run(_program(key, blob), rows, [_PASS if r["status"] else _record(r) for r in rows], table, verdicts)


def _run(prog: Program, rows: list[dict[str, Any]], items: list[Any], table: Any, verdicts: Sequence[Any]) -> Any:
    prepared: list[Any] = []
    try:
        for op in prog.ops:
            if op.kind == "apply":
                items = apply_filters([_Decided(f.name, v) for f, v in zip(op.parts, verdicts)], items)
            elif op.kind == "filters":
                items = apply_filters(op.parts, items)
            elif op.kind == "stamp":
                items = [stamp(x, op.parts[0]) if isinstance(x, Record) else x for x in items]
            else:
                prepared.append(_prepare(op.parts[0], items))
    except FatalError as exc:
        out = to_table([fatal_row(r["seq"], r["sub"], exc) if not r["status"] else r for r in rows])
        return (out, *([None] * prog.prepares)) if prog.prepares else out
    if all(op.kind == "prepare" for op in prog.ops):  # the records did not change: their rows stand
        if table is not None:
            out = table
        else:
            from .read import with_json

            out = to_table(with_json(rows, items))
    else:
        out = to_table([r if x is _PASS else _result_row(r, r["sub"], x) for r, x in zip(rows, items)])
    return (out, *prepared) if prog.prepares else out


class _Decided(Filter):
    """A filter whose verdicts were decided elsewhere (by its router), so :func:`apply_filters` applies them as it applies any filter's."""

    def __init__(self, name: str, verdicts: Sequence[Verdict | BaseException] | None) -> None:
        self.name = name
        self.verdicts = list(verdicts or [])

    def check(self, record: Record) -> Verdict:  # pragma: no cover - check_batch always answers
        msg = f"the verdicts of {self.name!r} are decided by its router"
        raise RuntimeError(msg)

    def check_batch(self, records: Sequence[Record]) -> list[Any]:
        if len(self.verdicts) != len(records):
            msg = f"the ray engine got {len(self.verdicts)} verdicts of {self.name!r} for {len(records)} records; report this with your Ray version"
            raise FatalError(msg)
        return self.verdicts


def stamp(record: Record, command: str | None) -> Record:
    """Return the record with ``command`` appended to ``lineage.commands`` once, as the run ledger stamps kept records."""
    return record.with_command(command)


def _prepare(filt: Any, items: list[Any]) -> tuple[Any, dict[int, BaseException], int]:
    """Return ``(batch, failed, n)``: the filter's prepared batch of the ``n`` records, but those whose preparation raised.

    As :func:`~synthkit.pipeline.steps.check_batch` does locally: when the batch raises, each
    record is tried alone, so only the records that raise fail.
    """
    records = [x for x in items if isinstance(x, Record)]
    try:
        return filt.prepare(records), {}, len(records)
    except FatalError:
        raise
    except Exception:  # noqa: BLE001 - try one by one, so only the records that raise fail
        pass
    failed: dict[int, BaseException] = {}
    for i, r in enumerate(records):
        try:
            filt.prepare([r])
        except FatalError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken check fails this record, not the run
            failed[i] = exc
    return filt.prepare([r for i, r in enumerate(records) if i not in failed]), failed, len(records)


def _order_key(row: dict[str, Any]) -> tuple[int, tuple[int, ...]]:
    return row["seq"], tuple(int(x) for x in row["sub"].split(".") if x)


class OrderedFilters:
    """Stateful filters without a sharded index (semantic dedup, novelty) in ONE actor that sees the stream in input order.

    Their index lives in this actor's memory for the whole run. The driver sends it the blocks
    in input order (Ray runs one caller's tasks on an actor in the order they were sent); it
    checks the order and fails loudly if it ever differs.
    """

    def __init__(self, filters: bytes) -> None:
        self.filters = pickle.loads(filters)
        self.last: tuple[int, tuple[int, ...]] | None = None

    def run(self, batch: Any) -> Any:
        """Run the filters over one block, in order."""
        rows = _rows(batch)
        for row in rows:
            key = _order_key(row)
            if self.last is not None and key <= self.last:
                names = ", ".join(f.name for f in self.filters)
                msg = (
                    f"the ray engine gave the stateful filters ({names}) item {key} after {self.last}: out of input "
                    f"order, so 'keep the first' would differ from the local engine. Report this with your Ray version"
                )
                raise RuntimeError(msg)
            self.last = key
        return to_table(run_filters(self.filters, rows))

    __call__ = run
