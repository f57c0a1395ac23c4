"""Multi-turn dialogues through the fake server: persona, turn taking, stops, per-turn checks, lineage, kill and resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import synthkit as sk
from synthkit.generators.dialogue import Dialogue, dialogue_seeds
from synthkit.records import Record
from synthkit.testing import FakeOpenAIServer, by_model, simulated_user
from synthkit.verify.regex import RegexVerifier

SYNTHKIT = str(Path(sys.executable).with_name("synthkit"))
LINES = ["Hi, I need a tent for a winter trip.", "Which one is lightest?", "How much does it weigh?", "Does it fit two people?"]


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setenv("SYNTHKIT_RETRY_NO_WAIT", "1")


def assistant_reply(messages):
    """The assistant answers the last user message, numbering its replies."""
    n = sum(1 for m in messages if m["role"] == "assistant") + 1
    return f"Reply {n} to: {messages[-1]['content']}"


def _teacher(server, model):
    return sk.get_teacher("openai", model=model, base_url=server.url, api_key="k", max_attempts=1)


def _script(lines=LINES):
    return by_model({"assistant": assistant_reply, "user-sim": simulated_user(lines)})


def test_a_four_turn_dialogue_with_a_persona(openai_server, tmp_path):
    """Four user turns from the simulated user with its persona, four replies; who said what with which template is in the lineage."""
    openai_server.configure(reply=_script())
    seeds = list(dialogue_seeds(personas=["a mountaineer who hates carrying weight"], goals=["buy a light tent"]))
    step = Dialogue(_teacher(openai_server, "assistant"), _teacher(openai_server, "user-sim"), turns=4, cache=tmp_path / "c.sqlite")
    summary = sk.Pipeline(seeds).step(step).run(tmp_path / "out.jsonl")
    assert summary.kept == 1
    rec = Record.from_json((tmp_path / "out.jsonl").read_text())
    assert [m["role"] for m in rec.messages] == ["user", "assistant"] * 3 + ["user"]
    assert [m["content"] for m in rec.messages if m["role"] == "user"] == LINES
    assert rec.response == f"Reply 4 to: {LINES[3]}"
    assert rec.data["persona"] == "a mountaineer who hates carrying weight" and rec.data["dialogue_stop"] == "turns"
    turns = rec.lineage.turns
    assert [(t["role"], t["model"]) for t in turns] == [("user", "user-sim"), ("assistant", "assistant")] * 4
    assert all(t["template"] == "simulated-user" for t in turns if t["role"] == "user")
    assert rec.lineage.usage["completion_tokens"] == sum(t["usage"]["completion_tokens"] for t in turns)
    user_requests = [r for r in openai_server.requests if r.body["model"] == "user-sim"]
    system = user_requests[0].body["messages"][0]
    assert system["role"] == "system" and "a mountaineer who hates carrying weight" in system["content"] and "buy a light tent" in system["content"]
    # the simulated user sees its own turns as assistant turns and the assistant's as user turns
    last_view = user_requests[-1].body["messages"]
    assert [m["role"] for m in last_view[1:]] == ["user"] + ["assistant", "user"] * 3
    assert last_view[2]["content"] == LINES[0] and last_view[3]["content"].startswith("Reply 1")
    # a re-run re-pays nothing
    again = sk.Pipeline(seeds).step(Dialogue(_teacher(openai_server, "assistant"), _teacher(openai_server, "user-sim"), turns=4, cache=tmp_path / "c.sqlite"))
    assert again.run(tmp_path / "again.jsonl").kept == 1 and openai_server.request_count == 8
    assert (tmp_path / "again.jsonl").read_text() == (tmp_path / "out.jsonl").read_text()


def test_the_user_saying_goodbye_ends_the_dialogue_on_the_assistants_reply(openai_server, tmp_path):
    """After two lines the simulated user says goodbye: two exchanges are kept, the farewell is not."""
    openai_server.configure(reply=_script(LINES[:2]))
    step = Dialogue(_teacher(openai_server, "assistant"), _teacher(openai_server, "user-sim"), turns=4)
    sk.Pipeline([Record.create(data={"persona": "p"})]).step(step).run(tmp_path / "out.jsonl")
    rec = Record.from_json((tmp_path / "out.jsonl").read_text())
    assert [m["content"] for m in rec.messages if m["role"] == "user"] == LINES[:2]
    assert rec.response.startswith("Reply 2") and rec.data["dialogue_stop"] == "user"
    assert rec.lineage.turns[-1]["role"] == "user" and rec.lineage.turns[-1]["kept"] is False


def test_a_record_prompt_opens_and_one_teacher_can_play_both_sides(openai_server, tmp_path):
    """The record's prompt is the first user turn; the same model plays the user (told apart by its system prompt)."""

    def reply(messages):
        if messages[0]["role"] == "system" and "role-playing a user" in messages[0]["content"]:
            return "Tell me more."
        return assistant_reply(messages)

    openai_server.configure(reply=reply)
    step = Dialogue(_teacher(openai_server, "m"), turns=2)
    sk.Pipeline([Record.create(prompt="What is a bivy sack?")]).step(step).run(tmp_path / "out.jsonl")
    rec = Record.from_json((tmp_path / "out.jsonl").read_text())
    assert [m["content"] for m in rec.messages] == ["What is a bivy sack?", "Reply 1 to: What is a bivy sack?", "Tell me more."]
    assert rec.response == "Reply 2 to: Tell me more." and openai_server.request_count == 3


