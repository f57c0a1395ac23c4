"""`mkdocs build --strict` builds the documentation site offline, with every page and every command."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from synthkit.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def nav_pages(nav: list) -> list[str]:
    """The markdown files named in mkdocs.yml's nav, depth first."""
    out: list[str] = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        out += nav_pages(value) if isinstance(value, list) else [value]
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built with the Makefile's command into a fresh folder."""
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_every_nav_page_is_built(site):
    """Each page of the nav (and every page in docs/) becomes an HTML page of the site."""
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    pages = nav_pages(config["nav"])
    assert {"index.md", "concepts.md", "tutorial-plugin.md", "cli.md", "benchmarks.md", "api/core.md"} <= set(pages)
    on_disk = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    assert on_disk <= set(pages), f"pages missing from nav: {on_disk - set(pages)}"
    for page in pages:
        stem = page.removesuffix(".md")
        built = site / (stem.removesuffix("index") if stem.endswith("index") else stem + "/") / "index.html"
        assert built.exists(), page


def test_cli_page_lists_every_command(site):
    """The CLI reference has a section, with its usage line, for every registered command."""
    text = html.unescape(re.sub(r"<[^>]+>", "", (site / "cli" / "index.html").read_text()))
    with click.Context(cli) as ctx:
        names = cli.list_commands(ctx)
    assert len(names) >= 10
    for name in names:
        assert f"synthkit {name} [OPTIONS]" in text, name


def test_api_reference_documents_the_public_api(site):
    """The API pages carry the docstrings of the top-level API, the hooks and the testing helpers."""
    core = (site / "api" / "core" / "index.html").read_text()
    for name in ("Record", "Lineage", "Verdict", "Pipeline", "Generate", "Summary", "Teacher", "Filter", "Verifier", "Mixer", "hookimpl"):
        assert f'id="synthkit.{name}"' in core, name
    hooks = (site / "api" / "plugins" / "index.html").read_text()
    assert 'id="synthkit.hookspecs.register_teachers"' in hooks and 'id="synthkit.plugins.load_plugins"' in hooks
    assert 'id="synthkit.testing.FakeOpenAIServer"' in (site / "api" / "testing" / "index.html").read_text()


def test_site_loads_nothing_from_outside(site):
    """No page links a stylesheet, font or script from another host: the site works offline."""
    external = re.compile(r"<(?:link|script)\b[^>]*(?:href|src)=[\"']?(?:https?:)?//", re.IGNORECASE)
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert not external.search(text), f"{page.relative_to(site)}: {external.search(text).group(0)}"
        assert "fonts.googleapis.com" not in text and "fonts.gstatic.com" not in text, page
