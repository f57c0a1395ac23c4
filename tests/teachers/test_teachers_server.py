"""Tests of synthkit.testing's fake OpenAI-compatible server, fake teacher and conformance check."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from synthkit.testing import FAULTS, FakeOpenAIServer, FakeTeacher, check_teacher


def post(server: FakeOpenAIServer, body: dict, key: str | None = None) -> tuple[int, dict, dict]:
    """POST a chat-completions body with urllib; return (status, headers, json or {})."""
    req = urllib.request.Request(server.url + "/chat/completions", data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            raw = r.read()
            status, headers = r.status, dict(r.headers)
    except urllib.error.HTTPError as e:
        raw, status, headers = e.read(), e.code, dict(e.headers)
    try:
        return status, headers, json.loads(raw)
    except ValueError:
        return status, headers, {}


BODY = {"model": "m", "messages": [{"role": "user", "content": "two words"}]}


def test_echo_reply_is_deterministic_with_usage(openai_server):
    """The default reply echoes the last user message, with n samples and word-count usage."""
    status, _, data = post(openai_server, {**BODY, "n": 2})
    assert status == 200
    texts = [c["message"]["content"] for c in data["choices"]]
    assert texts == ["echo: two words", "echo: two words #1"]
    assert data["usage"] == {"prompt_tokens": 2, "completion_tokens": 3 + 4, "total_tokens": 9}
    assert openai_server.request_count == 1 and openai_server.completed_count == 1
    assert openai_server.requests[0].user_content == "two words"


def test_scripted_reply_and_max_tokens(openai_server):
    """A reply script controls the answer; max_tokens truncates it with finish_reason=length."""
    openai_server.configure(reply=lambda messages: "a b c d")
    _, _, data = post(openai_server, {**BODY, "max_tokens": 2})
    assert data["choices"][0]["message"]["content"] == "a b"
    assert data["choices"][0]["finish_reason"] == "length"


def test_api_key_is_checked(openai_server):
    """With api_key set, a wrong key gets 401 and the right one 200."""
    openai_server.configure(api_key="sk-right")
    assert post(openai_server, BODY, key="sk-wrong")[0] == 401
    assert post(openai_server, BODY, key="sk-right")[0] == 200


def test_rpm_limit_answers_429_with_retry_after(openai_server):
    """Over the RPM limit the server answers 429 with Retry-After and x-ratelimit headers."""
    openai_server.configure(rpm=60)  # bucket of one request
    first = post(openai_server, BODY)
    second = post(openai_server, BODY)
    assert first[0] == 200 and "x-ratelimit-remaining-requests" in first[1]
    assert second[0] == 429
    assert int(second[1]["Retry-After"]) >= 1 and 0 < int(second[1]["retry-after-ms"]) <= 1000


@pytest.mark.parametrize("fault", ["500", "503", "400", "404", "403", "invalid_json", "empty_choices"])
def test_status_and_body_faults(openai_server, fault):
    """Each queued fault shapes the next answer, and the one after is normal again."""
    openai_server.queue_faults([fault])
    status, _, data = post(openai_server, BODY)
    if fault.isdigit():
        assert status == int(fault)
    elif fault == "invalid_json":
        assert status == 200 and data == {}
    else:
        assert status == 200 and data["choices"] == []
    assert post(openai_server, BODY)[0] == 200
    assert openai_server.stats()[f"fault_{fault}"] == 1


def test_unknown_fault_is_refused(openai_server):
    """A misspelled fault name fails loudly, listing the known ones."""
    with pytest.raises(ValueError, match="known faults"):
        openai_server.configure(faults={"5OO": 0.5})
    assert "truncated" in FAULTS


async def test_fake_teacher_passes_conformance():
    """FakeTeacher keeps the Teacher contract, as checked by check_teacher."""
    t = FakeTeacher()
    await check_teacher(t)
    assert t.closed and t.calls[1][2] == 2


def test_serve_command_prints_url_and_serves():
    """`synthkit serve-test` prints its URL and answers requests."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "synthkit", "serve-test", "--port", "0", "--latency", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("serving on http://127.0.0.1:")
        url = line.split()[-1]
        srv = FakeOpenAIServer()
        srv.port = int(url.rsplit(":", 1)[1].split("/")[0])
        assert post(srv, BODY)[0] == 200
        with urllib.request.urlopen(url.removesuffix("/v1") + "/_stats", timeout=5) as r:
            assert json.load(r)["ok"] == 1
    finally:
        proc.terminate()
        proc.wait(10)
