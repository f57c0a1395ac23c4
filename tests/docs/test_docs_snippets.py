"""Every code block of every docs page and of README.md runs as written.

The convention is in docs/contributing.md ("Writing docs"): ```python blocks run per page, in
order, in one namespace, in a fresh folder; ```console lines starting ``$ `` run as real
commands and the lines under them are their expected output; ```bash blocks run line by line;
text, json, yaml, toml... blocks are not run. ``<!-- docs-test: ... -->`` comments ask for a
page fixture, an exit status, or skip a block with a reason. Each runnable block is one test
item named ``docs/page.md:LINE``; running one item runs the blocks of its page before it.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = str(Path(sys.executable).parent)

PYTHON = {"python", "py"}
CONSOLE = {"console"}
SCRIPT = {"bash", "sh", "shell"}
NOT_RUN = {"", "text", "json", "jsonl", "yaml", "yml", "toml", "ini", "cfg", "csv", "html", "jinja", "jinja2", "markdown", "md", "diff"}

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")
_TIMING = re.compile(r"(?:\d+(?:\.\d+)?|…)\s?m?s\b")  # "(0.5 s)", "0.03s", "12 ms"; "… s" on a page


class DocsSyntaxError(Exception):
    """A page breaks the docs-test convention (unknown language, directive or fixture)."""


@attrs.frozen
class Block:
    """One fenced code block of a page.

    Attributes:
        page: the page, relative to the repository root (``docs/filters.md``).
        line: the line of the opening fence, counting from 1.
        lang: the fence's language, lowercased (``python``, ``console``...).
        body: the block's text, dedented to the fence.
        skip: why the block is not run (from a ``docs-test: skip`` comment), else ``None``.
        exit: the exit status its commands must end with.
        later: run after the page's other blocks (a command shown before the example that
            writes its input files).
        file: the path in the fence's ``title="..."``: the block is that file's content, and
            is written there (in the page's folder) instead of being run.
    """

    page: str
    line: int
    lang: str
    body: str
    skip: str | None = None
    exit: int = 0
    later: bool = False
    file: str | None = None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.file is not None or self.lang in PYTHON | CONSOLE | SCRIPT


@attrs.frozen
class Page:
    """A page's blocks, the fixtures it asks for, and the test that runs it instead of this one, if any."""

    path: str
    blocks: tuple[Block, ...]
    needs: tuple[str, ...]
    run_by: str | None = None

    @property
    def order(self) -> list[Block]:
        """The blocks in the order they run: the page's order, ``later`` ones last."""
        return [b for b in self.blocks if not b.later] + [b for b in self.blocks if b.later]


def parse_page(path: Path) -> Page:
    """Read a markdown page's fenced blocks and ``docs-test`` comments.

    Raises:
        DocsSyntaxError: a block has an unknown language, a comment is not understood,
            or a skip has no reason; the message names the page and line.
    """
    rel = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    needs: list[str] = []
    run_by: str | None = None
    pending: dict[str, Any] = {}
    i = 0
    while i < len(lines):
        directive = _DIRECTIVE.match(lines[i])
        if directive:
            body = directive.group("body")
            word, _, rest = body.partition(" ")
            if word == "needs":
                needs += [n.strip() for n in rest.split(",") if n.strip()]
            elif word == "run-by":
                run_by = rest.strip()
            elif word == "skip":
                if not rest.strip():
                    msg = f"{rel}:{i + 1}: `docs-test: skip` needs a reason, e.g. <!-- docs-test: skip it needs an API key -->"
                    raise DocsSyntaxError(msg)
                pending["skip"] = rest.strip()
            elif body == "later":
                pending["later"] = True
            elif re.fullmatch(r"exit=\d+", body):
                pending["exit"] = int(body.partition("=")[2])
            else:
                msg = f"{rel}:{i + 1}: unknown docs-test comment {body!r}; use 'needs NAME, ...', 'run-by TEST_FILE', 'skip REASON', 'exit=N' or 'later'"
                raise DocsSyntaxError(msg)
            i += 1
            continue
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        indent, marks = len(fence.group("indent")), fence.group("fence")
        lang = fence.group("info").strip().split(" ")[0].strip("{}.").lower()
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and not (lines[i].strip().startswith(marks) and lines[i].strip().strip(marks[0]) == ""):
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        i += 1
        if lang not in PYTHON | CONSOLE | SCRIPT | NOT_RUN:
            msg = f"{rel}:{start + 1}: unknown code block language {lang!r}; runnable: python, console, bash; shown only: {', '.join(sorted(NOT_RUN - {''}))}"
            raise DocsSyntaxError(msg)
        title = re.search(r'title="([^"]+)"', fence.group("info"))
        blocks.append(Block(rel, start + 1, lang, "\n".join(body) + "\n", file=title.group(1) if title else None, **pending))
        pending = {}
    if pending:
        msg = f"{rel}: a docs-test comment ({pending}) is not followed by a code block"
        raise DocsSyntaxError(msg)
    return Page(rel, tuple(blocks), tuple(needs), run_by)


def all_pages() -> list[Path]:
    """Every docs page and README.md."""
    return [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]


# -- running commands ----------------------------------------------------------------------


def commands(block: Block) -> list[tuple[str, str]]:
    """Split a console or bash block into (command, expected output) pairs.

    In a block with ``$ `` lines, each ``$ `` line (with ``\\`` continuations) is a command and
    the lines under it, up to the next ``$ ``, its expected output. Otherwise every line that is
    not blank or a ``#`` comment is a command with no output shown.
    """
    lines = block.body.splitlines()
    prompted = block.lang in CONSOLE and any(ln.startswith("$ ") for ln in lines)
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if prompted and not line.startswith("$ "):
            i += 1  # text before the first command
            continue
        if not prompted and (not line.strip() or line.lstrip().startswith("#")):
            i += 1
            continue
        cmd = line[2:] if prompted else line
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        expected: list[str] = []
        while prompted and i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        out.append((cmd.strip(), "\n".join(expected)))
    return out


def normalise(text: str) -> str:
    """Mask timings and trailing spaces, so output compares from run to run."""
    text = _TIMING.sub("<time>", text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def output_matches(expected: str, got: str) -> bool:
    """Compare output the way doctest does with ELLIPSIS: ``...`` stands for any text."""
    want, have = normalise(expected) + "\n", normalise(got) + "\n"
    if want.startswith("...\n"):  # a leading `...` line may stand for no lines at all
        want = "..." + want[4:]
    return doctest.OutputChecker().check_output(want, have, doctest.ELLIPSIS)


# -- page fixtures -------------------------------------------------------------------------


def _openai_server(page: PageRun) -> None:
    """A fake OpenAI-compatible server; ``$OPENAI_BASE_URL`` points at it (the ``openai`` teacher's default)."""
    from synthkit.testing import FakeOpenAIServer

    server = page.stack.enter_context(FakeOpenAIServer())
    page.env.update(OPENAI_BASE_URL=server.url, OPENAI_API_KEY="sk-docs-test")


def _plugin_install(page: PageRun) -> None:
    """``pip install`` goes to a folder of the page's own (offline, no dependencies); commands and Python blocks see it."""
    site = page.folder / ".site-packages"
    site.mkdir()
    page.env.update(
        PIP_TARGET=str(site),
        PIP_NO_DEPS="1",
        PIP_NO_INDEX="1",
        PIP_NO_BUILD_ISOLATION="0",  # pip reads this variable inverted: "0" turns isolation off
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONPATH=os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p),
    )
    page.sys_path.append(str(site))


FIXTURES: dict[str, Callable[[PageRun], None]] = {
    "openai-server": _openai_server,
    "plugin-install": _plugin_install,
}


class PageRun:
    """The state one page's blocks share: a fresh folder, a namespace, fixtures and how far it got."""

    def __init__(self, page: Page) -> None:
        unknown = [n for n in page.needs if n not in FIXTURES]
        if unknown:
            msg = f"{page.path}: unknown docs-test fixture(s) {unknown}; known: {', '.join(FIXTURES)}"
            raise DocsSyntaxError(msg)
        self.page = page
        self.stack = contextlib.ExitStack()
        self.folder = Path(self.stack.enter_context(tempfile.TemporaryDirectory(prefix="synthkit-docs-")))
        self.namespace: dict[str, Any] = {"__name__": "__docs__"}
        self.env: dict[str, str] = {}
        self.sys_path: list[str] = []
        self.done: set[int] = set()
        self.failed: str | None = None
        for name in page.needs:
            FIXTURES[name](self)

    @contextlib.contextmanager
    def active(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        """Work in the page's folder, with its environment and import path, and a fresh plugin manager."""
        from synthkit.plugins import reset_plugins

        monkeypatch.chdir(self.folder)
        for key, value in self.env.items():
            monkeypatch.setenv(key, value)
        for path in self.sys_path:
            monkeypatch.syspath_prepend(path)
        importlib.invalidate_caches()
        reset_plugins()
        try:
            yield
        finally:
            reset_plugins()
            if self.sys_path:  # forget modules the page installed, so other tests never see them
                for name, mod in list(sys.modules.items()):
                    if any(str(getattr(mod, "__file__", "") or "").startswith(p) for p in self.sys_path):
                        del sys.modules[name]

    def run_until(self, block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
        """Run the page's blocks up to and including ``block``, each once."""
        with self.active(monkeypatch):
            for b in self.page.order:
                if not b.runs or b.skip is not None or b.line in self.done:
                    if b == block:
                        break
                    continue
                if self.failed is not None:
                    pytest.fail(f"{block.where} not run: {self.failed} failed before it")
                try:
                    self.run(b)
                except BaseException:
                    self.failed = b.where
                    raise
                self.done.add(b.line)
                if b == block:
                    break

    def run(self, block: Block) -> None:
        if block.file is not None:
            path = self.folder / block.file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.body, encoding="utf-8")
            return
        if block.lang in PYTHON:
            code = compile("\n" * block.line + block.body, str(ROOT / block.page), "exec")
            exec(code, self.namespace)  # noqa: S102
            return
        env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""), "PYTHONUNBUFFERED": "1"}
        for cmd, expected in commands(block):
            proc = subprocess.run(
                ["/bin/bash", "-c", cmd], cwd=self.folder, env=env, capture_output=True, text=True, timeout=600, check=False
            )
            got = proc.stdout + proc.stderr
            assert proc.returncode == block.exit, f"{block.where}: `{cmd}` exited {proc.returncode}, expected {block.exit}:\n{got}"
            if expected.strip():
                assert output_matches(expected, got), f"{block.where}: `{cmd}` printed\n{got}\nbut the page shows\n{expected}"

    def close(self) -> None:
        self.stack.close()


