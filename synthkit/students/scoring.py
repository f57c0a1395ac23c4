"""Scoring a student: its answers to held-out records, checked by a synthkit verifier, per slice."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from synthkit._frozen import freeze
from synthkit.errors import InputError, SynthkitError
from synthkit.interfaces import Student, Verifier
from synthkit.plugins import resolve
from synthkit.records import Record

__all__ = ["Evaluation", "evaluate"]


@attrs.frozen
class Evaluation:
    """How a student did on a held-out set.

    Attributes:
        accuracy: the share of records whose answer the verifier passed.
        slices: accuracy per value of the slice field (e.g. per problem family).
        counts: how many held-out records each slice holds.
    """

    accuracy: float
    slices: Mapping[str, float] = attrs.field(converter=freeze)
    counts: Mapping[str, int] = attrs.field(converter=freeze)

    @property
    def weakest(self) -> str:
        """The slice with the lowest accuracy (ties: the first by name)."""
        return min(sorted(self.slices), key=lambda s: self.slices[s])

    def to_dict(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "slices": dict(self.slices), "counts": dict(self.counts)}


def evaluate(
    student: Student,
    records: Sequence[Record],
    verifier: Verifier | str = "final-answer",
    *,
    slice_field: str = "family",
) -> Evaluation:
    """Ask ``student`` every record's prompt and score its answers with ``verifier``, overall and per slice.

    A verifier that cannot check an answer (it raises a :class:`~synthkit.SynthkitError`)
    counts the answer as wrong.

    Raises:
        InputError: no records, or a record without a prompt or without the slice field.
    """
    if not records:
        msg = "evaluate needs at least one held-out record"
        raise InputError(msg)
    for r in records:
        if r.prompt is None or slice_field not in r.data:
            msg = f"held-out record {r.id} needs a prompt and a {slice_field!r} data field to be scored per slice; it has {sorted(r.data)}"
            raise InputError(msg)
    check = resolve("verifier", verifier)
    answers = student.answer([r.prompt for r in records])  # type: ignore[misc]
    passed = asyncio.run(_verify_all(check, [attrs.evolve(r, response=a) for r, a in zip(records, answers)]))
    counts: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for r, ok in zip(records, passed):
        key = str(r.data[slice_field])
        counts[key] += 1
        right[key] += ok
    slices = {k: right[k] / counts[k] for k in sorted(counts)}
    return Evaluation(accuracy=sum(passed) / len(records), slices=slices, counts=dict(counts))


async def _verify_all(verifier: Verifier, records: Sequence[Record]) -> list[bool]:
    async def one(record: Record) -> bool:
        try:
            return (await verifier.verify(record)).passed
        except SynthkitError:
            return False

    try:
        return list(await asyncio.gather(*(one(r) for r in records)))
    finally:
        await verifier.aclose()
