"""A small student study: the JSON contract, equal teacher requests in arms (a) and (b), and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from synthkit.errors import InputError
from synthkit.students import ARMS, student_study

pytest.importorskip("synthkit_procedural")


@pytest.fixture
def procedural(monkeypatch, fresh_plugins):
    from synthkit.plugins import reset_plugins

    monkeypatch.setenv("SYNTHKIT_LOAD_PLUGINS", "procedural,students")
    reset_plugins()


def _check_contract(result, seeds, rounds):
    assert set(result["arms"]) == set(ARMS)
    for arm, body in result["arms"].items():
        assert len(body["seeds"]) == seeds, arm
        for seed in body["seeds"]:
            assert len(seed["rounds"]) == (1 if arm in ("verified", "unverified") else rounds), arm
            for r in seed["rounds"]:
                assert isinstance(r["accuracy"], float) and 0 <= r["accuracy"] <= 1
                assert isinstance(r["teacher_requests"], int)
                assert r["slices"] and all(isinstance(v, float) for v in r["slices"].values())


def test_small_study_keeps_the_json_contract_and_equal_budgets(procedural, tmp_path):
    """Every arm has seeds of rounds with accuracy, slices and teacher requests; (a) and (b) spend the same requests."""
    result = student_study(tmp_path, seeds=2, student="lookup", requests=30, budget=30, rounds=2, heldout=20, real=30, error_rate=0.5,
                           families=("arithmetic", "linear-equations", "modular", "bases", "lists"))
    _check_contract(result, seeds=2, rounds=2)
    spent = {a: [sum(r["teacher_requests"] for r in s["rounds"]) for s in result["arms"][a]["seeds"]] for a in ARMS}
    assert spent["verified"] == spent["unverified"] == [30, 30]
    assert spent["targeted"] == spent["uniform"] == [60, 60]
    v, u = result["arms"]["verified"]["seeds"][0]["rounds"][0], result["arms"]["unverified"]["seeds"][0]["rounds"][0]
    assert v["train_size"] == u["train_size"] == v["kept"] < 30  # the same volume; the erring teacher's mistakes dropped
    families = {json.loads(x)["family"] for x in (tmp_path / "unverified" / "seed-0" / "round-000" / "train.jsonl").read_text().splitlines()}
    assert len(families) >= 4  # the same volume is drawn from every slice, not the first slices' records
    assert result["arms"]["targeted"]["seeds"][0]["rounds"][1]["shares"] != result["arms"]["uniform"]["seeds"][0]["rounds"][1]["shares"]
    assert result["summary"]["verified"][0]["accuracy"]["n"] == 2
    from synthkit.students.study import summary_table

    table = summary_table(result).splitlines()
    assert len(table) == 2 + 2 * 1 + 5 * 2 and table[2].startswith("| verified | 0 | 30 | ")


def test_arms_that_share_round_zero_share_it_and_workers_do_not_change_results(procedural, tmp_path):
    """Steering and accumulating do not change round 0, so it is run once; one process or two give the same JSON."""
    kw = {"seeds": 1, "student": "lookup", "requests": 24, "budget": 10, "rounds": 2, "heldout": 16, "real": 24, "error_rate": 0.5}
    two = student_study(tmp_path / "two", workers=2, **kw)
    one = student_study(tmp_path / "one", workers=1, **kw)
    assert two["arms"] == one["arms"]
    for first, second in (("uniform", "targeted"), ("recursive-replace", "recursive-accumulate")):
        a, b = (tmp_path / "one" / arm / "seed-0" / "round-000" for arm in (first, second))
        assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
        assert all((a / p.name).read_bytes() == (b / p.name).read_bytes() for p in a.iterdir())
        assert one["arms"][first]["seeds"][0]["rounds"][0] == one["arms"][second]["seeds"][0]["rounds"][0]


def test_a_stopped_study_ends_its_processes_and_resumes_to_the_same_results(tmp_path):
    """SIGTERM to `synthkit student-study` ends every worker (exit 143); the same command then finishes as an unbroken run would."""
    import signal
    import time

    import psutil

    env = {**os.environ, "SYNTHKIT_LOAD_PLUGINS": "procedural"}

    def cmd(name):
        return [sys.executable, "-m", "synthkit", "student-study", "--json", str(tmp_path / f"{name}.json"), "-o", str(tmp_path / name),
                "--student", "lookup", "--seeds", "2", "--requests", "400", "--rounds", "3", "--heldout", "20", "--real", "40"]

    proc = subprocess.Popen(cmd("stopped"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list((tmp_path / "stopped").glob("*/seed-*/round-000/round.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = psutil.Process(proc.pid).children(recursive=True)
    assert workers, "the study runs its arms in worker processes"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "interrupted by SIGTERM" in err and "re-run the same command to resume" in err
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"workers left running: {alive}"
    assert not (tmp_path / "stopped.json").exists()
    subprocess.run(cmd("stopped"), env=env, capture_output=True, text=True, check=True)
    subprocess.run(cmd("whole"), env=env, capture_output=True, text=True, check=True)
    resumed, whole = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("stopped", "whole"))
    assert resumed["arms"] == whole["arms"]


def test_unknown_arm_is_refused(procedural, tmp_path):
    """Asking for an arm the study does not have names the arms it has."""
    with pytest.raises(InputError, match="recursive-replace"):
        student_study(tmp_path, arms=["verifed"])


def test_student_study_command_writes_the_json(tmp_path):
    """`synthkit student-study --json R.json` (a real subprocess) writes the contract's JSON."""
    env = {**os.environ, "SYNTHKIT_LOAD_PLUGINS": "procedural"}
    cmd = [sys.executable, "-m", "synthkit", "student-study", "--json", str(tmp_path / "R.json"), "-o", str(tmp_path / "runs"),
           "--student", "lookup", "--seeds", "1", "--requests", "20", "--rounds", "2", "--heldout", "10", "--real", "20"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    assert "recursive-verified-real" in out
    _check_contract(json.loads((tmp_path / "R.json").read_text()), seeds=1, rounds=2)
