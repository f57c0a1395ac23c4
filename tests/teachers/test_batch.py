"""Batch mode through the fake server's Files and Batches endpoints: resume after a kill, expiry, splitting, batch prices."""

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
from synthkit.teachers.batch_apis import BatchLimits
from synthkit.teachers.cost import batch_price_of, price_of

SYNTHKIT = str(Path(sys.executable).with_name("synthkit"))
FAST = {"poll_interval": 0.05, "linger": 0.2}


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setenv("SYNTHKIT_RETRY_NO_WAIT", "1")


def write_inputs(path: Path, n: int) -> Path:
    with open(path, "w") as fh:
        for i in range(n):
            fh.write(json.dumps({"prompt": f"question {i}"}) + "\n")
    return path


def teacher(server, **options):
    return sk.get_teacher("openai", base_url=server.url, api_key="k", **{"model": "gpt-4o-mini", **options})


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in open(path)]


def test_a_batch_job_answers_every_record_at_the_batch_price_and_shares_the_real_time_cache(openai_server, tmp_path):
    """Every record is answered through one batch, costs are at batch price, and a real-time re-run finds them all cached."""
    src = write_inputs(tmp_path / "in.jsonl", 50)
    cache = tmp_path / "cache.sqlite"
    step = sk.Generate(teacher(openai_server), cache=cache, batch=True, batch_options=FAST)
    summary = sk.Pipeline(src).step(step).run(tmp_path / "out.jsonl")
    out = read(tmp_path / "out.jsonl")
    assert summary.kept == 50 and [r["response"] for r in out] == [f"echo: question {i}" for i in range(50)]
    assert openai_server.request_count == 0 and len(openai_server.batches.batches) == 1
    usage = out[0]["lineage"]["usage"]
    assert usage["batch"] is True
    price = batch_price_of("gpt-4o-mini")
    assert price is not None and price.input == pytest.approx(price_of("gpt-4o-mini").input / 2)
    assert usage["cost_usd"] == pytest.approx(price.cost(usage["prompt_tokens"], usage["completion_tokens"]))
    again = sk.Generate(teacher(openai_server), cache=cache)  # real time, same cache: nothing is sent
    sk.Pipeline(src).step(again).run(tmp_path / "out2.jsonl")
    assert openai_server.request_count == 0
    assert [r["response"] for r in read(tmp_path / "out2.jsonl")] == [r["response"] for r in out]


def test_an_expired_batch_resubmits_only_the_missing_requests(openai_server, tmp_path):
    """A batch that expires after 30 of 80 answers keeps them; the next batch holds exactly the other 50."""
    openai_server.batches.configure(expire_after=30)
    src = write_inputs(tmp_path / "in.jsonl", 80)
    step = sk.Generate(teacher(openai_server), cache=tmp_path / "c.sqlite", batch=True, batch_options=FAST)

    def lift() -> None:
        openai_server.batches.configure(expire_after=None)

    # the second batch is created with expiry off: lift it once the first batch exists
    import threading

    def watch() -> None:
        while not openai_server.batches.batches:
            time.sleep(0.01)
        lift()

    threading.Thread(target=watch, daemon=True).start()
    summary = sk.Pipeline(src).step(step).run(tmp_path / "out.jsonl")
    assert summary.kept == 80
    batches = sorted(openai_server.batches.batches.values(), key=lambda b: b.id)
    assert [b.status for b in batches] == ["expired", "completed"]
    assert [b.lines for b in batches] == [80, 50]
    assert set(openai_server.batches.answered.values()) == {1} and len(openai_server.batches.answered) == 80


def test_a_job_larger_than_the_batch_limit_is_split(openai_server, tmp_path):
    """With 40 requests a batch allowed, 100 requests go as batches of 40, 40 and 20; none is refused."""
    openai_server.batches.configure(max_requests=40)
    src = write_inputs(tmp_path / "in.jsonl", 100)
    options = {**FAST, "limits": BatchLimits(max_requests=40)}
    step = sk.Generate(teacher(openai_server), cache=tmp_path / "c.sqlite", batch=True, batch_options=options)
    summary = sk.Pipeline(src).step(step).run(tmp_path / "out.jsonl")
    assert summary.kept == 100
    assert sorted(b.lines for b in openai_server.batches.batches.values()) == [20, 40, 40]
    assert all(b.status == "completed" for b in openai_server.batches.batches.values())


