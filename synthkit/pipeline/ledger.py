"""The run ledger: counts every outcome, writes kept records and rejects in input order, runs the mix, closes the summary.

Every engine hands its results to one :class:`RunLedger`, in input order, so the sink, the
rejects file and the :class:`~synthkit.pipeline.summary.Summary` agree whatever ran the
plan: every line of the rejects file is one dropped or failed record of the summary.
"""

from __future__ import annotations

import collections
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from synthkit.errors import BudgetExceeded, EarlyStop, InputError
from synthkit.io.interchange import check_source, is_table_source, open_writer, read_records
from synthkit.io.jsonl import BadLine, JsonlWriter, iter_records
from synthkit.pipeline.engine import ProgressReporter, Sink
from synthkit.pipeline.plan import MixStep, Plan
from synthkit.pipeline.summary import Outcome, Spend, Summary, reason_key
from synthkit.teachers.cost import CostMeter
from synthkit.records import Record

__all__ = ["EARLY_STOP", "NOT_SELECTED", "RunLedger", "early_stop_message"]

#: The reason of a record the mixer did not pick.
NOT_SELECTED = "not selected by the mixer"

#: A run whose first this-many outcomes are the same non-retryable failure stops early.
EARLY_STOP = 10


def early_stop_message(outcome: Outcome, count: int) -> str:
    """Say that the first ``count`` records failed like ``outcome``, with a hint for the usual causes."""
    msg = f"the first {count} records all failed at {outcome.step!r} with {outcome.kind}: {outcome.reason}"
    if outcome.kind == "http_404":
        msg += " (a 404 for every request: does the base URL end with /v1, e.g. http://127.0.0.1:8000/v1?)"
    elif outcome.kind in ("http_401", "http_403"):
        msg += " (check the API key)"
    elif outcome.kind == "template":
        msg += " (fix the template or the input fields; nothing was sent for these records)"
    return msg + "; stopped early so the rest are not failed the same way"