def test_a_per_turn_check_drops_the_dialogue_naming_the_turn(openai_server, tmp_path):
    """A verifier on every assistant reply: the third reply fails, the dialogue is dropped with the turn and the reason."""
    openai_server.configure(reply=_script())
    check = RegexVerifier(r"^Reply [12] ")
    step = Dialogue(_teacher(openai_server, "assistant"), _teacher(openai_server, "user-sim"), turns=4, check=check)
    summary = sk.Pipeline([Record.create(data={"persona": "p"})]).step(step).run(tmp_path / "out.jsonl", rejects=tmp_path / "rej.jsonl")
    assert summary.kept == 0 and summary.n_dropped == 1
    reject = json.loads((tmp_path / "rej.jsonl").read_text())
    assert reject["reject"]["reason"].startswith("assistant turn 3:")
    assert openai_server.request_count == 6  # nothing asked after the failing reply


def test_a_judge_ends_the_dialogue_when_the_goal_is_met(openai_server, tmp_path):
    """With until=judge, the dialogue stops after the reply the judge scores as passing."""

    def judge(messages):
        return "The goal is met. Score: 9/10" if "Reply 2" in messages[-1]["content"] else "Not yet. Score: 2/10"

    openai_server.configure(reply=by_model({"assistant": assistant_reply, "user-sim": simulated_user(LINES), "judge": judge}))
    until = sk.get_verifier("judge", teacher=_teacher(openai_server, "judge"), threshold=7)
    step = Dialogue(_teacher(openai_server, "assistant"), _teacher(openai_server, "user-sim"), turns=4, until=until)
    sk.Pipeline([Record.create(data={"goal": "g"})]).step(step).run(tmp_path / "out.jsonl")
    rec = Record.from_json((tmp_path / "out.jsonl").read_text())
    assert rec.response.startswith("Reply 2") and rec.data["dialogue_stop"] == "until"


def persona_user(messages):
    """A simulated user whose lines name its persona, so the dialogues of different personas differ."""
    who = next(line for line in messages[0]["content"].splitlines() if line.startswith("Who you are:"))
    return f"{who.removeprefix('Who you are: ')}: {simulated_user(LINES)(messages, {}, 0)}"


def _cache_rows(path):
    try:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not made yet
        return 0


