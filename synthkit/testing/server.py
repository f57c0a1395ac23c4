"""The fake OpenAI-compatible server: real HTTP on loopback, latency, limits, faults, scripts.

:class:`FakeOpenAIServer` is a local chat-completions server on aiohttp (``127.0.0.1``,
random port) with latency, an RPM limit that answers 429 with ``Retry-After``, injected
faults and scripted replies. It runs in a thread of its own, so sync tests, async tests
and subprocesses can all call it. ``synthkit serve-test`` runs one in the foreground.

Replies are deterministic: by default ``"echo: <last user message>"`` (sample ``i > 0``
gets ``" #i"`` appended), so runs against the server are reproducible.

Faults (names for ``faults=`` and ``queue_faults``): ``"500"``, ``"503"``, ``"429"``,
``"400"``, ``"404"``, ``"401"``, ``"403"``, ``"reset"`` (connection reset),
``"hang"`` (no answer for ``hang_seconds``), ``"invalid_json"``, ``"empty_choices"``,
``"truncated"`` (body shorter than its ``Content-Length``).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from synthkit.testing._threaded import ThreadedServer
from synthkit.testing.scripts import as_message, call_script, check_tool_protocol

__all__ = [
    "FAULTS",
    "LoggedRequest",
    "ServerSettings",
    "FakeOpenAIServer",
    "Reply",
    "echo_reply",
    "count_tokens",
    "parse_faults",
    "serve",
]

#: Every fault the server can inject.
FAULTS = (
    "500",
    "503",
    "429",
    "400",
    "404",
    "401",
    "403",
    "reset",
    "hang",
    "invalid_json",
    "empty_choices",
    "truncated",
)

#: A reply script: ``reply(messages) -> str``, or ``reply(messages, body, index) -> str``. It may return
#: an assistant message instead of text: ``{"content", "tool_calls"}`` (see :mod:`synthkit.testing.scripts`),
#: or a reasoning model's ``{"content": "4", "reasoning_content": "2+2 is 4"}``.
Reply = Callable[..., Any]


def count_tokens(text: str) -> int:
    """Return the fake tokenizer's count: one token per whitespace-separated word (at least 1)."""
    return max(1, len(text.split()))


def echo_reply(messages: Sequence[Mapping[str, Any]], body: Mapping[str, Any], index: int) -> str:
    """The default reply: ``"echo: <last user message>"``, plus ``" #i"`` for sample ``i > 0``."""
    last = ""
    for m in reversed(messages):
        if m.get("role") == "user":
            content = m.get("content", "")
            last = content if isinstance(content, str) else json.dumps(content, sort_keys=True)
            break
    text = f"echo: {last}"
    return text if index == 0 else f"{text} #{index}"


@attrs.frozen
class LoggedRequest:
    """One request the server received (the ``Authorization`` header is never kept).

    Attributes:
        body: the parsed JSON body (``None`` if it was not JSON).
        status: the HTTP status answered (0 for a reset or a hang).
        fault: the injected fault, if any.
        time: ``time.monotonic()`` when the request arrived.
        authorized: whether the request carried the expected API key (always ``True`` when none is set).
    """

    body: Any
    status: int
    fault: str | None
    time: float
    authorized: bool = True

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages", []))

    @property
    def user_content(self) -> str:
        """The content of the last user message."""
        for m in reversed(self.messages):
            if m.get("role") == "user":
                return str(m.get("content", ""))
        return ""


def _check_faults(_inst: Any, _attr: Any, value: Mapping[str, float]) -> None:
    for k, v in value.items():
        if k not in FAULTS:
            msg = f"unknown fault {k!r}; known faults: {', '.join(FAULTS)}"
            raise ValueError(msg)
        if not 0 <= v <= 1:
            msg = f"fault rate for {k!r} must be between 0 and 1, got {v}"
            raise ValueError(msg)


