"""The providers' batch APIs in their wire formats: OpenAI's Files and Batches, Anthropic's Message Batches.

Each :class:`BatchAPI` renders one request as a line, submits lines as a batch, reads a
batch's state and its results; :class:`~synthkit.teachers.batch.BatchTeacher` does the rest
(the cache, the state that survives the process, resubmission, prices).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from synthkit.errors import AuthError, RecordError, SynthkitError
from synthkit.interfaces import Teacher

__all__ = ["AnthropicBatchAPI", "BatchAPI", "BatchLimits", "BatchResult", "OpenAIBatchAPI", "Transient", "batch_api_for"]

@attrs.frozen
class BatchLimits:
    """What one batch may hold: lines and bytes of its input file."""

    max_requests: int = 50_000
    max_bytes: int = 200 * 1024**2


@attrs.frozen
class BatchResult:
    """One line of an output or error file: the answer, or why there is none."""

    custom_id: str
    texts: tuple[str, ...] = ()
    finishes: tuple[str | None, ...] = ()
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str | None = None
    error: str | None = None
    retryable: bool = False


class BatchAPI:
    """A provider's batch API, as :class:`BatchTeacher` uses it (one implementation per wire format)."""

    provider = "batch"
    limits = BatchLimits()

    def line(self, custom_id: str, messages: list[dict[str, Any]], params: Mapping[str, Any], n: int) -> dict[str, Any]:
        """The request of one JSONL line."""
        raise NotImplementedError

    async def submit(self, lines: Sequence[str], local_id: str) -> dict[str, Any]:
        """Upload the lines and create the batch; return the batch object (``id``, ``status``...)."""
        raise NotImplementedError

    async def retrieve(self, remote_id: str) -> dict[str, Any]:
        raise NotImplementedError

    async def find(self, local_id: str) -> dict[str, Any] | None:
        """The batch created with ``local_id`` in its metadata, if the provider has one."""
        raise NotImplementedError

    async def results(self, batch: Mapping[str, Any]) -> list[BatchResult]:
        """Every line of a finished batch's output and error files."""
        raise NotImplementedError

    async def aclose(self) -> None:  # noqa: B027 - optional
        """Close what the API opened (the teacher's own session is the teacher's to close)."""


