"""Best-of-n and rejection sampling: sample ``n`` per prompt, verify each, keep ``k``, and say how many passed.

The samples of one prompt are the records one ``generate -n N`` made from it: they share
their parent (``lineage.parents[0]``). :func:`select` takes the verified samples of one
prompt and decides each one's fate:

* **kept**: passing samples, the first ``keep`` in sample order (``by="first"``) or the
  ``keep`` with the highest verifier score (``by="score"``, e.g. a judge's); ``keep=None``
  keeps every passing sample;
* **dropped, with the reason**: failing samples (their verdict's reason), passing samples
  past ``keep``, and every sample of a prompt whose pass rate says it teaches nothing:
  ``too_easy=1.0`` drops prompts every sample solves, ``too_hard=0.0`` those none solves
  (too hard, or a wrong reference answer).

Kept samples carry the prompt's tally in their data: ``n_samples``, ``n_passed`` and
``pass_rate`` (a difficulty estimate). :class:`BestOfN` does this inside a pipeline, around
a :class:`~synthkit.generators.generate.Generate` step; :func:`select_samples` does it on a
file of samples, and writes one pass-rate line per prompt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from synthkit.errors import InputError, OptionError, RecordError
from synthkit.interfaces import (
    Context,
    Drop,
    Generator,
    Swap,
    Teacher,
    Verifier,
    copy_with,
)
from synthkit.records import Record, Verdict

__all__ = [
    "BestOfN",
    "PromptTally",
    "SampleSelection",
    "group_samples",
    "prompt_id",
    "read_samples",
    "select",
    "select_samples",
    "verdict_of",
    "verified_groups",
    "verify_samples",
    "with_command",
]

By = Literal["first", "score"]


def prompt_id(sample: Record) -> str:
    """The id of the prompt a sample answers: its first parent (its own id when it has none)."""
    return sample.lineage.parents[0] if sample.lineage.parents else sample.id


def with_command(record: Record, command: str | None) -> Record:
    """Return ``record`` with ``command`` appended to its lineage's command lines (unchanged for ``None``)."""
    if not command:
        return record
    return record.evolve(lineage=attrs.evolve(record.lineage, commands=(*record.lineage.commands, command)))


def group_samples(samples: Iterable[Record]) -> list[tuple[str, list[Record]]]:
    """Group samples by the prompt they answer, prompts in order of first appearance.

    This holds every sample in memory (a prompt's samples may be anywhere in the file).
    """
    groups: dict[str, list[Record]] = {}
    for s in samples:
        groups.setdefault(prompt_id(s), []).append(s)
    return list(groups.items())


def verdict_of(sample: Record, name: str | None = None) -> Verdict | None:
    """The sample's last verdict (by the verifier ``name``, if given), or ``None``."""
    for v in reversed(sample.lineage.verdicts):
        if name is None or v.name == name:
            return v
    return None


def verdicts_of(samples: Sequence[Record], name: str | None, fix: str) -> list[Verdict]:
    """Each sample's :func:`verdict_of`, in order.

    Raises:
        InputError: a sample has none; the message ends with ``fix``.
    """
    verdicts = []
    for s in samples:
        v = verdict_of(s, name)
        if v is None:
            msg = f"sample {s.id} has no verdict{f' from {name!r}' if name else ''}; {fix}"
            raise InputError(msg)
        verdicts.append(v)
    return verdicts


async def verify_samples(samples: Sequence[Record], verifier: Verifier, *, concurrency: int = 16) -> list[Record | RecordError]:
    """Return each sample with the verifier's verdict appended, in order; a sample it cannot check becomes the error."""
    gate = asyncio.Semaphore(concurrency)

    async def one(s: Record) -> Record | RecordError:
        async with gate:
            try:
                return s.with_verdict(await verifier.verify(s))
            except RecordError as exc:
                return exc

    return list(await asyncio.gather(*(one(s) for s in samples)))


@attrs.frozen
class PromptTally:
    """How the samples of one prompt fared: the difficulty estimate.

    Attributes:
        prompt_id: the prompt's record id.
        prompt: the prompt's text (its last user message).
        n_samples: samples verified.
        n_passed: of those, how many passed.
        outcome: ``"kept"``, ``"too easy"``, ``"too hard"`` or ``"none passed"``.
    """

    prompt_id: str
    prompt: str
    n_samples: int
    n_passed: int
    outcome: str

    @property
    def pass_rate(self) -> float:
        return self.n_passed / self.n_samples if self.n_samples else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt_id": self.prompt_id,
            "prompt": self.prompt,
            "n_samples": self.n_samples,
            "n_passed": self.n_passed,
            "pass_rate": self.pass_rate,
            "outcome": self.outcome,
        }


@attrs.frozen
class SampleSelection:
    """The fate of every sample of one prompt: kept, or dropped with a reason."""

    tally: PromptTally
    kept: tuple[Record, ...]
    dropped: tuple[tuple[Record, str], ...]


