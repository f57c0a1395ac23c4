"""Headless chromium over the DevTools protocol, for the tests that open pages (the collapse report, the viewer)."""

from __future__ import annotations

import asyncio
import base64
import json
import pathlib
import shutil
import time

import aiohttp

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars",
]


def problems(events: list[dict]) -> list[str]:
    """The exceptions, console and log errors or warnings, and failed loads among DevTools ``events``."""
    bad = []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            bad.append(f"exception: {p['exceptionDetails'].get('text')}")
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
            bad.append(f"console {p['type']}: {p.get('args')}")
        elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
            bad.append(f"log {p['entry']['level']}: {p['entry']['text']}")
        elif m == "Network.loadingFailed":
            bad.append(f"load failed: {p.get('errorText')} {p.get('requestId')}")
    return bad


class Browser:
    """A headless chromium page driven over the DevTools protocol; every event is kept."""

    def __init__(self, ws, timeout: float = 30.0) -> None:
        self.ws = ws
        self.timeout = timeout
        self.events: list[dict] = []
        self._ids = iter(range(1, 10**6))

    async def until(self, pred):
        while True:
            msg = json.loads((await asyncio.wait_for(self.ws.receive(), self.timeout)).data)
            if "method" in msg:
                self.events.append(msg)
            if pred(msg):
                return msg

    async def call(self, method, **params):
        i = next(self._ids)
        await self.ws.send_json({"id": i, "method": method, "params": params})
        msg = await self.until(lambda m: m.get("id") == i)
        assert "error" not in msg, msg
        return msg["result"]

    async def js(self, expression):
        out = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in out, out
        return out["result"].get("value")

    async def goto(self, url):
        await self.call("Page.navigate", url=url)
        await self.until(lambda m: m.get("method") == "Page.loadEventFired")

    async def click(self, selector):
        """Click the first element matching ``selector`` and wait for the page it opens."""
        href = await self.js(f"(() => {{ const a = document.querySelector({json.dumps(selector)}); if (!a) return null; a.click(); return a.href; }})()")
        assert href, f"nothing matches {selector}"
        await self.until(lambda m: m.get("method") == "Page.loadEventFired")
        return href

    async def screenshot(self, path):
        shot = await self.call("Page.captureScreenshot", format="png")
        pathlib.Path(path).write_bytes(base64.b64decode(shot["data"]))

    def problems(self):
        """What went wrong on the page: exceptions, console errors and warnings, failed loads."""
        return problems(self.events)

    def request_urls(self):
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]


async def session(user_dir, body, *, window: str = "1280,1000", timeout: float = 30.0):
    """Start headless chromium with a fresh profile in ``user_dir``, run ``await body(browser)`` on its page, stop it."""
    proc = await asyncio.create_subprocess_exec(
        CHROMIUM, *FLAGS, f"--window-size={window}", f"--user-data-dir={user_dir}", "--remote-debugging-port=0", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        port_file = user_dir / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            await asyncio.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as resp:
                targets = await resp.json()
            ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with session.ws_connect(ws_url, max_msg_size=0) as ws:
                browser = Browser(ws, timeout)
                for domain in ("Runtime", "Log", "Network", "Page"):
                    await browser.call(f"{domain}.enable")
                return await body(browser)
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
