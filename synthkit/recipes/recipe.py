"""Reading a recipe file: a whole pipeline (source, steps, mix, sink, rejects, engine, budget) written as YAML.

Every part is named as on the CLI and built the same way (:func:`synthkit.plugins.resolve`, so
options are checked and converted exactly as the CLI checks them); every error names the file,
line and column, and the fix. See ``docs/recipes.md`` for the format.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from synthkit._frozen import FrozenDict
from synthkit.errors import OptionError, RecipeError, SynthkitError, UnknownNameError
from synthkit.plugins import convert_option, get_plugins, option_names, resolve
from synthkit.recipes._yaml import Doc, Path_, parse
from synthkit.recipes.parts import GENERATORS, SOURCES, generator, source
from synthkit.recipes.stages import STAGES, Stage, stage

__all__ = ["SETTINGS", "TOP_KEYS", "Recipe", "read_recipe"]

#: The run settings a recipe may give, with their types (the :class:`~synthkit.Pipeline` arguments).
SETTINGS: dict[str, type] = {"seed": int, "concurrency": int, "on_bad_line": str, "queue_size": int, "grace": float, "hold": int}

#: Every top-level key of a recipe.
TOP_KEYS = ("source", *SETTINGS, "teachers", "steps", "mix", "sink", "rejects", "engine", "budget", "then")

#: Step kinds besides the generator steps, and the kind of part each names.
_CHECKS = {"verify": "verifier", "filter": "filter"}

#: Options of steps and parts whose value is itself a part, by option name.
_PART_OPTIONS = {"teacher": "teacher", "template": "template", "verifier": "verifier"}


@attrs.frozen
class Recipe:
    """A recipe read and built: everything a run needs, parts already constructed.

    Attributes:
        path: the recipe file.
        source: what the run reads: a path, or a :class:`~synthkit.recipes.parts.RecipeSource`.
        steps: the built generator, verifier and filter steps, in order.
        labels: one line per step, for the plan a dry run prints.
        mix: ``(mixer, sources)`` or ``None``.
        settings: the :class:`~synthkit.Pipeline` settings given (seed, concurrency...).
        sink: the file for kept records (``None``: not written).
        rejects: the file for dropped and failed records (``None``: not written).
        engine: the built engine.
        budget: the run's budget in dollars, given to each paid teacher that sets none itself.
        then: the file commands run after the pipeline, in order (:mod:`~synthkit.recipes.stages`).
    """

    path: str
    source: Any
    steps: tuple[Any, ...]
    labels: tuple[str, ...]
    mix: tuple[Any, Mapping[str, Any]] | None
    settings: Mapping[str, Any] = attrs.field(converter=FrozenDict)
    sink: str | None = None
    rejects: str | None = None
    engine: Any = None
    budget: float | None = None
    then: tuple[Stage, ...] = ()

    def describe(self) -> str:
        """The plan, as a dry run prints it."""
        lines = [f"recipe {self.path}", f"  source: {_label_source(self.source)}"]
        lines += [f"  {i}. {label}" for i, label in enumerate(self.labels, 1)]
        if self.mix is not None:
            mixer, sources = self.mix
            lines.append(f"  mix: {mixer.name} with {', '.join(f'{k} ({v})' for k, v in sources.items()) or 'no other source'}")
        settings = ", ".join(f"{k} {v}" for k, v in self.settings.items())
        lines.append(f"  sink: {self.sink or '(not written)'}; rejects: {self.rejects or '(not written)'}; engine: {getattr(self.engine, 'name', self.engine)}")
        if settings:
            lines.append(f"  settings: {settings}")
        if self.budget is not None:
            lines.append(f"  budget: ${self.budget:g}")
        if self.then:
            lines.append("  then:")
            lines += [f"    {i}. {s.label()}" for i, s in enumerate(self.then, 1)]
        return "\n".join(lines)


def _label_source(src: Any) -> str:
    if isinstance(src, (str, Path)):
        return str(src)
    opts = ", ".join(f"{k} {_short(v)}" for k, v in src.options.items())
    return f"{src.kind} ({opts})" if opts else src.kind


def _short(value: Any) -> str:
    if hasattr(value, "name") and not isinstance(value, (str, Mapping)):
        return str(value.name)
    if isinstance(value, Mapping):
        for kind in _PART_OPTIONS:
            if isinstance(value.get(kind), str):
                return value[kind]
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


def _label(kind: str, name: str | None, options: Mapping[str, Any]) -> str:
    opts = ", ".join(f"{k}={_short(v)}" for k, v in options.items())
    head = f"{kind} {name}" if name else kind
    return f"{head} ({opts})" if opts else head


class _Builder:
    """Builds a recipe's parts from its :class:`Doc`, pointing every error at its place."""

    def __init__(self, doc: Doc, *, dry_run: bool) -> None:
        self.doc = doc
        self.dry_run = dry_run
        self.budget: float | None = None
        self.teachers: dict[str, Any] = {}

    # -- errors ---------------------------------------------------------------------------

    def fail(self, path: Path_, message: str, *, key: bool = False) -> RecipeError:
        return self.doc.error(path, message, key=key)

    def located(self, exc: SynthkitError, path: Path_, options: Mapping[str, Any], name_path: Path_) -> RecipeError:
        """Point an error from building a part at the option it names, or at the part's name."""
        text = str(exc)
        if isinstance(exc, UnknownNameError):
            for key in options:  # a verifier or template an option names by a name that does not exist
                if key in ("verifier", "template") and text.startswith(f"unknown {key} "):
                    return self.fail((*path, key), text)
            return self.fail(name_path, text)
        for key in options:
            if text.startswith(f"unknown option {key!r}"):
                return self.fail((*path, key), text, key=True)
            if f"option {key!r} " in text:
                return self.fail((*path, key), text)
        return self.fail(name_path, text)

    def check_mapping(self, value: Any, path: Path_, what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"{what} must be a mapping (key: value lines), got {type(value).__name__}")
        return value

    # -- parts ----------------------------------------------------------------------------

    def part(self, kind: str, value: Any, path: Path_, name_path: Path_ | None = None) -> Any:
        """Build the part ``kind`` from ``name`` or ``{kind: name, option: value...}`` at ``path``."""
        if kind == "teacher":
            return self.teacher(value, path)
        if isinstance(value, str):
            name, options, name_path = value, {}, path
        elif isinstance(value, dict) and isinstance(value.get(kind), str):
            name = value[kind]
            options = {k: v for k, v in value.items() if k != kind}
            name_path = name_path or (*path, kind)
        else:
            raise self.fail(path, f"a {kind} is a name (e.g. {kind}: NAME) or a mapping with a {kind!r} key and its options")
        options = self.options(options, path)
        try:
            return resolve(kind, name, **options)
        except SynthkitError as exc:
            raise self.located(exc, path, options, name_path) from None

    def teacher(self, value: Any, path: Path_) -> Any:
        """A teacher: a name from ``teachers:``, a registered name, or ``{teacher: NAME, option: value...}``."""
        if isinstance(value, str) and value in self.teachers:
            return self.teachers[value]
        if isinstance(value, str):
            name, options, name_path = value, {}, path
        elif isinstance(value, dict) and isinstance(value.get("teacher"), str):
            name, options, name_path = value["teacher"], {k: v for k, v in value.items() if k != "teacher"}, (*path, "teacher")
        else:
            known = f" (the recipe's teachers: {', '.join(self.teachers)})" if self.teachers else ""
            raise self.fail(path, f"a teacher is a name{known} or a mapping with a 'teacher' key naming the plugin, e.g. {{teacher: openai, model: gpt-4o-mini}}")
        options = self.options(options, path)
        if self.budget is not None and not self.dry_run and "budget" not in options:
            try:
                entry = get_plugins().registries["teachers"].entry(name)
                takes = option_names(entry.factory)
            except UnknownNameError:
                takes = None
            if takes is not None and "budget" in takes:
                options["budget"] = self.budget
        try:
            return resolve("teacher", name, **options)
        except SynthkitError as exc:
            raise self.located(exc, path, options, name_path) from None

    def options(self, options: Mapping[str, Any], path: Path_) -> dict[str, Any]:
        """Build the options whose values are parts (``teacher``, ``template``, ``verifier``) given as mappings or recipe names."""
        out = {}
        for key, value in options.items():
            if not isinstance(key, str):
                raise self.fail((*path, key), f"an option name must be text, got {key!r}", key=True)
            kind = _PART_OPTIONS.get(key)
            if kind == "teacher" and (isinstance(value, dict) or (isinstance(value, str) and value in self.teachers)):
                value = self.teacher(value, (*path, key))
            elif kind is not None and isinstance(value, dict) and kind in value:
                value = self.part(kind, value, (*path, key))
            out[key] = value
        return out

    # -- sections -------------------------------------------------------------------------

    def source(self, value: Any, path: Path_) -> Any:
        if isinstance(value, str):
            return value
        if not isinstance(value, dict) or len(value) != 1:
            raise self.fail(path, f"source is a file path, or a mapping with one of {', '.join(SOURCES)} (e.g. source: {{rounds: 3}})")
        ((kind, opts),) = value.items()
        if kind == "path":
            return str(opts)
        if kind not in SOURCES:
            close = difflib.get_close_matches(str(kind), [*SOURCES, "path"], n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise self.fail((*path, kind), f"unknown source {kind!r}{hint} sources: path, {', '.join(SOURCES)}", key=True)
        if not isinstance(opts, dict) or (kind == "grid" and "attributes" not in opts) or (kind == "records" and isinstance(opts, list)):
            opts = {SOURCES[kind][1]: opts}
        opts = self.options(opts, (*path, kind))
        try:
            return source(kind, **opts)
        except SynthkitError as exc:
            raise self.located(exc, (*path, kind), opts, (*path, kind)) from None

    def headed(self, value: Any, path: Path_, kinds: list[str], noun: str, example: str) -> tuple[str, Any]:
        """The kind (a step's or stage's first key, one of ``kinds``) and its value; errors list the kinds."""
        if not isinstance(value, dict) or not value:
            raise self.fail(path, f"a {noun} is a mapping whose first key is one of {', '.join(kinds)}{example}")
        kind, head = next(iter(value.items()))
        if kind not in kinds:
            close = difflib.get_close_matches(str(kind), kinds, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise self.fail((*path, kind), f"unknown {noun} {kind!r}{hint} {noun}s: {', '.join(kinds)} (the {noun}'s kind comes first)", key=True)
        return kind, head

    def step(self, value: Any, path: Path_) -> tuple[Any, str]:
        if isinstance(value, str):
            value = {value: None}
        kind, head = self.headed(value, path, [*GENERATORS, *_CHECKS], "step", ", e.g. '- verify: math'")
        options = {k: v for k, v in value.items() if k != kind}
        if kind in _CHECKS:
            if not isinstance(head, str):
                raise self.fail((*path, kind), f"'{kind}:' names the {_CHECKS[kind]}, e.g. '- {kind}: {'math' if kind == 'verify' else 'length'}'; its options go on the lines below")
            built = self.part(_CHECKS[kind], {_CHECKS[kind]: head, **options}, path, (*path, kind))
            return built, _label(kind, head, options)
        # a generator step: its value is the teacher, unless the options name one
        if head is not None:
            if "teacher" in options:
                raise self.fail((*path, "teacher"), f"the teacher is given twice: '{kind}: {head}' and 'teacher:'; keep one", key=True)
            options = {"teacher": head, **options}
            where = {**{k: (*path, k) for k in options}, "teacher": (*path, kind)}
        else:
            where = {k: (*path, k) for k in options}
        built_opts = {}
        for key, v in options.items():
            p = where[key]
            kind_of = _PART_OPTIONS.get(key)
            if kind_of == "teacher":
                v = self.teacher(v, p)
            elif kind_of is not None and isinstance(v, dict) and kind_of in v:
                v = self.part(kind_of, v, p)
            built_opts[key] = v
        try:
            built = generator(kind, **built_opts)
        except SynthkitError as exc:
            raise self.located(exc, path, options, (*path, kind)) from None
        return built, _label(kind, None, options)

    def mix(self, value: Any, path: Path_) -> tuple[Any, dict[str, Any]]:
        value = self.check_mapping(value, path, "mix")
        sources = value.get("sources", {})
        if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
            raise self.fail((*path, "sources"), "mix sources map a name to a file, e.g. sources: {real: real.jsonl}")
        if "mixer" not in value:
            raise self.fail(path, "mix needs a 'mixer' key naming the mixer, e.g. mixer: ratio")
        rest = {k: v for k, v in value.items() if k != "sources"}
        return self.part("mixer", rest, path), dict(sources)

    def engine(self, value: Any, path: Path_) -> Any:
        return self.part("engine", value, path)

    def stage(self, value: Any, path: Path_) -> Stage:
        """A ``then:`` stage: ``{select|pairs|export: INPUT, output: PATH, option: value...}``."""
        kind, head = self.headed(value, path, list(STAGES), "stage", " and names the file it reads, e.g. '- export: out.jsonl'")
        if not isinstance(head, str):
            raise self.fail((*path, kind), f"'{kind}:' names the file the stage reads (the sink, or an earlier stage's output), e.g. '- {kind}: out.jsonl'")
        options = self.options({k: v for k, v in value.items() if k != kind}, path)
        try:
            return stage(kind, head, **options)
        except SynthkitError as exc:
            raise self.located(exc, path, options, (*path, kind)) from None


def read_recipe(path: str | Path, *, dry_run: bool = False) -> Recipe:
    """Read the recipe file ``path`` and build its parts.

    Args:
        path: a YAML recipe.
        dry_run: build the teachers without the recipe's budget (a dry run spends nothing;
            a budget on a model with no known price would refuse to build).

    Raises:
        RecipeError: the file is missing or malformed, or names a part, option or value that does
            not exist or does not fit; the message starts with ``file:line:column`` and says the fix.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"recipe {file} does not exist"
        raise RecipeError(msg) from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        msg = f"recipe {file} cannot be read: {exc}"
        raise RecipeError(msg) from None
    return build_recipe(parse(text, file), dry_run=dry_run)


def build_recipe(doc: Doc, *, dry_run: bool = False) -> Recipe:
    """Build a :class:`Recipe` from a parsed document (see :func:`read_recipe`)."""
    b = _Builder(doc, dry_run=dry_run)
    top = b.check_mapping(doc.values, (), "a recipe")
    for key in top:
        if key not in TOP_KEYS:
            close = difflib.get_close_matches(str(key), TOP_KEYS, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise b.fail((key,), f"unknown recipe key {key!r}{hint} keys: {', '.join(TOP_KEYS)}", key=True)
    for needed in ("source", "steps"):
        if needed not in top:
            raise b.fail((), f"the recipe has no {needed!r}; add one (see docs/recipes.md)")
    settings = {}
    for key, kind in SETTINGS.items():
        if key in top:
            try:
                settings[key] = convert_option(top[key], kind, f"recipe key {key!r}")
            except OptionError as exc:
                raise b.fail((key,), str(exc)) from None
    if settings.get("on_bad_line", "stop") not in ("stop", "skip"):
        raise b.fail(("on_bad_line",), f"on_bad_line is 'stop' or 'skip', got {settings['on_bad_line']!r}")
    for key in ("concurrency", "queue_size", "hold"):
        if key in settings and settings[key] < 1:
            raise b.fail((key,), f"{key} must be at least 1, got {settings[key]}")
    if "budget" in top:
        try:
            b.budget = convert_option(top["budget"], float, "recipe key 'budget'")
        except OptionError as exc:
            raise b.fail(("budget",), str(exc)) from None
        if b.budget is not None and b.budget < 0:
            raise b.fail(("budget",), f"budget is dollars, at least 0, got {b.budget}")
    teachers = b.check_mapping(top.get("teachers", {}), ("teachers",), "teachers")
    for name, spec in teachers.items():
        b.teachers[str(name)] = b.teacher(spec, ("teachers", name))
    src = b.source(top["source"], ("source",))
    if isinstance(src, str) and src != "-" and not Path(src).exists():
        raise b.fail(("source",), f"the source file {src} does not exist (relative paths are relative to the current folder, {Path.cwd()})")
    steps_value = top["steps"]
    if not isinstance(steps_value, list) or not steps_value:
        raise b.fail(("steps",), "steps is a list of steps, each on a line starting with '- ', e.g. '- verify: math'")
    steps, labels = [], []
    for i, item in enumerate(steps_value):
        built, label = b.step(item, ("steps", i))
        steps.append(built)
        labels.append(label)
    mix = b.mix(top["mix"], ("mix",)) if top.get("mix") is not None else None
    for key in ("sink", "rejects"):
        if top.get(key) is not None and not isinstance(top[key], str):
            raise b.fail((key,), f"{key} is a file path, got {top[key]!r}")
    engine = b.engine(top.get("engine", "local"), ("engine",))
    then_value = top.get("then") or []
    if not isinstance(then_value, list):
        raise b.fail(("then",), "then is a list of stages, each on a line starting with '- ', e.g. '- export: out.jsonl'")
    then = tuple(b.stage(item, ("then", i)) for i, item in enumerate(then_value))
    return Recipe(
        path=doc.file,
        source=src,
        steps=tuple(steps),
        labels=tuple(labels),
        mix=mix,
        settings=settings,
        sink=top.get("sink"),
        rejects=top.get("rejects"),
        engine=engine,
        budget=b.budget,
        then=then,
    )