def _check(keep: int | None, by: str) -> None:
    if keep is not None and keep < 1:
        msg = f"keep must be at least 1 (or None to keep every passing sample), got {keep}"
        raise OptionError(msg)
    if by not in ("first", "score"):
        msg = f"unknown selection {by!r}: use first (in sample order) or score (the highest verifier score)"
        raise OptionError(msg)


def select(
    samples: Sequence[Record],
    *,
    keep: int | None = 1,
    by: By = "first",
    too_easy: float | None = None,
    too_hard: float | None = None,
    verifier: str | None = None,
) -> SampleSelection:
    """Decide the fate of the verified samples of one prompt (see the module docstring).

    Args:
        samples: the prompt's samples, each with a verdict.
        keep: how many passing samples to keep (``None``: all).
        by: ``"first"`` keeps passing samples in sample order, ``"score"`` the highest scored.
        too_easy: drop the prompt when its pass rate is at least this (``1.0``: every sample passed).
        too_hard: drop the prompt when its pass rate is at most this (``0.0``: none passed).
        verifier: whose verdict counts (default: each sample's last verdict).

    Raises:
        InputError: a sample has no verdict.
    """
    _check(keep, by)
    verdicts = verdicts_of(samples, verifier, "verify the samples first (--verifier NAME)")
    n, passed = len(samples), sum(v.passed for v in verdicts)
    rate = passed / n if n else 0.0
    pid = prompt_id(samples[0]) if samples else ""
    text = samples[0].user_content() if samples else ""

    def tally_of(outcome: str) -> PromptTally:
        return PromptTally(pid, text, n, passed, outcome)

    if too_easy is not None and passed and rate >= too_easy:
        reason = f"too easy: {passed} of {n} samples passed (pass rate {rate:.2f} >= {too_easy:g})"
        return SampleSelection(tally_of("too easy"), (), tuple((s, reason) for s in samples))
    if too_hard is not None and rate <= too_hard:
        reason = f"too hard (or a wrong reference): {passed} of {n} samples passed (pass rate {rate:.2f} <= {too_hard:g})"
        return SampleSelection(tally_of("too hard"), (), tuple((s, reason) for s in samples))
    order = [i for i, v in enumerate(verdicts) if v.passed]
    if by == "score":
        order.sort(key=lambda i: -(verdicts[i].score if verdicts[i].score is not None else float("-inf")))
    chosen = set(order if keep is None else order[:keep])
    stats = {"n_samples": n, "n_passed": passed, "pass_rate": rate}
    kept = [samples[i].evolve(data={**samples[i].data, **stats}) for i in order if i in chosen]
    dropped = []
    for i, (s, v) in enumerate(zip(samples, verdicts)):
        if i in chosen:
            continue
        if v.passed:
            dropped.append((s, f"passed, not kept: {keep} kept per prompt ({by})"))
        else:
            dropped.append((s, f"failed {v.name}: {v.reason}"))
    return SampleSelection(tally_of("kept" if kept else "none passed"), tuple(kept), tuple(dropped))


class BestOfN(Generator):
    """Best-of-n inside a pipeline: a generating step's samples of each record, verified, ``keep`` of them kept.

    Args:
        step: a generator that makes several samples per record (``Generate(..., n=8)``).
        verifier: a :class:`~synthkit.Verifier` or a registered verifier name.
        keep: passing samples kept per prompt (``None``: all), as for :func:`select`.
        by: ``"first"`` or ``"score"``.
        too_easy: drop prompts with a pass rate at least this.
        too_hard: drop prompts with a pass rate at most this.

    Every sample not kept is a :class:`~synthkit.interfaces.Drop` with its reason, so the
    rejects file holds it with its verdict. A sample the verifier cannot check fails the record.
    """

    def __init__(
        self,
        step: Generator,
        verifier: Verifier | str,
        *,
        keep: int | None = 1,
        by: By = "first",
        too_easy: float | None = None,
        too_hard: float | None = None,
    ) -> None:
        from synthkit.plugins import resolve

        _check(keep, by)
        self.step = step
        self.verifier: Verifier = resolve("verifier", verifier)
        self.keep, self.by, self.too_easy, self.too_hard = keep, by, too_easy, too_hard
        self.name = step.name

    async def generate(self, record: Record, ctx: Context) -> Sequence[Record | Drop]:
        made = await self.step.generate(record, ctx)
        samples = [s for s in made if isinstance(s, Record)]
        passed_on = [s for s in made if isinstance(s, Drop)]  # the inner step's own drops keep their reasons
        if not samples:
            return passed_on
        checked = await verify_samples(samples, self.verifier)
        for c in checked:
            if isinstance(c, RecordError):
                raise c
        picked = select(checked, keep=self.keep, by=self.by, too_easy=self.too_easy, too_hard=self.too_hard, verifier=self.verifier.name)  # type: ignore[arg-type]
        return [*picked.kept, *(Drop(r, reason) for r, reason in picked.dropped), *passed_on]

    async def aclose(self) -> None:
        try:
            await self.step.aclose()
        finally:
            await self.verifier.aclose()

    def teachers(self) -> tuple[Teacher, ...]:
        return (*self.step.teachers(), *self.verifier.teachers())

    def with_teachers(self, swap: Swap) -> BestOfN:
        changes: dict[str, Any] = {"step": self.step.with_teachers(swap)}
        with_v = getattr(self.verifier, "with_teachers", None)
        if with_v is not None:
            changes["verifier"] = with_v(swap)
        return copy_with(self, **changes)


