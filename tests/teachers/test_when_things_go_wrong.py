"""Runs that go wrong, against the real fake server with its faults on: nothing paid is lost, nothing stalls, exit codes tell."""

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
from synthkit.testing import FakeOpenAIServer

SYNTHKIT = str(Path(sys.executable).with_name("synthkit"))


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    """No backoff waits, in this process and in subprocesses."""
    monkeypatch.setenv("SYNTHKIT_RETRY_NO_WAIT", "1")


def write_inputs(path: Path, n: int, key: str = "prompt") -> Path:
    with open(path, "w") as fh:
        for i in range(n):
            fh.write(json.dumps({key: f"question {i}", "answer": i}) + "\n")
    return path


def cache_rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]


def teacher(server: FakeOpenAIServer, **options):
    return sk.get_teacher("openai", base_url=server.url, api_key="k", **{"model": "gpt-4o", **options})


def synthkit(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([SYNTHKIT, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}, check=False)


# -- a budget stop -------------------------------------------------------------------------


def test_a_budget_stop_keeps_every_answered_response_in_the_cache(openai_server, tmp_path):
    """The budget stops the run; every request the server answered is in the cache, and the re-run pays only the rest."""
    openai_server.configure(latency=0.02, reply=lambda messages: "word " * 150)
    src = write_inputs(tmp_path / "in.jsonl", 120)
    cache = tmp_path / "cache.sqlite"
    step = sk.Generate(teacher(openai_server, budget=0.05), params={"max_tokens": 200}, cache=cache)
    summary = sk.Pipeline(src, concurrency=16).step(step).run(tmp_path / "out.jsonl")
    assert summary.stopped_by == "BudgetExceeded" and summary.exit_code() == 3
    answered = openai_server.counts["ok"]
    assert 0 < answered < 120
    assert cache_rows(cache) == answered  # no answered response outside the cache
    assert summary.kept == answered and summary.unfinished == 120 - answered
    assert summary.cost_usd is not None and summary.cost_usd <= 0.05
    again = sk.Pipeline(src, concurrency=16).step(sk.Generate(teacher(openai_server), params={"max_tokens": 200}, cache=cache))
    assert again.run(tmp_path / "out.jsonl").kept == 120
    assert openai_server.counts["ok"] == 120  # nothing paid twice


def test_a_run_whose_true_cost_is_under_the_budget_finishes(openai_server, tmp_path):
    """Reservations wait for requests in flight instead of stopping the run: a run under its budget finishes."""
    openai_server.configure(latency=0.02, reply=lambda messages: "word " * 20)
    src = write_inputs(tmp_path / "in.jsonl", 200)
    step = sk.Generate(teacher(openai_server, budget=0.05), params={"max_tokens": 200})
    summary = sk.Pipeline(src, concurrency=32).step(step).run(tmp_path / "out.jsonl")
    assert summary.stopped is None and summary.kept == 200
    assert summary.cost_usd is not None and summary.cost_usd < 0.05


# -- no head-of-line blocking ----------------------------------------------------------------


def test_hung_requests_cost_their_own_timeout_not_the_run(tmp_path):
    """With 3% of requests hanging, 2,000 requests finish within the fault-free time plus two timeouts, in input order.

    Every 33rd prompt hangs on its first attempt (so a retry answers); the slots of the
    step keep working meanwhile, and the records that finished after a hung one wait in
    the window instead of stalling it.
    """
    src = write_inputs(tmp_path / "in.jsonl", 2000)
    timeout = 2.0
    hung_once: set[str] = set()

    def hang_every_33rd(messages):
        prompt = messages[-1]["content"]
        if int(prompt.split()[-1]) % 33 == 0 and prompt not in hung_once:
            hung_once.add(prompt)
            return "hang"
        return None

    with FakeOpenAIServer(latency=0.005, hang_seconds=60) as server:
        start = time.monotonic()
        clean = sk.Pipeline(src, concurrency=256).generate(teacher(server, timeout=timeout, concurrency=256)).run(tmp_path / "clean.jsonl")
        fault_free = time.monotonic() - start
        server.configure(fault_script=hang_every_33rd)
        start = time.monotonic()
        hung = sk.Pipeline(src, concurrency=256).generate(teacher(server, timeout=timeout, concurrency=256)).run(tmp_path / "hung.jsonl")
        elapsed = time.monotonic() - start
        hangs = server.counts.get("fault_hang", 0)
    assert clean.kept == hung.kept == 2000
    assert hangs == len(hung_once) == 61  # 3% of the requests
    assert elapsed <= fault_free + 2 * timeout, (elapsed, fault_free)
    assert (tmp_path / "hung.jsonl").read_text() == (tmp_path / "clean.jsonl").read_text()


def test_finished_records_spill_to_disk_and_come_back_in_order(openai_server, tmp_path):
    """Holding few records in memory spills the rest to a file; the output is the same, in input order."""
    openai_server.configure(latency=0.001)
    src = write_inputs(tmp_path / "in.jsonl", 300)
    outs = []
    for hold in (1, 10_000):
        summary = sk.Pipeline(src, concurrency=8, hold=hold).generate(teacher(openai_server)).run(tmp_path / f"{hold}.jsonl")
        assert summary.kept == 300
        outs.append((tmp_path / f"{hold}.jsonl").read_text())
    assert outs[0] == outs[1]
    assert [json.loads(line)["prompt"] for line in outs[0].splitlines()] == [f"question {i}" for i in range(300)]


# -- n where the server ignores it -----------------------------------------------------------


def test_n_against_a_server_that_ignores_n_keeps_every_sample(openai_server, tmp_path):
    """-n 4 against a server answering one choice: 4 samples per record, every answered response kept and cached."""
    openai_server.configure(ignore_n=True)
    src = write_inputs(tmp_path / "in.jsonl", 20)
    cache = tmp_path / "cache.sqlite"
    tchr = teacher(openai_server, model="m")
    summary = sk.Pipeline(src, concurrency=4).generate(tchr, n=4, cache=cache).run(tmp_path / "out.jsonl")
    assert summary.kept == 80 and summary.n_failed == 0
    assert openai_server.counts["ok"] == 80 == cache_rows(cache)  # no answered response discarded
    assert tchr.n_supported is False  # learned
    assert sum(1 for r in openai_server.requests if (r.body.get("n") or 1) > 1) <= 4  # only the first records asked n=4


def test_partial_samples_of_a_failed_request_are_cached(openai_server, tmp_path):
    """When one of the extra one-choice requests fails for good, the samples that arrived are cached for the re-run."""
    openai_server.configure(ignore_n=True)
    openai_server.queue_faults([None, "400"])  # the first record: n=4 answers 1, then one of the three fills fails
    src = write_inputs(tmp_path / "in.jsonl", 1)
    cache = tmp_path / "cache.sqlite"
    summary = sk.Pipeline(src).generate(teacher(openai_server, model="m"), n=4, cache=cache).run(tmp_path / "out.jsonl")
    assert summary.n_failed == 1
    assert cache_rows(cache) == openai_server.counts["ok"] == 3
    again = sk.Pipeline(src).generate(teacher(openai_server, model="m"), n=4, cache=cache).run(tmp_path / "out.jsonl")
    assert again.kept == 4 and openai_server.counts["ok"] == 4


# -- honest exit codes -----------------------------------------------------------------------


def test_a_template_field_missing_from_every_record_stops_early_naming_the_field(openai_server, tmp_path):
    """Every record lacks the template's field: the run stops after the first few, exit 1, naming the field and what records have."""
    src = write_inputs(tmp_path / "in.jsonl", 300, key="question")
    tmpl = tmp_path / "t.jinja"
    tmpl.write_text("Write about {{ topic }}.")
    res = synthkit("generate", str(src), "-o", str(tmp_path / "out.jsonl"), "--model", "m", "--base-url", openai_server.url, "--template", str(tmpl))
    assert res.returncode == 1, res.stderr
    assert "'topic' is undefined" in res.stderr and "question" in res.stderr
    assert "the first 10 records all failed" in res.stderr
    assert "Traceback" not in res.stderr
    assert openai_server.request_count == 0


def test_a_base_url_without_v1_stops_early_with_the_hint(openai_server, tmp_path):
    """Every request answers 404: the run stops early, exit 1, and the message asks about /v1."""
    src = write_inputs(tmp_path / "in.jsonl", 50)
    res = synthkit("generate", str(src), "-o", str(tmp_path / "out.jsonl"), "--model", "m", "--base-url", openai_server.url.removesuffix("/v1"))
    assert res.returncode == 1, res.stderr
    assert "/v1" in res.stderr and "http_404" in res.stderr
    assert openai_server.request_count < 50


def test_an_unreachable_server_fails_every_record_and_exits_4(tmp_path):
    """Nothing listens on the port: every record fails after its retries, and the run exits 4, not 0."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = write_inputs(tmp_path / "in.jsonl", 20)
    res = synthkit("generate", str(src), "-o", str(tmp_path / "out.jsonl"), "--model", "m", "--base-url", f"http://127.0.0.1:{port}/v1", "--max-attempts", "2")
    assert res.returncode == 4, res.stderr
    assert "20 failed" in res.stderr and "--max-failure-rate" in res.stderr
    assert "first:" in res.stderr  # the first message of the failure kind is printed


def test_max_failure_rate_decides_the_exit_code(openai_server, tmp_path):
    """Failed records under the allowed share exit 0; over it, 4."""
    openai_server.configure(fault_script=lambda messages: "400" if messages[-1]["content"].endswith(("1", "2")) else None)
    src = write_inputs(tmp_path / "in.jsonl", 10)  # question 1 and question 2 fail: 20%
    args = ["generate", str(src), "-o", str(tmp_path / "out.jsonl"), "--model", "m", "--base-url", openai_server.url, "--no-cache"]
    assert synthkit(*args).returncode == 4
    assert synthkit(*args, "--max-failure-rate", "0.25").returncode == 0


# -- signals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_drains_says_how_to_resume_and_the_rerun_gives_the_uninterrupted_output(tmp_path, sig, code):
    """SIGTERM or SIGINT mid-run: exit 143/130 with the summary and the resume hint; the re-run gives the uninterrupted output."""
    stopped, fresh = tmp_path / "stopped", tmp_path / "fresh"
    for d in (stopped, fresh):
        d.mkdir()
        write_inputs(d / "in.jsonl", 300)
    with FakeOpenAIServer(latency=0.05) as server:
        args = [SYNTHKIT, "generate", "in.jsonl", "-o", "out.jsonl", "--model", "m", "--base-url", server.url, "--concurrency", "8", "--grace", "10"]
        env = {**os.environ, "SYNTHKIT_API_KEY": "k"}
        proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, cwd=stopped, env=env)
        deadline = time.monotonic() + 60  # mid-run: once some requests are answered (not a fixed sleep: start-up may be slow)
        while server.counts.get("ok", 0) < 20 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == code, err
        assert "re-run the same command to resume" in err and "inputs ->" in err
        assert "Traceback" not in err
        paid_before = server.counts["ok"]
        assert 0 < paid_before < 300
        written = len((stopped / "out.jsonl").read_text().splitlines())
        assert written == cache_rows(stopped / "out.cache.sqlite") == paid_before  # all that arrived is kept
        rerun = subprocess.run(args, capture_output=True, text=True, cwd=stopped, env=env, timeout=120, check=False)
        assert rerun.returncode == 0, rerun.stderr
        assert server.counts["ok"] == 300  # nothing paid twice
        again = subprocess.run(args, capture_output=True, text=True, cwd=fresh, env=env, timeout=120, check=False)
        assert again.returncode == 0
    assert (stopped / "out.jsonl").read_text() == (fresh / "out.jsonl").read_text()


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["filter", "{src}", "-o", "{out}", "--set", "length.min_wrds=3"], "unknown option 'min_wrds' for filter 'length'; did you mean 'min_words'?"),
        (["verify", "{src}", "-o", "{out}", "--verifier", "math", "-O", "answer_feld=x"], "unknown option 'answer_feld' for verifier 'math'; did you mean 'answer_field'?"),
        (["verify", "{src}", "-o", "{out}", "--verifier", "code", "-O", "wall=abc"], "option 'wall' of verifier 'code' takes a number, got 'abc'"),
        (["generate", "{src}", "-o", "{out}", "--model", "m", "-p", "temperature=hot"], "sampling parameter 'temperature' takes a number, got 'hot'"),
    ],
)
def test_option_typos_and_bad_values_get_a_clear_error_not_a_traceback(tmp_path, args, needle):
    """A misspelled option or a value of the wrong type names the option, the part and the fix; no traceback."""
    src = write_inputs(tmp_path / "in.jsonl", 3)
    res = synthkit(*[a.format(src=src, out=tmp_path / "out.jsonl") for a in args], env={"SYNTHKIT_API_KEY": "k"})
    assert res.returncode in (1, 2), res.stderr
    assert needle in res.stderr
    assert "Traceback" not in res.stderr


def test_an_undecodable_line_is_a_bad_line_with_its_real_number(tmp_path):
    """Invalid UTF-8 on line 15: the records before it are processed under stop, and it is one failed line under skip."""
    lines = [json.dumps({"text": f"record number {i} here"}).encode() for i in range(20)]
    lines[14] = b'{"text": "bad \xff\xfe bytes"}'
    src = tmp_path / "bad.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    res = synthkit("filter", str(src), "-o", str(tmp_path / "out.jsonl"))
    assert res.returncode == 1 and "bad.jsonl:15:" in res.stderr and "UTF-8" in res.stderr
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 14
    res = synthkit("filter", str(src), "-o", str(tmp_path / "out.jsonl"), "--on-bad-line", "skip")
    assert res.returncode == 0, res.stderr
    assert "20 inputs -> 19 kept" in res.stderr and "bad_line" in res.stderr


# -- costs -----------------------------------------------------------------------------------


def test_the_summary_prints_the_cost_per_teacher_and_model(openai_server, tmp_path):
    """The summary names each teacher and model with its requests, tokens and dollars."""
    src = write_inputs(tmp_path / "in.jsonl", 5)
    summary = sk.Pipeline(src).generate(teacher(openai_server, model="gpt-4o-mini")).run(tmp_path / "out.jsonl")
    assert [(s.teacher, s.model, s.requests) for s in summary.spend] == [("openai", "gpt-4o-mini", 5)]
    assert "openai gpt-4o-mini: 5 requests" in str(summary) and "$" in str(summary)


def test_progress_says_what_the_run_waits_on():
    """The progress line shows a windowed rate and ETA, the projected cost, slow requests and a Retry-After pause."""
    from synthkit.pipeline.progress import format_stats
    from synthkit.pipeline.summary import Summary
    from synthkit.teachers.remote import TeacherStats

    stats = TeacherStats(ok=10, cost_usd=0.01)
    stats.in_flight[1] = time.monotonic() - 18
    stats.paused_until = time.monotonic() + 55
    line = format_stats(Summary(kept=100), stats, 1000, 10.0, rate=10.0)
    assert "ETA 2 min" in line and "~$0.1000 projected" in line
    assert "waiting on 1 slow requests (oldest 18 s)" in line and "paused for Retry-After 5" in line


def test_fan_out_children_do_not_copy_their_request_usage():
    """Self-instruct's tasks from one request: the request's usage is on the first task only, so it counts once."""
    from synthkit.generators.self_instruct import SelfInstruct
    from synthkit.testing import FakeTeacher

    import asyncio

    gen = SelfInstruct(FakeTeacher("1. one task\n2. two task\n3. three task"), seeds=["a seed task"])
    made = asyncio.run(gen.generate(sk.Record.create(data={"round": 0}), sk.Context(seed=1)))
    assert len(made) == 3
    assert made[0].lineage.usage["completion_tokens"] > 0
    assert all(not r.lineage.usage for r in made[1:])


def test_the_card_names_the_commands_that_made_the_data_and_its_real_output(openai_server, tmp_path):
    """Records keep the command lines that made them (no API key); the card's Reproduce section lists them and the real -o."""
    src = write_inputs(tmp_path / "in.jsonl", 4)
    gen = synthkit("generate", str(src), "-o", str(tmp_path / "gen.jsonl"), "--model", "m", "--base-url", openai_server.url, "--api-key", "sk-secret-1")
    assert gen.returncode == 0, gen.stderr
    ver = synthkit("verify", str(tmp_path / "gen.jsonl"), "-o", str(tmp_path / "ok.jsonl"), "--verifier", "regex", "-O", "pattern=echo")
    assert ver.returncode == 0, ver.stderr
    rows = [json.loads(line) for line in (tmp_path / "ok.jsonl").read_text().splitlines()]
    commands = rows[0]["lineage"]["commands"]
    assert [c.split()[1] for c in commands] == ["generate", "verify"]
    assert "sk-secret-1" not in (tmp_path / "ok.jsonl").read_text()
    card = synthkit("card", str(tmp_path / "ok.jsonl"), "-o", str(tmp_path / "cards" / "CARD.md"))
    assert card.returncode == 0, card.stderr
    text = (tmp_path / "cards" / "CARD.md").read_text()
    assert "$ " + commands[0] in text and "$ " + commands[1] in text
    assert "-o " + str(tmp_path / "cards" / "CARD.md") in text
    assert "-o " not in commands[0] and "--api-key" not in commands[0]


def test_the_card_counts_every_request_of_a_multi_step_pipeline_once(openai_server, tmp_path):
    """Self-instruct then answer: the card's requests and tokens are the server's, each request once (fan-out included)."""
    from synthkit.generators.self_instruct import SelfInstruct
    from synthkit.io.card import collect

    openai_server.configure(reply=lambda messages: "1. task one\n2. task two\n3. task three" if "new" in messages[-1]["content"] else "an answer")
    instruct = SelfInstruct(teacher(openai_server, model="gpt-4o"), seeds=["write a haiku", "sum two numbers"], examples=1)
    pipeline = sk.Pipeline(SelfInstruct.rounds(4)).step(instruct).generate(teacher(openai_server, model="gpt-4o-mini"))
    summary = pipeline.run(tmp_path / "out.jsonl")
    assert summary.kept == 12  # 4 requests x 3 tasks, each answered
    stats = collect(tmp_path / "out.jsonl")
    by_model = {model: c.requests for (_, model), c in stats.costs.items()}
    assert by_model == {"gpt-4o": 4, "gpt-4o-mini": 12}
    assert sum(c.requests for c in stats.costs.values()) == openai_server.counts["ok"] == 16
    served = sum(r.body is not None for r in openai_server.requests)
    assert served == 16
    spend = {s.model: s.requests for s in summary.spend}
    assert spend == by_model  # the summary and the card read the same numbers


def test_a_judges_requests_are_recorded_in_the_lineage_of_what_it_judged(openai_server, tmp_path):
    """The judge's usage goes into the judged record's lineage.costs; the summary and the card count it under the judge's model."""
    from synthkit.io.card import collect

    openai_server.configure(reply=lambda messages: "Clear and correct.\nScore: 9/10" if "Grade" in messages[-1]["content"] else "an answer")
    src = write_inputs(tmp_path / "in.jsonl", 5)
    pipeline = (
        sk.Pipeline(src)
        .generate(teacher(openai_server, model="gpt-4o-mini"))
        .verify("judge", teacher=teacher(openai_server, model="gpt-4o"), threshold=5)
    )
    summary = pipeline.run(tmp_path / "out.jsonl")
    assert summary.kept == 5
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert all(r["lineage"]["costs"][-1]["model"] == "gpt-4o" and r["lineage"]["costs"][-1]["step"] == "judge" for r in rows)
    by_model = {model: c.requests for (_, model), c in collect(tmp_path / "out.jsonl").costs.items()}
    assert by_model == {"gpt-4o-mini": 5, "gpt-4o": 5} == {s.model: s.requests for s in summary.spend}
