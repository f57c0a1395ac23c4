"""Teacher failover through two fake servers: a 5xx storm moves requests to the fallback, and they come back when it ends."""

from __future__ import annotations

import asyncio
import json

import pytest

import synthkit as sk
from synthkit.errors import AuthError, RecordError
from synthkit.teachers.failover import CircuitBreaker, FailoverTeacher
from synthkit.testing import FakeOpenAIServer


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setenv("SYNTHKIT_RETRY_NO_WAIT", "1")


@pytest.fixture
def second_server():
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


def chain(first, second, **options):
    a = sk.get_teacher("openai", model="gpt-4o", base_url=first.url, api_key="k", max_attempts=3)
    b = sk.get_teacher("openai", model="gpt-4o-mini", base_url=second.url, api_key="k", max_attempts=3)
    return FailoverTeacher([a, b], **{"threshold": 3, "cooldown": 0.3, **options})


def ask(teacher, text):
    return teacher.complete([{"role": "user", "content": text}], {})


def test_a_5xx_storm_moves_requests_to_the_fallback_and_back_when_it_ends(openai_server, second_server):
    """During the storm the breaker opens after 3 failures and the fallback answers; after the cooldown the primary answers again."""
    openai_server.configure(faults={"503": 1.0})
    t = chain(openai_server, second_server)

    async def run():
        storm = [await ask(t, f"q{i}") for i in range(20)]
        sent_during_storm = openai_server.request_count
        openai_server.configure(faults={})
        await asyncio.sleep(0.35)
        after = [await ask(t, f"r{i}") for i in range(10)]
        await t.aclose()
        return storm, sent_during_storm, after

    storm, sent, after = asyncio.run(run())
    assert all(c[0].model == "gpt-4o-mini" and c[0].text == f"echo: q{i}" for i, c in enumerate(storm))
    assert sent <= 3  # the breaker opened at 3 failures: the other 19 requests were not sent to the primary
    assert t.breakers[0].state == "closed" and t.breakers[0].opens >= 1
    assert all(c[0].model == "gpt-4o" for c in after)
    assert openai_server.counts.get("ok") == 10


def test_a_failed_probe_keeps_the_breaker_open(openai_server, second_server):
    """After the cooldown one probe goes to the primary; it fails, so the breaker opens again and the fallback answers."""
    openai_server.configure(faults={"500": 1.0})
    t = chain(openai_server, second_server)

    async def run():
        for i in range(5):
            await ask(t, f"q{i}")
        before = openai_server.request_count
        await asyncio.sleep(0.35)
        out = [await ask(t, f"r{i}") for i in range(5)]
        await t.aclose()
        return before, out

    before, out = asyncio.run(run())
    assert openai_server.request_count == before + 1  # one probe, then open again
    assert t.breakers[0].state == "open" and t.breakers[0].opens == 2
    assert all(c[0].model == "gpt-4o-mini" for c in out)


def test_a_rejected_key_stops_and_a_refused_request_fails_without_failing_over(openai_server, second_server):
    """A 401 raises AuthError and a 400 fails the record: neither is sent to the fallback."""
    t = chain(openai_server, second_server)

    async def run():
        try:
            openai_server.queue_faults(["401"])
            with pytest.raises(AuthError):
                await ask(t, "a")
            openai_server.queue_faults(["400"])
            with pytest.raises(RecordError):
                await ask(t, "b")
        finally:
            await t.aclose()

    asyncio.run(run())
    assert second_server.request_count == 0


def test_lineage_names_the_teacher_that_answered_and_the_cache_keeps_them_apart(openai_server, second_server, tmp_path):
    """A pipeline over a storm: records name the fallback's model; a re-run with the primary healthy pays nothing again."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"q{i}"}) + "\n" for i in range(12)))
    openai_server.configure(faults={"503": 1.0})
    cache = tmp_path / "c.sqlite"
    step = sk.Generate(chain(openai_server, second_server, cooldown=60), cache=cache)
    sk.Pipeline(src, concurrency=1).step(step).run(tmp_path / "out.jsonl")
    rows = [json.loads(x) for x in open(tmp_path / "out.jsonl")]
    assert len(rows) == 12 and {r["lineage"]["model"] for r in rows} == {"gpt-4o-mini"}
    assert {r["lineage"]["teacher"] for r in rows} == {"openai"}
    openai_server.configure(faults={})
    sent = openai_server.request_count + second_server.request_count
    step2 = sk.Generate(chain(openai_server, second_server), cache=cache)
    sk.Pipeline(src).step(step2).run(tmp_path / "out2.jsonl")
    assert openai_server.request_count + second_server.request_count == sent  # every answer came from the fallback's entries
    import sqlite3

    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 12


def test_the_breaker_states():
    """Closed until threshold failures; open; one probe in half-open; a success closes it."""
    b = CircuitBreaker(threshold=2, cooldown=0.0)
    assert b.allow()
    b.failure()
    assert b.state == "closed"
    b.failure()
    assert b.state == "open"
    assert b.allow() and b.state == "half_open"
    assert not b.allow()  # only one probe
    b.success()
    assert b.state == "closed" and b.allow()


def test_the_command_fails_over_with_fallback(openai_server, second_server, tmp_path):
    """`synthkit generate --fallback openai:MODEL@URL`: the primary answers 503 to everything, the run completes on the fallback."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"q{i}"}) + "\n" for i in range(20)))
    openai_server.configure(faults={"503": 1.0})
    cmd = [str(Path(sys.executable).with_name("synthkit")), "generate", str(src), "-o", str(tmp_path / "out.jsonl"), "--model", "gpt-4o",
           "--base-url", openai_server.url, "--api-key", "k", "--max-attempts", "2", "--concurrency", "1", "--fallback", f"openai:gpt-4o-mini@{second_server.url}"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "OPENAI_API_KEY": "k"}, check=False)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(x) for x in open(tmp_path / "out.jsonl")]
    assert len(rows) == 20 and {r["lineage"]["model"] for r in rows} == {"gpt-4o-mini"}
    assert openai_server.request_count == 5  # the breaker opened after 5 failures in a row
    bad = subprocess.run([*cmd[:-1], "nocolon"], capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2 and "give TEACHER:MODEL" in bad.stderr


def test_the_chain_stats_are_live_sums_of_its_teachers(openai_server, second_server):
    """The progress display holds one stats object: it must see requests answered after it was taken."""
    openai_server.configure(faults={"503": 1.0})
    t = chain(openai_server, second_server)
    stats = t.stats
    assert stats.ok == 0 and stats.tokens == 0

    async def run():
        for i in range(4):
            await ask(t, f"q{i}")
        await t.aclose()

    asyncio.run(run())
    assert stats.ok == 4 and stats.tokens > 0 and stats.retries >= 1 and stats.slow() == (0, 0.0)
