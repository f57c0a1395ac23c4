"""What a run accounts for: the :class:`Outcome` of a record that left early, and the :class:`Summary`."""

from __future__ import annotations

import collections
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import attrs

from synthkit.interfaces import MixReport
from synthkit.records import Record, encode_line

__all__ = ["TAMPERED", "Outcome", "Summary", "count_table", "reason_key"]

Status = Literal["dropped", "failed"]
#: how a verdict's reason starts when the response interfered with its grading
TAMPERED = "tampered:"


@attrs.frozen
class Outcome:
    """A record that left the pipeline before the sink: dropped (with the reason) or failed (with the error kind).

    Attributes:
        status: ``"dropped"`` or ``"failed"``.
        step: the step that dropped or failed it (``"source"`` for an unreadable line).
        reason: why, in words.
        record: the record as it was then (``None`` for an unreadable line).
        kind: the error kind of a failure (``"http_500"``, ``"template"``, ``"bad_line"``...).
        attempts: requests made for it before it failed.
    """

    status: Status
    step: str
    reason: str
    record: Record | None
    kind: str = ""
    attempts: int = 1

    @property
    def key(self) -> str:
        """What the summary counts it under: the masked reason of a drop, the kind of a failure."""
        return reason_key(self.reason) if self.status == "dropped" else self.kind

    def to_dict(self) -> dict[str, Any]:
        """Return the rejects-file line: the record's JSON form plus a ``reject`` object."""
        d = self.record.to_dict() if self.record is not None else {}
        d["reject"] = {
            "status": self.status,
            "step": self.step,
            "reason": self.reason,
            "kind": self.kind,
            "attempts": self.attempts,
        }
        return d

    def to_json(self) -> str:
        """Return the rejects-file line (without the newline): the JSON of :meth:`to_dict`, encoded without thawing the record."""
        d = self.record._json() if self.record is not None else {}  # noqa: SLF001 - the record's frozen JSON form
        d["reject"] = {"status": self.status, "step": self.step, "reason": self.reason, "kind": self.kind, "attempts": self.attempts}
        return encode_line(d)


_VOLATILE = re.compile(r"(?<!\w)'(?:[^'\\]|\\.)*'(?!\w)|\"(?:[^\"\\]|\\.)*\"|\b[0-9a-f]{8,}\b|(?<![\w.])-?\d+(?:[.,]\d+)*(?:/\d+)?(?![\w])")


def reason_key(reason: str) -> str:
    """Return ``reason`` with ids, numbers and quoted values masked, so like reasons count together.

    A number inside a word (``gsm8k``) and an apostrophe inside a word (``judge's``) are kept;
    a quoted value is masked whole, escaped quotes inside it included (``'it\\'s'``).

    >>> reason_key("final answer 12 != expected 7 (gsm8k)")
    'final answer # != expected # (gsm8k)'
    >>> reason_key("the judge's reply has no score: 'nope'")
    "the judge's reply has no score: #"
    """
    return _VOLATILE.sub("#", reason)[:120]


def count_table(rows: Iterable[Sequence[Any]]) -> list[str]:
    """Return aligned lines for ``(status, ..., count)`` rows: text columns left-aligned, counts right-aligned."""
    rows = [tuple(str(c) for c in r[:-1]) + (r[-1],) for r in rows]
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    widths[0] = max(widths[0], 7)  # "dropped", "skipped", "failed" line up
    return ["  " + "  ".join(f"{c:<{w}}" for c, w in zip(r[:-1], widths)) + f"  {r[-1]:>7}" for r in rows]