def test_a_line_refused_for_good_fails_its_record_and_a_5xx_line_is_resubmitted(openai_server, tmp_path):
    """A 400 line fails its record with the provider's reason; a 500 line goes into the next batch and is answered."""
    seen: dict[str, int] = {}

    def script(messages):
        text = messages[-1]["content"]
        seen[text] = seen.get(text, 0) + 1
        if text == "question 3":
            return "400"
        if text == "question 5" and seen[text] == 1:
            return "500"
        return None

    openai_server.configure(fault_script=script)
    src = write_inputs(tmp_path / "in.jsonl", 10)
    step = sk.Generate(teacher(openai_server), cache=tmp_path / "c.sqlite", batch=True, batch_options=FAST)
    summary = sk.Pipeline(src).step(step).run(tmp_path / "out.jsonl", rejects=tmp_path / "failed.jsonl")
    assert summary.kept == 9 and sum(summary.failed.values()) == 1
    assert seen["question 5"] == 2 and len(openai_server.batches.batches) == 2
    failed = read(tmp_path / "failed.jsonl")
    assert "injected fault 400" in json.dumps(failed)


def test_batch_mode_needs_a_cache_and_an_openai_teacher(tmp_path):
    """Without a cache, or with a teacher that has no batch API, Generate says what to change."""
    with pytest.raises(sk.SynthkitError, match="needs one"):
        sk.Generate(sk.get_teacher("openai", model="gpt-4o-mini", api_key="k"), batch=True)
    from synthkit.testing import FakeTeacher

    with pytest.raises(sk.SynthkitError, match="no batch API"):
        sk.Generate(FakeTeacher(), cache=tmp_path / "c.sqlite", batch=True)


def test_auto_sends_a_small_job_in_real_time(openai_server, tmp_path):
    """With --batch auto, 20 requests (under the threshold) go to the chat endpoint, not a batch."""
    src = write_inputs(tmp_path / "in.jsonl", 20)
    step = sk.Generate(teacher(openai_server), cache=tmp_path / "c.sqlite", batch="auto", batch_options={**FAST, "auto_min": 50})
    assert sk.Pipeline(src).step(step).run(tmp_path / "out.jsonl").kept == 20
    assert openai_server.request_count == 20 and not openai_server.batches.batches


def test_a_killed_batch_run_resumes_without_sending_any_request_twice(openai_server, tmp_path):
    """1,000 requests: the process is killed after its batch was submitted; the re-run picks the batch up and completes at batch price."""
    openai_server.batches.configure(delay=3600)
    src = write_inputs(tmp_path / "in.jsonl", 1000)
    out, cache = tmp_path / "out.jsonl", tmp_path / "c.sqlite"
    args = [SYNTHKIT, "generate", str(src), "-o", str(out), "--model", "gpt-4o-mini", "--base-url", openai_server.url,
            "--api-key", "k", "--cache", str(cache), "--batch", "--batch-poll", "0.05"]
    env = {**os.environ, "SYNTHKIT_RETRY_NO_WAIT": "1"}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 60
        while not openai_server.batches.batches and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the batch id is being recorded
        assert openai_server.batches.batches, "no batch was submitted"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM batch_requests").fetchone()[0] == 1000
    openai_server.batches.configure(delay=0)
    for b in openai_server.batches.batches.values():
        b.delay = 0.2  # the provider finishes the batch while nobody watches
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    rows = read(out)
    assert len(rows) == 1000 and {r["response"] for r in rows} == {f"echo: question {i}" for i in range(1000)}
    assert len(openai_server.batches.batches) == 1 and openai_server.request_count == 0
    assert len(openai_server.batches.submitted) == 1000 and set(openai_server.batches.submitted.values()) == {1}
    price = batch_price_of("gpt-4o-mini")
    total = sum(r["lineage"]["usage"]["cost_usd"] for r in rows)
    tokens = [(r["lineage"]["usage"]["prompt_tokens"], r["lineage"]["usage"]["completion_tokens"]) for r in rows]
    assert total == pytest.approx(sum(price.cost(p, c) for p, c in tokens))
    assert all(r["lineage"]["usage"]["batch"] for r in rows)


