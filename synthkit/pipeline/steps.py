"""The per-record step routines every engine runs, so a record meets the same fate on each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from synthkit.errors import FatalError, RecordError, TemplateError
from synthkit.interfaces import Context, Drop, Filter
from synthkit.pipeline.plan import GeneratorStep, VerifyStep
from synthkit.pipeline.summary import Outcome
from synthkit.records import Record, Verdict

__all__ = ["apply_filters", "check_batch", "failure", "run_step"]


def failure(step: str, record: Record | None, exc: BaseException) -> Outcome:
    """Return the failed :class:`Outcome` of ``record`` at ``step`` for the error ``exc``."""
    if isinstance(exc, RecordError):
        return Outcome("failed", step, str(exc), record, kind=exc.kind, attempts=exc.attempts)
    if isinstance(exc, TemplateError):
        return Outcome("failed", step, str(exc), record, kind="template")
    return Outcome("failed", step, f"{type(exc).__name__}: {exc}", record, kind=type(exc).__name__)


async def run_step(step: GeneratorStep | VerifyStep, record: Record, ctx: Context) -> list[Record | Outcome]:
    """Run a generator or verifier step on one record.

    Returns the records it keeps and the :class:`Outcome` of the others: a verifier's verdict
    is appended to the lineage, a :class:`~synthkit.Drop` or an empty result is a drop, and
    any error but a :class:`~synthkit.errors.FatalError` (which propagates) fails only this record.
    """
    try:
        if isinstance(step, VerifyStep):
            verdict = await step.verifier.verify(record)
            record = record.with_verdict(verdict)
            if verdict.passed:
                return [record]
            return [Outcome("dropped", step.name, verdict.reason, record)]
        produced = list(await step.generator.generate(record, ctx))
        if not produced:
            return [Outcome("dropped", step.name, "generator produced no output", record)]
        return [Outcome("dropped", step.name, p.reason, p.record) if isinstance(p, Drop) else p for p in produced]
    except FatalError:
        raise
    except Exception as exc:  # noqa: BLE001 - every other error fails only this record
        return [failure(step.name, record, exc)]


def check_batch(filt: Filter, records: list[Record], prepared: Any = None) -> list[Verdict | BaseException]:
    """Return one verdict per record, or the exception a record's check raised.

    The filter's vectorised ``check_batch`` runs first (its ``decide`` of ``prepared``, when
    the records were prepared elsewhere); if it raises (or miscounts), each record is checked
    alone, so only the records that raise fail. A :class:`~synthkit.errors.FatalError` propagates.
    """
    if not records:
        return []
    try:
        verdicts = list(filt.check_batch(records) if prepared is None else filt.decide(prepared))  # type: ignore[attr-defined]
        if len(verdicts) == len(records):
            return verdicts  # type: ignore[return-value]
    except FatalError:
        raise
    except Exception:  # noqa: BLE001, S110 - check one by one, so only the records that raise fail
        pass
    out: list[Verdict | BaseException] = []
    for r in records:
        try:
            out.append(filt.check(r))
        except FatalError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken check fails this record, not the run
            out.append(exc)
    return out


def apply_filters(filters: Sequence[Filter], batch: Sequence[Any], prepared: Sequence[Any] | None = None) -> list[Any]:
    """Run each filter over the records of ``batch`` that passed the ones before it, in order.

    Returns ``batch`` with each record replaced by the record with its verdicts, or by an
    :class:`Outcome` (dropped, or failed when its check raised); other items pass through.

    ``prepared[k]``, when given and not ``None``, is filter ``k``'s ``prepare`` of all the
    records of ``batch`` (made elsewhere, e.g. in another process): the filter decides the
    rows of those that reach it instead of preparing them again.
    """
    out = list(batch)
    alive = [i for i, x in enumerate(batch) if isinstance(x, Record)]
    first = alive
    for k, filt in enumerate(filters):
        ready = prepared[k] if prepared is not None else None
        if ready is not None and len(alive) != len(first):
            at = {i: j for j, i in enumerate(first)}
            ready = ready.take([at[i] for i in alive])
        results = check_batch(filt, [out[i] for i in alive], ready)
        survivors = []
        for i, v in zip(alive, results):
            if not isinstance(v, Verdict):
                out[i] = failure(filt.name, out[i], v)
                continue
            rec = out[i].with_verdict(v)
            if v.passed:
                out[i] = rec
                survivors.append(i)
            else:
                out[i] = Outcome("dropped", filt.name, v.reason, rec)
        alive = survivors
    return out
