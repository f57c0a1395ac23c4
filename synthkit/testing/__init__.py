"""Helpers for testing synthkit and its plugins (also a pytest plugin via ``pytest11``).

* :class:`FakeOpenAIServer` (:mod:`synthkit.testing.server`): a real OpenAI-compatible
  HTTP server on loopback with latency, rate limits, faults and scripted replies;
  ``synthkit serve-test`` runs one in the foreground.
* the pytest fixtures ``openai_server`` (a fresh, started server per test) and
  ``fake_teacher``.
* scripted tool calls and simulated users for it (:mod:`synthkit.testing.scripts`):
  :func:`trajectory_script`, :func:`tool_call`, :func:`simulated_user`, :func:`by_model`.
* :class:`FakeTeacher`: a tiny in-process teacher for plugin authors, and
  :func:`check_teacher`, a conformance check any teacher plugin can run in its tests.

Example::

    def test_my_step(openai_server):
        openai_server.configure(latency=0.01, faults={"500": 0.1}, reply=lambda messages: "42")
        teacher = sk.get_teacher("openai", model="m", base_url=openai_server.url, api_key="k")
        ...
        assert openai_server.request_count == 10
"""

from __future__ import annotations

from collections.abc import Iterator

from synthkit.testing.server import (
    FAULTS,
    FakeOpenAIServer,
    LoggedRequest,
    Reply,
    ServerSettings,
    count_tokens,
    echo_reply,
    parse_faults,
    serve,
)
from synthkit.testing.scripts import by_model, simulated_user, tool_call, trajectory_script
from synthkit.testing.teacher import FakeTeacher, check_teacher

__all__ = [
    "FAULTS",
    "FakeOpenAIServer",
    "FakeTeacher",
    "LoggedRequest",
    "Reply",
    "ServerSettings",
    "by_model",
    "check_teacher",
    "count_tokens",
    "echo_reply",
    "parse_faults",
    "serve",
    "simulated_user",
    "tool_call",
    "trajectory_script",
]

try:
    import pytest
except ImportError:  # pragma: no cover - pytest is a test extra
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def openai_server() -> Iterator[FakeOpenAIServer]:
        """A started :class:`FakeOpenAIServer` (fresh per test); ``openai_server.url`` is its base URL."""
        server = FakeOpenAIServer().start()
        try:
            yield server
        finally:
            server.stop()

    @pytest.fixture
    def fake_teacher() -> FakeTeacher:
        """A :class:`FakeTeacher` with echo replies."""
        return FakeTeacher()
