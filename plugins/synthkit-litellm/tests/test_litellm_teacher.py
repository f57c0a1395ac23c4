"""Tests of the litellm teacher against synthkit.testing's local server (model "openai/..." + base_url)."""

from __future__ import annotations

import pytest

from synthkit.plugins import load_plugins
from synthkit.teachers import retry
from synthkit.teachers.cache import CachedTeacher
from synthkit.errors import AuthError, RecordError
from synthkit.testing import check_teacher
from synthkit_litellm import LiteLLMTeacher

MSGS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello world"}]


@pytest.fixture(autouse=True)
def no_backoff():
    """Backoff waits off for these tests (attempts stay bounded)."""
    retry.set_testing(True)
    yield
    retry.set_testing(False)


def teacher(server, **kw):
    kw.setdefault("timeout", 2.0)
    return LiteLLMTeacher(kw.pop("model", "openai/gpt-4o-mini"), base_url=server.url, api_key="sk-local", **kw)


def test_registered_through_the_entry_point():
    """Installing the package registers the `litellm` teacher through the `synthkit` entry point."""
    plugins = load_plugins()
    entry = plugins.registries["teachers"].entry("litellm")
    assert entry.plugin == "litellm" and entry.factory.__synthkit_target__.load() is LiteLLMTeacher


async def test_litellm_teacher_passes_conformance(openai_server):
    """The litellm teacher keeps the Teacher contract (synthkit.testing.check_teacher)."""
    await check_teacher(teacher(openai_server))


async def test_completion_usage_cost_and_n(openai_server):
    """n samples come back with text, finish reason, usage split and a price from the local map."""
    t = teacher(openai_server)
    out = await t.complete(MSGS, {"temperature": 0}, n=2)
    assert [c.text for c in out] == ["echo: hello world", "echo: hello world #1"]
    assert sum(c.usage.completion_tokens for c in out) == 7 and out[0].usage.cost_usd > 0
    assert openai_server.request_count == 1


@pytest.mark.parametrize(("fault", "kind"), [("500", "http_500"), ("503", "http_503"), ("429", "http_429"), ("hang", "timeout"), ("reset", "connection_error")])
async def test_retryable_faults_are_retried_by_synthkit_only(openai_server, fault, kind):
    """A transient fault is retried once by synthkit's policy; litellm itself adds no retry."""
    openai_server.configure(retry_after=0.01)
    openai_server.queue_faults([fault])
    t = teacher(openai_server, timeout=0.5)
    out = await t.complete(MSGS, {})
    assert out[0].text == "echo: hello world"
    assert openai_server.request_count == 2 and t.stats.errors == {kind: 1}


async def test_one_attempt_means_one_request(openai_server):
    """With max_attempts=1, a 500 costs exactly one request: litellm's own retries are off."""
    openai_server.configure(faults={"500": 1.0})
    with pytest.raises(RecordError) as info:
        await teacher(openai_server, max_attempts=1).complete(MSGS, {})
    assert info.value.attempts == 1 and openai_server.request_count == 1


async def test_bad_request_fails_at_once_and_401_is_fatal(openai_server):
    """400 fails the record on the first attempt; 401 raises AuthError without the key in it."""
    openai_server.queue_faults(["400"])
    with pytest.raises(RecordError) as info:
        await teacher(openai_server).complete(MSGS, {})
    assert info.value.kind == "http_400" and openai_server.request_count == 1
    openai_server.queue_faults(["401"])
    with pytest.raises(AuthError) as auth:
        await teacher(openai_server).complete(MSGS, {})
    assert "API key" in str(auth.value) and "sk-local" not in str(auth.value)


async def test_cache_wraps_the_litellm_teacher(openai_server, tmp_path):
    """CachedTeacher works over the litellm teacher: the second run sends nothing."""
    for _ in range(2):
        t = CachedTeacher(teacher(openai_server), tmp_path / "c.db")
        assert (await t.complete(MSGS, {}))[0].text == "echo: hello world"
        await t.aclose()
    assert openai_server.request_count == 1


def test_generate_command_with_the_litellm_teacher(openai_server, tmp_path, monkeypatch):
    """`synthkit generate --teacher litellm` writes every record through litellm and the cache."""
    import json

    from click.testing import CliRunner

    from synthkit.cli import cli

    monkeypatch.setenv("SYNTHKIT_RETRY_NO_WAIT", "1")
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"q{i}"}) + "\n" for i in range(5)))
    args = ["generate", str(src), "-o", str(tmp_path / "out.jsonl"), "--teacher", "litellm", "--model", "openai/gpt-4o-mini",
            "--base-url", openai_server.url, "--api-key", "sk-local", "--cache", str(tmp_path / "c.db")]
    for _ in range(2):
        res = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["response"] for r in rows] == [f"echo: q{i}" for i in range(5)]
    assert rows[0]["lineage"]["teacher"] == "litellm" and openai_server.request_count == 5


