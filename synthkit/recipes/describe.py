"""Writing a plan down as a recipe: the inverse of :func:`~synthkit.recipes.recipe.read_recipe`.

Every part must have been built by name (``resolve``, ``get_teacher``, a pipeline method given
a name, :func:`~synthkit.recipes.parts.generator`): its name and options are what the recipe
says. API keys are never written; a teacher reads its key from the environment as usual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from synthkit._specs import spec_of
from synthkit.errors import RecipeError
from synthkit.pipeline.plan import FilterStep, GeneratorStep, Plan, VerifyStep
from synthkit.recipes._yaml import dump
from synthkit.recipes.parts import RecipeSource
from synthkit.recipes.stages import Stage
from synthkit.records import Record

__all__ = ["HEADER", "describe_plan", "recipe_text"]

HEADER = "# A synthkit recipe: run it with `synthkit run FILE` (`--dry-run` prints the plan and the cost).\n"

#: Never written to a recipe: a secret, or a live object.
_SECRET = frozenset({"api_key"})

_DEFAULTS = {"seed": 0, "concurrency": 16, "on_bad_line": "stop", "queue_size": 256, "grace": 30.0, "hold": 10_000}

_FIX = "build it by name (sk.get_teacher(NAME, ...), .verify(NAME, ...), synthkit.recipes.generator(NAME, ...)) so a recipe can name it"


class _Writer:
    def __init__(self) -> None:
        self.teachers: dict[str, dict[str, Any]] = {}
        self._names: dict[int, str] = {}

    def teacher(self, teacher: Any, where: str) -> str:
        """Return the name of ``teacher`` in the recipe's ``teachers:`` table, adding it once."""
        if id(teacher) in self._names:
            return self._names[id(teacher)]
        spec = spec_of(teacher)
        if spec is None:
            msg = f"{where}: the teacher {getattr(teacher, 'name', teacher)!r} was built in Python; {_FIX}"
            raise RecipeError(msg)
        name, i = spec.name, 1
        while name in self.teachers:
            i += 1
            name = f"{spec.name}-{i}"
        options = {k: self.value(v, f"{where}: teacher option {k!r}") for k, v in spec.plain_options().items() if k not in _SECRET}
        self.teachers[name] = {"teacher": spec.name, **options}
        self._names[id(teacher)] = name
        return name

    def value(self, value: Any, where: str) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, Mapping):
            return {str(k): self.value(v, where) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v, where) for v in value]
        spec = spec_of(value)
        if spec is not None and spec.kind == "teacher":
            return self.teacher(value, where)
        if spec is not None:
            return {spec.kind: spec.name, **self.options(spec.plain_options(), where)}
        msg = f"{where} holds a {type(value).__name__}, which a recipe cannot write; {_FIX}"
        raise RecipeError(msg)

    def options(self, options: Mapping[str, Any], where: str) -> dict[str, Any]:
        return {k: self.value(v, f"{where}, option {k!r}") for k, v in options.items() if k not in _SECRET}

    def generator(self, gen: Any, where: str) -> dict[str, Any]:
        spec = spec_of(gen)
        if spec is not None:
            options = spec.plain_options()
            teacher = options.pop("teacher", None)
            head = None if teacher is None else (self.teacher(teacher, where) if not isinstance(teacher, str) else teacher)
            return {spec.name: head, **self.options(options, where)}
        from synthkit.generators.generate import Generate
        from synthkit.generators.sampling import BestOfN

        if type(gen) is BestOfN and type(gen.step) is Generate:  # best-of-n built in Python: generate with a verifier
            out = self.generator(gen.step, where)
            verifier = self.value(gen.verifier, f"{where}, verifier")
            out["verifier"] = verifier["verifier"] if len(verifier) == 1 else verifier  # no options: its name alone
            for key, default in (("keep", 1), ("by", "first"), ("too_easy", None), ("too_hard", None)):
                if getattr(gen, key) != default:
                    out[key] = getattr(gen, key)
            return out
        if type(gen) is Generate:
            teacher, cache = gen.teacher, None
            inner = getattr(teacher, "teacher", None)
            if inner is not None and hasattr(getattr(teacher, "cache", None), "path"):
                teacher, cache = inner, str(teacher.cache.path)
            out: dict[str, Any] = {"generate": self.teacher(teacher, where)}
            if gen.template is not None:
                out["template"] = self.value(gen.template, f"{where}, template")
            if gen.params:
                out["params"] = self.value(dict(gen.params), f"{where}, params")
            if gen.n != 1:
                out["n"] = gen.n
            if cache is not None:
                out["cache"] = cache
            if gen.name != f"generate:{gen.teacher.name}":
                out["name"] = gen.name
            return out
        msg = f"{where}: the {type(gen).__name__} step was built in Python; {_FIX}"
        raise RecipeError(msg)

    def part(self, kind: str, part: Any, where: str) -> dict[str, Any]:
        spec = spec_of(part)
        if spec is None:
            msg = f"{where}: the {kind} {getattr(part, 'name', type(part).__name__)!r} was built in Python; {_FIX}"
            raise RecipeError(msg)
        return {kind: spec.name, **self.options(spec.plain_options(), where)}

    def source(self, src: Any) -> Any:
        if isinstance(src, (str, Path)):
            return str(src)
        if isinstance(src, RecipeSource):
            return {src.kind: self.options(dict(src.options), f"source {src.kind!r}")}
        if isinstance(src, (list, tuple)) and all(isinstance(r, Record) for r in src):
            return {"records": [r.to_dict() for r in src]}
        msg = (
            f"the pipeline's source is a {type(src).__name__}, which a recipe cannot write; give a file path, a list of "
            f"records, or synthkit.recipes.source(KIND, ...) (problems, documents, rounds, grid)"
        )
        raise RecipeError(msg)


