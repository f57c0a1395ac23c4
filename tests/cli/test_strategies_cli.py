"""The strategies from the CLI: --template-option and --teacher-option, self-instruct, evol-instruct, chunk and doc-qa export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from synthkit.cli import cli


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setenv("SYNTHKIT_RETRY_NO_WAIT", "1")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run(*args: str, code: int = 0):
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert res.exit_code == code, res.output
    return res


def fails(*args: str) -> str:
    """Run a command that must fail; return what it said (click's usage errors, or the synthkit error main() prints)."""
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code != 0
    return res.output + str(res.exception or "")


def test_evol_instruct_writes_the_rewritten_prompt_with_the_operator_chosen(openai_server, tmp_path):
    """--template evol-instruct --template-option operator=deepen: the prompt is the rewrite, its label gone."""
    openai_server.configure(reply=lambda m: "#Rewritten Prompt#:\nExplain why 2 + 2 = 4 in base ten, and in base three.")
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "What is 2 + 2?"}])
    out = tmp_path / "out.jsonl"
    run("generate", str(src), "-o", str(out), "--model", "m", "--base-url", openai_server.url,
        "--template", "evol-instruct", "--template-option", "operator=deepen")
    (row,) = read_jsonl(out)
    assert row["prompt"] == "Explain why 2 + 2 = 4 in base ten, and in base three."
    assert "response" not in row and row["evol_operator"] == "deepen"
    sent = openai_server.requests[0].user_content
    assert "increase the depth and breadth" in sent and "What is 2 + 2?" in sent


def test_evol_instruct_refuses_an_unknown_operator(openai_server, tmp_path):
    """An unknown operator names the known ones, before any request."""
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "q"}])
    said = fails("generate", str(src), "-o", str(tmp_path / "o.jsonl"), "--model", "m", "--base-url", openai_server.url,
                 "--template", "evol-instruct", "--template-option", "operator=harder")
    assert "'harder'" in said and "deepen" in said
    assert openai_server.request_count == 0


def test_self_instruct_writes_one_record_per_new_task(openai_server, tmp_path):
    """--template self-instruct: seeds from --template-option seeds=FILE, num_tasks asked, one record per task."""
    openai_server.configure(reply=lambda m: "1. Write a haiku about rain.\n2. Sort 3, 1, 2.\n3. Name a prime above 50.")
    seeds = write_jsonl(tmp_path / "seeds.jsonl", [{"prompt": f"seed task {i}"} for i in range(5)])
    triggers = write_jsonl(tmp_path / "rounds.jsonl", [{"round": 0}, {"round": 1}])
    out = tmp_path / "tasks.jsonl"
    run("generate", str(triggers), "-o", str(out), "--model", "m", "--base-url", openai_server.url, "--template", "self-instruct",
        "--template-option", f"seeds={seeds}", "--template-option", "num_tasks=3", "--template-option", "examples=2")
    rows = read_jsonl(out)
    assert [r["prompt"] for r in rows] == ["Write a haiku about rain.", "Sort 3, 1, 2.", "Name a prime above 50."] * 2
    assert openai_server.request_count == 2
    sent = openai_server.requests[0].user_content
    assert "come up with 3 new" in sent and len(re.findall(r"seed task \d", sent)) == 2
    assert all(len(r["seed_tasks"]) == 2 for r in rows)


def test_self_instruct_takes_its_seeds_from_the_input_by_default(openai_server, tmp_path):
    """Without seeds=, the input records are the seed tasks (one request per input record)."""
    openai_server.configure(reply=lambda m: "1. A new task.\n2. Another task.")
    seeds = write_jsonl(tmp_path / "seeds.jsonl", [{"prompt": f"seed task {i}"} for i in range(3)])
    out = tmp_path / "tasks.jsonl"
    run("generate", str(seeds), "-o", str(out), "--model", "m", "--base-url", openai_server.url, "--template", "self-instruct")
    assert len(read_jsonl(out)) == 6 and openai_server.request_count == 3
    assert "seed task" in openai_server.requests[0].user_content


def test_teacher_option_sets_the_procedural_error_rate_and_an_unknown_one_is_refused(tmp_path):
    """--teacher-option error_rate=1 makes every answer wrong; a misspelt option names the right one."""
    import synthkit as sk
    from synthkit.io.interchange import write_records

    write_records(sk.get_teacher("procedural").problems(5, seed=1, families=["arithmetic"]), tmp_path / "p.jsonl")
    out, ok = tmp_path / "s.jsonl", tmp_path / "ok.jsonl"
    run("generate", str(tmp_path / "p.jsonl"), "-o", str(out), "--teacher", "procedural", "--teacher-option", "error_rate=1", "--no-cache")
    run("verify", str(out), "-o", str(ok), "--verifier", "final-answer")
    assert len(read_jsonl(out)) == 5 and read_jsonl(ok) == []
    said = fails("generate", str(tmp_path / "p.jsonl"), "-o", str(out), "--teacher", "procedural", "--teacher-option", "eror_rate=1")
    assert "did you mean 'error_rate'" in said


def test_openai_teacher_still_needs_a_model(tmp_path):
    """--model is optional only for teachers that take none."""
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": "q"}])
    assert "needs --model" in fails("generate", str(src), "-o", str(tmp_path / "o.jsonl"))


def test_chunk_generate_doc_qa_and_export_question_answer_pairs(openai_server, tmp_path):
    """synthkit chunk -> generate --template doc-qa -> verify quote -> export --format doc-qa gives question -> answer rows."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "water.txt").write_text("Water boils at 100 C at sea level. It freezes at 0 C.\n\nIce floats because it is less dense than water.")
    (docs / "skip.bin").write_text("not read")
    chunks = tmp_path / "chunks.jsonl"
    res = run("chunk", str(docs), "-o", str(chunks), "--size", "60")
    rows = read_jsonl(chunks)
    assert [r["chunk_index"] for r in rows] == [0, 1] and all(r["source"].endswith("water.txt") for r in rows)
    assert "2 chunks" in res.output

    def reply(messages):
        sentence = next(s for s in ("Water boils at 100 C at sea level.", "Ice floats because it is less dense than water.") if s in messages[-1]["content"])
        return json.dumps({"question": f"What does the text say about {sentence.split()[0].lower()}?", "answer": sentence, "quote": sentence})

    openai_server.configure(reply=reply)
    qa, ok, train = tmp_path / "qa.jsonl", tmp_path / "ok.jsonl", tmp_path / "train.jsonl"
    run("generate", str(chunks), "-o", str(qa), "--model", "m", "--base-url", openai_server.url, "--template", "doc-qa")
    run("verify", str(qa), "-o", str(ok), "--verifier", "quote")
    run("export", str(ok), "-o", str(train), "--format", "doc-qa")
    out = read_jsonl(train)
    assert len(out) == len(read_jsonl(ok)) == 2
    for row, src in zip(out, read_jsonl(ok)):
        parsed = json.loads(src["response"])
        assert row == {"messages": [{"role": "user", "content": parsed["question"]}, {"role": "assistant", "content": parsed["answer"]}]}
