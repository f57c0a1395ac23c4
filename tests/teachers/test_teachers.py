"""Tests of the openai teacher against synthkit.testing's local server: faults, retries, limits, auth, cost."""

from __future__ import annotations

import asyncio
import time

import pytest

import synthkit as sk
from synthkit.teachers import retry
from synthkit.errors import AuthError, BudgetExceeded, RecordError
from synthkit.teachers.openai_client import OpenAITeacher
from synthkit.testing import check_teacher

MSGS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello world"}]
RETRYABLE = {
    "500": "http_500",
    "503": "http_503",
    "429": "http_429",
    "reset": "connection_reset",
    "hang": "timeout",
    "invalid_json": "invalid_json",
    "empty_choices": "empty_choices",
    "truncated": "truncated_body",
}


@pytest.fixture(autouse=True)
def no_backoff():
    """Backoff waits off for these tests (attempts stay bounded)."""
    retry.set_testing(True)
    yield
    retry.set_testing(False)


def teacher(server, **kw):
    kw.setdefault("timeout", 2.0)
    return OpenAITeacher(kw.pop("model", "gpt-4o-mini"), base_url=server.url, **kw)


async def test_completion_text_finish_reason_usage_and_cost(openai_server):
    """A request returns n completions with text, finish reason, split usage and a known price."""
    t = teacher(openai_server)
    out = await t.complete(MSGS, {"temperature": 0.5}, n=2)
    assert [c.text for c in out] == ["echo: hello world", "echo: hello world #1"]
    assert all(c.finish_reason == "stop" for c in out)
    assert sum(c.usage.prompt_tokens for c in out) == 4  # "Be brief." + "hello world"
    assert sum(c.usage.completion_tokens for c in out) == 3 + 4
    assert all(c.usage.cost_usd and c.usage.cost_usd > 0 for c in out)
    assert openai_server.requests[0].body["n"] == 2 and openai_server.requests[0].body["temperature"] == 0.5
    assert t.stats.ok == 1 and t.stats.tokens == 11 and t.stats.cost_usd > 0
    await t.aclose()


async def test_openai_teacher_passes_conformance(openai_server):
    """The openai teacher keeps the Teacher contract (synthkit.testing.check_teacher)."""
    await check_teacher(teacher(openai_server))


async def test_registered_by_name(openai_server):
    """`sk.get_teacher("openai", ...)` builds the teacher through the plugin registry."""
    t = sk.get_teacher("openai", model="m", base_url=openai_server.url)
    assert isinstance(t, OpenAITeacher)
    assert (await t.complete(MSGS, {}))[0].text == "echo: hello world"
    await t.aclose()


@pytest.mark.parametrize(("fault", "kind"), sorted(RETRYABLE.items()))
async def test_each_retryable_fault_is_retried(openai_server, fault, kind):
    """Every retryable fault (5xx, 429, reset, hang, bad/empty/truncated body) is retried, then succeeds."""
    openai_server.configure(retry_after=0.01)
    openai_server.queue_faults([fault])
    t = teacher(openai_server, timeout=0.3)
    out = await t.complete(MSGS, {})
    assert out[0].text == "echo: hello world"
    assert openai_server.request_count == 2
    assert t.stats.retries == 1 and t.stats.errors == {kind: 1}
    await t.aclose()


async def test_persistent_fault_fails_record_with_kind_and_attempts(openai_server):
    """A fault that never clears fails the record after max_attempts, carrying kind and attempts."""
    openai_server.configure(faults={"503": 1.0})
    t = teacher(openai_server, max_attempts=4)
    with pytest.raises(RecordError) as info:
        await t.complete(MSGS, {})
    assert info.value.kind == "http_503" and info.value.attempts == 4
    assert openai_server.request_count == 4 and t.stats.failures == 1
    await t.aclose()


@pytest.mark.parametrize("status", ["400", "404"])
async def test_client_errors_fail_at_once(openai_server, status):
    """HTTP 400 and 404 fail the record on the first attempt, without retries."""
    openai_server.queue_faults([status])
    t = teacher(openai_server)
    with pytest.raises(RecordError) as info:
        await t.complete(MSGS, {})
    assert info.value.kind == f"http_{status}" and info.value.attempts == 1
    assert openai_server.request_count == 1
    await t.aclose()


@pytest.mark.parametrize("status", ["401", "403"])
async def test_auth_errors_are_fatal_and_name_the_key_not_its_value(openai_server, status):
    """401/403 raise AuthError (a FatalError) whose message is about the key but never holds it."""
    openai_server.queue_faults([status])
    t = teacher(openai_server, api_key="sk-supersecret-123")
    with pytest.raises(AuthError) as info:
        await t.complete(MSGS, {})
    message = str(info.value)
    assert "API key" in message and "OPENAI_API_KEY" in message
    assert "sk-supersecret-123" not in message
    assert openai_server.request_count == 1
    await t.aclose()


def test_401_stops_the_whole_run(openai_server, tmp_path):
    """A rejected key stops a pipeline at once: a handful of requests, not one per record."""
    openai_server.configure(api_key="sk-right")
    src = [sk.Record.create(prompt=f"q{i}") for i in range(500)]
    t = teacher(openai_server, api_key="sk-wrong", concurrency=8)
    pipe = sk.Pipeline(src, concurrency=8).generate(t)
    with pytest.raises(AuthError):
        pipe.run(sink=tmp_path / "out.jsonl", rejects=tmp_path / "fail.jsonl")
    assert openai_server.request_count <= 16