def test_cost_per_kept_record_splits_real_time_and_batch_in_the_summary_and_the_card(openai_server, tmp_path):
    """30 records in a batch, then 10 in real time: the summary and the card give dollars per kept record, each mode apart."""
    from synthkit.io.card import dataset_card

    cache = tmp_path / "c.sqlite"
    src = write_inputs(tmp_path / "in.jsonl", 30)
    s1 = sk.Pipeline(src).step(sk.Generate(teacher(openai_server), cache=cache, batch=True, batch_options=FAST)).run(tmp_path / "a.jsonl")
    per = s1.cost_per_kept()
    assert per is not None and per["kept"] == 30 and per["realtime_per_kept"] == 0
    assert per["batch_per_kept"] == pytest.approx(s1.cost_usd / 30) and per["steps"][0]["step"] == "generate:openai"
    assert "per kept record" in str(s1) and "batch $" in str(s1)
    more = tmp_path / "more.jsonl"
    more.write_text("".join(json.dumps({"prompt": f"other {i}"}) + "\n" for i in range(10)))
    s2 = sk.Pipeline(more).step(sk.Generate(teacher(openai_server), cache=cache)).run(tmp_path / "b.jsonl")
    assert s2.cost_per_kept()["batch_per_kept"] == 0 and s2.cost_per_kept()["realtime_per_kept"] > 0
    both = tmp_path / "both.jsonl"
    both.write_text(open(tmp_path / "a.jsonl").read() + open(tmp_path / "b.jsonl").read())
    card = dataset_card(both)
    total = s1.cost_usd + s2.cost_usd
    assert f"Per kept record: ${total / 40:.6f} over 40 kept records" in card
    assert f"batch ${s1.cost_usd / 40:.6f}" in card and "30 of 40 requests went through a batch API" in card


def test_a_batch_created_but_not_recorded_is_found_by_its_metadata(openai_server, tmp_path):
    """Killed between creating a batch and recording its id: the re-run finds it on the provider's list and sends nothing twice."""
    import asyncio
    import sqlite3

    from synthkit.teachers.batch import BatchTeacher

    openai_server.batches.configure(delay=3600)
    cache = tmp_path / "c.sqlite"

    async def first_run():
        t = BatchTeacher(teacher(openai_server), cache, **FAST)
        tasks = [asyncio.ensure_future(t.complete([{"role": "user", "content": f"question {i}"}], {})) for i in range(20)]
        while not openai_server.batches.batches:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        for task in tasks:
            task.cancel()
        await t.aclose()

    asyncio.run(first_run())
    with sqlite3.connect(cache) as db:  # as if the process died before the batch id was written
        db.execute("UPDATE batches SET remote_id = NULL, state = 'submitting'")
    for b in openai_server.batches.batches.values():
        b.delay = 0.1
    src = write_inputs(tmp_path / "in.jsonl", 20)
    step = sk.Generate(teacher(openai_server), cache=cache, batch=True, batch_options=FAST)
    assert sk.Pipeline(src).step(step).run(tmp_path / "out.jsonl").kept == 20
    assert len(openai_server.batches.batches) == 1 and set(openai_server.batches.submitted.values()) == {1}
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT remote_id IS NOT NULL, state FROM batches").fetchall() == [(1, "completed")]


def anthropic(server):
    return sk.get_teacher("litellm", model="anthropic/claude-haiku-4-5", base_url=server.url, api_key="k")


def test_anthropic_message_batches_answer_through_the_fake_server_and_resubmit_what_expired(openai_server, tmp_path):
    """The litellm teacher with an anthropic/ model batches through /v1/messages/batches; expired requests go into a second batch."""
    openai_server.configure(api_key="k")
    openai_server.batches.configure(expire_after=15)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": f"q{i}"}]}) + "\n" for i in range(25)))
    import threading

    def lift() -> None:
        while not openai_server.batches.batches:
            time.sleep(0.01)
        openai_server.batches.configure(expire_after=None)

    threading.Thread(target=lift, daemon=True).start()
    step = sk.Generate(anthropic(openai_server), cache=tmp_path / "c.sqlite", params={"max_tokens": 50}, batch=True, batch_options=FAST)
    summary = sk.Pipeline(src).step(step).run(tmp_path / "out.jsonl")
    rows = read(tmp_path / "out.jsonl")
    assert summary.kept == 25 and [r["response"] for r in rows] == [f"echo: q{i}" for i in range(25)]
    assert sorted(b.lines for b in openai_server.batches.batches.values()) == [10, 25]
    assert all(b.anthropic for b in openai_server.batches.batches.values()) and openai_server.request_count == 0
    assert set(openai_server.batches.answered.values()) == {1}
    assert rows[0]["lineage"]["usage"]["batch"] is True and rows[0]["lineage"]["finish_reason"] == "stop"


