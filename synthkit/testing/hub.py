"""A loopback stand-in for the Hugging Face Hub: the part of its HTTP API that ``synthkit push`` uses.

It answers, as the Hub does for ``huggingface_hub``'s :meth:`HfApi.create_repo` and
:meth:`HfApi.create_commit`:

* ``POST /api/repos/create``: create a dataset (or model) repository; 409 when it exists;
* ``POST /api/validate-yaml``: check a README's YAML front matter (400 with the error when it is malformed);
* ``POST /api/{type}s/{repo}/preupload/{revision}``: every file is uploaded ``regular`` (inline in the commit);
* ``POST /api/{type}s/{repo}/commit/{revision}``: an NDJSON commit (a ``header``, then ``file`` lines with base64 content).

Every request needs ``Authorization: Bearer TOKEN`` (401 otherwise). Files land in
:attr:`FakeHub.repos` (``{"user/name": {"path": bytes}}``); :attr:`FakeHub.requests` logs each
request's method, path and whether it carried the token (never the token itself).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
from typing import Any

import attrs

from synthkit.testing._threaded import ThreadedServer

__all__ = ["FakeHub", "HubRequest"]


@attrs.frozen
class HubRequest:
    """One request the fake Hub received."""

    method: str
    path: str
    authorized: bool
    status: int


class FakeHub(ThreadedServer):
    """A fake Hub on ``127.0.0.1`` in a background thread.

    Args:
        token: the only token it accepts.
        port: the port (``0``: any free one).

    Example::

        with FakeHub(token="hf_test") as hub:
            HfApi(endpoint=hub.url, token="hf_test").create_repo("me/set", repo_type="dataset")
    """

    thread_name = "synthkit-fake-hub"

    def __init__(self, *, token: str, port: int = 0) -> None:
        self.token = token
        self.host = "127.0.0.1"
        self.port = port
        self.repos: dict[str, dict[str, bytes]] = {}
        self.commits: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[HubRequest] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The endpoint to give ``HfApi(endpoint=...)`` or ``HF_ENDPOINT``."""
        return f"http://{self.host}:{self.port}"

    # -- lifecycle ------------------------------------------------------------------------


    async def _serve(self, ready: threading.Event) -> None:
        from aiohttp import web

        self._stopped = asyncio.Event()
        app = web.Application(client_max_size=1024**3, middlewares=[self._auth])
        app.router.add_post("/api/repos/create", self._create)
        app.router.add_post("/api/validate-yaml", self._validate_yaml)
        app.router.add_post("/api/{type}s/{ns}/{name}/preupload/{revision}", self._preupload)
        app.router.add_post("/api/{type}s/{ns}/{name}/commit/{revision}", self._commit)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - aiohttp exposes no public accessor
        ready.set()
        await self._stopped.wait()
        await runner.cleanup()

    # -- handlers -------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, message: str) -> Any:
        from aiohttp import web

        return web.json_response({"error": message}, status=status, headers={"X-Error-Message": message})

    async def _auth_check(self, request: Any, handler: Any) -> Any:
        ok = request.headers.get("Authorization") == f"Bearer {self.token}"
        if not ok:
            response = self._error(401, "Invalid credentials in Authorization header")
        else:
            response = await handler(request)
        with self._lock:
            self.requests.append(HubRequest(request.method, request.path, ok, response.status))
        return response

    @property
    def _auth(self) -> Any:
        from aiohttp import web

        @web.middleware
        async def middleware(request: Any, handler: Any) -> Any:
            return await self._auth_check(request, handler)

        return middleware

    def _repo_id(self, request: Any) -> str:
        return f"{request.match_info['ns']}/{request.match_info['name']}"

    async def _create(self, request: Any) -> Any:
        from aiohttp import web

        body = await request.json()
        repo = f"{body.get('organization') or 'user'}/{body['name']}"
        kind = body.get("type") or "model"
        prefix = "" if kind == "model" else f"{kind}s/"
        url = f"{self.url}/{prefix}{repo}"
        if repo in self.repos:  # the Hub's 409 names the existing repository, which huggingface_hub reads
            message = "You already created this repo"
            return web.json_response({"error": message, "url": url}, status=409, headers={"X-Error-Message": message})
        self.repos[repo] = {}
        self.commits[repo] = []
        return web.json_response({"url": url, "name": repo})

    async def _validate_yaml(self, request: Any) -> Any:
        import yaml
        from aiohttp import web

        body = await request.json()
        content = body.get("content", "")
        if content.startswith("---"):
            try:
                yaml.safe_load(content.split("---", 2)[1])
            except yaml.YAMLError as exc:
                return web.json_response({"errors": [{"message": str(exc)}], "warnings": []}, status=400)
        return web.json_response({"errors": [], "warnings": []})

    async def _preupload(self, request: Any) -> Any:
        from aiohttp import web

        repo = self._repo_id(request)
        if repo not in self.repos:
            return self._error(404, f"Repository Not Found for url: {request.path}")
        body = await request.json()
        files = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None} for f in body["files"]]
        return web.json_response({"files": files, "commitOid": None})

    async def _commit(self, request: Any) -> Any:
        from aiohttp import web

        repo = self._repo_id(request)
        if repo not in self.repos:
            return self._error(404, f"Repository Not Found for url: {request.path}")
        lines = [json.loads(line) for line in (await request.read()).splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            return self._error(400, "a commit starts with a header line")
        files = {}
        for line in lines[1:]:
            if line["key"] != "file" or line["value"].get("encoding") != "base64":
                return self._error(400, f"the fake Hub takes only regular base64 files, got {line['key']}")
            files[line["value"]["path"]] = base64.b64decode(line["value"]["content"])
        self.repos[repo].update(files)
        oid = hashlib.sha1(json.dumps([repo, len(self.commits[repo]), sorted(files)]).encode()).hexdigest()  # noqa: S324 - a commit id, not security
        self.commits[repo].append({"header": lines[0]["value"], "files": sorted(files), "oid": oid})
        return web.json_response({"commitOid": oid, "commitUrl": f"{self.url}/datasets/{repo}/commit/{oid}", "pullRequestUrl": None})