PAGES = {str(p.relative_to(ROOT)): parse_page(p) for p in all_pages()}
BLOCKS = [b for page in PAGES.values() for b in page.blocks if b.runs]


@pytest.fixture(scope="module")
def page_runs() -> Iterator[dict[str, PageRun]]:
    """One shared state per page, closed when the module's tests end."""
    runs: dict[str, PageRun] = {}
    yield runs
    for run in runs.values():
        run.close()


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_docs_block_runs(block: Block, page_runs: dict[str, PageRun], monkeypatch: pytest.MonkeyPatch) -> None:
    """The block runs as written (after the page's earlier blocks), and commands print what the page shows."""
    if block.skip is not None:
        pytest.skip(f"{block.where}: {block.skip}")
    run_by = PAGES[block.page].run_by
    if run_by is not None:
        pytest.skip(f"{block.where}: run by {run_by}, with the files the page talks about")
    if block.page not in page_runs:
        page_runs[block.page] = PageRun(PAGES[block.page])
    page_runs[block.page].run_until(block, monkeypatch)


def test_every_page_follows_the_convention() -> None:
    """Every page parses, asks only for known fixtures, and most runnable blocks really run (skips stay rare)."""
    for page in PAGES.values():
        assert set(page.needs) <= set(FIXTURES), page.path
        if page.run_by is not None:  # that test must exist and read this page
            assert Path(page.path).name in (ROOT / page.run_by).read_text(), f"{page.path}: {page.run_by} does not run it"
    skipped = [b for b in BLOCKS if b.skip is not None]
    assert len(BLOCKS) >= 40 and len(skipped) <= len(BLOCKS) // 8, [b.where for b in skipped]


