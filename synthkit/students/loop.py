"""The loop: generate, verify, mix with real data, train the student, measure it per slice, and steer the next round to its weak slices.

Each round writes ``round-NNN/`` in the run folder (``kept.jsonl``, ``rejects.jsonl``,
``train.jsonl``, ``round.json``) and appends to ``log.json``; a round counts as finished
once it is in the log, so :meth:`Loop.run` on the same folder resumes after the last one.
A student is not saved: when the next round needs the last finished round's student (as
its teacher), it is trained again from that round's ``train.jsonl`` with the same seed.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from synthkit.diagnostics.metrics import distinct_n
from synthkit.errors import InputError
from synthkit.interfaces import Student, Teacher, Verifier
from synthkit.io.jsonl import iter_records
from synthkit.mix.mixers import RatioMixer
from synthkit.plugins import resolve
from synthkit.records import Record
from synthkit.students.adapters import StudentTeacher
from synthkit.students.scoring import Evaluation, evaluate

__all__ = ["Loop", "LoopResult", "steer_shares", "split_requests", "ON_COLLAPSE", "procedural_loop", "solved"]

#: What the collapse gate does when a round's kept data is less diverse than real data allows.
ON_COLLAPSE = ("warn", "raise-real", "stop")

#: Makes ``n`` prompt records of one slice, the same ones for the same ``seed``.
Problems = Callable[[str, int, int], Iterable[Record]]


def steer_shares(slices: Mapping[str, float], strength: float, *, floor: float = 0.05) -> dict[str, float]:
    """Return each slice's share of the next round: uniform, moved by ``strength`` (0 to 1) toward ``1 - accuracy``.

    ``floor`` keeps a slice the student has mastered in the mix.
    """
    if not slices:
        msg = "steer_shares needs the accuracy of at least one slice"
        raise InputError(msg)
    need = {s: (1.0 - a) + floor for s, a in slices.items()}
    total = sum(need.values())
    k = len(slices)
    return {s: (1 - strength) / k + strength * need[s] / total for s in sorted(slices)}


def split_requests(shares: Mapping[str, float], requests: int) -> dict[str, int]:
    """Split ``requests`` by ``shares`` in whole numbers that sum to ``requests`` (largest remainders)."""
    total = sum(shares.values())
    exact = {s: requests * w / total for s, w in shares.items()}
    counts = {s: int(x) for s, x in exact.items()}
    for s in sorted(exact, key=lambda s: (counts[s] - exact[s], s))[: requests - sum(counts.values())]:
        counts[s] += 1
    return counts


@attrs.frozen
class LoopResult:
    """What a loop did: one log entry per finished round, and whether the collapse gate stopped it."""

    rounds: tuple[Mapping[str, Any], ...]
    stopped: str | None = None

    @property
    def final(self) -> Mapping[str, Any]:
        return self.rounds[-1]


@attrs.define
class Loop:
    """Rounds of generate -> verify -> mix with real data -> train -> evaluate per slice -> re-weight.

    Attributes:
        teacher: the round-0 teacher (a name or a :class:`~synthkit.Teacher`).
        student: the student (a name or a :class:`~synthkit.Student`), trained afresh each round.
        problems: ``problems(slice, n, seed)`` makes prompt records of a slice (with the data the
            verifier needs); default: the teacher's own ``problems`` (the ``procedural`` teacher's).
        slices: the slices generation is steered over (e.g. problem families).
        heldout: the fixed held-out set the student is measured on, every round.
        real: real records (prompt and response) mixed into every round's training set.
        verifier: checks the teacher's responses and scores the student's.
        slice_field: the data field that names a record's slice.
        rounds: how many rounds.
        requests: the teacher requests of one round (one per prompt).
        budget: the student's training budget per round.
        real_fraction: the share of real records in a round's training set.
        verify: keep only the responses the verifier passes (else keep all).
        steer: 0 generates uniformly over slices, 1 by the student's weakness.
        data: ``"replace"`` trains on this round's kept data, ``"accumulate"`` on every round's so far.
        recursive: from round 1, the previous round's student is the teacher.
        max_train: at most this many synthetic records per round (a seeded random subset), e.g. to match volumes.
        min_diversity: the gate fires when the kept responses' distinct-2 is below this share of real's.
        on_collapse: ``"warn"``, ``"raise-real"`` (add 0.2 to the real fraction, up to 0.9) or ``"stop"``.
        seed: seeds generation, mixing and training.
    """

    teacher: Teacher | str
    student: Student | str
    slices: Sequence[str]
    heldout: Sequence[Record]
    real: Sequence[Record] = ()
    problems: Problems | None = None
    verifier: Verifier | str = "final-answer"
    slice_field: str = "family"
    rounds: int = 3
    requests: int = 100
    budget: int = 100
    real_fraction: float = 0.2
    verify: bool = True
    steer: float = 1.0
    data: Literal["replace", "accumulate"] = "replace"
    recursive: bool = False
    max_train: int | None = None
    min_diversity: float = 0.5
    on_collapse: Literal["warn", "raise-real", "stop"] = "warn"
    seed: int = 0

    def __attrs_post_init__(self) -> None:
        if self.on_collapse not in ON_COLLAPSE:
            msg = f"on_collapse must be one of {', '.join(ON_COLLAPSE)}, got {self.on_collapse!r}"
            raise InputError(msg)
        if self.data not in ("replace", "accumulate"):
            msg = f"data must be 'replace' or 'accumulate', got {self.data!r}"
            raise InputError(msg)
        if not self.slices:
            msg = "a loop needs at least one slice to generate over (e.g. the problem families)"
            raise InputError(msg)
        if self.real_fraction > 0 and not self.real:
            msg = f"real_fraction is {self.real_fraction} but no real records were given; pass real=... or real_fraction=0"
            raise InputError(msg)
        self.teacher = resolve("teacher", self.teacher)
        self.student = resolve("student", self.student)
        if self.problems is None:
            make = getattr(self.teacher, "problems", None)
            if make is None:
                msg = f"teacher {getattr(self.teacher, 'name', self.teacher)!r} makes no problems of its own; pass problems=..."
                raise InputError(msg)
            self.problems = lambda s, n, seed: make(n, seed=seed, families=s)

    def run(self, folder: str | Path) -> LoopResult:
        """Run the rounds not yet in ``folder/log.json`` and return every round's log entry."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        log_path = folder / "log.json"
        log = json.loads(log_path.read_text()) if log_path.exists() else {"rounds": [], "stopped": None, "config": self.config()}
        changed = sorted(k for k, v in self.config().items() if log.get("config", {}).get(k) != v)
        if changed:
            before = log.get("config", {})
            was = ", ".join(f"{k}: {before.get(k)!r}" for k in changed)
            msg = (
                f"the run in {folder} was made with other settings ({was}); "
                "resume it with the same settings (only rounds may grow), or start a new run folder"
            )
            raise InputError(msg)
        done: list[dict[str, Any]] = log["rounds"]
        if log.get("stopped"):
            return LoopResult(rounds=tuple(done), stopped=log["stopped"])
        real_fraction = done[-1]["real_fraction"] if done else self.real_fraction
        trained: Student | None = None
        for r in range(len(done), self.rounds):
            if self.recursive and r > 0 and trained is None:
                trained = self._train(folder / f"round-{r - 1:03d}" / "train.jsonl", r - 1)  # resumed: the same student again
            shares = steer_shares(done[-1]["slices"], self.steer) if done else {s: 1 / len(self.slices) for s in self.slices}
            teacher = StudentTeacher(trained) if self.recursive and trained is not None else self.teacher
            entry, kept = self._generate(folder / f"round-{r:03d}", r, shares, teacher)
            entry["real_fraction"] = real_fraction
            if entry["diversity"] is not None and entry["diversity"] < self.min_diversity:
                entry["decision"] = self._gate(entry["diversity"])
                if self.on_collapse == "stop":
                    log["stopped"] = f"round {r}: {entry['decision']}"
                    done.append(entry)
                    _write_json(log_path, log)
                    return LoopResult(rounds=tuple(done), stopped=log["stopped"])
                if self.on_collapse == "raise-real":
                    real_fraction = entry["real_fraction"] = min(0.9, real_fraction + 0.2)
            synthetic = kept if self.data == "replace" else [x for i in range(r) for x in _read(folder / f"round-{i:03d}" / "kept.jsonl")] + kept
            train = self._mix(synthetic, real_fraction, r)
            train_path = folder / f"round-{r:03d}" / "train.jsonl"
            _write_records(train_path, train)
            trained = self._train(train_path, r)
            ev = evaluate(trained, self.heldout, self.verifier, slice_field=self.slice_field)
            entry.update(train_size=len(train), accuracy=ev.accuracy, slices=dict(ev.slices), weakest=ev.weakest)
            _write_json(folder / f"round-{r:03d}" / "round.json", entry)
            done.append(entry)
            _write_json(log_path, log)
        return LoopResult(rounds=tuple(done))

    def config(self) -> dict[str, Any]:
        """The settings a resumed run must share with the run it continues (all but ``rounds``)."""
        keys = ("requests", "budget", "real_fraction", "verify", "steer", "data", "recursive", "max_train", "min_diversity", "on_collapse", "seed", "slice_field")
        out: dict[str, Any] = {k: getattr(self, k) for k in keys}
        out.update(
            slices=sorted(self.slices), heldout=len(self.heldout), real=len(self.real),
            teacher=_described(self.teacher), student=_described(self.student),
        )
        return out

    def _gate(self, diversity: float) -> str:
        what = {"warn": "warned", "raise-real": "raised the real fraction", "stop": "stopped"}[self.on_collapse]
        return f"collapse gate: distinct-2 of the kept responses is {diversity:.2f} of real's (< {self.min_diversity}); {what}"

    def _generate(self, where: Path, r: int, shares: Mapping[str, float], teacher: Teacher) -> tuple[dict[str, Any], list[Record]]:
        from synthkit.pipeline.builder import Pipeline

        where.mkdir(parents=True, exist_ok=True)
        counts = split_requests(shares, self.requests)
        prompts = [p for s in sorted(counts) for p in self.problems(s, counts[s], _seed(self.seed, r, s))]  # type: ignore[misc]
        counted = _Counted(teacher)
        pipe = Pipeline(prompts, seed=self.seed + r).generate(counted)
        if self.verify:
            pipe = pipe.verify(self.verifier)
        summary = pipe.run(where / "kept.jsonl", rejects=where / "rejects.jsonl")
        kept = _read(where / "kept.jsonl")
        if self.max_train is not None and len(kept) > self.max_train:
            chosen = sorted(random.Random(f"synthkit-loop/max-train/{self.seed}/{r}").sample(range(len(kept)), self.max_train))
            kept = [kept[i] for i in chosen]  # a random subset, in order: the first ones would be the first slices
        entry = {
            "round": r,
            "teacher": getattr(teacher, "model", teacher.name),
            "shares": dict(shares),
            "requested": counts,
            "teacher_requests": counted.requests,
            "kept": summary.kept,
            "dropped": {f"{k[0]}: {k[1]}": v for k, v in summary.dropped.items()},
            "failed": summary.n_failed,
            "diversity": self._diversity(kept),
            "answer_diversity": self._answer_diversity(kept),
            "decision": "ok",
        }
        return entry, kept

    def _diversity(self, kept: Sequence[Record]) -> float | None:
        """distinct-2 of the kept responses over that of as many real responses (``None`` without real data)."""
        real = [r.response.split() for r in self.real if r.response]
        if not real or not kept:
            return None
        n = min(len(real), len(kept))
        synthetic = distinct_n([r.response.split() for r in _spread(kept, n) if r.response], 2)
        reference = distinct_n(_spread(real, n), 2)
        return synthetic / reference if reference else None

    def _answer_diversity(self, kept: Sequence[Record]) -> float | None:
        """Distinct final answers among the kept responses over those among as many real ones: the tails, whatever the form."""
        from synthkit.verify.math import final_answer

        real = [final_answer(r.response) for r in self.real if r.response]
        if not real or not kept:
            return None
        n = min(len(real), len(kept))
        synthetic = {final_answer(r.response or "") for r in _spread(kept, n)} - {None}
        reference = set(_spread(real, n)) - {None}
        return len(synthetic) / len(reference) if reference else None

    def _mix(self, synthetic: Sequence[Record], real_fraction: float, r: int) -> list[Record]:
        if real_fraction <= 0:
            return list(synthetic)
        if not synthetic:
            return list(self.real)
        mixer = RatioMixer(real_fraction, repeat_real=True)
        return list(mixer.mix({"real": list(self.real), "synthetic": list(synthetic)}, seed=self.seed + r))

    def _train(self, path: Path, r: int) -> Student:
        records = _read(path)
        return self.student.train(records, seed=self.seed * 1000 + r, budget=self.budget)  # type: ignore[union-attr]


