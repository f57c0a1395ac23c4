"""Preference pairs: from the verified samples of one prompt, a chosen and a rejected answer.

:func:`pair` makes at most one pair per prompt:

* ``by="verdict"``: chosen is a passing sample, rejected a failing one (the highest and
  the lowest scored of each, else the first); their score difference must reach ``margin``
  (a verdict without a score counts 1 when it passes, 0 when it fails);
* ``by="score"``: chosen is the highest scored sample, rejected the lowest, whatever they
  passed; equal scores are a tie, and the difference must reach ``margin``.

A prompt without both kinds, a tie and a margin too small drop every sample of the prompt
with the reason; the samples a pair does not use are dropped too ("not paired"). So every
sample is in a pair or dropped with a reason (or failed, when the verifier could not check
it): ``samples == 2 * pairs + dropped + failed``.

A pair is a record: the prompt's ``prompt``/``messages`` and data, plus ``chosen`` and
``rejected`` objects (``id``, ``response``, ``reasoning`` when there is some, ``passed``,
``score``, ``reason``) and ``margin``; its lineage names both samples as parents.
:mod:`synthkit.io.preference` exports it for TRL's DPO and KTO trainers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from synthkit.errors import OptionError
from synthkit.generators.sampling import (
    read_samples,
    verdicts_of,
    verified_groups,
    with_command,
)
from synthkit.records import Lineage, Record, Verdict, content_id
from synthkit.teachers.reasoning import REASONING_KEY

__all__ = ["PairSummary", "make_pairs", "pair"]

PairBy = Literal["verdict", "score"]

#: Data keys of a sample that describe the sample, not its prompt; a pair leaves them out.
_SAMPLE_KEYS = (REASONING_KEY, "n_samples", "n_passed", "pass_rate")


def _score(v: Verdict) -> float:
    return v.score if v.score is not None else float(v.passed)


def _side(sample: Record, v: Verdict) -> dict[str, Any]:
    side: dict[str, Any] = {"id": sample.id, "response": sample.response or ""}
    if sample.data.get(REASONING_KEY) is not None:
        side["reasoning"] = sample.data[REASONING_KEY]
    side.update({"passed": v.passed, "score": _score(v), "verifier": v.name, "reason": v.reason})
    return side


def _pair_record(chosen: Record, cv: Verdict, rejected: Record, rv: Verdict) -> Record:
    lin = chosen.lineage
    lineage = Lineage(
        origin="synthetic",
        teacher=lin.teacher,
        model=lin.model,
        template=lin.template,
        template_hash=lin.template_hash,
        params=lin.params,
        parents=(chosen.id, rejected.id),
        generation=max(lin.generation, rejected.lineage.generation),
        commands=lin.commands,
        costs=lin.costs,
    )
    data = {k: v for k, v in chosen.data.items() if k not in _SAMPLE_KEYS}
    data.update(chosen=_side(chosen, cv), rejected=_side(rejected, rv), margin=_score(cv) - _score(rv))
    return Record(
        id=content_id(["pair", chosen.id, rejected.id]), prompt=chosen.prompt, messages=chosen.messages, data=data, lineage=lineage
    )


def pair(
    samples: Sequence[Record], *, by: PairBy = "verdict", margin: float = 0.0, verifier: str | None = None
) -> tuple[Record | None, list[tuple[Record, str]]]:
    """Return the preference pair of one prompt's verified samples (or ``None``) and the samples dropped, with reasons.

    Args:
        samples: the prompt's samples, each with a verdict.
        by: ``"verdict"`` (passed over failed) or ``"score"`` (highest over lowest).
        margin: the least score difference between chosen and rejected.
        verifier: whose verdict counts (default: each sample's last verdict).

    Raises:
        InputError: a sample has no verdict.
        OptionError: an unknown ``by``.
    """
    if by not in ("verdict", "score"):
        msg = f"unknown pairing {by!r}: use verdict (passed over failed) or score (highest over lowest)"
        raise OptionError(msg)
    verdicts = verdicts_of(samples, verifier, "give --verifier NAME to verify the samples")
    n, passed = len(samples), sum(v.passed for v in verdicts)

    def drop_all(reason: str) -> tuple[None, list[tuple[Record, str]]]:
        return None, [(s, reason) for s in samples]

    idx = range(n)
    if by == "verdict":
        good = [i for i in idx if verdicts[i].passed]
        bad = [i for i in idx if not verdicts[i].passed]
        if not good:
            return drop_all(f"no passing sample to choose: 0 of {n} passed")
        if not bad:
            return drop_all(f"no failing sample to reject: {n} of {n} passed")
        c = max(good, key=lambda i: (_score(verdicts[i]), -i))
        r = min(bad, key=lambda i: (_score(verdicts[i]), i))
    else:
        if any(v.score is None for v in verdicts):
            return drop_all("a sample's verdict has no score to pair by; use --by verdict or a scoring verifier")
        c = max(idx, key=lambda i: (_score(verdicts[i]), -i))
        r = min(idx, key=lambda i: (_score(verdicts[i]), i))
        if _score(verdicts[c]) == _score(verdicts[r]):
            return drop_all(f"tie: all {n} samples scored {_score(verdicts[c]):g}")
    gap = _score(verdicts[c]) - _score(verdicts[r])
    if gap < margin:
        return drop_all(f"margin too small: chosen and rejected differ by {gap:g} < {margin:g}")
    record = _pair_record(samples[c], verdicts[c], samples[r], verdicts[r])
    rest = [(samples[i], f"not paired: one pair per prompt ({passed} of {n} passed)") for i in idx if i not in (c, r)]
    return record, rest


@attrs.define
class PairSummary:
    """Counts of a pairing run: ``samples == 2 * pairs + dropped + failed``.

    Attributes:
        samples: samples read (bad lines included).
        prompts: prompts seen.
        pairs: pairs written.
        summary: the dropped and failed samples per (step, reason), as a run's summary counts them.
    """

    samples: int = 0
    prompts: int = 0
    pairs: int = 0
    summary: Any = None
    elapsed: float = 0.0

    @property
    def balanced(self) -> bool:
        s = self.summary
        return self.samples == 2 * self.pairs + s.n_dropped + s.n_failed

    def __str__(self) -> str:
        from synthkit.pipeline.summary import count_table

        s = self.summary
        head = (
            f"{self.samples} samples of {self.prompts} prompts -> {self.pairs} pairs ({2 * self.pairs} samples), "
            f"{s.n_dropped} dropped, {s.n_failed} failed ({self.elapsed:.1f} s)"
        )
        rows = [("dropped", r, n) for (_, r), n in s.dropped.most_common()] + [("failed", k, n) for (_, k), n in s.failed.most_common()]
        return "\n".join([head, *count_table(rows)])


def make_pairs(
    source: Any,
    output: str | Path,
    *,
    verifier: Any = None,
    by: PairBy = "verdict",
    margin: float = 0.0,
    rejects: str | Path | None = None,
    verifier_options: Mapping[str, Any] | None = None,
    command: str | None = None,
) -> PairSummary:
    """Group a file of samples by prompt, verify them, and write one preference pair per prompt that has one.

    Args:
        source: the samples (``generate -n N`` output), anything
            :func:`~synthkit.io.interchange.read_records` reads.
        output: the pairs (JSONL or Parquet by suffix).
        verifier: a verifier or registered name; ``None`` uses the verdicts the samples carry.
        by: ``"verdict"`` or ``"score"``, as for :func:`pair`.
        margin: the least score difference between chosen and rejected.
        rejects: JSONL of every sample not in a pair, each with a ``reject`` object (the reason).
        verifier_options: options for a verifier given by name.
        command: the command line to add to the pairs' lineage (the CLI's own).
    """
    import contextlib

    from synthkit.io.interchange import open_writer
    from synthkit.io.jsonl import JsonlWriter
    from synthkit.pipeline.summary import Outcome, Summary
    from synthkit.plugins import resolve

    if by not in ("verdict", "score"):
        msg = f"unknown pairing {by!r}: use verdict (passed over failed) or score (highest over lowest)"
        raise OptionError(msg)
    v = None if verifier is None else resolve("verifier", verifier, **dict(verifier_options or {}))
    step = f"pairs:{v.name if v is not None else 'verdicts'}"
    result = PairSummary(summary=Summary())
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        rej = stack.enter_context(JsonlWriter(rejects)) if rejects is not None else None
        samples = read_samples(source, result.summary, rej, step)
        out = stack.enter_context(open_writer(output))
        for _, group in verified_groups(samples, v, result.summary, rej, step):
            result.prompts += 1
            made, dropped = pair(group, by=by, margin=margin, verifier=v.name if v is not None else None)
            if made is not None:
                out.write(with_command(made, command))
                result.pairs += 1
            for r, reason in dropped:
                outcome = Outcome("dropped", step, reason, r)
                result.summary.count(outcome)
                if rej is not None:
                    rej.write(outcome.to_dict())
    result.samples = result.summary.inputs
    result.summary.kept = 2 * result.pairs  # the samples in pairs: the summary balances and rates its failures
    result.elapsed = time.monotonic() - started
    return result