def test_parser_reads_blocks_directives_and_outputs(tmp_path: Path) -> None:
    """The parser finds indented fences, applies a directive to the next block, and splits commands from output."""
    page = tmp_path / "probe.md"
    text = (
        "<!-- docs-test: needs openai-server -->\n"
        "- a list item:\n\n"
        "    ```python\n    x = 1\n    ```\n\n"
        "<!-- docs-test: exit=3 -->\n"
        "```console\n$ synthkit report a.jsonl \\\n    --reference b.jsonl\nWARN ...\n$ echo hi\nhi\n```\n\n"
        "<!-- docs-test: skip it talks to a real provider -->\n"
        "```bash\n# a comment\nsynthkit generate in.jsonl -o out.jsonl --model m\n```\n"
        "```text\nnot run\n```\n"
        '```toml title="pkg/pyproject.toml"\n[project]\n```\n'
    )
    page.write_text(text)
    parsed = parse_page(page)
    py, console, script, shown, file = parsed.blocks
    assert parsed.needs == ("openai-server",)
    assert (py.lang, py.body, py.line) == ("python", "x = 1\n", 4)
    assert console.exit == 3 and commands(console) == [("synthkit report a.jsonl --reference b.jsonl", "WARN ..."), ("echo hi", "hi")]
    assert script.skip == "it talks to a real provider" and commands(script) == [("synthkit generate in.jsonl -o out.jsonl --model m", "")]
    assert not shown.runs
    assert file.runs and (file.file, file.body) == ("pkg/pyproject.toml", "[project]\n")
    assert output_matches("400 inputs -> 9 kept (0.5 s)\n...", "400 inputs -> 9 kept (12.25 s)\n  dropped 3\n  more")
    assert not output_matches("hello", "goodbye")
    assert output_matches("...\nb\n...", "b\nc") and output_matches("...\nb", "a\nb") and not output_matches("...\nb", "a\nc")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<!-- docs-test: skip -->\n```python\nx\n```\n", "needs a reason"),
        ("<!-- docs-test: sometimes -->\n```python\nx\n```\n", "unknown docs-test comment"),
        ("```pyhton\nx\n```\n", "unknown code block language 'pyhton'"),
        ("<!-- docs-test: exit=2 -->\n", "not followed by a code block"),
    ],
)
def test_parser_rejects_what_it_does_not_understand(text: str, error: str, tmp_path: Path) -> None:
    """A malformed directive or an unknown language is an error naming the page, not a silently skipped block."""
    page = tmp_path / "bad.md"
    page.write_text(text)
    with pytest.raises(DocsSyntaxError, match=re.escape(error)):
        parse_page(page)
