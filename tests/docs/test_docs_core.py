"""Code shown in the core docs runs as written."""

from __future__ import annotations

import re
import types
from pathlib import Path

import synthkit as sk
from synthkit.plugins import load_plugins

DOCS = Path(__file__).resolve().parents[2] / "docs"


def python_blocks(name: str) -> list[str]:
    """Return the ```python blocks of a docs page."""
    return re.findall(r"```python\n(.*?)```", (DOCS / name).read_text(), flags=re.S)


def test_plugins_page_examples_register_and_run():
    """The examples in docs/plugins.md form a working plugin: every part registers and runs."""
    mod = types.ModuleType("docs_plugin")
    exec(compile("\n".join(python_blocks("plugins.md")), "docs/plugins.md", "exec"), mod.__dict__)  # noqa: S102
    plugins = load_plugins(entry_points=False, extra=[mod])
    parts = {i.name: i.parts for i in plugins.infos()}["docs_plugin"]
    assert parts == {
        "teachers": ["hello"], "templates": ["greet"], "verifiers": ["shout"], "filters": ["no-empty"],
        "mixers": ["synthetic-only"], "engines": ["timed"], "exporters": ["prompt-completion"], "tools": ["word-count"], "students": ["majority"],
    }
    regs = plugins.registries
    recs = [sk.Record.create(prompt="ada", id="1")]
    s = (
        sk.Pipeline(recs)
        .generate(regs["teachers"].get("hello", greeting="HI"), template=regs["templates"].get("greet"))
        .filter(regs["filters"].get("no-empty"))
        .verify(regs["verifiers"].get("shout"))
        .run(engine=regs["engines"].get("timed"))
    )
    assert s.kept == 0 and s.dropped[("shout", "not all caps")] == 1
    mixer = regs["mixers"].get("synthetic-only")
    s = sk.Pipeline(recs).generate(regs["teachers"].get("hello")).mix(mixer).run()
    assert s.kept == 1 and mixer.report.produced == {"synthetic": 1}
    done = sk.Record.create(prompt="2+2?", response="4", id="2")
    assert regs["exporters"].get("prompt-completion").convert(done) == {"prompt": "2+2?", "completion": "4"}
    assert regs["tools"].get("word-count").function("three short words") == 3
