"""What broke against a real local server, fixed: unpriced local models, queueing timeouts, validation 500s, --seed."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner

from synthkit.cli import cli
from synthkit.errors import RecordError
from synthkit.teachers import retry
from synthkit.teachers.local import LOCAL_PRICE, is_local_url, is_request_error
from synthkit.teachers.openai_client import OpenAITeacher

MSGS = [{"role": "user", "content": "hello world"}]
#: The body llama-cpp-python's server sends, as HTTP 500, for a response_format it does not take.
PYDANTIC_500 = (
    "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n"
    "  Input should be 'text' or 'json_object' [type=literal_error, input_value='json_schema', input_type=str]"
)


@pytest.fixture(autouse=True)
def no_backoff():
    """Backoff waits off for these tests (attempts stay bounded)."""
    retry.set_testing(True)
    yield
    retry.set_testing(False)


def test_local_urls():
    """Loopback names and addresses are local; anything else is not."""
    assert all(map(is_local_url, ["http://127.0.0.1:8080/v1", "http://localhost:11434/v1", "http://[::1]:8000/v1", "127.0.0.2:9"]))
    assert not any(map(is_local_url, [None, "", "https://api.openai.com/v1", "http://10.0.0.5:8000/v1", "http://localhost.example.com/v1"]))


async def test_an_unpriced_local_model_costs_nothing_and_takes_a_budget(openai_server):
    """A model no price map knows, served on loopback, is priced at zero: --budget is accepted and never stops it."""
    t = OpenAITeacher("gemma-3-270m", base_url=openai_server.url, budget=0.0001, timeout=2.0)
    assert t.cost.price == LOCAL_PRICE
    for i in range(20):
        await t.complete([{"role": "user", "content": f"q{i}"}], {"max_tokens": 10})
    assert t.cost.spent == 0.0 and t.stats.cost_usd == 0.0 and openai_server.request_count == 20
    await t.aclose()


async def test_a_priced_model_on_loopback_keeps_its_price(openai_server):
    """A model the price map knows keeps its price on loopback (the fake server stands in for the provider)."""
    t = OpenAITeacher("gpt-4o-mini", base_url=openai_server.url, timeout=2.0)
    assert t.cost.price is not None and t.cost.price.input > 0
    await t.aclose()


async def test_a_timeout_cuts_the_requests_in_flight_and_says_why(openai_server):
    """A timed-out request halves the concurrency (a queueing server), and its error names --concurrency and --timeout."""
    openai_server.configure(latency=0.5)
    t = OpenAITeacher("m", base_url=openai_server.url, timeout=0.2, max_attempts=1, concurrency=8, rpm=60000)
    results = await asyncio.gather(*(t.complete(MSGS, {}) for _ in range(8)), return_exceptions=True)
    assert all(isinstance(r, RecordError) and r.kind == "timeout" for r in results)
    assert "--concurrency" in str(results[0]) and "--timeout" in str(results[0])
    assert t.limiter.concurrency.limit == 4  # cut once for the window, not once per request
    await t.aclose()


def test_validation_errors_in_a_500_body_are_request_errors():
    """A pydantic or FastAPI validation message is the request's fault; an ordinary crash is not."""
    assert is_request_error(PYDANTIC_500)
    assert is_request_error("2 validation errors for CreateChatCompletionRequest")
    assert not is_request_error("CUDA error: out of memory") and not is_request_error("Internal Server Error")


async def test_a_500_with_a_validation_body_is_not_retried(openai_server):
    """A 500 whose body is a request validation error fails the record on the first attempt."""
    t = OpenAITeacher("m", base_url=openai_server.url, timeout=2.0)
    body = json.dumps({"error": {"message": PYDANTIC_500, "type": "internal_server_error"}}).encode()
    with pytest.raises(RecordError) as info:
        t._raise_for_status(500, {}, body)
    assert info.value.kind == "invalid_request" and info.value.attempts == 1 and "response_format" in str(info.value)
    with pytest.raises(retry.RetryableError):
        t._raise_for_status(500, {}, b'{"error": {"message": "out of memory"}}')
    await t.aclose()


def test_seed_reaches_the_server(openai_server, tmp_path, monkeypatch):
    """`generate --seed N` sends seed N with every request; `-p seed=M` wins; no --seed sends none."""
    monkeypatch.setenv("SYNTHKIT_RETRY_NO_WAIT", "1")
    src = tmp_path / "in.jsonl"
    src.write_text('{"prompt": "a"}\n{"prompt": "b"}\n')
    base = ["generate", str(src), "--model", "m", "--base-url", openai_server.url, "--no-cache"]
    for extra, want in ((["--seed", "7"], 7), (["--seed", "7", "-p", "seed=3"], 3), ([], None)):
        openai_server.reset()
        res = CliRunner().invoke(cli, [*base, "-o", str(tmp_path / f"o{want}.jsonl"), *extra], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        assert [r.body.get("seed") for r in openai_server.requests] == [want, want]


def test_stream_is_refused_before_anything_is_sent(openai_server, tmp_path):
    """`-p stream=true` is a usage error naming the parameter; no request reaches the server (no retries)."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"prompt": "a"}\n')
    res = CliRunner().invoke(cli, ["generate", str(src), "-o", str(tmp_path / "o.jsonl"), "--model", "m", "--base-url", openai_server.url, "-p", "stream=true"])
    from synthkit.errors import OptionError

    assert res.exit_code != 0 and isinstance(res.exception, OptionError) and "remove the stream parameter" in str(res.exception)
    assert openai_server.request_count == 0
