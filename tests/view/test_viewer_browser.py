"""`synthkit view` in headless chromium: list, filter by a reject reason, open a record, follow its lineage to the parent.

The page must log no console error, and no request may leave loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import shutil
import subprocess
import sys
from urllib.parse import urlparse

import pytest

from tests.browser import CHROMIUM, Browser, session

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def viewer(run_files, tmp_path):
    """`synthkit view gen2 gen1 --rejects rej2 --rejects rej1 --port 0 --no-browser`, running; yields its URL."""
    f = run_files
    cmd = [sys.executable, "-m", "synthkit", "view", str(f["gen2"]), str(f["gen1"]), "--rejects", str(f["rej2"]), "--rejects", str(f["rej1"]), "--port", "0", "--no-browser"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ)
    try:
        line = proc.stdout.readline()  # the first line on stdout is the URL (the progress bar is on stderr)
        assert line.startswith("serving on http://127.0.0.1:"), (line, proc.poll())
        yield line.split()[2]
    finally:
        proc.terminate()
        proc.wait(10)


# in CI (where `make test` installs chromium) a missing browser fails the test instead of skipping it
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="chromium is not installed; run .ci/install-chromium.sh")
@pytest.mark.timeout(120)
def test_viewer_lists_filters_opens_a_record_and_follows_its_lineage(viewer, run_files, tmp_path):
    """List the records, filter by a reject reason, open a rejected record, click through to its parent."""
    shots = tmp_path / "shots"
    shots.mkdir()

    async def body(b: Browser):
        await b.goto(viewer)
        listed = await b.js("document.querySelectorAll('table.rows-and-columns tbody tr').length")
        title = await b.js("document.querySelector('h1').innerText")
        total = await b.js("document.querySelector('h3') && document.querySelector('h3').innerText")
        more = await b.js("Array.from(document.querySelectorAll('a[href*=\"_facet\"]')).map(a => a.innerText)")
        await b.screenshot(shots / "viewer.png")
        # the reason facet: pick the masked final-answer reason
        await b.click(".facet-info[data-column='reason'] li a[href*='reason=final+answer']")
        url = await b.js("location.href")
        reasons = await b.js("Array.from(document.querySelectorAll('td.col-reason')).map(td => td.innerText)")
        steps = await b.js("Array.from(document.querySelectorAll('td.col-step')).map(td => td.innerText)")
        # a generation-2 reject: its parent is a kept record of generation 1
        await b.goto(viewer.rstrip("/") + "/run/records?status=dropped&file=rej2.jsonl")
        rid = await b.js("document.querySelector('td.col-id a.synthkit-record').innerText")
        await b.click("td.col-id a.synthkit-record")
        record = {
            "h1": await b.js("document.querySelector('h1').innerText"),
            "reason": await b.js("document.querySelector('.sk-reason') && document.querySelector('.sk-reason').innerText"),
            "sections": await b.js("Array.from(document.querySelectorAll('h2')).map(h => h.innerText)"),
            "parent": await b.js("document.querySelector('a.sk-parent') && document.querySelector('a.sk-parent').innerText"),
        }
        await b.screenshot(shots / "viewer-record.png")
        await b.click("a.sk-parent")
        parent = {
            "h1": await b.js("document.querySelector('h1').innerText"),
            "url": await b.js("location.href"),
            "orphan": await b.js("document.querySelector('.sk-tree').innerText"),
        }
        return locals()

    got = asyncio.run(session(tmp_path / "chrome", body))
    assert got["listed"] == 50  # a page of 50, not the whole file
    assert "synthkit view" in got["title"] or got["title"] == "records"
    assert {"template", "origin", "stratum", "verdicts"} <= set(got["more"])  # the other facets, one click away
    assert "reason=final+answer" in got["url"]
    assert got["reasons"] and all(r.startswith("final answer # != expected #") for r in got["reasons"])
    assert set(got["steps"]) == {"final-answer"}
    rid = got["rid"]
    assert rid in got["record"]["h1"] and "dropped" in got["record"]["h1"]
    assert got["record"]["reason"].startswith("final answer")
    for section in ("Rejected", "Prompt", "Response", "Verdicts", "Lineage"):
        assert section in got["record"]["sections"]
    gen2 = {json.loads(line)["id"]: json.loads(line) for line in run_files["rej2"].read_text().splitlines()}
    parent_id = gen2[rid]["lineage"]["parents"][0]
    assert got["record"]["parent"] == parent_id
    assert parent_id in got["parent"]["h1"] and "kept" in got["parent"]["h1"]
    assert "(not in these files)" in got["parent"]["orphan"]  # generation 1's own parents are the source problems
    b_problems = got["b"].problems()
    assert b_problems == []
    urls = got["b"].request_urls()
    assert len(urls) > 5
    outside = [u for u in urls if urlparse(u).hostname not in ("127.0.0.1", "localhost") and not u.startswith(("data:", "about:"))]
    assert outside == []
    if os.environ.get("SYNTHKIT_UPDATE_SCREENSHOTS"):
        for name in ("viewer.png", "viewer-record.png"):
            shutil.copy(tmp_path / "shots" / name, ROOT / "docs" / "img" / name)