@attrs.frozen
class Spend:
    """What one teacher's requests cost in a run.

    Attributes:
        teacher: the teacher's name; model: its model.
        requests: requests answered; prompt_tokens, completion_tokens: their usage.
        cost_usd: dollars, or ``None`` when the model has no known price.
        step: the step that asked the teacher.
        batch_requests: the requests of ``requests`` answered through a batch API.
        batch_usd: the dollars of ``cost_usd`` paid at batch prices.
    """

    teacher: str
    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    step: str = ""
    batch_requests: int = 0
    batch_usd: float = 0.0

    def __str__(self) -> str:
        cost = "cost unknown (no price: --price-in/--price-out)" if self.cost_usd is None else f"${self.cost_usd:.6f}"
        tokens = self.prompt_tokens + self.completion_tokens
        batched = f" ({self.batch_requests} in batches, ${self.batch_usd:.6f})" if self.batch_requests else ""
        return f"{self.teacher} {self.model}: {self.requests} requests, {tokens:,} tokens, {cost}{batched}"


@attrs.define
class Summary:
    """Counts of a run. ``inputs + expanded == kept + dropped + failed`` when the run completes.

    Attributes:
        inputs: records read from the source (bad lines included).
        expanded: extra records made by generators that fan out (n outputs add n - 1).
        kept: records written to the sink.
        dropped: counts per (step, reason) of records a filter, verifier or mixer left out.
        failed: counts per (step, error kind) of records a step failed on.
        stopped: why the run stopped early, or ``None``.
        stopped_by: the kind of stop (``"BudgetExceeded"``, ``"Interrupted"``, ``"EarlyStop"``...), or ``None``.
        mix: what the mixer produced against what it was asked.
        mixed_in: records the mixer added from its other sources.
        first: the first full reason seen for each (step, kind) of failure and (step, reason) of drop.
        spend: what each teacher's requests cost, in step order.
    """

    inputs: int = 0
    expanded: int = 0
    kept: int = 0
    dropped: collections.Counter[tuple[str, str]] = attrs.Factory(collections.Counter)
    failed: collections.Counter[tuple[str, str]] = attrs.Factory(collections.Counter)
    stopped: str | None = None
    stopped_by: str | None = None
    mix: MixReport | None = None
    mixed_in: int = 0
    first: dict[tuple[str, str], str] = attrs.Factory(dict)
    spend: list[Spend] = attrs.Factory(list)
    started: float = attrs.Factory(time.monotonic)
    elapsed: float = 0.0

    @property
    def n_dropped(self) -> int:
        return sum(self.dropped.values())

    @property
    def n_failed(self) -> int:
        return sum(self.failed.values())

    @property
    def tampered(self) -> int:
        """Records a verifier dropped because the response interfered with its grading (``tampered: ...``)."""
        return sum(n for (_, reason), n in self.dropped.items() if reason.startswith(TAMPERED))

    @property
    def unfinished(self) -> int:
        """Records read (or made) that a stop left without an outcome; a re-run picks them up."""
        return max(0, self.inputs + self.expanded - self.kept - self.n_dropped - self.n_failed)

    @property
    def failure_rate(self) -> float:
        """The share of records that failed, of all that got an outcome."""
        done = self.kept + self.n_dropped + self.n_failed
        return self.n_failed / done if done else 0.0

    @property
    def cost_usd(self) -> float | None:
        """The run's dollars over every teacher with a price (``None`` when none has one)."""
        known = [s.cost_usd for s in self.spend if s.cost_usd is not None]
        return sum(known) if known else None

    def cost_per_kept(self) -> dict[str, Any] | None:
        """Dollars of this run per kept record, real-time and batch apart, in all and per step (``None``: nothing priced or kept).

        Everything paid counts, the requests of dropped and failed records included, so
        this is what one record of the dataset cost.
        """
        priced = [s for s in self.spend if s.cost_usd is not None and s.requests]
        if not priced or not self.kept:
            return None

        def part(spends: list[Spend]) -> dict[str, Any]:
            total = sum(s.cost_usd or 0.0 for s in spends)
            batch = sum(s.batch_usd for s in spends)
            return {
                "usd": total,
                "per_kept": total / self.kept,
                "realtime_per_kept": (total - batch) / self.kept,
                "batch_per_kept": batch / self.kept,
            }

        steps: dict[str, list[Spend]] = {}
        for s in priced:
            steps.setdefault(s.step, []).append(s)
        return {**part(priced), "kept": self.kept, "steps": [{"step": k, **part(v)} for k, v in steps.items()]}

    def exit_code(self, max_failure_rate: float = 0.1) -> int:
        """The command line's exit code for this run: 0 done, 3 stopped by the budget, 4 too many failures.

        Args:
            max_failure_rate: the share of failed records (of those with an outcome) a run
                may have and still succeed (``--max-failure-rate``).
        """
        if self.stopped_by == "BudgetExceeded":
            return 3
        if self.n_failed and self.failure_rate > max_failure_rate:
            return 4
        return 0

    @property
    def balanced(self) -> bool:
        """Whether every record is accounted for."""
        return self.inputs + self.expanded == self.kept + self.n_dropped + self.n_failed

    def count(self, outcome: Outcome) -> None:
        """Count one dropped or failed record."""
        counter = self.dropped if outcome.status == "dropped" else self.failed
        key = (outcome.step, outcome.key)
        counter[key] += 1
        self.first.setdefault(key, outcome.reason)

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "expanded": self.expanded,
            "kept": self.kept,
            "dropped": [{"step": s, "reason": r, "count": n} for (s, r), n in self.dropped.most_common()],
            "failed": [{"step": s, "kind": k, "count": n} for (s, k), n in self.failed.most_common()],
            "stopped": self.stopped,
            "stopped_by": self.stopped_by,
            "unfinished": self.unfinished,
            "tampered": self.tampered,
            "mixed_in": self.mixed_in,
            "spend": [attrs.asdict(x) for x in self.spend],
            "cost_per_kept": self.cost_per_kept(),
            "mix": None if self.mix is None else {"asked": dict(self.mix.asked), "produced": dict(self.mix.produced)},
            "elapsed_s": round(self.elapsed, 3),
        }

    def __str__(self) -> str:
        head = (
            f"{self.inputs} inputs -> {self.kept} kept, {self.n_dropped} dropped, {self.n_failed} failed"
            f" ({self.elapsed:.1f} s)"
        )
        if self.expanded:
            head += f"; generators added {self.expanded}"
        rows = [("dropped", s, r, n) for (s, r), n in self.dropped.most_common()]
        rows += [("failed", s, k, n) for (s, k), n in self.failed.most_common()]
        lines = [head]
        for (status, step, key, _), line in zip(rows, count_table(rows)):
            lines.append(line)
            first = self.first.get((step, key), "")
            if status == "failed" and first:
                lines.append(f"           first: {_short(first)}")
        if self.tampered:
            lines.append(f"  {self.tampered} tampered: responses that interfered with their grading (their reasons are in the rejects)")
        if self.mix is not None:
            lines.append(f"  {self.mix}" + (f" (+{self.mixed_in} from other sources)" if self.mixed_in else ""))
        lines += [f"  cost     {x}" for x in self.spend if x.requests]
        per = self.cost_per_kept()
        if per is not None:
            lines.append(f"  per kept record  {_per(per)}")
            if len(per["steps"]) > 1:
                lines += [f"    {s['step']}: {_per(s)}" for s in per["steps"]]
        if self.stopped:
            lines.append(f"  stopped early: {self.stopped}")
            if self.unfinished:
                lines.append(f"  {self.unfinished} records not finished: re-run the same command to resume (answered requests are cached)")
        return "\n".join(lines)


def _per(part: dict[str, Any]) -> str:
    """``$X (real-time $Y, batch $Z)`` of one :meth:`Summary.cost_per_kept` part."""
    text = f"${part['per_kept']:.6f}"
    if part["batch_per_kept"]:
        text += f" (real-time ${part['realtime_per_kept']:.6f}, batch ${part['batch_per_kept']:.6f})"
    return text


def _short(text: str, width: int = 300) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 3] + "..."
