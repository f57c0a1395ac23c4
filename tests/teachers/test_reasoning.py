"""Reasoning traces: split from the answer for both server shapes, kept through the cache, written by generate -n."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from synthkit.cli import cli
from synthkit.teachers.openai_client import OpenAITeacher
from synthkit.teachers.reasoning import (
    assistant_text,
    message_reasoning,
    split_reasoning,
)


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setenv("SYNTHKIT_RETRY_NO_WAIT", "1")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def field_reply(messages, body, index):
    """A reasoning model that answers in a separate field (DeepSeek, vLLM, litellm's reasoning_content)."""
    q = messages[-1]["content"]
    return {"content": f"Final answer: {len(q)}", "reasoning_content": f"counting the letters of {q!r}, sample {index}"}


def tag_reply(messages, body, index):
    """A reasoning model that thinks in tags inside the text (R1-style open weights on llama.cpp, Ollama...)."""
    q = messages[-1]["content"]
    return f"<think>\ncounting the letters of {q!r}, sample {index}\n</think>\n\nFinal answer: {len(q)}"


def test_split_reads_a_think_block_a_close_only_block_and_plain_text():
    """A leading <think> block, a block whose opening tag the template put in the prompt, and no block at all."""
    assert split_reasoning("<think>a\nb</think>\n\nThe answer is 4.") == ("a\nb", "The answer is 4.")
    assert split_reasoning("<thinking>x</thinking>4") == ("x", "4")
    assert split_reasoning("a then b</think>4") == ("a then b", "4")
    assert split_reasoning("4, no reasoning") == (None, "4, no reasoning")
    assert split_reasoning("<think></think>4") == ("", "4")
    # a tag later in the text is part of the answer, not reasoning
    assert split_reasoning("Use <think> tags like <think>this</think>.") == (None, "Use <think> tags like <think>this</think>.")


def test_message_fields_of_the_servers_litellm_speaks_are_read():
    """reasoning_content, reasoning, thinking and Anthropic's thinking_blocks all give the reasoning."""
    assert message_reasoning({"content": "4", "reasoning_content": "r"}) == ("r", "4")
    assert message_reasoning({"content": "4", "reasoning": "r"}) == ("r", "4")
    assert message_reasoning({"content": "4", "thinking": "r"}) == ("r", "4")
    assert message_reasoning({"content": "4", "thinking_blocks": [{"type": "thinking", "thinking": "r"}]}) == ("r", "4")
    assert message_reasoning({"content": "<think>t</think>4", "reasoning_content": "r"}) == ("r\n\nt", "4")
    assert message_reasoning({"content": None}) == (None, "")


_text = st.text(st.characters(blacklist_characters="<>", blacklist_categories=("Cs",)), min_size=1).filter(lambda s: s.strip() == s and s)


@given(answer=_text, reasoning=_text)
def test_think_tags_written_by_an_exporter_split_back(answer, reasoning):
    """What an exporter writes with reasoning='think' splits back into the same reasoning and answer."""
    assert split_reasoning(assistant_text(answer, reasoning, "think")) == (reasoning, answer)


@pytest.mark.parametrize("reply", [field_reply, tag_reply], ids=["reasoning_content", "think-tags"])
def test_teacher_returns_the_answer_alone_and_the_reasoning_apart(openai_server, reply):
    """Both shapes give the same completion: text is the answer, reasoning is the trace."""
    openai_server.configure(reply=reply)

    async def go():
        t = OpenAITeacher("m", base_url=openai_server.url, api_key="k")
        try:
            return await t.complete([{"role": "user", "content": "abc"}], {}, n=3)
        finally:
            await t.aclose()

    out = asyncio.run(go())
    assert [c.text for c in out] == ["Final answer: 3"] * 3
    assert [c.reasoning for c in out] == [f"counting the letters of 'abc', sample {i}" for i in range(3)]


@pytest.mark.parametrize("reply", [field_reply, tag_reply], ids=["reasoning_content", "think-tags"])
@pytest.mark.parametrize("ignore_n", [False, True], ids=["n-served", "n-ignored"])
def test_generate_n_writes_one_line_per_sample_with_reasoning_apart(openai_server, tmp_path, reply, ignore_n):
    """The CLI contract: -n 4 writes 4 lines per prompt, `reasoning` holds the trace, `response` the answer alone."""
    openai_server.configure(reply=reply, ignore_n=ignore_n)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"prompt": p, "answer": str(len(p))}) + "\n" for p in ["ab", "abcd"]))
    out = tmp_path / "samples.jsonl"
    args = ["generate", str(src), "-o", str(out), "--model", "m", "--base-url", openai_server.url, "-n", "4"]
    res = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    rows = read_jsonl(out)
    assert len(rows) == 8
    for row in rows:
        assert "<think>" not in row["response"] and "</think>" not in row["response"]
        assert row["response"] == f"Final answer: {len(row['prompt'])}"
        assert row["reasoning"].startswith(f"counting the letters of {row['prompt']!r}, sample ")
    # served with n, the samples of one prompt are the server's 4 choices; ignored, 4 one-choice requests were sent
    if not ignore_n:
        assert len({r["reasoning"] for r in rows if r["prompt"] == "ab"}) == 4
    else:
        assert openai_server.request_count == 2 * 4  # one answered choice per request
    # a re-run is answered from the cache, reasoning included
    before = openai_server.request_count
    out2 = tmp_path / "again.jsonl"
    res = CliRunner().invoke(cli, [*args[:3], str(out2), *args[4:], "--cache", str(tmp_path / "samples.cache.sqlite")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert openai_server.request_count == before
    assert [(r["response"], r["reasoning"]) for r in read_jsonl(out2)] == [(r["response"], r["reasoning"]) for r in rows]


def test_verifiers_check_the_answer_not_the_trace(openai_server, tmp_path):
    """A trace that mentions a wrong number does not fool the math verifier: it reads the answer alone."""
    openai_server.configure(reply=lambda m: {"content": "Final answer: 4", "reasoning_content": "maybe 5? Final answer: 5"})
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"prompt": "2+2?", "answer": "4"}) + "\n")
    out, ok = tmp_path / "s.jsonl", tmp_path / "ok.jsonl"
    runner = CliRunner()
    assert runner.invoke(cli, ["generate", str(src), "-o", str(out), "--model", "m", "--base-url", openai_server.url]).exit_code == 0
    res = runner.invoke(cli, ["verify", str(out), "-o", str(ok), "--verifier", "math"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert len(read_jsonl(ok)) == 1


def test_a_regenerated_sample_keeps_its_own_reasoning_apart(openai_server, tmp_path):
    """Regenerate: the second attempt's think block becomes the record's reasoning, not part of its response."""
    import synthkit as sk
    from synthkit.generators import Generate, Regenerate

    def reply(messages):
        attempt = sum(m["role"] == "assistant" for m in messages)
        return f"<think>attempt {attempt}</think>Final answer: {4 if attempt else 5}"

    openai_server.configure(reply=reply)
    teacher = sk.get_teacher("openai", model="m", base_url=openai_server.url, api_key="k")
    step = Regenerate(Generate(teacher), "math", attempts=2)
    sk.Pipeline([sk.Record.create(prompt="2+2?", data={"answer": "4"})]).step(step).run(sink=tmp_path / "out.jsonl")
    (row,) = read_jsonl(tmp_path / "out.jsonl")
    assert (row["response"], row["reasoning"]) == ("Final answer: 4", "attempt 1")  # not the first attempt's trace
    assert openai_server.requests[1].messages[-2] == {"role": "assistant", "content": "Final answer: 5"}
