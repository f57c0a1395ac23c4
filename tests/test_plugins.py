"""The plugin system: entry-point discovery, registries and their errors, hook coverage."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from synthkit import hookspecs
from synthkit.errors import DuplicateNameError, PluginLoadError, UnknownNameError
from synthkit.plugins import load_plugins

ROOT = Path(__file__).resolve().parents[1]


def make_distribution(where: Path, dist: str, module: str, source: str, ep_name: str | None = None) -> Path:
    """Write an installed-style distribution (module + .dist-info with a real entry point) into ``where``."""
    where.mkdir(parents=True, exist_ok=True)
    (where / f"{module}.py").write_text(textwrap.dedent(source))
    info = where / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[synthkit]\n{ep_name or module} = {module}\n")
    return where


HELLO = '''
    import synthkit as sk
    import synthkit.tools as sk_tools
    from synthkit import hookimpl

    class Hello(sk.Teacher):
        name = "hello"
        def __init__(self, greeting="hello"):
            self.greeting = greeting
            self.model = "hello-1"
        async def complete(self, messages, params, *, n=1):
            return [sk.Completion(text=f"{self.greeting}, {messages[-1]['content']}") for _ in range(n)]

    class Shout(sk.Verifier):
        name = "shout"
        async def verify(self, record):
            ok = record.response.isupper()
            return sk.Verdict(self.name, ok, "all caps" if ok else "not all caps")

    class NoEmpty(sk.Filter):
        name = "no-empty"
        def check(self, record):
            return sk.Verdict(self.name, bool(record.response), "empty response")

    class First(sk.Mixer):
        name = "first"
        def __init__(self):
            self._report = sk.MixReport(asked={}, produced={})
        def mix(self, sources, *, seed=0):
            for r in sources["synthetic"]:
                yield r
        @property
        def report(self):
            return self._report

    @hookimpl
    def register_teachers(register):
        register("hello", Hello, summary="greets")

    @hookimpl
    def register_templates(register):
        register("greet", lambda: sk.JinjaTemplate.from_string("Greet {{ prompt }}", name="greet"))

    @hookimpl
    def register_verifiers(register):
        register("shout", Shout)

    @hookimpl
    def register_filters(register):
        register("no-empty", NoEmpty)

    @hookimpl
    def register_mixers(register):
        register("first", First)

    class Inline(sk.Engine):
        name = "inline"
        def run(self, pipeline, sink=None, *, rejects=None, progress=None):
            return sk.get_engine("local").run(pipeline, sink, rejects=rejects, progress=progress)

    @hookimpl
    def register_engines(register):
        register("inline", Inline)

    class Pairs(sk.Exporter):
        name = "pairs"
        def convert(self, record):
            return {"q": record.prompt, "a": record.response}

    @hookimpl
    def register_exporters(register):
        register("pairs", Pairs)

    def double(x: int) -> int:
        """Double a number."""
        return 2 * x

    @hookimpl
    def register_tools(register):
        register("double", lambda: sk_tools.Tool.from_function(double))

    class Parrot(sk.Student):
        name = "parrot"
        def __init__(self, word="polly"):
            self.word = word
            self.seen = 0
        def train(self, records, *, seed, budget):
            trained = Parrot(self.word)
            trained.seen = min(len(records), budget)
            return trained
        def answer(self, prompts):
            return [f"{self.word} {p}" for p in prompts]

    @hookimpl
    def register_students(register):
        register("parrot", Parrot, summary="says one word")

    @hookimpl
    def register_commands(cli):
        @cli.command()
        def hello():
            """Say hello."""
            print("hello from a plugin")
'''


@pytest.fixture
def hello_dist(tmp_path, monkeypatch):
    """A third-party plugin distribution `synthkit-hello` on sys.path, found through its entry point."""
    where = make_distribution(tmp_path / "site", "synthkit-hello", "synthkit_hello", HELLO, ep_name="hello")
    monkeypatch.syspath_prepend(str(where))
    yield where
    sys.modules.pop("synthkit_hello", None)


def test_third_party_plugin_is_discovered_through_its_entry_point(hello_dist):
    """Every part a third-party plugin registers is found, attributed to its package and version."""
    plugins = load_plugins(only="hello")
    info = {i.name: i for i in plugins.infos()}["hello"]
    assert (info.package, info.version) == ("synthkit-hello", "1.2.3")
    assert info.parts == {
        "teachers": ["hello"], "templates": ["greet"], "verifiers": ["shout"], "filters": ["no-empty"], "mixers": ["first"],
        "engines": ["inline"], "exporters": ["pairs"], "tools": ["double"], "students": ["parrot"],
    }
    teacher = plugins.registries["teachers"].get("hello", greeting="hi")
    assert teacher.greeting == "hi"
    double = plugins.registries["tools"].get("double")
    assert double.name == "double" and double.function(3) == 6
    parrot = plugins.registries["students"].get("parrot", word="crackers")
    assert parrot.train([], seed=0, budget=5).answer(["q"]) == ["crackers q"]


def test_third_party_plugin_runs_in_a_pipeline(hello_dist, fresh_plugins, monkeypatch):
    """Parts from a plugin compose with the built-ins by name."""
    import synthkit as sk
    from synthkit.plugins import get_plugins, reset_plugins

    monkeypatch.setenv("SYNTHKIT_LOAD_PLUGINS", "hello")
    reset_plugins()
    get_plugins()
    recs = [sk.Record.create(prompt="WORLD", id="1"), sk.Record.create(prompt="world", id="2")]
    s = sk.Pipeline(recs).generate("hello", template="greet").filter("no-empty").run()
    assert s.kept == 2
    s = sk.Pipeline(recs).generate(sk.get_teacher("hello", greeting="HEY")).verify("shout").run()
    assert s.kept == 1 and s.dropped[("shout", "not all caps")] == 1
    s = sk.Pipeline(recs).generate(sk.get_teacher("hello", greeting="HEY")).verify("shout").run(engine="inline")
    assert s.kept == 1 and s.dropped[("shout", "not all caps")] == 1
    assert sk.get_exporter("pairs").convert(recs[0]) == {"q": "WORLD", "a": None}
    from synthkit.students import evaluate

    held = [sk.Record.create(prompt="A", data={"family": "x"}), sk.Record.create(prompt="b", data={"family": "y"})]
    student = sk.resolve("student", "parrot", word="HEY").train(recs, seed=0, budget=1)
    ev = evaluate(student, held, "shout")
    assert ev.accuracy == 0.5 and dict(ev.slices) == {"x": 1.0, "y": 0.0}


def test_plugins_command_lists_the_plugin_with_package(hello_dist):
    """`synthkit plugins` (a real subprocess) shows the plugin, its package, version and parts, and its command runs."""
    env = {**os.environ, "PYTHONPATH": str(hello_dist), "SYNTHKIT_LOAD_PLUGINS": "hello"}
    out = subprocess.run([sys.executable, "-m", "synthkit", "plugins"], env=env, capture_output=True, text=True, check=True).stdout
    assert "hello  (synthkit-hello 1.2.3)" in out
    assert re.search(r"teachers:\s+hello", out) and re.search(r"verifiers:\s+shout", out)
    out = subprocess.run([sys.executable, "-m", "synthkit", "hello"], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "hello from a plugin"


def test_load_plugins_env_restricts(hello_dist, monkeypatch):
    """SYNTHKIT_LOAD_PLUGINS='' loads no third-party plugin; naming it loads it."""
    monkeypatch.setenv("SYNTHKIT_LOAD_PLUGINS", "")
    assert "hello" not in load_plugins().dists
    monkeypatch.setenv("SYNTHKIT_LOAD_PLUGINS", "synthkit-hello")
    assert "hello" in load_plugins().dists


def test_duplicate_name_names_both_plugins(tmp_path, monkeypatch):
    """Two plugins registering the same teacher name is an error naming both plugins and packages."""
    src = '''
        from synthkit import hookimpl
        @hookimpl
        def register_teachers(register):
            register("twin", dict)
    '''
    make_distribution(tmp_path / "a", "pkg-one", "plug_one", src)
    make_distribution(tmp_path / "b", "pkg-two", "plug_two", src)
    monkeypatch.syspath_prepend(str(tmp_path / "a"))
    monkeypatch.syspath_prepend(str(tmp_path / "b"))
    with pytest.raises(DuplicateNameError) as info:
        load_plugins(only="plug_one,plug_two")
    msg = str(info.value)
    assert "teacher 'twin'" in msg and "plug_one" in msg and "plug_two" in msg
    assert "pkg-one" in msg and "pkg-two" in msg and "SYNTHKIT_LOAD_PLUGINS" in msg


def test_unknown_name_lists_available_and_closest(fresh_plugins):
    """An unknown name lists what exists and suggests the closest match."""
    import synthkit as sk

    with pytest.raises(UnknownNameError) as info:
        sk.get_template("cott")
    msg = str(info.value)
    assert "unknown template 'cott'" in msg and "Did you mean 'cot'?" in msg and "plain" in msg


def test_plugin_raising_at_import_is_named(tmp_path, monkeypatch):
    """A plugin that raises while it is imported is named, with its package, in the error."""
    make_distribution(tmp_path, "broken-pkg", "broken_plug", "raise RuntimeError('no config file')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginLoadError, match=r"plugin 'broken_plug' \(package broken-pkg.*no config file"):
        load_plugins(only="broken_plug")


def test_plugin_raising_while_registering_is_named(tmp_path, monkeypatch):
    """A plugin whose register hook raises is named in the error."""
    src = '''
        from synthkit import hookimpl
        @hookimpl
        def register_verifiers(register):
            raise KeyError("oops")
    '''
    make_distribution(tmp_path, "bad-reg", "bad_reg", src)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginLoadError, match=r"plugin 'bad_reg' \(package bad-reg\) raised in register_verifiers"):
        load_plugins(only="bad_reg")


def test_misspelled_hook_fails_loudly(tmp_path, monkeypatch):
    """check_pending() turns a misspelled hook implementation into an error naming the plugin."""
    src = '''
        from synthkit import hookimpl
        @hookimpl
        def register_teacher(register):
            pass
    '''
    make_distribution(tmp_path, "typo-pkg", "typo_plug", src)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginLoadError, match="typo_plug"):
        load_plugins(only="typo_plug")


def _hookspec_names():
    return sorted(n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("register_"))


def test_every_hookspec_is_exercised_by_a_test():
    """Meta-test: each hookspec is implemented by the test plugin above, so the tests exercise it."""
    for name in _hookspec_names():
        assert f"def {name}(" in HELLO, name


def test_every_hookspec_is_documented():
    """Meta-test: docs/plugins.md documents each hookspec with its signature."""
    doc = (ROOT / "docs" / "plugins.md").read_text()
    for name in _hookspec_names():
        params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
        assert f"### {name}({params})" in doc, name
