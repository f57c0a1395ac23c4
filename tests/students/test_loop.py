"""The student loop: scoring per slice, steering toward weak slices, the collapse gate, the run folder and resume."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import synthkit as sk
from synthkit.errors import InputError
from synthkit.students import Loop, evaluate, split_requests, steer_shares
from synthkit.students.loop import procedural_loop

pytest.importorskip("synthkit_procedural")
from synthkit_procedural.families import solve_any  # noqa: E402

FAMILIES = ["arithmetic", "lists", "modular"]


class Blind(sk.Student):
    """Solves every problem except those of one family, where it answers nonsense."""

    name = "blind"

    def __init__(self, blind: str = "lists") -> None:
        self.blind = blind
        self.trained_on: list[sk.Record] = []

    def train(self, records, *, seed, budget):
        out = Blind(self.blind)
        out.trained_on = list(records)
        return out

    def answer(self, prompts):
        out = []
        for p in prompts:
            family, (_, answer) = solve_any(p)
            out.append("Final answer: ???" if family.name == self.blind else f"Final answer: {answer}")
        return out


@pytest.fixture
def procedural(monkeypatch, fresh_plugins):
    """The procedural plugin loaded (and the students plugin, if installed)."""
    from synthkit.plugins import reset_plugins

    monkeypatch.setenv("SYNTHKIT_LOAD_PLUGINS", "procedural,students")
    reset_plugins()


def test_evaluate_scores_per_slice(procedural):
    """A student that fails one family scores 0 there and 1 elsewhere, with the verifier's judgement."""
    held = list(sk.get_teacher("procedural").problems(60, seed=3, families=FAMILIES))
    ev = evaluate(Blind("lists"), held, "final-answer")
    assert ev.slices["lists"] == 0.0 and ev.slices["arithmetic"] == 1.0 and ev.slices["modular"] == 1.0
    assert ev.weakest == "lists" and sum(ev.counts.values()) == 60
    assert ev.accuracy == pytest.approx(1 - ev.counts["lists"] / 60)


def test_evaluate_names_a_record_without_its_slice(procedural):
    """A held-out record without the slice field is an input error naming the field."""
    with pytest.raises(InputError, match="'family'"):
        evaluate(Blind(), [sk.Record.create(prompt="x", data={"answer": "1"})], "final-answer")


@given(st.dictionaries(st.sampled_from("abcdef"), st.floats(0, 1), min_size=1), st.floats(0, 1), st.integers(0, 500))
def test_shares_split_into_exact_whole_requests(slices, strength, requests):
    """Shares sum to 1, a less accurate slice never gets less, and the split spends exactly the requests."""
    shares = steer_shares(slices, strength)
    assert sum(shares.values()) == pytest.approx(1)
    for a in slices:
        for b in slices:
            if slices[a] < slices[b]:
                assert shares[a] >= shares[b] - 1e-12
    counts = split_requests(shares, requests)
    assert sum(counts.values()) == requests and all(c >= 0 for c in counts.values())


def test_a_failed_slice_gets_a_larger_share_of_the_next_round(procedural, tmp_path):
    """Steering: the family the student fails gets most of round 1's requests; uniform keeps it at a third."""
    loop = procedural_loop(families=FAMILIES, student=Blind("lists"), rounds=2, requests=60, budget=1, heldout=30, real=20, error_rate=0.0)
    result = loop.run(tmp_path / "steered")
    first, second = result.rounds
    assert first["requested"] == {"arithmetic": 20, "lists": 20, "modular": 20}
    assert second["shares"]["lists"] > 0.8 and second["requested"]["lists"] > 2 * second["requested"]["arithmetic"]
    assert second["teacher_requests"] == 60
    uniform = sk.students.Loop  # the same loop without steering
    flat = procedural_loop(families=FAMILIES, student=Blind("lists"), rounds=2, requests=60, budget=1, heldout=30, real=20, steer=0.0)
    assert isinstance(flat, uniform)
    assert flat.run(tmp_path / "flat").rounds[1]["requested"] == {"arithmetic": 20, "lists": 20, "modular": 20}


def test_loop_end_to_end_writes_the_run_folder_and_resumes(procedural, tmp_path):
    """Every round writes its data and metrics; a run cut after round 0 resumes and gives the same rounds as one unbroken run."""
    kw = {"families": FAMILIES, "student": "lookup", "requests": 30, "budget": 30, "heldout": 20, "real": 20, "error_rate": 0.4, "seed": 1}
    whole = procedural_loop(rounds=2, **kw).run(tmp_path / "whole")
    assert [r["round"] for r in whole.rounds] == [0, 1]
    r0 = whole.rounds[0]
    assert r0["teacher_requests"] == 30 and r0["kept"] + sum(r0["dropped"].values()) == 30 and r0["dropped"]
    assert 0 <= r0["accuracy"] <= 1 and set(r0["slices"]) == set(FAMILIES)
    for name in ("kept.jsonl", "rejects.jsonl", "train.jsonl", "round.json"):
        assert (tmp_path / "whole" / "round-000" / name).is_file()
    train = [json.loads(line) for line in (tmp_path / "whole" / "round-000" / "train.jsonl").read_text().splitlines()]
    assert len(train) == r0["train_size"] and any(t["lineage"]["origin"] == "real" for t in train)

    cut = procedural_loop(rounds=1, **kw).run(tmp_path / "cut")
    assert len(cut.rounds) == 1
    resumed = procedural_loop(rounds=2, **kw).run(tmp_path / "cut")
    assert [dict(r) for r in resumed.rounds] == [dict(r) for r in whole.rounds]
    log = json.loads((tmp_path / "cut" / "log.json").read_text())
    assert [r["round"] for r in log["rounds"]] == [0, 1]
    with pytest.raises(InputError, match="requests: 30"):
        procedural_loop(rounds=3, **{**kw, "requests": 31}).run(tmp_path / "cut")
    with pytest.raises(InputError, match="error_rate"):
        procedural_loop(rounds=3, **{**kw, "error_rate": 0.1}).run(tmp_path / "cut")


