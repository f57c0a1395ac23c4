"""Verify, then regenerate: failures are asked again with the reason, up to k attempts, all kept in lineage."""

from __future__ import annotations

import json
import re

import pytest

import synthkit as sk
from synthkit.records import Record
from synthkit.generators.regenerate import Regenerate
from synthkit.testing import FakeTeacher

PROBLEMS = [
    {"prompt": "What is 1/4 + 1/4?", "answer": "1/2"},
    {"prompt": "What is 2 + 2?", "answer": "4"},
]


def _teacher(server):
    return sk.get_teacher("openai", model="m", base_url=server.url, api_key="k", max_attempts=1)


def test_regenerate_loop_against_the_local_server(openai_server, tmp_path):
    """A wrong answer is regenerated with the verifier's reason in the prompt; the kept record lists every attempt."""

    def reply(messages):
        question = next(m["content"] for m in messages if m["role"] == "user")
        feedback = [m["content"] for m in messages if m["role"] == "user" and "rejected" in m["content"]]
        if "1/4" in question and len(feedback) < 2:
            return "Step 1: add.\nFinal answer: 0.25"  # wrong twice, then right
        return "Step 1: add.\nFinal answer: " + ("0.5" if "1/4" in question else "4")

    openai_server.configure(reply=reply)
    regen = Regenerate(sk.Generate(_teacher(openai_server), template="cot"), "math", attempts=3)
    src = [Record.from_dict(p) for p in PROBLEMS]
    summary = sk.Pipeline(src, concurrency=2).step(regen).run(sink=tmp_path / "kept.jsonl")
    assert summary.kept == 2 and openai_server.request_count == 4
    kept = [json.loads(x) for x in (tmp_path / "kept.jsonl").read_text().splitlines()]
    hard = next(k for k in kept if "1/4" in k["prompt"])
    easy = next(k for k in kept if "2 + 2" in k["prompt"])
    assert easy["lineage"].get("attempts", []) == []
    attempts = hard["lineage"]["attempts"]
    assert [a["attempt"] for a in attempts] == [1, 2]
    assert all(a["response"].endswith("Final answer: 0.25") for a in attempts)
    assert attempts[0]["reason"] == "expected 1/2, got 0.25: not equivalent"
    assert hard["response"].endswith("0.5") and hard["lineage"]["verdicts"][-1]["passed"] is True
    last = [r for r in openai_server.requests if "1/4" in r.messages[1]["content"]][-1].messages
    assert [m["role"] for m in last[-4:]] == ["assistant", "user", "assistant", "user"]
    assert "expected 1/2, got 0.25: not equivalent" in last[-1]["content"]


def test_regenerate_gives_up_after_k_attempts(tmp_path):
    """A sample still failing after k attempts is dropped; its reject keeps the reason, the last reply and every earlier attempt."""
    teacher = FakeTeacher(reply="Final answer: 7")
    regen = Regenerate(sk.Generate(teacher), sk.get_verifier("math"), attempts=3)
    summary = sk.Pipeline([Record.from_dict(PROBLEMS[1])]).step(regen).run(sink=tmp_path / "k.jsonl", rejects=tmp_path / "r.jsonl")
    assert summary.kept == 0 and len(teacher.calls) == 3 and summary.balanced
    rej = json.loads((tmp_path / "r.jsonl").read_text())
    assert rej["reject"] == {
        "status": "dropped",
        "step": "regenerate:math",
        "reason": "expected 4, got 7: not equivalent (still failing after 3 attempts)",
        "kind": "",
        "attempts": 1,
    }
    assert rej["response"] == "Final answer: 7"
    assert [a["attempt"] for a in rej["lineage"]["attempts"]] == [1, 2]
    assert rej["lineage"]["verdicts"][-1]["passed"] is False


async def test_each_sample_of_a_fan_out_is_settled_on_its_own():
    """With n samples, only the failing ones are regenerated, each in its own conversation."""

    def reply(messages, params, index):
        if messages[-1]["content"].startswith("Your answer"):
            return "Final answer: 4"
        return "Final answer: 4" if index == 0 else "Final answer: 5"

    teacher = FakeTeacher(reply=reply)
    regen = Regenerate(sk.Generate(teacher, n=2), "math", attempts=2)
    out = await regen.generate(Record.from_dict(PROBLEMS[1]), sk.Context())
    assert [r.response for r in out] == ["Final answer: 4", "Final answer: 4"]
    assert [len(r.lineage.attempts) for r in out] == [0, 1]
    assert len(teacher.calls) == 2 and teacher.calls[1][2] == 1
    assert out[0].id != out[1].id


def test_bad_arguments_are_refused():
    """attempts below 1 and feedback without {reason} are errors."""
    gen = sk.Generate(FakeTeacher())
    with pytest.raises(ValueError, match="at least 1"):
        Regenerate(gen, "math", attempts=0)
    with pytest.raises(ValueError, match=re.escape("{reason}")):
        Regenerate(gen, "math", feedback="try again")
