"""The fake server's Files and Batches endpoints: OpenAI's Batch API over real HTTP, for batch mode's tests.

:class:`FakeBatches` is mounted by :class:`~synthkit.testing.FakeOpenAIServer` (``server.batches``).
It speaks the wire format of OpenAI's Files and Batches APIs:

* ``POST /v1/files`` (multipart: ``purpose=batch``, ``file``) returns a file object;
  ``GET /v1/files/{id}/content`` returns its bytes;
* ``POST /v1/batches`` (``input_file_id``, ``endpoint``, ``completion_window``, ``metadata``),
  ``GET /v1/batches/{id}``, ``GET /v1/batches`` (``limit``, ``after``), ``POST /v1/batches/{id}/cancel``.

A batch moves through ``validating``, ``in_progress``, ``finalizing`` and ``completed`` over
``delay`` seconds from its creation (a file of more than ``max_requests`` lines or
``max_bytes`` bytes ``failed`` validation, as OpenAI's does). Each line is answered as the
chat endpoint would (the server's reply script, its ``fault_script`` and ``faults``): a
``"5xx"``/``"4xx"`` fault becomes that line's error in the error file. With
``expire_after`` set, a batch answers that many lines and then ``expired``: the rest go to
the error file with code ``batch_expired``. Lines answered are counted by ``custom_id`` in
:attr:`FakeBatches.answered`, so a test can check that nothing was sent twice.

Anthropic's Message Batches API is served too, in its wire format (``x-api-key``):
``POST /v1/messages/batches`` (``requests``: ``custom_id`` and ``params``),
``GET /v1/messages/batches/{id}`` (``processing_status``: ``in_progress``, then ``ended``),
``GET /v1/messages/batches/{id}/results`` (JSONL of ``succeeded``, ``errored``, ``expired``
results). The same settings, faults and counters apply.
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["BatchSettings", "FakeBatches"]


@attrs.frozen
class BatchSettings:
    """How the fake Batches API behaves; change it with :meth:`FakeBatches.configure`.

    Attributes:
        delay: seconds from a batch's creation to its completion.
        expire_after: answer at most this many lines of a batch created from now on, then expire it.
        max_requests: lines a batch may hold (OpenAI: 50,000).
        max_bytes: bytes an input file may hold (OpenAI: 200 MB).
    """

    delay: float = 0.0
    expire_after: int | None = None
    max_requests: int = 50_000
    max_bytes: int = 200 * 1024**2


@attrs.define
class _Batch:
    id: str
    input_file_id: str
    endpoint: str
    metadata: dict[str, Any]
    created: float
    created_at: int
    expire_after: int | None
    delay: float
    lines: int
    status: str = "validating"
    errors: Any = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    counts: dict[str, int] = attrs.Factory(lambda: {"total": 0, "completed": 0, "failed": 0})
    done: bool = False
    anthropic: bool = False
    results: list[dict[str, Any]] = attrs.Factory(list)  # Anthropic's results, once ended


def _error(status: int, message: str, code: str) -> Any:
    from aiohttp import web

    return web.json_response({"error": {"message": message, "type": code, "code": code}}, status=status)


class FakeBatches:
    """OpenAI's Files and Batches endpoints on the fake server (see the module docstring)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.settings = BatchSettings()
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, _Batch] = {}
        self.answered: dict[str, int] = {}  # custom_id -> times a batch answered it
        self.submitted: dict[str, int] = {}  # custom_id -> times it arrived in a created batch
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def configure(self, **changes: Any) -> FakeBatches:
        """Change settings (any :class:`BatchSettings` field); returns the batches."""
        self.settings = attrs.evolve(self.settings, **changes)
        return self

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-fake{next(self._ids):06d}"

    def mount(self, app: Any) -> None:
        """Add the routes to an aiohttp application."""
        app.router.add_post("/v1/files", self._upload)
        app.router.add_get("/v1/files/{id}/content", self._content)
        app.router.add_post("/v1/batches", self._create)
        app.router.add_get("/v1/batches", self._list)
        app.router.add_get("/v1/batches/{id}", self._retrieve)
        app.router.add_post("/v1/batches/{id}/cancel", self._cancel)
        app.router.add_post("/v1/messages/batches", self._a_create)
        app.router.add_get("/v1/messages/batches/{id}", self._a_retrieve)
        app.router.add_get("/v1/messages/batches/{id}/results", self._a_results)

    # -- auth ---------------------------------------------------------------------------------

    def _denied(self, request: Any) -> Any:
        key = self.server.settings.api_key
        if key is not None and request.headers.get("Authorization") != f"Bearer {key}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        return None

    def _a_denied(self, request: Any) -> Any:
        key = self.server.settings.api_key
        if key is not None and request.headers.get("x-api-key") != key:
            return _error(401, "invalid x-api-key", "authentication_error")
        if not request.headers.get("anthropic-version"):
            return _error(400, "anthropic-version header is required", "invalid_request_error")
        return None

    # -- Anthropic's Message Batches ----------------------------------------------------------

    async def _a_create(self, request: Any) -> Any:
        from aiohttp import web

        if (denied := self._a_denied(request)) is not None:
            return denied
        raw = await request.read()
        body = json.loads(raw)
        reqs = body.get("requests") or []
        s = self.settings
        if not reqs or len(reqs) > s.max_requests or len(raw) > s.max_bytes:
            return _error(400, f"a batch holds 1 to {s.max_requests} requests and {s.max_bytes} bytes", "invalid_request_error")
        fid = self._new_id("file")
        self.files[fid] = "\n".join(json.dumps(r) for r in reqs).encode()
        batch = _Batch(
            id=self._new_id("msgbatch"), input_file_id=fid, endpoint="/v1/messages", metadata={}, created=time.monotonic(),
            created_at=int(time.time()), expire_after=s.expire_after, delay=s.delay, lines=len(reqs), anthropic=True,
        )
        with self._lock:
            for r in reqs:
                self.submitted[r.get("custom_id")] = self.submitted.get(r.get("custom_id"), 0) + 1
        self.batches[batch.id] = batch
        return web.json_response(self._a_object(batch))

    async def _a_retrieve(self, request: Any) -> Any:
        from aiohttp import web

        if (denied := self._a_denied(request)) is not None:
            return denied
        batch = self.batches.get(request.match_info["id"])
        if batch is None or not batch.anthropic:
            return _error(404, "batch not found", "not_found_error")
        self._a_advance(batch)
        return web.json_response(self._a_object(batch))

    async def _a_results(self, request: Any) -> Any:
        from aiohttp import web

        if (denied := self._a_denied(request)) is not None:
            return denied
        batch = self.batches.get(request.match_info["id"])
        if batch is None or not batch.anthropic or not batch.done:
            return _error(404, "results not available", "not_found_error")
        return web.Response(body=("\n".join(json.dumps(r) for r in batch.results) + "\n").encode(), content_type="application/x-jsonl")

    def _a_advance(self, batch: _Batch) -> None:
        if batch.done or time.monotonic() - batch.created < batch.delay:
            return
        answer = batch.lines if batch.expire_after is None else min(batch.lines, batch.expire_after)
        for i, ln in enumerate(self.files[batch.input_file_id].splitlines()):
            req = json.loads(ln)
            cid, params = req.get("custom_id"), req.get("params") or {}
            if i >= answer:
                batch.results.append({"custom_id": cid, "result": {"type": "expired"}})
                continue
            messages = ([{"role": "system", "content": params["system"]}] if params.get("system") else []) + list(params.get("messages") or [])
            status, payload = self._answer({"model": params.get("model"), "messages": messages, "max_tokens": params.get("max_tokens")}, self.server.settings)
            with self._lock:
                self.answered[cid] = self.answered.get(cid, 0) + 1
            if status != 200:
                etype = "api_error" if status >= 500 else "invalid_request_error"
                batch.results.append({"custom_id": cid, "result": {"type": "errored", "error": {"type": "error", "error": {"type": etype, "message": payload["error"]["message"]}}}})
                continue
            choice = payload["choices"][0]
            message = {
                "id": f"msg_{batch.id}_{i}", "type": "message", "role": "assistant", "model": params.get("model"),
                "content": [{"type": "text", "text": choice["message"]["content"]}],
                "stop_reason": "max_tokens" if choice["finish_reason"] == "length" else "end_turn",
                "usage": {"input_tokens": payload["usage"]["prompt_tokens"], "output_tokens": payload["usage"]["completion_tokens"]},
            }
            batch.results.append({"custom_id": cid, "result": {"type": "succeeded", "message": message}})
        batch.status = "ended"
        batch.done = True

    def _a_object(self, b: _Batch) -> dict[str, Any]:
        kinds = collections.Counter(r["result"]["type"] for r in b.results)
        return {
            "id": b.id,
            "type": "message_batch",
            "processing_status": "ended" if b.done else "in_progress",
            "request_counts": {"processing": 0 if b.done else b.lines, "succeeded": kinds["succeeded"], "errored": kinds["errored"], "canceled": kinds["canceled"], "expired": kinds["expired"]},
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(b.created_at)),
            "ended_at": None,
            "expires_at": None,
            "results_url": f"{self.server.url.removesuffix('/v1')}/v1/messages/batches/{b.id}/results" if b.done else None,
        }

    # -- files --------------------------------------------------------------------------------

    async def _upload(self, request: Any) -> Any:
        from aiohttp import web

        if (denied := self._denied(request)) is not None:
            return denied
        form = await request.post()
        upload = form.get("file")
        if form.get("purpose") != "batch" or upload is None or not hasattr(upload, "file"):
            return _error(400, "give purpose=batch and a file", "invalid_request_error")
        data = upload.file.read()
        fid = self._new_id("file")
        self.files[fid] = data
        return web.json_response(
            {"id": fid, "object": "file", "bytes": len(data), "created_at": int(time.time()), "filename": upload.filename, "purpose": "batch"}
        )

    async def _content(self, request: Any) -> Any:
        from aiohttp import web

        if (denied := self._denied(request)) is not None:
            return denied
        data = self.files.get(request.match_info["id"])
        if data is None:
            return _error(404, "No such File object", "invalid_request_error")
        return web.Response(body=data, content_type="application/octet-stream")

    # -- batches ------------------------------------------------------------------------------

    async def _create(self, request: Any) -> Any:
        from aiohttp import web

        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        fid = body.get("input_file_id")
        if fid not in self.files:
            return _error(400, f"Cannot find file {fid}", "invalid_request_error")
        if body.get("endpoint") != "/v1/chat/completions" or body.get("completion_window") != "24h":
            return _error(400, "endpoint must be /v1/chat/completions and completion_window 24h", "invalid_request_error")
        s = self.settings
        data = self.files[fid]
        lines = [ln for ln in data.splitlines() if ln.strip()]
        batch = _Batch(
            id=self._new_id("batch"),
            input_file_id=fid,
            endpoint=body["endpoint"],
            metadata=dict(body.get("metadata") or {}),
            created=time.monotonic(),
            created_at=int(time.time()),
            expire_after=s.expire_after,
            delay=s.delay,
            lines=len(lines),
        )
        batch.counts["total"] = len(lines)
        if len(lines) > s.max_requests or len(data) > s.max_bytes:
            batch.status = "failed"
            batch.done = True
            what = f"{len(lines)} requests" if len(lines) > s.max_requests else f"{len(data)} bytes"
            batch.errors = {"object": "list", "data": [{"code": "batch_too_large", "message": f"the batch holds {what}, over the limit", "line": None, "param": None}]}
        else:
            with self._lock:
                for ln in lines:
                    cid = json.loads(ln).get("custom_id")
                    self.submitted[cid] = self.submitted.get(cid, 0) + 1
        self.batches[batch.id] = batch
        return web.json_response(self._object(batch))

    async def _retrieve(self, request: Any) -> Any:
        from aiohttp import web

        if (denied := self._denied(request)) is not None:
            return denied
        batch = self.batches.get(request.match_info["id"])
        if batch is None:
            return _error(404, "No such Batch object", "invalid_request_error")
        self._advance(batch)
        return web.json_response(self._object(batch))

    async def _list(self, request: Any) -> Any:
        from aiohttp import web

        if (denied := self._denied(request)) is not None:
            return denied
        limit = int(request.query.get("limit", 20))
        after = request.query.get("after")
        ordered = sorted(self.batches.values(), key=lambda b: b.id, reverse=True)  # newest first, as OpenAI lists
        if after:
            ordered = [b for b in ordered if b.id < after]
        page = ordered[:limit]
        for b in page:
            self._advance(b)
        return web.json_response(
            {
                "object": "list",
                "data": [self._object(b) for b in page],
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
                "has_more": len(ordered) > limit,
            }
        )

    async def _cancel(self, request: Any) -> Any:
        from aiohttp import web

        if (denied := self._denied(request)) is not None:
            return denied
        batch = self.batches.get(request.match_info["id"])
        if batch is None:
            return _error(404, "No such Batch object", "invalid_request_error")
        if not batch.done:
            self._finish(batch, 0, "cancelled")
        return web.json_response(self._object(batch))

    # -- processing ---------------------------------------------------------------------------

    def _advance(self, batch: _Batch) -> None:
        """Move the batch on by the time elapsed since its creation."""
        if batch.done:
            return
        age = time.monotonic() - batch.created
        if age < 0.1 * batch.delay:
            batch.status = "validating"
        elif age < 0.7 * batch.delay:
            batch.status = "in_progress"
            batch.counts["completed"] = int(batch.lines * (age - 0.1 * batch.delay) / max(1e-9, 0.6 * batch.delay))
        elif age < batch.delay:
            batch.status = "finalizing"
        elif batch.expire_after is not None and batch.expire_after < batch.lines:
            self._finish(batch, batch.expire_after, "expired")
        else:
            self._finish(batch, batch.lines, "completed")

    def _finish(self, batch: _Batch, answer: int, status: str) -> None:
        """Answer the first ``answer`` lines; the others go to the error file as expired or cancelled."""
        s = self.server.settings
        out: list[str] = []
        err: list[str] = []
        lines = [ln for ln in self.files[batch.input_file_id].splitlines() if ln.strip()]
        for i, ln in enumerate(lines):
            req = json.loads(ln)
            cid = req.get("custom_id")
            rid = f"batch_req_{batch.id}_{i}"
            if i >= answer:
                code = "batch_expired" if status == "expired" else "batch_cancelled"
                err.append(json.dumps({"id": rid, "custom_id": cid, "response": None, "error": {"code": code, "message": f"This request could not be executed before the batch was {status}."}}))
                continue
            status_code, payload = self._answer(req.get("body") or {}, s)
            with self._lock:
                self.answered[cid] = self.answered.get(cid, 0) + 1
            line = json.dumps({"id": rid, "custom_id": cid, "response": {"status_code": status_code, "request_id": rid, "body": payload}, "error": None})
            (out if status_code == 200 else err).append(line)
        batch.counts = {"total": len(lines), "completed": len(out), "failed": len(err) if status == "completed" else len(err) - (len(lines) - answer)}
        if out:
            batch.output_file_id = self._new_id("file")
            self.files[batch.output_file_id] = ("\n".join(out) + "\n").encode()
        if err:
            batch.error_file_id = self._new_id("file")
            self.files[batch.error_file_id] = ("\n".join(err) + "\n").encode()
        batch.status = status
        batch.done = True

    def _answer(self, body: Mapping[str, Any], s: Any) -> tuple[int, Any]:
        """One line's status and body, as the chat endpoint would answer it (faults included)."""
        server = self.server
        fault = server._pick_fault(s, body)  # noqa: SLF001 - the server's own fault dice
        if fault is not None and fault.isdigit():
            code = int(fault)
            kind = "server_error" if code >= 500 else "invalid_request_error"
            return code, {"error": {"message": f"injected fault {fault}", "type": kind, "code": kind}}
        try:
            return 200, server._completion(dict(body), s)  # noqa: SLF001
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            return 400, {"error": {"message": f"bad request: {exc}", "type": "invalid_request_error", "code": "invalid_request_error"}}

    def _object(self, b: _Batch) -> dict[str, Any]:
        return {
            "id": b.id,
            "object": "batch",
            "endpoint": b.endpoint,
            "errors": b.errors,
            "input_file_id": b.input_file_id,
            "completion_window": "24h",
            "status": b.status,
            "output_file_id": b.output_file_id,
            "error_file_id": b.error_file_id,
            "created_at": b.created_at,
            "request_counts": dict(b.counts),
            "metadata": dict(b.metadata),
        }
