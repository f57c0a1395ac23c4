"""Composition: ``all-of`` and ``any-of`` several verifiers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from synthkit.interfaces import Swap, Teacher, Verifier, copy_with
from synthkit.plugins import resolve
from synthkit.records import Record, Verdict


__all__ = [
    "AllOf",
    "AnyOf",
]


def _build(spec: Verifier | str | Mapping[str, Any]) -> Verifier:
    if isinstance(spec, (Verifier, str)):
        return resolve("verifier", spec)
    if isinstance(spec, Mapping) and "name" in spec:
        options = {k: v for k, v in spec.items() if k != "name"}
        return resolve("verifier", spec["name"], **options)
    msg = f"a verifier is an object, a registered name, or {{'name': ..., **options}}; got {spec!r}"
    raise TypeError(msg)


class _Composite(Verifier):
    def __init__(self, *specs: Verifier | str | Mapping[str, Any], verifiers: Sequence[Any] = ()) -> None:
        all_specs = [*specs, *verifiers]
        if not all_specs:
            msg = f"{self.name} needs at least one verifier"
            raise ValueError(msg)
        self.verifiers = [_build(v) for v in all_specs]

    async def aclose(self) -> None:
        for v in self.verifiers:
            await v.aclose()

    def teachers(self) -> tuple[Teacher, ...]:
        return tuple(t for v in self.verifiers for t in v.teachers())

    def with_teachers(self, swap: Swap) -> _Composite:
        return copy_with(self, verifiers=[v.with_teachers(swap) for v in self.verifiers])


class AllOf(_Composite):
    """Passes when every verifier passes; runs them in order and stops at the first failure.

    Args:
        verifiers: verifier objects, registered names, or ``{"name": ..., **options}``
            (also accepted as the keyword ``verifiers=[...]``).
    """

    name = "all-of"

    async def verify(self, record: Record) -> Verdict:
        reasons = []
        for v in self.verifiers:
            verdict = await v.verify(record)
            if not verdict.passed:
                return Verdict(self.name, False, f"{v.name}: {verdict.reason}", verdict.score)
            reasons.append(f"{v.name}: {verdict.reason}")
        return Verdict(self.name, True, "; ".join(reasons))


class AnyOf(_Composite):
    """Passes when at least one verifier passes; runs them in order and stops at the first pass.

    Args:
        verifiers: as for :class:`AllOf`.
    """

    name = "any-of"

    async def verify(self, record: Record) -> Verdict:
        reasons = []
        for v in self.verifiers:
            verdict = await v.verify(record)
            if verdict.passed:
                return Verdict(self.name, True, f"{v.name}: {verdict.reason}", verdict.score)
            reasons.append(f"{v.name}: {verdict.reason}")
        return Verdict(self.name, False, "none passed; " + "; ".join(reasons))