@attrs.frozen
class ServerSettings:
    """How the fake server behaves; change it with :meth:`FakeOpenAIServer.configure`.

    Attributes:
        latency: seconds each answered request waits before answering.
        rpm: requests per minute allowed (``None``: no limit); over it the server answers
            429 with ``Retry-After`` / ``retry-after-ms`` and sends ``x-ratelimit-*`` headers.
        burst: how many requests the RPM bucket holds (default: one second's worth).
        tpm: tokens per minute allowed (``None``: no limit). A request is charged, on
            arrival, its prompt tokens plus ``max_tokens`` (16 if unset) per sample, as
            OpenAI does; over the limit the server answers 429 and sends the
            ``x-ratelimit-*-tokens`` headers.
        faults: fault name -> probability per request, e.g. ``{"500": 0.1, "reset": 0.05}``.
        reply: the reply script (``None``: :func:`echo_reply`).
        api_key: if set, requests without ``Authorization: Bearer <api_key>`` get 401.
        hang_seconds: how long a ``"hang"`` fault keeps the request open.
        retry_after: seconds sent in ``Retry-After`` for an injected ``"429"`` fault.
        seed: seed of the fault dice.
        fault_script: ``fault_script(messages) -> fault name | None``, consulted first, to fail
            chosen requests deterministically (e.g. every prompt containing "bad").
        ignore_n: answer one choice whatever ``n`` asks, as llama.cpp, Ollama and several
            proxies do.
    """

    latency: float = 0.0
    rpm: float | None = None
    burst: float | None = None
    tpm: float | None = None
    faults: Mapping[str, float] = attrs.field(factory=dict, converter=dict, validator=_check_faults)
    reply: Reply | None = None
    api_key: str | None = None
    hang_seconds: float = 3600.0
    retry_after: float = 0.05
    seed: int = 0
    fault_script: Callable[[list[dict[str, Any]]], str | None] | None = None
    ignore_n: bool = False
    slots: int | None = None  # serve at most this many requests at once; the rest queue (no 429), as vLLM and llama.cpp do


