"""The HTML collapse report: self-contained, rendered without errors by headless chromium, and the report command's exit codes."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synthkit.diagnostics.metrics import diagnose
from synthkit.diagnostics.report import render_report, write_report
from tests.browser import CHROMIUM, Browser, problems, session
from tests.diagnostics.test_diagnostics import HAS_EMBEDDER, corpora

#: warnings the collapsed set raises: seven text metrics, plus embedding coverage when a model is installed
N_WARN = 7 + HAS_EMBEDDER
PAGE_STATE = """JSON.stringify({
  title: document.title,
  images: Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.src.slice(0, 22)]),
  rows: Array.from(document.querySelectorAll('tbody tr')).map(r => [r.id, r.className, r.innerText]),
  banner: document.getElementById('overall').innerText,
  bannerClass: document.getElementById('overall').className,
  scripts: document.scripts.length,
  external: document.querySelectorAll('link, iframe, object, embed, video, audio').length,
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  height: document.documentElement.scrollHeight
})"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Write the report for a healthy and for a mode-collapsed set."""
    c = corpora()
    out = tmp_path_factory.mktemp("report")
    healthy = write_report(diagnose(c["healthy"], c["reference"]), out / "healthy.html", title="Healthy <set> & co")
    collapsed = write_report(diagnose(c["collapsed"], c["reference"]), out / "collapsed.html", synthetic_name="collapsed.jsonl")
    return {"healthy": healthy, "collapsed": collapsed, "dir": out}


def test_report_page_is_self_contained(pages):
    """The page has no scripts and no external resources; every image is an embedded PNG."""
    html = pages["collapsed"].read_text()
    assert "<script" not in html.lower()
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html)
    assert refs and all(r.startswith("data:image/png;base64,") for r in refs)
    assert "url(" not in html and "@import" not in html
    for r in refs:
        png = base64.b64decode(r.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000


def test_report_says_in_plain_words_what_fired(pages):
    """The collapsed report opens with a warning banner and a verdict row per metric; the healthy one with an all-clear."""
    bad = pages["collapsed"].read_text()
    assert 'class="banner warn"' in bad and f"Collapse warnings: {N_WARN}." in bad
    for key in ("distinct-2", "tail-coverage", "near-duplicates", "compression"):
        assert re.search(rf'<tr id="metric-{key}" class="warn">', bad)
    assert "Repetitive: only" in bad
    good = pages["healthy"].read_text()
    assert 'class="banner ok"' in good and "No collapse warnings." in good
    assert "Healthy &lt;set&gt; &amp; co" in good  # titles are escaped


async def _render(url: str, user_dir: Path, timeout: float = 30.0) -> dict:
    """Open ``url`` in headless chromium over the DevTools protocol; return page state, screenshot and events."""

    async def body(b: Browser) -> dict:
        await b.goto(url)
        state = await b.call("Runtime.evaluate", expression=PAGE_STATE, returnByValue=True)
        shot = await b.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        await b.call("Runtime.evaluate", expression="1")  # drain late console events
        return {"state": json.loads(state["result"]["value"]), "png": base64.b64decode(shot["data"]), "events": b.events}

    return await session(user_dir, body, window="1280,1600", timeout=timeout)


def _problems(events: list[dict]) -> list[str]:
    """What went wrong on the page, and any request that is not to the file itself or a data: URL."""
    bad = problems(events)
    bad += [
        f"external request: {e['params']['request']['url']}"
        for e in events
        if e["method"] == "Network.requestWillBeSent" and not e["params"]["request"]["url"].startswith(("file://", "data:"))
    ]
    return bad


# in CI (where `make test` installs chromium) a missing browser fails the test instead of skipping it
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="chromium is not installed; run .ci/install-chromium.sh")
@pytest.mark.parametrize("which", ["collapsed", "healthy"])
def test_report_renders_in_headless_chromium_without_errors(pages, which, tmp_path):
    """Chromium loads the page with no JS, console or network errors, every plot decoded, the verdicts laid out."""
    result = asyncio.run(_render(pages[which].as_uri(), tmp_path / "profile"))
    assert _problems(result["events"]) == []
    s = result["state"]
    assert s["scripts"] == 0 and s["external"] == 0
    assert len(s["images"]) == 4
    for complete, width, height, src in s["images"]:
        assert complete and width > 300 and height > 200 and src.startswith("data:image/png")
    assert [r[0] for r in s["rows"]][:3] == ["metric-distinct-2", "metric-entropy", "metric-vocabulary"]
    assert s["scrollWidth"] <= s["innerWidth"]  # no horizontal overflow at 1280 px
    if which == "collapsed":
        assert s["bannerClass"] == "banner warn" and s["banner"].startswith(f"Collapse warnings: {N_WARN}.")
        assert any(cls == "warn" and "Tail lost" in text for _, cls, text in s["rows"])
    else:
        assert s["bannerClass"] == "banner ok" and not any(cls == "warn" for _, cls, _ in s["rows"])
    shot = pages["dir"] / f"{which}.png"
    shot.write_bytes(result["png"])
    import matplotlib.image

    img = matplotlib.image.imread(shot)
    assert img.shape[1] == 1280 and img.shape[0] > 1500  # the whole page, beyond the viewport
    assert float(np.std(img[..., :3])) > 0.05  # not a blank page
    def banner_pixels(rgb):
        return int((np.abs(img[:400, :, :3] - np.array(rgb) / 255).max(axis=2) < 2 / 255).sum())

    pink, green = banner_pixels((253, 236, 234)), banner_pixels((230, 244, 234))
    assert (pink > 20_000 and green == 0) if which == "collapsed" else (green > 20_000 and pink == 0)


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "synthkit", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_report_command_prints_warnings_and_gates_with_exit_3(tmp_path):
    """`synthkit report --fail-on-collapse` exits 3 on a collapsed set and 0 on a healthy one; warnings print."""
    c = corpora()
    for name in ("reference", "healthy", "collapsed"):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in c[name]))
    bad = _cli("report", "collapsed.jsonl", "--reference", "reference.jsonl", "-o", "bad.html", "--fail-on-collapse", cwd=tmp_path)
    assert bad.returncode == 3, bad.stderr
    assert "WARN Rare-word (tail) coverage: Tail lost" in bad.stderr and f"{N_WARN} collapse warning(s)" in bad.stderr
    assert (tmp_path / "bad.html").read_text().startswith("<!DOCTYPE html>")
    good = _cli("report", "healthy.jsonl", "--reference", "reference.jsonl", "-o", "good.html", "--fail-on-collapse", cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "WARN" not in good.stderr and "ok   Distinct word pairs" in good.stdout
    plain = _cli("report", "collapsed.jsonl", "--reference", "reference.jsonl", "-o", "bad2.html", cwd=tmp_path)
    assert plain.returncode == 0 and "WARN" in plain.stderr


def test_render_report_handles_skipped_metrics():
    """A report on too little data still renders, with every metric marked skipped."""
    c = corpora()
    html = render_report(diagnose(c["healthy"][:3], c["reference"]))
    assert html.count('class="skipped"') == 9 and "Nothing could be judged." in html and "No collapse warnings" not in html