def test_a_killed_dialogue_run_resumes_without_re_paying_a_turn(tmp_path):
    """SIGKILL in the middle of dialogues: the re-run pays only the turns not yet answered, and gives the uninterrupted output."""
    (tmp_path / "personas.txt").write_text("a hiker\na climber\na skier\n")
    (tmp_path / "goals.txt").write_text("buy a tent\n")
    stopped, fresh = tmp_path / "stopped", tmp_path / "fresh"
    for d in (stopped, fresh):
        d.mkdir()
    with FakeOpenAIServer(latency=0.15, reply=by_model({"assistant": assistant_reply, "user-sim": persona_user})) as server:
        args = [SYNTHKIT, "dialogue", "-o", "out.jsonl", "--personas", str(tmp_path / "personas.txt"), "--goals", str(tmp_path / "goals.txt"),
                "--model", "assistant", "--user-model", "user-sim", "--turns", "4", "--base-url", server.url, "--concurrency", "2"]
        env = {**os.environ, "SYNTHKIT_API_KEY": "k"}
        proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, cwd=stopped, env=env)
        deadline = time.monotonic() + 60
        cache = stopped / "out.cache.sqlite"
        while time.monotonic() < deadline and not (cache.exists() and _cache_rows(cache) >= 5):
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        time.sleep(0.5)  # the server finishes answering the requests the dead process had in flight
        answered = server.counts["ok"]
        kept = _cache_rows(stopped / "out.cache.sqlite")  # the turns that reached the process
        finished = len((stopped / "out.jsonl").read_text().splitlines()) if (stopped / "out.jsonl").exists() else 0
        assert 5 <= kept < 24 and finished * 8 < kept  # 3 dialogues of 8 turns: killed in the middle of dialogues
        assert kept <= answered <= kept + 2  # only the requests in flight at the kill were lost (concurrency 2)
        rerun = subprocess.run(args, capture_output=True, text=True, cwd=stopped, env=env, timeout=120, check=False)
        assert rerun.returncode == 0, rerun.stderr
        assert server.counts["ok"] - answered == 24 - kept  # the re-run paid only the turns not yet received
        again = subprocess.run(args, capture_output=True, text=True, cwd=fresh, env=env, timeout=120, check=False)
        assert again.returncode == 0, again.stderr
    out = (stopped / "out.jsonl").read_text()
    assert out == (fresh / "out.jsonl").read_text()
    assert sorted(json.loads(line)["persona"] for line in out.splitlines()) == ["a climber", "a hiker", "a skier"]


def test_dialogues_export_to_every_format_and_load_with_datasets(openai_server, tmp_path):
    """A dialogue exports to openai, sharegpt, alpaca and trl rows that datasets loads, turns in order."""
    import datasets

    openai_server.configure(reply=_script())
    step = Dialogue(_teacher(openai_server, "assistant"), _teacher(openai_server, "user-sim"), turns=4, system="tests/generators/assistant_system.j2")
    sk.Pipeline(list(dialogue_seeds(personas=["p1", "p2"]))).step(step).run(tmp_path / "d.jsonl")
    for fmt, key, n in [("openai", "messages", 9), ("sharegpt", "conversations", 9), ("trl", "messages", 9)]:
        out = tmp_path / f"{fmt}.jsonl"
        assert sk.export(tmp_path / "d.jsonl", out, format=fmt).exported == 2
        ds = datasets.load_dataset("json", data_files=str(out), split="train")
        assert len(ds) == 2 and len(ds[0][key]) == n
    row = json.loads((tmp_path / "sharegpt.jsonl").read_text().splitlines()[0])
    assert [t["from"] for t in row["conversations"]] == ["system"] + ["human", "gpt"] * 4
    assert row["conversations"][0]["value"] == "You are a gear shop assistant."
    alpaca = tmp_path / "alpaca.jsonl"
    sk.export(tmp_path / "d.jsonl", alpaca, format="alpaca")
    assert len(json.loads(alpaca.read_text().splitlines()[0])["history"]) == 3


def test_the_card_counts_every_turn_by_the_model_that_answered(openai_server, tmp_path):
    """A dataset card of dialogues counts each turn's request under its own teacher and model."""
    openai_server.configure(reply=_script())
    step = Dialogue(_teacher(openai_server, "assistant"), _teacher(openai_server, "user-sim"), turns=4)
    sk.Pipeline(list(dialogue_seeds(personas=["p1", "p2"]))).step(step).run(tmp_path / "d.jsonl")
    card = sk.dataset_card(tmp_path / "d.jsonl")
    assert "| openai | assistant | 8 |" in card and "| openai | user-sim | 8 |" in card
