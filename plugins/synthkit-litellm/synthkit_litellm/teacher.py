"""The ``litellm`` teacher: chat completions through ``litellm.acompletion``, with synthkit's retries and limits."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from typing import Any

from synthkit.errors import AuthError, MissingDependencyError, RecordError
from synthkit.teachers.reasoning import REASONING_FIELDS, message_reasoning
from synthkit.teachers.remote import RemoteTeacher, Reply
from synthkit.teachers.retry import RateLimited, RetryableError
from synthkit.tools.spec import tool_calls_of

__all__ = ["LiteLLMTeacher", "import_litellm", "mask_key", "NO_KEY"]

_PREFIX = "llm_provider-"
#: The key sent to a server given by ``base_url`` when none is set: keyless local servers
#: (llama.cpp, vLLM, Ollama) need none, but litellm refuses to send a request without one.
NO_KEY = "no-key"


def mask_key(text: str, key: str | None) -> str:
    """Return ``text`` with each whole occurrence of ``key`` replaced by ``***``.

    Only occurrences that stand alone count, so a short key (``x``) does not mangle the
    words that contain it (``ContextWindowExceededError``).
    """
    if not key:
        return text
    return re.sub(rf"(?<![A-Za-z0-9_\-]){re.escape(key)}(?![A-Za-z0-9_\-])", "***", text)


@functools.cache
def import_litellm() -> Any:
    """Import litellm with the local price map, quiet, telemetry off."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError as exc:
        msg = "the litellm teacher needs litellm: pip install synthkit-litellm (or pip install litellm)"
        raise MissingDependencyError(msg) from exc
    litellm.telemetry = False
    litellm.suppress_debug_info = True
    litellm.drop_params = False
    return litellm


def _headers(obj: Any) -> dict[str, str]:
    """Provider headers from a litellm response or exception, without litellm's prefix."""
    raw = getattr(obj, "headers", None) or getattr(obj, "litellm_response_headers", None)
    if raw is None:
        hidden = getattr(obj, "_hidden_params", None) or {}
        raw = hidden.get("additional_headers") or {}
    out = {}
    for k, v in dict(raw).items():
        key = k.lower()
        if key.startswith(_PREFIX):
            key = key[len(_PREFIX) :]
        if key.startswith(("x-ratelimit", "retry-after")):
            out[key] = str(v)
    return out


def _plain(obj: Any) -> Any:
    """A litellm (pydantic) object as plain dicts, for a tool call."""
    dump = getattr(obj, "model_dump", None)
    return dump() if callable(dump) else obj


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for key, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(key)
        if value:
            try:
                return float(value) * scale
            except ValueError:
                continue
    return None


