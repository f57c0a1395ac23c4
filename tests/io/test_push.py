"""`synthkit push`: the data file and its card reach a loopback Hub through huggingface_hub; the token never shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

import synthkit as sk
from synthkit.testing.hub import FakeHub

TOKEN = "hf_fake_Secret_token_0123456789"


@pytest.fixture
def run(tmp_path):
    teacher = sk.get_teacher("procedural", error_rate=0.3)
    out, rej = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    sk.Pipeline(teacher.problems(40, seed=2), seed=2).generate(teacher, template="cot").verify("final-answer").run(sink=out, rejects=rej)
    return out, rej


@pytest.fixture
def hub():
    with FakeHub(token=TOKEN) as h:
        yield h


def _push(*args, hub, token=TOKEN, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub.url, HF_HOME=str(cwd / "hf-home"), HF_HUB_DISABLE_TELEMETRY="1")
    if token is not None:
        env["HF_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "synthkit", "push", *args], capture_output=True, text=True, env=env, cwd=cwd, check=False)


def test_push_sends_the_data_and_its_card(run, hub, tmp_path):
    """The data lands at data/train.jsonl byte for byte; README.md is the card, pointing the Hub at that file."""
    out, rej = run
    proc = _push(str(out), "--repo", "me/math-cot", "--rejects", str(rej), "--license", "mit", hub=hub, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"pushed data/train.jsonl, README.md to {hub.url}/datasets/me/math-cot" in proc.stdout
    files = hub.repos["me/math-cot"]
    assert set(files) == {"data/train.jsonl", "README.md"}
    assert files["data/train.jsonl"] == out.read_bytes()
    card = files["README.md"].decode()
    front = yaml.safe_load(card.split("---")[1])
    assert front["license"] == "mit"
    assert front["configs"][0]["data_files"][0] == {"split": "train", "path": "data/train.jsonl"}
    assert "synthetic" in front["tags"]
    kept = len(out.read_text().splitlines())
    dropped = len(rej.read_text().splitlines())
    assert f"{kept}" in card and "final-answer" in card and str(dropped) in card  # pass rates from the rejects
    commit = hub.commits["me/math-cot"][0]
    assert commit["header"]["summary"] == "synthkit push out.jsonl"
    paths = [r.path for r in hub.requests]
    assert paths == [
        "/api/repos/create",
        "/api/validate-yaml",
        "/api/datasets/me/math-cot/preupload/main",
        "/api/datasets/me/math-cot/commit/main",
    ]
    assert all(r.authorized for r in hub.requests)
    assert TOKEN not in proc.stdout + proc.stderr


def test_push_to_an_existing_repo_adds_a_commit(run, hub, tmp_path):
    """A second push to the same repository is a second commit (the 409 of create is not an error)."""
    out, _ = run
    for _ in range(2):
        assert _push(str(out), "--repo", "me/again", hub=hub, cwd=tmp_path).returncode == 0
    assert len(hub.commits["me/again"]) == 2


def test_a_wrong_token_fails_cleanly_and_never_shows(run, hub, tmp_path):
    """A token the Hub refuses: exit 1, one error naming the fix, no traceback, and the token nowhere."""
    out, _ = run
    wrong = "hf_wrong_token_ABCDEF"
    proc = _push(str(out), "--repo", "me/x", hub=hub, token=wrong, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: the Hub refused the push to me/x")
    assert "check the token" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert wrong not in proc.stdout + proc.stderr
    assert hub.repos == {}


def test_no_token_says_where_to_put_one(run, hub, tmp_path):
    """Without any token the push stops before sending anything and says how to log in."""
    out, _ = run
    proc = _push(str(out), "--repo", "me/x", hub=hub, token=None, cwd=tmp_path)
    assert proc.returncode == 1
    assert "no Hugging Face token: set HF_TOKEN, or run `hf auth login`" in proc.stderr
    assert hub.requests == []