def test_recursive_loop_uses_the_last_student_as_teacher_after_resume(procedural, tmp_path):
    """Round 1 of a recursive loop is taught by round 0's student, also when the run resumes between them."""
    kw = {"families": FAMILIES, "student": Blind("lists"), "requests": 30, "budget": 1, "heldout": 20, "real": 20, "recursive": True, "verify": False}
    procedural_loop(rounds=1, **kw).run(tmp_path / "r")
    rounds = procedural_loop(rounds=2, **kw).run(tmp_path / "r").rounds
    assert rounds[0]["teacher"] == "procedural-v1" and rounds[1]["teacher"] == "student:blind"
    kept = (tmp_path / "r" / "round-001" / "kept.jsonl").read_text()
    assert "Final answer: ???" in kept  # the student's mistakes on lists are what it teaches
    assert 0 < rounds[1]["answer_diversity"] < rounds[0]["answer_diversity"]  # one answer for every list: the tail is gone


def test_collapse_gate_warns_raises_real_or_stops(procedural, tmp_path):
    """A student that always answers the same thing trips the gate: warn logs it, raise-real adds real data, stop ends the run."""
    kw = {"families": FAMILIES, "student": "lookup", "requests": 20, "budget": 5, "heldout": 10, "real": 20, "recursive": True, "verify": False, "rounds": 2}
    warned = procedural_loop(on_collapse="warn", **kw).run(tmp_path / "w")
    assert warned.rounds[1]["decision"].startswith("collapse gate") and warned.stopped is None
    raised = procedural_loop(on_collapse="raise-real", **kw).run(tmp_path / "rr")
    assert raised.rounds[1]["real_fraction"] == pytest.approx(0.4)
    stopped = procedural_loop(on_collapse="stop", **kw).run(tmp_path / "s")
    assert stopped.stopped and "round 1" in stopped.stopped and "accuracy" not in stopped.rounds[1]
    assert procedural_loop(on_collapse="stop", **kw).run(tmp_path / "s").stopped == stopped.stopped


def test_loop_refuses_real_fraction_without_real_data(procedural):
    """Asking for real data without giving any is an input error that says how to fix it."""
    with pytest.raises(InputError, match="real_fraction=0"):
        Loop(teacher="procedural", student="lookup", slices=FAMILIES, heldout=[], real=(), real_fraction=0.2)


def test_loop_command_runs_and_resumes(tmp_path):
    """`synthkit loop` (a real subprocess) prints each round, resumes a run folder, refuses changed settings, and exits 3 when the gate stops it."""
    import os

    env = {**os.environ, "SYNTHKIT_LOAD_PLUGINS": "procedural"}
    cmd = [sys.executable, "-m", "synthkit", "loop", str(tmp_path / "run"), "--student", "lookup", "--requests", "20", "--heldout", "10", "--real", "20"]
    out = subprocess.run([*cmd, "--rounds", "1"], env=env, capture_output=True, text=True, check=True).stdout
    assert out.startswith("round 0: 20 requests")
    out = subprocess.run([*cmd, "--rounds", "2"], env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(out) == 2 and out[1].startswith("round 1: 20 requests")
    changed = subprocess.run([*cmd, "--rounds", "3", "--recursive"], env=env, capture_output=True, text=True)
    assert changed.returncode == 1 and "other settings (recursive: False)" in changed.stderr and "Traceback" not in changed.stderr
    cmd[4] = str(tmp_path / "collapse")
    stop = subprocess.run([*cmd, "--rounds", "3", "--recursive", "--no-verify", "--on-collapse", "stop"], env=env, capture_output=True, text=True)
    assert stop.returncode == 3 and "stopped at the collapse gate (round 1" in stop.stderr


def test_student_teacher_batches_concurrent_requests(procedural, tmp_path):
    """A student used as a teacher answers a pipeline's concurrent requests in batches, each prompt its own answer."""
    from synthkit.students import StudentTeacher

    calls = []

    class Upper(Blind):
        def answer(self, prompts):
            calls.append(len(prompts))
            return [p.upper() for p in prompts]

    prompts = [sk.Record.create(prompt=f"q{i}") for i in range(30)]
    summary = sk.Pipeline(prompts, concurrency=16).generate(StudentTeacher(Upper())).run(tmp_path / "out.jsonl")
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert summary.kept == 30 and sorted(r["response"] for r in rows) == sorted(f"Q{i}" for i in range(30))
    assert sum(calls) == 30 and len(calls) < 30