class OpenAIBatchAPI(BatchAPI):
    """OpenAI's Files and Batches APIs (and any endpoint that copies them), through an :class:`~synthkit.teachers.openai_client.OpenAITeacher`'s session."""

    provider = "openai"

    def __init__(self, teacher: Any, limits: BatchLimits | None = None) -> None:
        self.teacher = teacher
        self.limits = limits or BatchLimits()
        self.root = teacher.base_url

    def line(self, custom_id: str, messages: list[dict[str, Any]], params: Mapping[str, Any], n: int) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.teacher.model, "messages": messages, **params}
        if n != 1:
            body["n"] = n
        return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}

    async def _call(self, method: str, path: str, **kw: Any) -> Any:
        import aiohttp

        t = self.teacher
        headers = {k: v for k, v in t._headers.items() if k != "Content-Type" or "json" in kw}  # noqa: SLF001 - the teacher's own key header
        try:
            async with t._get_session().request(method, self.root + path, headers=headers, **kw) as resp:  # noqa: SLF001
                raw = await resp.read()
                status = resp.status
                resp_headers = resp.headers
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            msg = f"the batch API at {self.root} did not answer {method} {path}: {type(exc).__name__}"
            raise Transient(msg) from None
        if status != 200:
            try:
                t._raise_for_status(status, resp_headers, raw)  # noqa: SLF001 - one classification of HTTP errors
            except AuthError:
                raise
            except RecordError as exc:
                msg = f"the batch API refused {method} {path}: {exc}"
                raise SynthkitError(msg) from None
            except SynthkitError as exc:
                raise Transient(str(exc)) from None
        return raw if path.endswith("/content") else json.loads(raw)

    async def submit(self, lines: Sequence[str], local_id: str) -> dict[str, Any]:
        import aiohttp

        form = aiohttp.FormData()
        form.add_field("purpose", "batch")
        form.add_field("file", ("\n".join(lines) + "\n").encode(), filename=f"synthkit-{local_id}.jsonl", content_type="application/jsonl")
        file = await self._call("POST", "/files", data=form)
        body = {"input_file_id": file["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {"synthkit_batch": local_id}}
        return await self._call("POST", "/batches", json=body)

    async def retrieve(self, remote_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/batches/{remote_id}")

    async def find(self, local_id: str) -> dict[str, Any] | None:
        after = None
        for _ in range(20):  # the newest 2,000 batches: a killed run's batch is among the newest
            query = {"limit": "100", **({"after": after} if after else {})}
            page = await self._call("GET", "/batches", params=query)
            for b in page.get("data") or ():
                if (b.get("metadata") or {}).get("synthkit_batch") == local_id:
                    return b
            if not page.get("has_more") or not page.get("data"):
                return None
            after = page["data"][-1]["id"]
        return None

    async def results(self, batch: Mapping[str, Any]) -> list[BatchResult]:
        out: list[BatchResult] = []
        for fid in (batch.get("output_file_id"), batch.get("error_file_id")):
            if not fid:
                continue
            raw = await self._call("GET", f"/files/{fid}/content")
            for text in raw.decode("utf-8").splitlines():
                if text.strip():
                    out.append(self._result(json.loads(text)))
        return out

    def _result(self, line: Mapping[str, Any]) -> BatchResult:
        cid = str(line.get("custom_id"))
        err = line.get("error")
        resp = line.get("response") or {}
        status = int(resp.get("status_code") or 0)
        if err or status != 200:
            body = resp.get("body") or {}
            detail = (err or {}).get("message") or ((body.get("error") or {}).get("message") if isinstance(body, Mapping) else None) or "no answer"
            code = (err or {}).get("code") or f"http_{status}"
            retryable = code in ("batch_expired", "batch_cancelled") or status == 429 or status >= 500 or status == 0
            return BatchResult(cid, error=f"{code}: {detail}", retryable=retryable)
        body = resp.get("body") or {}
        choices = sorted(body.get("choices") or (), key=lambda c: c.get("index", 0))
        if not choices:
            return BatchResult(cid, error="empty_choices: the batch answered no choices", retryable=True)
        texts = []
        for c in choices:
            content = (c.get("message") or {}).get("content")
            texts.append(content if isinstance(content, str) else ("" if content is None else json.dumps(content)))
        usage = body.get("usage") or {}
        return BatchResult(
            cid,
            texts=tuple(texts),
            finishes=tuple(c.get("finish_reason") for c in choices),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            model=body.get("model"),
        )


_ANTHROPIC_PARAMS = frozenset({"temperature", "top_p", "top_k", "stop_sequences", "metadata", "tools", "tool_choice", "thinking"})
_ANTHROPIC_RETRYABLE = frozenset({"api_error", "overloaded_error", "rate_limit_error", "timeout_error"})
_STOP = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


class AnthropicBatchAPI(BatchAPI):
    """Anthropic's Message Batches API (``/v1/messages/batches``), for the ``litellm`` teacher with an ``anthropic/`` model.

    The key is the teacher's (``api_key=``, ``$SYNTHKIT_API_KEY``) or ``$ANTHROPIC_API_KEY``;
    the root is the teacher's ``base_url`` (without ``/v1``) or ``https://api.anthropic.com``.
    Anthropic batches carry no metadata, so a process killed between creating a batch and
    recording its id cannot find that batch again: its requests go into a new batch.
    """

    provider = "anthropic"

    def __init__(self, teacher: Any, limits: BatchLimits | None = None) -> None:
        import os

        self.teacher = teacher
        self.limits = limits or BatchLimits(max_requests=100_000, max_bytes=256 * 1024**2)
        root = (getattr(teacher, "base_url", None) or "https://api.anthropic.com").rstrip("/")
        self.root = root[: -len("/v1")] if root.endswith("/v1") else root
        self.model = teacher.model.split("/", 1)[1]
        key = getattr(teacher, "_api_key", None) or os.environ.get("ANTHROPIC_API_KEY")
        self._headers = {"anthropic-version": "2023-06-01", "content-type": "application/json", **({"x-api-key": key} if key else {})}
        self._session: Any = None

    def line(self, custom_id: str, messages: list[dict[str, Any]], params: Mapping[str, Any], n: int) -> dict[str, Any]:
        if n != 1:
            msg = f"Anthropic's Message Batches answer one sample a request, and {n} were asked; use n=1 (-n 1) with --batch"
            raise SynthkitError(msg)
        system = "\n\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": int(params.get("max_tokens") or params.get("max_completion_tokens") or 4096),
            "messages": [m for m in messages if m.get("role") != "system"],
        }
        if system:
            body["system"] = system
        if params.get("stop"):
            stop = params["stop"]
            body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        body.update({k: v for k, v in params.items() if k in _ANTHROPIC_PARAMS})
        return {"custom_id": custom_id, "params": body}

    async def _call(self, method: str, url: str, **kw: Any) -> Any:
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300))
        try:
            async with self._session.request(method, url if "://" in url else self.root + url, headers=self._headers, **kw) as resp:
                raw = await resp.read()
                status = resp.status
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            msg = f"the batch API at {self.root} did not answer {method}: {type(exc).__name__}"
            raise Transient(msg) from None
        if status in (401, 403):
            msg = f"HTTP {status} from {self.root}: the Anthropic API key was rejected or is missing (give api_key=, $SYNTHKIT_API_KEY or $ANTHROPIC_API_KEY). The run is stopped."
            raise AuthError(msg)
        if status == 429 or status >= 500:
            raise Transient(f"HTTP {status} from {self.root}")
        if status != 200:
            msg = f"the batch API refused {method} {url}: HTTP {status}: {raw[:300].decode('utf-8', 'replace')}"
            raise SynthkitError(msg)
        return raw if url.endswith("/results") else json.loads(raw)

    @staticmethod
    def _common(batch: Mapping[str, Any]) -> dict[str, Any]:
        """Anthropic's batch object in the shape :class:`BatchTeacher` reads (``status``, ``request_counts``)."""
        counts = batch.get("request_counts") or {}
        status = {"in_progress": "in_progress", "canceling": "cancelling", "ended": "completed"}.get(str(batch.get("processing_status")), "in_progress")
        return {
            **batch,
            "status": status,
            "request_counts": {"total": sum(int(v or 0) for v in counts.values()), "completed": int(counts.get("succeeded") or 0), "failed": int(counts.get("errored") or 0)},
        }

    async def submit(self, lines: Sequence[str], local_id: str) -> dict[str, Any]:
        return self._common(await self._call("POST", "/v1/messages/batches", json={"requests": [json.loads(x) for x in lines]}))

    async def retrieve(self, remote_id: str) -> dict[str, Any]:
        return self._common(await self._call("GET", f"/v1/messages/batches/{remote_id}"))

    async def find(self, local_id: str) -> dict[str, Any] | None:
        return None  # no metadata on Anthropic's batches: see the class docstring

    async def results(self, batch: Mapping[str, Any]) -> list[BatchResult]:
        url = batch.get("results_url") or f"/v1/messages/batches/{batch['id']}/results"
        raw = await self._call("GET", str(url))
        return [self._result(json.loads(t)) for t in raw.decode("utf-8").splitlines() if t.strip()]

    def _result(self, line: Mapping[str, Any]) -> BatchResult:
        cid = str(line.get("custom_id"))
        result = line.get("result") or {}
        kind = result.get("type")
        if kind != "succeeded":
            if kind == "errored":
                err = (result.get("error") or {}).get("error") or result.get("error") or {}
                etype = str(err.get("type") or "api_error")
                return BatchResult(cid, error=f"{etype}: {err.get('message') or 'errored'}", retryable=etype in _ANTHROPIC_RETRYABLE)
            return BatchResult(cid, error=f"batch_{kind}: the request was {kind}", retryable=True)
        message = result.get("message") or {}
        text = "".join(b.get("text", "") for b in message.get("content") or () if b.get("type") == "text")
        usage = message.get("usage") or {}
        return BatchResult(
            cid,
            texts=(text,),
            finishes=(_STOP.get(str(message.get("stop_reason")), message.get("stop_reason")),),
            prompt_tokens=int(usage.get("input_tokens") or 0),
            completion_tokens=int(usage.get("output_tokens") or 0),
            model=message.get("model"),
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


class Transient(SynthkitError):
    """The batch API did not answer this time (a poll or an upload is tried again)."""


def batch_api_for(teacher: Teacher, limits: BatchLimits | None = None) -> BatchAPI:
    """Return the batch API of ``teacher``'s provider.

    Raises:
        SynthkitError: the teacher has no batch API.
    """
    from synthkit.teachers.openai_client import OpenAITeacher

    if isinstance(teacher, OpenAITeacher):
        return OpenAIBatchAPI(teacher, limits)
    if teacher.name == "litellm" and teacher.model.startswith("anthropic/"):
        return AnthropicBatchAPI(teacher, limits)
    msg = (
        f"teacher {teacher.name!r} (model {teacher.model!r}) has no batch API in synthkit; batch mode works with the "
        f"'openai' teacher (OpenAI or an endpoint with OpenAI's Files and Batches APIs) and the 'litellm' teacher "
        f"with an 'anthropic/' model (Message Batches); drop --batch / batch=True"
    )
    raise SynthkitError(msg)