def test_anthropic_batches_with_a_wrong_key_stop_the_run(openai_server, tmp_path):
    """A rejected x-api-key is an AuthError: the run stops, nothing is kept."""
    openai_server.configure(api_key="right")
    src = write_inputs(tmp_path / "in.jsonl", 5)
    step = sk.Generate(anthropic(openai_server), cache=tmp_path / "c.sqlite", batch=True, batch_options=FAST)
    from synthkit.errors import AuthError

    with pytest.raises(AuthError, match="API key"):
        sk.Pipeline(src).step(step).run(tmp_path / "out.jsonl")


def test_a_completed_batch_whose_results_were_not_stored_is_settled_on_the_re_run(openai_server, tmp_path):
    """The provider finished the batch but the process died before storing its answers: the re-run downloads them, it resubmits nothing."""
    import sqlite3

    src = write_inputs(tmp_path / "in.jsonl", 15)
    cache = tmp_path / "c.sqlite"
    step = sk.Generate(teacher(openai_server), cache=cache, batch=True, batch_options=FAST)
    sk.Pipeline(src).step(step).run(tmp_path / "out.jsonl")
    with sqlite3.connect(cache) as db:  # as if killed between the batch's completion and the storing of its answers
        db.execute("DELETE FROM responses")
        db.execute("UPDATE batches SET settled = 0")
        db.execute("UPDATE batch_requests SET state = 'submitted'")
    step = sk.Generate(teacher(openai_server), cache=cache, batch=True, batch_options=FAST)
    assert sk.Pipeline(src).step(step).run(tmp_path / "out2.jsonl").kept == 15
    assert len(openai_server.batches.batches) == 1 and set(openai_server.batches.submitted.values()) == {1}
    assert [r["response"] for r in read(tmp_path / "out2.jsonl")] == [f"echo: question {i}" for i in range(15)]


def test_progress_shows_each_batch_state_and_a_dry_run_prices_at_the_batch_price(openai_server, tmp_path):
    """The progress line names the batches and their counts; --dry-run's estimate uses the batch price."""
    from synthkit.pipeline.progress import format_stats
    from synthkit.pipeline.summary import Summary
    from synthkit.teachers.remote import TeacherStats

    stats = TeacherStats()
    stats.batches.update({"batch-1": "in_progress 120/1000", "batch-2": "finalizing 1000/1000"})
    line = format_stats(Summary(), stats, 2000, 10.0)
    assert "batches batch-1 in_progress 120/1000, batch-2 finalizing 1000/1000" in line
    src = write_inputs(tmp_path / "in.jsonl", 10)
    realtime = sk.Generate(teacher(openai_server), params={"max_tokens": 100}, cache=tmp_path / "c.sqlite").estimate(src)
    batch = sk.Generate(teacher(openai_server), params={"max_tokens": 100}, cache=tmp_path / "c.sqlite", batch=True).estimate(src)
    assert batch.cost_usd == pytest.approx(realtime.cost_usd / 2)


def test_splitting_keeps_every_request_once_and_each_batch_within_its_limits(tmp_path):
    """Property: chunks hold every request once, in order, each within the lines and bytes limits."""
    import asyncio

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from synthkit.teachers.batch import BatchTeacher, _Request

    bt = BatchTeacher(sk.get_teacher("openai", model="gpt-4o-mini", api_key="k"), tmp_path / "c.sqlite")
    loop = asyncio.new_event_loop()

    @settings(max_examples=60, deadline=None)
    @given(sizes=st.lists(st.integers(1, 300), max_size=60), max_requests=st.integers(1, 20), max_bytes=st.integers(50, 2000))
    def check(sizes, max_requests, max_bytes):
        bt.api.limits = BatchLimits(max_requests=max_requests, max_bytes=max_bytes)
        reqs = [_Request(f"c{i}", (f"k{i}",), "x" * n, loop.create_future()) for i, n in enumerate(sizes)]
        chunks = bt._split(reqs)
        assert [r for c in chunks for r in c] == reqs
        for c in chunks:
            assert 1 <= len(c) <= max_requests
            assert len(c) == 1 or sum(len(r.line) + 1 for r in c) <= max_bytes

    try:
        check()
    finally:
        loop.close()