def read_samples(source: Any, summary: Any, rejects: Any, step: str) -> list[Record]:
    """Read every sample of ``source``; an unreadable line is counted as failed and written to ``rejects``."""
    from synthkit.io.interchange import check_source, read_records
    from synthkit.io.jsonl import BadLine
    from synthkit.pipeline.summary import Outcome

    check_source(source)
    out = []
    for item in read_records(source, on_bad_line="skip"):
        summary.inputs += 1
        if isinstance(item, BadLine):
            outcome = Outcome("failed", "source", item.message, None, kind="bad_line")
            summary.count(outcome)
            if rejects is not None:
                rejects.write(outcome.to_dict())
            continue
        out.append(item)
    return out


def verified_groups(
    samples: Sequence[Record], verifier: Verifier | None, summary: Any, rejects: Any, step: str
) -> Iterator[tuple[str, list[Record]]]:
    """Verify ``samples`` (if a verifier is given) and yield them grouped by prompt; unverifiable ones are counted as failed."""
    from synthkit.pipeline.summary import Outcome

    checked: Sequence[Record | RecordError] = samples
    if verifier is not None:
        checked = asyncio.run(_verify_and_close(samples, verifier))
    good = []
    for s, c in zip(samples, checked):
        if isinstance(c, RecordError):
            outcome = Outcome("failed", step, str(c), s, kind=c.kind)
            summary.count(outcome)
            if rejects is not None:
                rejects.write(outcome.to_dict())
        else:
            good.append(c)
    yield from group_samples(good)


async def _verify_and_close(samples: Sequence[Record], verifier: Verifier) -> list[Record | RecordError]:
    try:
        return await verify_samples(samples, verifier)
    finally:
        await verifier.aclose()


def select_samples(
    source: Any,
    output: str | Path,
    *,
    verifier: Verifier | str | None,
    keep: int | None = 1,
    by: By = "first",
    too_easy: float | None = None,
    too_hard: float | None = None,
    rejects: str | Path | None = None,
    pass_rates: str | Path | None = None,
    verifier_options: Mapping[str, Any] | None = None,
    command: str | None = None,
) -> Any:
    """Rejection sampling on a file of samples: verify them, keep ``keep`` per prompt, drop the rest with reasons.

    Args:
        source: the samples (``generate -n N`` output): JSONL, Parquet, anything
            :func:`~synthkit.io.interchange.read_records` reads.
        output: the kept samples (JSONL or Parquet by suffix).
        verifier: a verifier or registered name; ``None`` uses the verdicts the samples carry.
        keep: passing samples kept per prompt (``None``: all), as for :func:`select`.
        by: ``"first"`` or ``"score"``.
        too_easy: drop prompts with a pass rate at least this.
        too_hard: drop prompts with a pass rate at most this.
        rejects: JSONL of every sample not kept, each with a ``reject`` object (the reason).
        pass_rates: JSONL of one :class:`PromptTally` per prompt.
        verifier_options: options for a verifier given by name.
        command: the command line to add to the kept samples' lineage (the CLI's own).

    Returns:
        The run's :class:`~synthkit.pipeline.summary.Summary` (``inputs == kept + dropped + failed``).
    """
    import contextlib
    import time

    from synthkit.io.interchange import open_writer
    from synthkit.io.jsonl import JsonlWriter
    from synthkit.pipeline.summary import Outcome, Summary
    from synthkit.plugins import resolve

    _check(keep, by)
    v = None if verifier is None else resolve("verifier", verifier, **dict(verifier_options or {}))
    step = f"select:{v.name if v is not None else 'verdicts'}"
    summary = Summary()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        rej = stack.enter_context(JsonlWriter(rejects)) if rejects is not None else None
        rates = stack.enter_context(JsonlWriter(pass_rates)) if pass_rates is not None else None
        samples = read_samples(source, summary, rej, step)
        out = stack.enter_context(open_writer(output))
        for _, group in verified_groups(samples, v, summary, rej, step):
            picked = select(group, keep=keep, by=by, too_easy=too_easy, too_hard=too_hard, verifier=v.name if v is not None else None)
            for r in picked.kept:
                out.write(with_command(r, command))
                summary.kept += 1
            for r, reason in picked.dropped:
                outcome = Outcome("dropped", step, reason, r)
                summary.count(outcome)
                if rej is not None:
                    rej.write(outcome.to_dict())
            if rates is not None:
                rates.write(picked.tally.to_dict())
    summary.elapsed = time.monotonic() - started
    return summary