async def test_429_storm_slows_but_completes(openai_server):
    """Under a 429 storm (60% of answers) every request still completes and concurrency is cut."""
    openai_server.configure(faults={"429": 0.6}, retry_after=0.01, seed=1)
    t = teacher(openai_server, concurrency=16, max_attempts=30)
    t.limiter.max_pause = 0.02
    out = await asyncio.gather(*(t.complete([{"role": "user", "content": f"q{i}"}], {}) for i in range(60)))
    assert [o[0].text for o in out] == [f"echo: q{i}" for i in range(60)]
    assert t.stats.rate_limited > 20 and t.stats.failures == 0
    assert t.limiter.concurrency.decreases >= 1 and t.limiter.concurrency.limit < 16
    await t.aclose()


async def test_server_rpm_limit_is_learned_from_headers(openai_server):
    """Without --rpm, the limit announced in x-ratelimit headers is adopted, so few requests get 429."""
    openai_server.configure(rpm=1200)  # 20/s, bucket of 20
    t = teacher(openai_server, concurrency=32, max_attempts=20)
    t0 = time.monotonic()
    await asyncio.gather(*(t.complete([{"role": "user", "content": f"q{i}"}], {}) for i in range(50)))
    elapsed = time.monotonic() - t0
    assert t.limiter.rpm is not None and t.limiter.rpm.per_minute == 1200
    assert t.stats.failures == 0
    assert t.stats.rate_limited <= 20  # the first burst, before the limit is known
    assert elapsed < 5
    await t.aclose()


async def test_client_rpm_matches_server_limit_without_429(openai_server):
    """A client --rpm equal to the server's limit gets close to it with no 429 at all."""
    openai_server.configure(rpm=1200)
    t = teacher(openai_server, concurrency=64, rpm=1200)
    t0 = time.monotonic()
    await asyncio.gather(*(t.complete([{"role": "user", "content": f"q{i}"}], {}) for i in range(60)))
    elapsed = time.monotonic() - t0
    assert t.stats.rate_limited == 0
    assert 60 / elapsed >= 0.85 * 20
    await t.aclose()


def _server_tokens_per_minute(server, max_tokens):
    """Tokens the server charged its TPM limit per minute of answered requests."""
    ok = [r for r in server.requests if r.status == 200]
    charged = sum(1 + max_tokens for _ in ok)  # one-word prompts
    span = ok[-1].time - ok[0].time
    return charged / span * 60


@pytest.mark.parametrize("client_tpm", [6000, None])
async def test_client_tpm_stays_under_server_token_limit(openai_server, client_tpm):
    """Against a server TPM limit, the client (given the limit, or learning it from headers) gets no 429 and uses most of it."""
    openai_server.configure(tpm=6000)
    t = teacher(openai_server, concurrency=32, tpm=client_tpm)
    await asyncio.gather(*(t.complete([{"role": "user", "content": f"q{i}"}], {"max_tokens": 20}) for i in range(40)))
    assert t.stats.rate_limited == 0 and openai_server.stats().get("status_429", 0) == 0
    assert t.limiter.tpm is not None and t.limiter.tpm.per_minute == 6000
    assert _server_tokens_per_minute(openai_server, 20) >= 0.6 * 6000
    await t.aclose()


async def test_server_tpm_limit_answers_429_with_token_headers(openai_server):
    """A request over the server's TPM answers 429 with Retry-After and x-ratelimit-*-tokens headers."""
    import aiohttp

    openai_server.configure(tpm=600)  # 10 tokens a second, a bucket of 10
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}
    async with aiohttp.ClientSession() as session:
        first = await session.post(f"{openai_server.url}/chat/completions", json=body)
        second = await session.post(f"{openai_server.url}/chat/completions", json=body)
        assert first.status == 200 and second.status == 429
        assert second.headers["x-ratelimit-limit-tokens"] == "600" and int(second.headers["Retry-After"]) >= 1
        assert second.headers["x-ratelimit-remaining-tokens"] == "1"


async def test_budget_stops_before_exceeding(openai_server):
    """With a budget, the request that could pass it raises BudgetExceeded and spend stays under it."""
    t = teacher(openai_server, budget=0.00005)  # gpt-4o-mini: ~$2e-6 a request, ~$7e-6 reserved
    done = 0
    with pytest.raises(BudgetExceeded, match="budget"):
        for i in range(100):
            await t.complete([{"role": "user", "content": f"q{i}"}], {"max_tokens": 10})
            done += 1
    assert 5 < done < 100
    assert t.cost.spent <= 0.00005
    await t.aclose()


def test_budget_with_unknown_price_is_refused():
    """A budget for a remote model with no known price is refused up front (a loopback one costs nothing)."""
    with pytest.raises(BudgetExceeded, match="no price"):
        OpenAITeacher("no-such-model-xyz", base_url="https://api.example.invalid/v1", budget=1.0)


async def test_session_is_reused_across_requests(openai_server):
    """One aiohttp session serves every request of a loop (connection reuse)."""
    t = teacher(openai_server)
    await t.complete(MSGS, {})
    first = t._session
    await asyncio.gather(*(t.complete(MSGS, {}) for _ in range(5)))
    assert t._session is first
    await t.aclose()
    assert first.closed


def test_teacher_works_across_event_loops(openai_server):
    """A teacher used in two asyncio.run calls makes a fresh session in the new loop."""
    t = teacher(openai_server)
    assert asyncio.run(t.complete(MSGS, {}))[0].text == "echo: hello world"
    assert asyncio.run(t.complete(MSGS, {}))[0].text == "echo: hello world"
    assert openai_server.request_count == 2