class _Counted(Teacher):
    """A teacher that counts the requests it passes on (copies share the count)."""

    def __init__(self, inner: Teacher) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = getattr(inner, "model", inner.name)
        self._count = [0]

    @property
    def requests(self) -> int:
        return self._count[0]

    async def complete(self, messages: Sequence[Any], params: Mapping[str, Any], *, n: int = 1) -> list[Any]:
        self._count[0] += 1
        return await self.inner.complete(messages, params, n=n)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _described(part: Any) -> str:
    """A part as ``name {options}`` when it was built by name, else its name (or model)."""
    from synthkit._specs import spec_of

    spec = spec_of(part)
    if spec is not None:
        return f"{spec.name} {json.dumps(spec.plain_options(), sort_keys=True, default=str)}"
    return str(getattr(part, "model", "") or getattr(part, "name", type(part).__name__))


def _spread(items: Sequence[Any], n: int) -> list[Any]:
    """``n`` of ``items`` spread evenly over them (a round's records come slice by slice)."""
    return [items[i * len(items) // n] for i in range(n)]


def _seed(seed: int, r: int, slice_name: str) -> int:
    return random.Random(f"synthkit-loop/{seed}/{r}/{slice_name}").randrange(2**31)


def _read(path: Path) -> list[Record]:
    return [r for r in iter_records(path) if isinstance(r, Record)] if path.exists() else []


def _write_records(path: Path, records: Sequence[Record]) -> None:
    path.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in records))


