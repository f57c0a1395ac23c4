"""What runs on Ray workers: rows, the async step actor, filter tasks and the ordered filter actor.

Every item of the stream is one row of an Arrow table with fixed string columns, so records
with different fields never fight over an Arrow schema:

* ``seq``: the item's position in the source; ``sub``: its place among the outputs of
  fanning-out generators (``""``, ``"1"``, ``"1.0"``...). Together they order the stream.
* ``status``: ``""`` for a record still in the pipeline, ``"dropped"`` or ``"failed"`` for an
  outcome, ``"fatal"`` for an item after which the run stopped.
* ``step``, ``why``: the outcome's step and reason (dropped) or error kind (failed).
* ``json``: the record's JSON, or for an outcome the exact line the rejects file gets.

Outcomes ride along to the end, so the driver writes kept records and rejects in input
order and counts them exactly as the local engine does.
"""

from __future__ import annotations

import asyncio
import json
import pickle
from collections.abc import Sequence
from typing import Any

from synthkit.errors import FatalError
from synthkit.interfaces import Context, Filter
from synthkit.pipeline.plan import GeneratorStep, VerifyStep
from synthkit.pipeline.steps import apply_filters, run_step
from synthkit.pipeline.summary import Outcome
from synthkit.records import Record

__all__ = ["COLUMNS", "AsyncStep", "FilterTask", "OrderedFilters", "outcome_row", "record_row", "to_table"]

COLUMNS = ("seq", "sub", "status", "step", "why", "json")


def record_row(seq: int, sub: str, record: Record) -> dict[str, Any]:
    return {"seq": seq, "sub": sub, "status": "", "step": "", "why": "", "json": record.to_json()}


def outcome_row(seq: int, sub: str, outcome: Outcome) -> dict[str, Any]:
    why = outcome.reason if outcome.status == "dropped" else outcome.kind
    line = json.dumps(outcome.to_dict(), ensure_ascii=False, separators=(",", ":"))
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
    """A generator or verifier in a Ray Data actor: one asyncio loop, ``concurrency`` records at a time.

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

    def __call__(self, batch: Any) -> Any:
        rows = _rows(batch)
        return to_table(self.loop.run_until_complete(self._batch(rows)))

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


class FilterTask:
    """Stateless filters as a Ray Data task function (any worker, any order)."""

    def __init__(self, filters: bytes) -> None:
        self.filters = filters

    def __call__(self, batch: Any) -> Any:
        filters = pickle.loads(self.filters)
        return to_table(run_filters(filters, _rows(batch)))


def _order_key(row: dict[str, Any]) -> tuple[int, tuple[int, ...]]:
    return row["seq"], tuple(int(x) for x in row["sub"].split(".") if x)


class OrderedFilters:
    """Stateful filters (dedup, novelty) in ONE actor that sees the stream in input order.

    The index (a dedup filter's hashes or MinHash signatures and band keys) lives in this
    actor's memory for the whole run. Blocks reach it one at a time in order (a pool of
    one actor, one task in flight); it checks the order and fails loudly if it ever differs.
    """

    def __init__(self, filters: bytes) -> None:
        self.filters = pickle.loads(filters)
        self.last: tuple[int, tuple[int, ...]] | None = None

    def __call__(self, batch: Any) -> Any:
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