def describe_plan(
    plan: Plan, *, sink: str | Path | None = None, rejects: str | Path | None = None, engine: Any = "local", then: Sequence[Stage] = ()
) -> dict[str, Any]:
    """Return the recipe of ``plan`` (and of where its output goes, and the ``then`` stages after it) as plain values.

    Raises:
        RecipeError: a part was built in Python rather than by name, or the source is an
            iterator; the message names the step and the fix.
    """
    w = _Writer()
    steps: list[dict[str, Any]] = []
    for i, step in enumerate(plan.steps, 1):
        where = f"step {i} ({step.name})"
        if isinstance(step, GeneratorStep):
            steps.append(w.generator(step.generator, where))
        elif isinstance(step, VerifyStep):
            steps.append({"verify" if k == "verifier" else k: v for k, v in w.part("verifier", step.verifier, where).items()})
        elif isinstance(step, FilterStep):
            steps += [{"filter" if k == "filter" else k: v for k, v in w.part("filter", f, where).items()} for f in step.filters]
    stages = [{s.kind: s.source, **w.options(dict(s.options), f"then stage {i} ({s.kind})")} for i, s in enumerate(then, 1)]
    out: dict[str, Any] = {"source": w.source(plan.source)}
    for key, default in _DEFAULTS.items():
        value = getattr(plan, key)
        if key == "seed" or value != default:
            out[key] = value
    out["steps"] = steps
    if plan.mix is not None:
        mixer = w.part("mixer", plan.mix.mixer, "mix")
        sources = {}
        for name, src in plan.mix.sources.items():
            if not isinstance(src, (str, Path)):
                msg = f"mix source {name!r} is a {type(src).__name__}; a recipe names mix sources by file path"
                raise RecipeError(msg)
            sources[name] = str(src)
        out["mix"] = {**mixer, "sources": sources}
    if w.teachers:
        out = {"teachers": w.teachers, **out}
    if sink is not None:
        out["sink"] = str(sink)
    if rejects is not None:
        out["rejects"] = str(rejects)
    if isinstance(engine, str):
        if engine != "local":
            out["engine"] = engine
    else:
        spec = w.part("engine", engine, "engine")
        out["engine"] = spec["engine"] if len(spec) == 1 else spec
    if stages:
        out["then"] = stages
    return out


def recipe_text(values: Mapping[str, Any]) -> str:
    """Return recipe ``values`` as the text of a recipe file."""
    return HEADER + dump(dict(values))
