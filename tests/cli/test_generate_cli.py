"""Tests of `synthkit generate` against the local server: output, failures, resume after kill -9, secrecy, budget, dry run."""

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
from click.testing import CliRunner

from synthkit.cli import cli

SYNTHKIT = str(Path(sys.executable).with_name("synthkit"))
KEY = "sk-test-7f3a9c21-do-not-leak"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    """No backoff waits, in this process and in subprocesses."""
    monkeypatch.setenv("SYNTHKIT_RETRY_NO_WAIT", "1")


def write_inputs(path: Path, n: int) -> Path:
    with open(path, "w") as fh:
        for i in range(n):
            fh.write(json.dumps({"prompt": f"question {i}", "answer": i}) + "\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_cli(args: list[str]):
    return CliRunner().invoke(cli, ["generate", *args], catch_exceptions=False)


def test_output_holds_input_fields_response_and_lineage(openai_server, tmp_path):
    """Each output line keeps the input fields and adds response and lineage, in input order."""
    src = write_inputs(tmp_path / "in.jsonl", 12)
    out = tmp_path / "out.jsonl"
    res = run_cli([str(src), "-o", str(out), "--model", "gpt-4o-mini", "--base-url", openai_server.url, "-p", "temperature=0.3"])
    assert res.exit_code == 0, res.output
    rows = read_jsonl(out)
    assert [r["prompt"] for r in rows] == [f"question {i}" for i in range(12)]
    assert all(r["response"] == f"echo: {r['prompt']}" for r in rows)
    assert rows[0]["answer"] == 0
    lin = rows[0]["lineage"]
    assert lin["teacher"] == "openai" and lin["model"] == "gpt-4o-mini" and lin["params"] == {"temperature": 0.3}
    assert lin["usage"]["prompt_tokens"] == 2 and lin["finish_reason"] == "stop"
    assert openai_server.requests[0].body["temperature"] == 0.3


def test_failures_file_has_kind_and_attempts(openai_server, tmp_path):
    """Records that fail land in the failures file with their error kind and attempts; none is lost."""
    openai_server.configure(fault_script=lambda m: "404" if "7" in m[-1]["content"] else ("503" if "3" in m[-1]["content"] else None))
    src = write_inputs(tmp_path / "in.jsonl", 20)
    out, fail = tmp_path / "out.jsonl", tmp_path / "fail.jsonl"
    res = run_cli([str(src), "-o", str(out), "--failures", str(fail), "--model", "m", "--base-url", openai_server.url, "--max-attempts", "3", "--max-failure-rate", "0.5"])
    assert res.exit_code == 0, res.output
    failed = {r["prompt"]: r["reject"] for r in read_jsonl(fail)}
    assert failed["question 7"]["kind"] == "http_404" and failed["question 7"]["attempts"] == 1
    assert failed["question 3"]["kind"] == "http_503" and failed["question 3"]["attempts"] == 3
    assert len(read_jsonl(out)) + len(failed) == 20 and set(failed) == {"question 3", "question 7", "question 13", "question 17"}


def test_dry_run_sends_nothing_and_estimates(openai_server, tmp_path):
    """--dry-run prints requests, tokens and cost, and the server sees no request."""
    src = write_inputs(tmp_path / "in.jsonl", 10)
    res = run_cli([str(src), "-o", str(tmp_path / "o.jsonl"), "--model", "gpt-4o-mini", "--base-url", openai_server.url, "--dry-run", "-p", "max_tokens=100"])
    assert res.exit_code == 0, res.output
    assert "requests to send:   10" in res.output and "<= 1,000" in res.output and "$" in res.output
    assert openai_server.request_count == 0 and not (tmp_path / "o.jsonl").exists()


def test_budget_stops_cleanly_keeping_work_done(openai_server, tmp_path):
    """--budget stops the run before passing it; what finished is in the output; exit code 3."""
    src = write_inputs(tmp_path / "in.jsonl", 300)
    out = tmp_path / "out.jsonl"
    res = run_cli([str(src), "-o", str(out), "--model", "gpt-4o-mini", "--base-url", openai_server.url, "--budget", "0.0001", "-p", "max_tokens=5", "--concurrency", "4"])
    assert res.exit_code == 3, res.output
    assert "budget" in res.output
    kept = read_jsonl(out)
    assert 0 < len(kept) < 300
    assert sum(r["lineage"]["usage"]["cost_usd"] for r in kept) <= 0.0001


def test_wrong_key_stops_with_a_clear_message(openai_server, tmp_path):
    """A rejected key stops the run at once (exit 1) with a message about the key, never the key."""
    openai_server.configure(api_key="sk-the-right-one")
    src = write_inputs(tmp_path / "in.jsonl", 200)
    proc = subprocess.run(
        [SYNTHKIT, "generate", str(src), "-o", str(tmp_path / "o.jsonl"), "--model", "m", "--base-url", openai_server.url, "--api-key", KEY],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "API key" in proc.stderr and "rejected" in proc.stderr
    assert KEY not in proc.stderr + proc.stdout
    assert openai_server.request_count < 50


def test_api_key_is_in_no_byte_of_cache_output_failures_or_logs(openai_server, tmp_path):
    """The API key appears nowhere in the cache files, output, failures file or the logs."""
    openai_server.configure(api_key=KEY, fault_script=lambda m: "400" if m[-1]["content"].endswith("5") else None)
    src = write_inputs(tmp_path / "in.jsonl", 30)
    env = {**os.environ, "OPENAI_API_KEY": KEY, "SYNTHKIT_PROGRESS_INTERVAL": "0.01"}
    proc = subprocess.run(
        [SYNTHKIT, "generate", str(src), "-o", str(tmp_path / "out.jsonl"), "--failures", str(tmp_path / "f.jsonl"),
         "--model", "m", "--base-url", openai_server.url, "--cache", str(tmp_path / "c.db")],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(read_jsonl(tmp_path / "f.jsonl")) == 3 and len(read_jsonl(tmp_path / "out.jsonl")) == 27
    assert all(r.authorized for r in openai_server.requests)
    files = [p for p in tmp_path.iterdir() if p.name.startswith(("c.db", "out", "f."))]
    assert {p.name for p in files} >= {"c.db", "out.jsonl", "f.jsonl"}
    needle = KEY.encode()
    for p in files:
        assert needle not in p.read_bytes(), p
    assert needle not in proc.stdout and needle not in proc.stderr
    assert b"[synthkit] " in proc.stderr and b"req/s" in proc.stderr  # the plain progress lines were logged


def test_live_progress_bar_shows_counts_and_cost():
    """On a terminal the rich bar shows records done, tokens, cost, retries and failures."""
    import io

    from synthkit.pipeline import Summary
    from synthkit.pipeline.progress import RunProgress
    from synthkit.teachers.remote import TeacherStats

    stream = io.StringIO()
    stats = TeacherStats(ok=3, retries=2, prompt_tokens=10, completion_tokens=5, cost_usd=0.0123)
    bar = RunProgress(stats, total=3, stream=stream, live=True)
    bar.update(Summary(inputs=3, kept=3))
    bar.close(Summary(inputs=3, kept=3))
    text = stream.getvalue()
    assert "3/3" in text and "15 tokens" in text and "$0.0123" in text and "2 retries" in text


def test_kill_9_then_resume_resends_nothing_and_matches(openai_server, tmp_path):
    """After kill -9 mid-run, re-running re-sends no completed request and writes the same output."""
    n = 200
    src = write_inputs(tmp_path / "in.jsonl", n)
    db, out = tmp_path / "c.db", tmp_path / "out.jsonl"
    args = [SYNTHKIT, "generate", str(src), "-o", str(out), "--model", "m", "--base-url", openai_server.url, "--cache", str(db), "--concurrency", "8"]
    openai_server.configure(latency=0.05)
    log = open(tmp_path / "run1.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(args, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while openai_server.completed_count < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    log.close()
    assert 60 <= openai_server.completed_count < n
    cached_before = sqlite3.connect(db).execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    assert cached_before >= 60 - 8  # at most the requests in flight are lost
    time.sleep(0.2)  # let the server finish answering the killed process's requests in flight
    first_run_prompts = {r.user_content for r in openai_server.requests}

    openai_server.reset()
    openai_server.configure(latency=0.0)
    subprocess.run(args, check=True, capture_output=True, timeout=60)
    resent = [r.user_content for r in openai_server.requests]
    assert len(resent) == n - cached_before  # 0 completed requests sent again
    assert len(set(resent)) == len(resent)
    assert len(first_run_prompts) - cached_before <= 8  # what was lost: only the requests in flight

    reference = tmp_path / "ref.jsonl"
    res = run_cli([str(src), "-o", str(reference), "--model", "m", "--base-url", openai_server.url])
    assert res.exit_code == 0
    assert out.read_bytes() == reference.read_bytes()