class LiteLLMTeacher(RemoteTeacher):
    """Chat completions through ``litellm.acompletion``, for any provider litellm knows.

    Args:
        model: litellm's model name, e.g. ``"anthropic/claude-3-5-haiku-20241022"`` or
            ``"openai/my-model"`` with ``base_url`` for an OpenAI-compatible server.
        base_url: the API root (litellm's ``api_base``), if not the provider's default.
        api_key: the key; default: ``$SYNTHKIT_API_KEY``, else the provider's own variable.
        **options: rate limits, retries, timeout and budget (see :class:`synthkit.teachers.remote.RemoteTeacher`).
    """

    name = "litellm"

    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None, **options: Any) -> None:
        super().__init__(model, **options)
        self.base_url = base_url.rstrip("/") if base_url else None
        self._api_key = api_key or os.environ.get("SYNTHKIT_API_KEY") or None

    def __repr__(self) -> str:
        return f"LiteLLMTeacher(model={self.model!r}, base_url={self.base_url!r})"

    def cache_identity(self) -> dict[str, Any]:
        """The endpoint and model (never the key), for cache keys."""
        return {"base_url": self.base_url or "litellm:default", "model": self.model}

    async def send(self, messages: list[dict[str, Any]], params: Mapping[str, Any], n: int) -> Reply:
        litellm = import_litellm()
        kwargs: dict[str, Any] = dict(params)
        if n != 1:
            kwargs["n"] = n
        if self.base_url:
            kwargs["api_base"] = self.base_url
        if self._api_key:
            kwargs["api_key"] = self._api_key
        elif self.base_url:
            kwargs["api_key"] = NO_KEY
        try:
            resp = await litellm.acompletion(
                model=self.model,
                messages=messages,
                timeout=self.timeout,
                num_retries=0,
                max_retries=0,
                **kwargs,
            )
        except Exception as exc:  # noqa: BLE001 - classified below; litellm's hierarchy is wide
            self._raise_classified(exc)
        choices = list(getattr(resp, "choices", None) or [])
        if not choices:
            msg = f"no choices in the response for {self.model}"
            raise RetryableError(msg, kind="empty_choices")
        texts = []
        finishes = []
        reasonings = []
        calls = []
        for c in choices:
            message = getattr(c, "message", None)
            fields = {k: getattr(message, k, None) for k in ("content", *REASONING_FIELDS, "thinking_blocks")}
            if not isinstance(fields["content"], str):
                fields["content"] = ""
            reasoning, answer = message_reasoning(fields)  # litellm's reasoning_content, for every provider it speaks
            texts.append(answer)
            reasonings.append(reasoning)
            finishes.append(getattr(c, "finish_reason", None))
            calls.append(tool_calls_of({"tool_calls": [_plain(tc) for tc in getattr(message, "tool_calls", None) or ()]}))
        usage = getattr(resp, "usage", None)
        return Reply(
            texts=texts,
            finish_reasons=finishes,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            model=self.model,
            headers=_headers(resp),
            reasonings=reasonings,
            tool_calls=calls,
        )

    def _raise_classified(self, exc: Exception) -> None:
        litellm = import_litellm()
        status = getattr(exc, "status_code", None)
        where = self.base_url or self.model
        detail = mask_key(str(exc).replace("\n", " "), self._api_key)[:300]
        if isinstance(exc, litellm.RateLimitError) or status == 429:
            headers = _headers(exc)
            err = RateLimited(f"HTTP 429 from {where}: {detail}", retry_after=_retry_after(headers), kind="http_429")
            err.headers = headers  # type: ignore[attr-defined]
            raise err from None
        if isinstance(exc, (litellm.AuthenticationError, litellm.PermissionDeniedError)) or status in (401, 403):
            msg = (
                f"HTTP {status} from {where}: the API key was rejected or is missing ({detail}). Check --api-key, "
                f"$SYNTHKIT_API_KEY or the provider's key variable, and that it may use model {self.model!r}. "
                "The run is stopped."
            )
            raise AuthError(msg) from None
        if "Missing credentials" in detail or "api_key client option must be set" in detail:
            msg = (
                f"no API key for {self.model}: litellm sent nothing ({detail}). Give --api-key, $SYNTHKIT_API_KEY "
                "or the provider's key variable (for a keyless local server, --base-url alone is enough). The run is stopped."
            )
            raise AuthError(msg) from None
        if isinstance(exc, litellm.Timeout):
            raise RetryableError(f"no answer from {where} within {self.timeout:g} s", kind="timeout") from None
        if isinstance(exc, litellm.ContextWindowExceededError):
            raise RecordError(f"context window exceeded for {self.model}: {detail}", kind="context_window") from None
        if isinstance(exc, (litellm.BadRequestError, litellm.NotFoundError)) or status in (400, 404, 422):
            raise RecordError(f"HTTP {status} from {where}: {detail}", kind=f"http_{status or 400}") from None
        if "Connection error" in detail:
            raise RetryableError(f"connection to {where} failed: {detail}", kind="connection_error") from None
        if "JSON" in detail or "Unterminated" in detail or "Expecting" in detail:
            raise RetryableError(f"invalid JSON from {where}: {detail}", kind="invalid_json") from None
        if isinstance(exc, litellm.APIConnectionError):
            raise RetryableError(f"connection to {where} failed: {detail}", kind="connection_error") from None
        if status is not None and (status >= 500 or status in (408, 409)):
            raise RetryableError(f"HTTP {status} from {where}: {detail}", kind=f"http_{status}") from None
        if status is not None:
            raise RecordError(f"HTTP {status} from {where}: {detail}", kind=f"http_{status}") from None
        raise RetryableError(f"{type(exc).__name__} from {where}: {detail}", kind=type(exc).__name__) from None

