"""The ``openai`` teacher: synthkit's own async client for OpenAI-compatible chat completions.

Works with any ``/v1/chat/completions`` endpoint: OpenAI, vLLM, SGLang, llama.cpp,
Ollama, TGI, or :class:`synthkit.testing.FakeOpenAIServer`. One aiohttp session with
connection reuse, created lazily inside the running event loop. The API key goes only
into the ``Authorization`` header: never into errors, logs or the cache key.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from typing import Any

from synthkit.errors import AuthError, RecordError
from synthkit.teachers.cost import price_of
from synthkit.teachers.local import LOCAL_PRICE, is_local_url, is_request_error
from synthkit.teachers.reasoning import message_reasoning
from synthkit.teachers.remote import RemoteTeacher, Reply
from synthkit.teachers.retry import RateLimited, RetryableError
from synthkit.tools.spec import tool_calls_of

__all__ = ["OpenAITeacher", "DEFAULT_BASE_URL", "API_KEY_ENV"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: Environment variables read for the key, in order.
API_KEY_ENV = ("SYNTHKIT_API_KEY", "OPENAI_API_KEY")

_RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 520, 521, 522, 524, 529})


def _retry_after(headers: Mapping[str, str]) -> float | None:
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("Retry-After")
    if value:
        try:
            return float(value)
        except ValueError:
            return None  # an HTTP date: fall back to backoff
    return None


def _error_message(raw: bytes) -> str:
    try:
        data = json.loads(raw)
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
        if isinstance(err, str):
            return err[:300]
    except ValueError:
        pass
    return raw[:200].decode("utf-8", "replace")


class OpenAITeacher(RemoteTeacher):
    """Chat completions from any OpenAI-compatible endpoint.

    Args:
        model: the model name the endpoint serves.
        base_url: the API root, ending in ``/v1`` (default: OpenAI's).
        api_key: the key; default ``$SYNTHKIT_API_KEY`` or ``$OPENAI_API_KEY``; local
            servers usually need none.
        **options: rate limits, retries, timeout and budget (see :class:`~synthkit.teachers.remote.RemoteTeacher`).

    Example:
        >>> teacher = OpenAITeacher("gpt-4o-mini", rpm=500)  # doctest: +SKIP
    """

    name = "openai"

    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None, **options: Any) -> None:
        base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if options.get("price") is None and options.get("meter") is None and is_local_url(base_url) and price_of(model) is None:
            options["price"] = LOCAL_PRICE  # an unpriced model on this machine costs nothing: --budget works
        super().__init__(model, **options)
        self.base_url = base_url
        self._url = self.base_url + "/chat/completions"
        key = api_key
        if key is None:
            key = next((os.environ[v] for v in API_KEY_ENV if os.environ.get(v)), None)
        self._headers = {"Content-Type": "application/json"}
        if key:
            self._headers["Authorization"] = f"Bearer {key}"
        self._has_key = bool(key)
        self._session: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"OpenAITeacher(model={self.model!r}, base_url={self.base_url!r})"

    def cache_identity(self) -> dict[str, Any]:
        """The endpoint and model (never the key), for cache keys."""
        return {"base_url": self.base_url, "model": self.model}

    def _get_session(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            import aiohttp

            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                skip_auto_headers=("User-Agent",),
            )
            self._loop = loop
        return self._session

    async def send(self, messages: list[dict[str, Any]], params: Mapping[str, Any], n: int) -> Reply:
        import aiohttp

        body: dict[str, Any] = {"model": self.model, "messages": messages, **params}
        if n != 1:
            body["n"] = n
        data = json.dumps(body, ensure_ascii=False).encode()
        session = self._get_session()
        try:
            async with session.post(self._url, data=data, headers=self._headers) as resp:
                raw = await resp.read()
                status = resp.status
                headers = resp.headers
        except asyncio.TimeoutError:
            msg = (
                f"no answer from {self.base_url} within {self.timeout:g} s (time queued at the server counts: "
                "a server with fewer parallel slots than --concurrency makes requests wait; lower --concurrency or raise --timeout)"
            )
            raise RetryableError(msg, kind="timeout") from None
        except aiohttp.ClientPayloadError as exc:
            msg = f"truncated response body from {self.base_url}: {type(exc).__name__}"
            raise RetryableError(msg, kind="truncated_body") from None
        except (aiohttp.ServerDisconnectedError, ConnectionResetError) as exc:
            msg = f"connection reset by {self.base_url}: {type(exc).__name__}"
            raise RetryableError(msg, kind="connection_reset") from None
        except aiohttp.ClientOSError as exc:
            kind = "connection_reset" if exc.errno in (104, 54, 32) else "connection_error"
            msg = f"connection to {self.base_url} failed: {exc.strerror or type(exc).__name__}"
            raise RetryableError(msg, kind=kind) from None
        except aiohttp.ClientConnectionError as exc:
            msg = f"cannot connect to {self.base_url}: {type(exc).__name__}"
            raise RetryableError(msg, kind="connection_error") from None
        if status != 200:
            self._raise_for_status(status, headers, raw)
        return self._parse(raw, headers, n)

    def _raise_for_status(self, status: int, headers: Mapping[str, str], raw: bytes) -> None:
        detail = _error_message(raw)
        if status == 429:
            exc = RateLimited(f"HTTP 429 from {self.base_url}: {detail}", retry_after=_retry_after(headers), kind="http_429")
            exc.headers = {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-ratelimit")}  # type: ignore[attr-defined]
            raise exc
        if status in (401, 403):
            where = "--api-key, $SYNTHKIT_API_KEY or $OPENAI_API_KEY"
            state = "was rejected" if self._has_key else "is missing"
            msg = (
                f"HTTP {status} from {self.base_url}: the API key {state} ({detail}). "
                f"Check the key given by {where}, and that it may use model {self.model!r}. The run is stopped."
            )
            raise AuthError(msg)
        if status >= 500 and is_request_error(detail):
            msg = f"HTTP {status} from {self.base_url}, but the server refused the request itself (it would fail again): {detail}"
            raise RecordError(msg, kind="invalid_request", attempts=1)
        if status in _RETRYABLE_STATUS or status >= 500:
            raise RetryableError(f"HTTP {status} from {self.base_url}: {detail}", kind=f"http_{status}", retry_after=_retry_after(headers))
        raise RecordError(f"HTTP {status} from {self.base_url}: {detail}", kind=f"http_{status}", attempts=1)

    def _parse(self, raw: bytes, headers: Mapping[str, str], n: int) -> Reply:
        try:
            data = json.loads(raw)
        except ValueError:
            msg = f"invalid JSON in the response from {self.base_url} ({len(raw)} bytes)"
            raise RetryableError(msg, kind="invalid_json") from None
        choices = data.get("choices") if isinstance(data, dict) else None
        if not choices or not isinstance(choices, list):
            msg = f"no choices in the response from {self.base_url}"
            raise RetryableError(msg, kind="empty_choices")
        try:
            if len(choices) > 1:
                choices = sorted(choices, key=lambda c: c.get("index", 0))
            texts = []
            finishes = []
            reasonings = []
            calls = []
            for c in choices:
                message = c.get("message") or {}
                reasoning, answer = message_reasoning(message)
                texts.append(answer)
                reasonings.append(reasoning)
                finishes.append(c.get("finish_reason"))
                calls.append(tool_calls_of(message))
        except (AttributeError, TypeError):
            msg = f"malformed choices in the response from {self.base_url}"
            raise RetryableError(msg, kind="invalid_json") from None
        usage = data.get("usage") or {}
        return Reply(
            texts=texts,
            finish_reasons=finishes,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            model=data.get("model") or self.model,
            headers=headers,
            reasonings=reasonings,
            tool_calls=calls,
        )

    async def aclose(self) -> None:
        """Close the HTTP session (if it belongs to the running loop)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            try:
                if self._loop is asyncio.get_running_loop():
                    await session.close()
            except RuntimeError:
                pass