class RunLedger:
    """The books of one run: what came in, what was kept, what was dropped or failed, and why.

    Args:
        plan: the plan being run (its mix step runs in :meth:`finish`).
        sink: the file for kept records, or ``None``.
        rejects: the JSONL file for dropped and failed records, or ``None``.
        progress: told of each record as it is written.

    A missing source file raises :class:`~synthkit.errors.InputError` here, before any
    output file is created.
    """

    def __init__(
        self,
        plan: Plan,
        sink: Sink = None,
        *,
        rejects: str | Path | None = None,
        progress: ProgressReporter | None = None,
    ) -> None:
        check_source(plan.source)  # a missing input file leaves no empty output behind
        self.plan = plan
        self.sink = sink
        self.summary = Summary()
        self.progress = progress
        self._spool: Path | None = None
        if plan.mix is not None:
            with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
                self._spool = Path(fh.name)
        self._out = open_writer(self._spool if self._spool is not None else sink)
        self._rej = JsonlWriter(rejects) if rejects is not None else None
        self._opening: list[Outcome] | None = []  # the run's first outcomes, while all are one failure
        self.alarm: EarlyStop | None = None

    # -- what comes in -------------------------------------------------------------------

    def admit(self, item: Any) -> Record | Outcome:
        """Count one item of the source; an unreadable line becomes a failed :class:`Outcome`.

        Raises:
            InputError: the item is neither a record nor a bad line.
        """
        if isinstance(item, BadLine):
            out: Record | Outcome = Outcome("failed", "source", item.message, None, kind="bad_line")
        elif isinstance(item, Record):
            out = item
        else:
            msg = f"a pipeline source must yield Record objects, got {type(item).__name__}; wrap dicts with Record.from_dict"
            raise InputError(msg)
        self.summary.inputs += 1
        return out

    def expand(self, extra: int) -> None:
        """Count ``extra`` records a fanning-out generator added."""
        self.summary.expanded += extra

    # -- what goes out -------------------------------------------------------------------

    def write(self, item: Record | Outcome) -> None:
        """Keep a record, or count an outcome and write it to the rejects file."""
        if isinstance(item, Record):
            self._out.write(self._stamp(item))
            self.summary.kept += 1
        else:
            self.summary.count(item)
            if self._rej is not None:
                self._rej.write_line(item.to_json())
        self._watch(item)
        self._tell()

    def _watch(self, item: Record | Outcome) -> None:
        """Raise the :attr:`alarm` when the first :data:`EARLY_STOP` outcomes are one non-retryable failure.

        A failure is non-retryable when it came from the first attempt (a 404, a template
        field missing, a context window exceeded...); unreadable lines do not count.
        """
        opening = self._opening
        if opening is None:
            return
        if (
            isinstance(item, Record)
            or item.status != "failed"
            or item.kind == "bad_line"
            or item.attempts > 1
            or (opening and (opening[0].step, opening[0].kind) != (item.step, item.kind))
        ):
            self._opening = None
            return
        opening.append(item)
        if len(opening) >= EARLY_STOP:
            self.alarm = EarlyStop(early_stop_message(opening[0], len(opening)))
            self._opening = None

    def _stamp(self, record: Record) -> Record:
        """The record with the plan's command appended to ``lineage.commands`` (once)."""
        return record.with_command(self.plan.command)

    def write_line(self, status: str, step: str, why: str, line: str) -> None:
        """Like :meth:`write` for an item already serialised (an engine that ships JSON lines).

        Args:
            status: ``""`` for a kept record, ``"dropped"`` or ``"failed"``.
            step: the outcome's step.
            why: the drop's reason, or the failure's kind.
            line: the record's JSON, or the rejects-file line of the outcome.
        """
        if not status:
            self._out.write_line(line if self.plan.command is None else self._stamp(Record.from_json(line)).to_json())
            self.summary.kept += 1
        else:
            if status == "dropped":
                self.summary.dropped[(step, reason_key(why))] += 1
            else:
                self.summary.failed[(step, why)] += 1
            if self._rej is not None:
                self._rej.write_line(line)
        if status:
            self.summary.first.setdefault((step, reason_key(why) if status == "dropped" else why), why)
        self._tell()

    def _tell(self) -> None:
        if self.progress is not None:
            self.progress.update(self.summary)

    # -- the end -------------------------------------------------------------------------

    def finish(self, error: BaseException | None = None) -> Summary:
        """Close the files, run the mix (when the run completed) and return the summary.

        Args:
            error: what stopped the run early, if anything. A budget stop returns the
                summary with ``stopped`` set; any other error is raised again with the
                summary on it as ``exc.summary``.
        """
        try:
            self._out.close()
            if self._spool is not None and error is None:
                assert self.plan.mix is not None
                self._mix(self.plan.mix, self._spool)
        finally:
            if self._spool is not None:
                self._spool.unlink(missing_ok=True)
            if self._rej is not None:
                self._rej.close()
            self.summary.elapsed = time.monotonic() - self.summary.started
            self.summary.spend = _spend(self.plan)
            if self.progress is not None:
                self.progress.close(self.summary)
        if error is None:
            return self.summary
        self.summary.stopped = str(error)
        self.summary.stopped_by = type(error).__name__
        if isinstance(error, BudgetExceeded):
            return self.summary
        error.summary = self.summary  # type: ignore[attr-defined]
        raise error

    def _mix(self, step: MixStep, spool: Path) -> None:
        """Mix the spooled output with the other sources into the sink; what is not picked goes to rejects."""
        spooled: collections.Counter[str] = collections.Counter()
        picked: collections.Counter[str] = collections.Counter()

        def synthetic() -> Iterator[Record]:
            for r in iter_records(spool):
                assert isinstance(r, Record)
                spooled[r.id] += 1
                yield r

        sources: dict[str, Iterable[Record]] = {name: _records(src) for name, src in step.sources.items()}
        sources["synthetic"] = synthetic()
        written = from_spool = 0
        with open_writer(self.sink) as out:
            for r in step.mixer.mix(sources, seed=self.plan.seed):
                out.write(r)
                written += 1
                if picked[r.id] < spooled[r.id]:
                    picked[r.id] += 1
                    from_spool += 1
        for _ in sources["synthetic"]:  # count every spooled record, even if the mixer stopped early
            pass
        for r in iter_records(spool):  # the records not picked, in input order
            assert isinstance(r, Record)
            if picked[r.id]:
                picked[r.id] -= 1
                continue
            outcome = Outcome("dropped", step.name, NOT_SELECTED, r)
            self.summary.count(outcome)
            if self._rej is not None:
                self._rej.write(outcome.to_dict())
        self.summary.kept = from_spool
        self.summary.mixed_in = written - from_spool
        self.summary.mix = step.mixer.report


def _spend(plan: Plan) -> list[Spend]:
    """What each metered teacher of the plan spent, one line per teacher (wrappers share their inner's meter)."""
    out = []
    seen: set[int] = set()
    for step in plan.steps:
        for teacher in step.teachers():
            meter = vars(teacher).get("cost")
            if not isinstance(meter, CostMeter) or id(meter) in seen:
                continue
            seen.add(id(meter))
            out.append(
                Spend(
                    teacher=teacher.name,
                    model=teacher.model,
                    requests=meter.requests,
                    prompt_tokens=meter.prompt_tokens,
                    completion_tokens=meter.completion_tokens,
                    cost_usd=meter.cost_usd,
                    step=step.name,
                    batch_requests=getattr(meter, "batch_requests", 0),
                    batch_usd=getattr(meter, "batch_spent", 0.0),
                )
            )
    return out


def _records(src: Any) -> Iterable[Record]:
    if not is_table_source(src):
        yield from src
        return
    for r in read_records(src):
        assert isinstance(r, Record)
        yield r