class _Bucket:
    """A token bucket for the server's RPM limit."""

    def __init__(self, rpm: float, burst: float | None) -> None:
        self.rate = rpm / 60.0
        self.capacity = burst if burst is not None else max(1.0, self.rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def take(self, amount: float = 1.0) -> tuple[bool, float]:
        """Take ``amount`` tokens; return (allowed, seconds until that many are available)."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        need = min(amount, self.capacity)
        if self.tokens >= need:
            self.tokens -= amount
            return True, 0.0
        return False, (need - self.tokens) / self.rate

    def remaining(self) -> int:
        return int(self.tokens)


def _duration(seconds: float) -> str:
    """Format like OpenAI's ``x-ratelimit-reset-*`` headers: ``"1s"``, ``"120ms"``, ``"1m0s"``."""
    if seconds < 1:
        return f"{max(1, round(seconds * 1000))}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    return f"{int(seconds // 60)}m{seconds % 60:.0f}s"


def _call_reply(reply: Reply, messages: list[dict[str, Any]], body: dict[str, Any], index: int) -> dict[str, Any]:
    """The assistant message a reply script answers (text, or a message with ``tool_calls``: see :mod:`~synthkit.testing.scripts`)."""
    return as_message(call_script(reply, messages, body, index))


class FakeOpenAIServer(ThreadedServer):
    """A local OpenAI-compatible ``/v1/chat/completions`` server for tests and benchmarks.

    Start it with :meth:`start` (or use it as a context manager); it serves from a
    background thread on ``127.0.0.1`` at a random port. :attr:`url` is the base URL to
    give a teacher (it ends in ``/v1``).

    Besides chat completions it serves ``GET /v1/models``, ``GET /_stats`` (the counters
    as JSON) and ``POST /_configure`` (a JSON object of :class:`ServerSettings` fields
    except ``reply``), so a server in another process can be watched and steered.
    """

    thread_name = "synthkit-fake-openai"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **settings: Any) -> None:
        self.host = host
        self.port = port
        self.settings = ServerSettings(**settings)
        self._lock = threading.Lock()
        self._log: list[LoggedRequest] = []
        self._queue: list[str | None] = []
        self._rng = random.Random(self.settings.seed)
        self._bucket: _Bucket | None = None
        self._reset_bucket()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: Any = None
        self._stopped: asyncio.Event | None = None
        self.counts: dict[str, int] = {}
        self.keep_log = True
        from synthkit.testing.batches import FakeBatches

        self.batches = FakeBatches(self)  # the Files and Batches endpoints (synthkit.testing.batches)
        self._slots: tuple[int, asyncio.Semaphore] | None = None

    # ----------------------------------------------------------------- control
    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    base_url = url

    def configure(self, **changes: Any) -> FakeOpenAIServer:
        """Change settings (any :class:`ServerSettings` field); returns the server.

        Example: ``server.configure(latency=0.05, rpm=600, faults={"503": 0.2})``.
        """
        with self._lock:
            old = self.settings
            self.settings = attrs.evolve(old, **changes)
            if "seed" in changes:
                self._rng = random.Random(self.settings.seed)
            if {"rpm", "burst", "tpm"} & set(changes):
                self._reset_bucket()
        return self

    def queue_faults(self, faults: Iterable[str | None]) -> FakeOpenAIServer:
        """Inject these faults into the next requests, in order (``None`` answers normally)."""
        faults = list(faults)
        for f in faults:
            if f is not None and f not in FAULTS:
                msg = f"unknown fault {f!r}; known faults: {', '.join(FAULTS)}"
                raise ValueError(msg)
        with self._lock:
            self._queue.extend(faults)
        return self

    def reset(self) -> None:
        """Forget the request log, counters and queued faults (settings stay)."""
        with self._lock:
            self._log.clear()
            self._queue.clear()
            self.counts = {}
            self._reset_bucket()

    @property
    def requests(self) -> list[LoggedRequest]:
        """Every chat-completions request received so far, in arrival order."""
        with self._lock:
            return list(self._log)

    @property
    def request_count(self) -> int:
        """How many chat-completions requests arrived."""
        return self.counts.get("requests", 0)

    @property
    def completed_count(self) -> int:
        """How many requests got a 200 answer with choices."""
        return self.counts.get("ok", 0)

    def stats(self) -> dict[str, int]:
        """All counters: ``requests``, ``ok``, ``status_<code>``, ``fault_<name>``."""
        return dict(self.counts)

    def _reset_bucket(self) -> None:
        s = self.settings
        self._bucket = _Bucket(s.rpm, s.burst) if s.rpm else None
        self._token_bucket = _Bucket(s.tpm, None) if s.tpm else None

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    # ----------------------------------------------------------------- lifecycle

    async def _serve(self, ready: threading.Event | None) -> None:
        self._stopped = asyncio.Event()
        await self._start_site()
        if ready is not None:
            ready.set()
        await self._stopped.wait()
        await self._runner.cleanup()

    async def _start_site(self) -> None:
        from aiohttp import web

        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_post("/v1/chat/completions", self._handle_chat)
        app.router.add_get("/v1/models", self._handle_models)
        app.router.add_get("/_stats", self._handle_stats)
        app.router.add_post("/_configure", self._handle_configure)
        self.batches.mount(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024, reuse_address=True)
        await site.start()
        sock = site._server.sockets[0]  # noqa: SLF001 - aiohttp exposes no public accessor
        self.port = sock.getsockname()[1]

    async def serve_forever(self) -> None:
        """Serve in the current event loop until cancelled (used by the command)."""
        self._loop = asyncio.get_running_loop()
        await self._serve(None)

    # ----------------------------------------------------------------- handlers
    async def _handle_models(self, request: Any) -> Any:
        from aiohttp import web

        return web.json_response({"object": "list", "data": [{"id": "synthkit-fake", "object": "model"}]})

    async def _handle_stats(self, request: Any) -> Any:
        from aiohttp import web

        return web.json_response(self.stats())

    async def _handle_configure(self, request: Any) -> Any:
        from aiohttp import web

        changes = await request.json()
        if "reset" in changes:
            changes.pop("reset")
            self.reset()
        try:
            self.configure(**changes)
        except (TypeError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"ok": True})

    def _pick_fault(self, s: ServerSettings, body: Any) -> str | None:
        if s.fault_script is not None:
            fault = s.fault_script(list(body.get("messages") or []))
            if fault is not None:
                if fault not in FAULTS:
                    msg = f"fault_script returned unknown fault {fault!r}; known faults: {', '.join(FAULTS)}"
                    raise ValueError(msg)
                return fault
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
            for name, rate in s.faults.items():
                if rate and self._rng.random() < rate:
                    return name
        return None

    def _log_request(self, body: Any, status: int, fault: str | None, t0: float, authorized: bool) -> None:
        self._count(f"status_{status}")
        if fault:
            self._count(f"fault_{fault}")
        if self.keep_log:
            with self._lock:
                self._log.append(LoggedRequest(body=body, status=status, fault=fault, time=t0, authorized=authorized))

    async def _handle_chat(self, request: Any) -> Any:  # noqa: C901, PLR0911, PLR0912 - one branch per fault
        from aiohttp import web

        t0 = time.monotonic()
        s = self.settings
        self._count("requests")
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            self._log_request(None, 400, None, t0, True)
            return _error(400, "the request body is not JSON", "invalid_request_error")

        authorized = s.api_key is None or request.headers.get("Authorization") == f"Bearer {s.api_key}"
        if not authorized:
            self._log_request(body, 401, None, t0, False)
            return _error(401, "Incorrect API key provided.", "invalid_api_key")

        headers: dict[str, str] = {}
        if self._bucket is not None:
            allowed, wait = self._bucket.take()
            headers = {
                "x-ratelimit-limit-requests": str(int(s.rpm or 0)),
                "x-ratelimit-remaining-requests": str(self._bucket.remaining()),
                "x-ratelimit-reset-requests": _duration(max(wait, 1 / self._bucket.rate)),
            }
            if not allowed:
                self._log_request(body, 429, None, t0, True)
                headers["Retry-After"] = str(max(1, math.ceil(wait)))
                headers["retry-after-ms"] = str(max(1, round(wait * 1000)))
                return _error(429, "Rate limit reached for requests", "rate_limit_exceeded", headers)

        if self._token_bucket is not None:
            bucket = self._token_bucket
            allowed, wait = bucket.take(_charged_tokens(body))
            headers.update(
                {
                    "x-ratelimit-limit-tokens": str(int(s.tpm or 0)),
                    "x-ratelimit-remaining-tokens": str(max(0, bucket.remaining())),
                    "x-ratelimit-reset-tokens": _duration(max(wait, 1 / bucket.rate)),
                }
            )
            if not allowed:
                self._log_request(body, 429, None, t0, True)
                headers["Retry-After"] = str(max(1, math.ceil(wait)))
                headers["retry-after-ms"] = str(max(1, round(wait * 1000)))
                return _error(429, "Rate limit reached for tokens", "rate_limit_exceeded", headers)

        fault = self._pick_fault(s, body)
        if s.slots:
            if self._slots is None or self._slots[0] != s.slots:
                self._slots = (s.slots, asyncio.Semaphore(s.slots))
            async with self._slots[1]:
                await asyncio.sleep(s.latency)
        elif s.latency:
            await asyncio.sleep(s.latency)

        if fault in ("500", "503", "400", "404", "401", "403", "429"):
            status = int(fault)
            extra = dict(headers)
            if status == 429:
                extra["Retry-After"] = str(max(1, math.ceil(s.retry_after)))
                extra["retry-after-ms"] = str(max(1, round(s.retry_after * 1000)))
            self._log_request(body, status, fault, t0, True)
            return _error(status, f"injected fault {fault}", "server_error" if status >= 500 else "invalid_request_error", extra)
        if fault == "reset":
            self._log_request(body, 0, fault, t0, True)
            _reset(request)
            return web.Response(status=500)
        if fault == "hang":
            self._log_request(body, 0, fault, t0, True)
            await asyncio.sleep(s.hang_seconds)
            return _error(504, "hung", "server_error")
        if fault == "invalid_json":
            self._log_request(body, 200, fault, t0, True)
            return web.Response(body=b'{"id": "x", "choices": [{"index": 0, "mess', content_type="application/json", headers=headers)
        if fault == "empty_choices":
            self._log_request(body, 200, fault, t0, True)
            return web.json_response(_envelope(body, [], 0, 0), headers=headers)

        try:
            payload = self._completion(body, s)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            self._log_request(body, 400, None, t0, True)
            return _error(400, f"bad request: {exc}", "invalid_request_error")
        data = json.dumps(payload).encode()
        if fault == "truncated":
            self._log_request(body, 200, fault, t0, True)
            resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json", **headers})
            resp.content_length = len(data)
            await resp.prepare(request)
            await resp.write(data[: len(data) // 2])
            _reset(request)
            return resp
        self._log_request(body, 200, None, t0, True)
        self._count("ok")
        return web.Response(body=data, content_type="application/json", headers=headers)

    def _completion(self, body: dict[str, Any], s: ServerSettings) -> dict[str, Any]:
        messages = body["messages"]
        if not isinstance(messages, list) or not messages:
            msg = "'messages' must be a non-empty list"
            raise ValueError(msg)
        n = 1 if s.ignore_n else int(body.get("n") or 1)
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
        reply = s.reply or echo_reply
        choices = []
        completion_tokens = 0
        check_tool_protocol(body)
        for i in range(n):
            message = _call_reply(reply, messages, body, i)
            text = message["content"]
            finish = "tool_calls" if message.get("tool_calls") else "stop"
            words = (text or "").split()
            if max_tokens is not None and len(words) > int(max_tokens):
                message["content"] = text = " ".join(words[: int(max_tokens)])
                finish = "length"
            completion_tokens += count_tokens(text or "") + sum(count_tokens(json.dumps(c)) for c in message.get("tool_calls", ()))
            choices.append({"index": i, "message": message, "finish_reason": finish})
        prompt_tokens = sum(count_tokens(str(m.get("content", ""))) for m in messages)
        return _envelope(body, choices, prompt_tokens, completion_tokens)


def _charged_tokens(body: Mapping[str, Any]) -> int:
    """What a request costs against the TPM limit on arrival: prompt tokens plus max_tokens per sample."""
    messages = body.get("messages") if isinstance(body, Mapping) else None
    prompt = sum(count_tokens(str(m.get("content", ""))) for m in messages or () if isinstance(m, Mapping))
    max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or 16
    return prompt + int(max_tokens) * int(body.get("n") or 1)


def _envelope(body: Mapping[str, Any], choices: list[Any], prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "id": "chatcmpl-synthkit-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "synthkit-fake"),
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _error(status: int, message: str, code: str, headers: Mapping[str, str] | None = None) -> Any:
    from aiohttp import web

    payload = {"error": {"message": message, "type": code, "code": code}}
    return web.json_response(payload, status=status, headers=dict(headers or {}))


def _reset(request: Any) -> None:
    """Close the connection with a TCP RST."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()


def serve(*, host: str = "127.0.0.1", port: int = 0, ready: Callable[[str], None] | None = None, **settings: Any) -> None:
    """Run a :class:`FakeOpenAIServer` in the foreground until interrupted.

    ``ready(url)`` is called once the port is bound (the command prints the URL).
    """
    server = FakeOpenAIServer(host=host, port=port, **settings)
    server.keep_log = False

    async def run() -> None:
        server._stopped = asyncio.Event()  # noqa: SLF001
        await server._start_site()  # noqa: SLF001
        if ready is not None:
            ready(server.url)
        try:
            await server._stopped.wait()  # noqa: SLF001
        finally:
            await server._runner.cleanup()  # noqa: SLF001

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


def parse_faults(items: Sequence[str]) -> dict[str, float]:
    """Read ``NAME=RATE`` items (``500=0.1``; a bare ``NAME`` is rate 1) into the ``faults`` mapping.

    Raises:
        InputError: an unknown fault name or a rate that is not a number from 0 to 1.
    """
    from synthkit.errors import InputError

    out = {}
    for item in items:
        name, _, rate = item.partition("=")
        if name not in FAULTS:
            msg = f"unknown fault {name!r} in --fault {item!r}; faults: {', '.join(FAULTS)}"
            raise InputError(msg)
        try:
            value = float(rate or 1.0)
        except ValueError:
            value = -1.0
        if not 0 <= value <= 1:
            msg = f"--fault {item!r}: the rate must be a number from 0 to 1"
            raise InputError(msg)
        out[name] = value
    return out