def _write_json(path: Path, value: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=2, sort_keys=True))
    tmp.replace(path)


def solved(teacher: Teacher, records: Sequence[Record], *, origin: str = "real") -> list[Record]:
    """Return ``records`` with ``teacher``'s response to each prompt, marked ``origin`` (real data: an error-free teacher's worked solutions)."""

    async def one(r: Record) -> Record:
        (c,) = await teacher.complete([{"role": "user", "content": r.prompt}], {})
        return attrs.evolve(r, response=c.text, lineage=attrs.evolve(r.lineage, origin=origin))

    async def every() -> list[Record]:
        return list(await asyncio.gather(*(one(r) for r in records)))

    return asyncio.run(every())


def procedural_loop(
    *,
    families: Sequence[str],
    error_rate: float = 0.0,
    heldout: int = 200,
    real: int = 200,
    seed: int = 0,
    **options: Any,
) -> Loop:
    """Return a :class:`Loop` over the ``procedural`` teacher's families (the slices), erring on ``error_rate`` of its answers.

    The held-out set (``heldout`` problems) and the real data (``real`` problems with an
    error-free teacher's worked solutions) are drawn with their own seeds, apart from the
    rounds' problems. ``options`` go to :class:`Loop` (``student`` is required).
    """
    truth = resolve("teacher", "procedural")
    held = list(truth.problems(heldout, seed=10_000 + seed, families=list(families)))
    pool = solved(truth, list(truth.problems(real, seed=20_000 + seed, families=list(families)))) if real else []
    teacher = resolve("teacher", "procedural", error_rate=error_rate, seed=seed)
    return Loop(teacher=teacher, slices=list(families), heldout=held, real=pool, seed=seed, **options)