async def test_keyless_local_server_needs_no_api_key(openai_server, monkeypatch):
    """With --base-url and no key, the litellm teacher reaches a keyless server (litellm gets a placeholder key)."""
    for var in ("OPENAI_API_KEY", "SYNTHKIT_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    t = LiteLLMTeacher("openai/local-model", base_url=openai_server.url, timeout=2.0)
    out = await t.complete(MSGS, {})
    assert out[0].text == "echo: hello world" and openai_server.request_count == 1 and t.stats.retries == 0


async def test_missing_credentials_is_an_auth_error_not_a_retried_500(monkeypatch):
    """litellm's "Missing credentials" (which it files as a 500) stops at once as an AuthError naming --api-key."""
    for var in ("OPENAI_API_KEY", "SYNTHKIT_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    t = LiteLLMTeacher("openai/gpt-4o-mini", timeout=2.0)
    with pytest.raises(AuthError) as info:
        await t.complete(MSGS, {})
    assert "--api-key" in str(info.value) and "HTTP 500" not in str(info.value)
    assert t.stats.requests == 1 and t.stats.retries == 0


def test_mask_key_masks_whole_occurrences_only():
    """A key is masked where it stands alone, never inside the words that contain it."""
    from synthkit_litellm import mask_key

    assert mask_key("litellm.ContextWindowExceededError: x", "x") == "litellm.ContextWindowExceededError: ***"
    assert mask_key("bad key sk-abc123 sent", "sk-abc123") == "bad key *** sent"
    assert mask_key("Bearer sk-abc1234", "sk-abc123") == "Bearer sk-abc1234"  # a longer key is not this key


async def test_short_key_does_not_mangle_error_messages(openai_server):
    """With --api-key e, a 400's message keeps its words (no litellm.BadR***qu***stError)."""
    openai_server.queue_faults(["400"])
    t = LiteLLMTeacher("openai/gpt-4o-mini", base_url=openai_server.url, api_key="e", timeout=2.0)
    with pytest.raises(RecordError) as info:
        await t.complete(MSGS, {})
    assert "***" not in str(info.value) and "BadRequestError" in str(info.value)


@pytest.mark.parametrize(
    "reply",
    [
        lambda m: {"content": "Final answer: 4", "reasoning_content": "2 and 2 make 4."},
        lambda m: "<think>2 and 2 make 4.</think>\nFinal answer: 4",
    ],
    ids=["reasoning_content", "think-tags"],
)
async def test_reasoning_is_kept_apart_from_the_answer(openai_server, reply):
    """litellm's reasoning_content and a think block in the text both become Completion.reasoning."""
    openai_server.configure(reply=reply)
    t = teacher(openai_server)
    (out,) = await t.complete(MSGS, {})
    assert (out.text, out.reasoning) == ("Final answer: 4", "2 and 2 make 4.")
async def test_tools_go_out_and_tool_calls_come_back(openai_server):
    """tools and tool_choice reach the server through litellm; the reply's tool calls are returned in the OpenAI wire form."""
    from synthkit.testing import tool_call

    openai_server.configure(reply=lambda messages: {"tool_calls": [tool_call("calculator", {"expression": "2+3"}, id="c1")]})
    tools = [{"type": "function", "function": {"name": "calculator", "description": "math", "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}}}}]
    t = teacher(openai_server)
    (out,) = await t.complete(MSGS, {"tools": tools, "tool_choice": "auto"})
    assert out.finish_reason == "tool_calls"
    assert [dict(c) | {"function": dict(c["function"])} for c in out.tool_calls] == [
        {"id": "c1", "type": "function", "function": {"name": "calculator", "arguments": '{"expression": "2+3"}'}}
    ]
    body = openai_server.requests[-1].body
    assert body["tools"] == tools and body["tool_choice"] == "auto"


def test_a_trajectory_runs_through_litellm(openai_server, tmp_path):
    """A tool trajectory with the litellm teacher: the calculator's result reaches the final answer."""
    import synthkit as sk
    from synthkit.generators import Trajectory
    from synthkit.records import Record
    from synthkit.testing import tool_call, trajectory_script

    openai_server.configure(reply=trajectory_script(tool_call("calculator", {"expression": "6 * 7"}), lambda m: f"Final answer: {m[-1]['content']}"))
    summary = sk.Pipeline([Record.create(prompt="6 times 7?", data={"answer": "42"})]).step(Trajectory(teacher(openai_server), tools=["calculator"])).verify("math").run(tmp_path / "o.jsonl")
    assert summary.kept == 1
    assert Record.from_json((tmp_path / "o.jsonl").read_text()).messages[-1]["content"] == "42"
