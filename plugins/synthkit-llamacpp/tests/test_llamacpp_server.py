"""synthkit's openai teacher against a server nobody here wrote: llama-cpp-python's, with the real Gemma 3 270M.

What the server does is the server's (it ignores ``n``, answers a ``json_schema``
response_format with a 500 validation error, rejects a prompt longer than its context
with a 400); what synthkit does about each is ours, and is asserted here.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from synthkit.cli import cli
from synthkit.errors import RecordError
from synthkit.teachers.openai_client import OpenAITeacher

pytestmark = pytest.mark.real_model

MSGS = [{"role": "user", "content": "What is the capital of France?"}]
SHORT = {"max_tokens": 12, "temperature": 0.0, "stop": ["###"]}


def _teacher(url, **kw):
    return OpenAITeacher("gemma-3-270m", base_url=url, timeout=kw.pop("timeout", 120), **kw)


async def test_usage_fields_and_finish_reason(llama_server):
    """The server's usage fields and finish reason come through; an unpriced local model costs zero."""
    t = _teacher(llama_server)
    c = (await t.complete(MSGS, SHORT))[0]
    assert c.finish_reason in ("stop", "length") and c.usage.prompt_tokens > 5 and 0 < c.usage.completion_tokens <= 12
    assert c.usage.cost_usd == 0.0 and t.stats.retries == 0
    await t.aclose()


async def test_n_ignored_by_the_server_falls_back_to_one_request_per_sample(llama_server):
    """The server answers one choice for n=3: synthkit learns it once and asks three one-choice requests, none retried."""
    t = _teacher(llama_server)
    out = await t.complete(MSGS, {**SHORT, "temperature": 0.9, "seed": 5}, n=3)
    assert len(out) == 3 and t.n_supported is False and t.stats.retries == 0 and t.stats.failures == 0
    assert all(c.usage.completion_tokens > 0 for c in out)
    more = await t.complete(MSGS, {**SHORT, "temperature": 0.9, "seed": 5}, n=3)
    assert [c.text for c in more] == [c.text for c in out]  # seeds seed, seed+1, seed+2: reproducible
    await t.aclose()


async def test_a_json_schema_500_is_not_retried(llama_server):
    """The server's 500 for response_format json_schema (a validation error) fails the record on the first attempt."""
    t = _teacher(llama_server)
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    with pytest.raises(RecordError) as info:
        await t.complete(MSGS, {**SHORT, "response_format": fmt})
    assert info.value.kind == "invalid_request" and info.value.attempts == 1 and t.stats.requests == 1
    await t.aclose()


async def test_grammar_constrained_json_object_with_schema(llama_server):
    """The server's own form (json_object + schema) gives schema-valid JSON through the openai teacher."""
    import jsonschema

    schema = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20}}, "required": ["city"], "additionalProperties": False}
    t = _teacher(llama_server)
    out = await t.complete(MSGS, {"max_tokens": 32, "temperature": 0.0, "response_format": {"type": "json_object", "schema": schema}})
    jsonschema.validate(json.loads(out[0].text), schema)
    await t.aclose()


async def test_a_prompt_longer_than_the_context_fails_at_once(llama_server):
    """A prompt past the server's 512-token context is a 400 that fails the record without retries."""
    t = _teacher(llama_server)
    with pytest.raises(RecordError) as info:
        await t.complete([{"role": "user", "content": "word " * 2000}], SHORT)
    assert info.value.kind == "http_400" and info.value.attempts == 1 and "context" in str(info.value).lower()
    await t.aclose()


def test_generate_against_the_real_server(llama_server, tmp_path, monkeypatch):
    """`generate --teacher openai` with -n 2, --seed and --budget on the real server: every record, reproducible, $0."""
    monkeypatch.setenv("SYNTHKIT_RETRY_NO_WAIT", "1")
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"Name a fruit that is {c}."}) + "\n" for c in ("red", "yellow", "green")))
    outs = []
    for run in range(2):
        out = tmp_path / f"out{run}.jsonl"
        args = ["generate", str(src), "-o", str(out), "--model", "gemma-3-270m", "--base-url", llama_server, "--no-cache",
                "-n", "2", "--seed", "9", "--budget", "0.01", "--concurrency", "2",
                "-p", "max_tokens=10", "-p", "temperature=0.8", "-p", 'stop=["###"]']
        res = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert res.exit_code == 0, res.output
        rows = [json.loads(x) for x in out.read_text().splitlines()]
        assert len(rows) == 6 and all(r["lineage"]["params"]["seed"] == 9 for r in rows)
        outs.append(sorted((r["prompt"], r["response"]) for r in rows))
    assert outs[0] == outs[1]  # --seed is sent: the same samples both times


def test_self_consistency_on_a_server_that_ignores_n(llama_server, tmp_path):
    """Self-consistency (k samples per record) on the real server: every record gets a verdict, none fails."""
    import synthkit as sk
    from synthkit.records import Record

    teacher = _teacher(llama_server, max_attempts=2)
    check = sk.get_verifier("self-consistency", teacher=teacher, k=3, q=0.5,
                            params={"max_tokens": 10, "temperature": 0.8, "seed": 2, "stop": ["###", "\n\n"]})
    rows = [Record.from_dict({"prompt": f"What is {a} + {a}?", "response": f"{a} + {a} = {2 * a}"}) for a in (1, 2, 3)]
    summary = sk.Pipeline(rows).verify(check).run(sink=tmp_path / "k.jsonl", rejects=tmp_path / "r.jsonl")
    assert summary.n_failed == 0 and summary.kept + summary.n_dropped == 3
    assert teacher.n_supported is False and teacher.stats.retries == 0


async def test_a_one_slot_server_queue_is_met_by_fewer_requests_in_flight(llama_server):
    """The server answers one request at a time, so queued requests time out; synthkit halves the concurrency and every one completes."""
    import asyncio
    import time

    params = {"max_tokens": 16, "temperature": 0.0, "stop": ["###"], "seed": 1}
    probe = _teacher(llama_server)
    t0 = time.monotonic()
    await probe.complete(MSGS, params)
    one = time.monotonic() - t0
    await probe.aclose()
    t = _teacher(llama_server, timeout=max(2.5 * one, 1.0), concurrency=6, rpm=60000, max_attempts=8)
    prompts = [[{"role": "user", "content": f"Name a colour, number {i}."}] for i in range(6)]
    out = await asyncio.gather(*(t.complete(p, params) for p in prompts))
    assert len(out) == 6 and t.stats.failures == 0
    assert t.stats.errors.get("timeout", 0) >= 1 and t.limiter.concurrency.limit < 6
    await t.aclose()
