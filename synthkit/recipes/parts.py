"""The parts a recipe names besides the registered ones: generator steps and sources, each built by name with checked options.

Registered parts (teachers, templates, verifiers, filters, mixers, engines) are built with
:func:`synthkit.plugins.resolve`, exactly as the CLI builds them. Generator steps and sources are
not registered kinds; :data:`GENERATORS` and :data:`SOURCES` name them, and :func:`generator` and
:func:`source` build them with the same option checks and typed conversion
(:func:`synthkit.plugins.check_options`).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from synthkit._frozen import FrozenDict
from synthkit._specs import remember
from synthkit.errors import OptionError, UnknownNameError
from synthkit.plugins import check_options, resolve

__all__ = ["GENERATORS", "SOURCES", "RecipeSource", "generator", "source"]

#: Generator steps by recipe name: (module, class).
GENERATORS: dict[str, tuple[str, str]] = {
    "generate": ("synthkit.generators.generate", "Generate"),
    "self-instruct": ("synthkit.generators.self_instruct", "SelfInstruct"),
    "evolve": ("synthkit.generators.evolve", "Evolve"),
    "structured": ("synthkit.generators.structured", "Structured"),
    "regenerate": ("synthkit.generators.regenerate", "Regenerate"),
}

#: Options of ``regenerate`` that are its own; the others build the ``generate`` step it repeats.
_REGENERATE_OWN = ("verifier", "attempts", "feedback", "name")

#: Options that make ``generate`` best-of-n (:class:`~synthkit.generators.sampling.BestOfN`, the CLI's
#: ``generate -n N --keep K --verifier V``): its ``n`` samples of each record verified, ``keep`` of them kept.
_BEST_OF_N = ("verifier", "keep", "by", "too_easy", "too_hard")


def _load(module: str, attr: str) -> Any:
    return getattr(importlib.import_module(module), attr)


def _unknown(what: str, name: str, names: list[str]) -> UnknownNameError:
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return UnknownNameError(f"unknown {what} {name!r}.{hint} Known: {', '.join(names)}")


def generator(name: str, /, **options: Any) -> Any:
    """Build the generator step ``name`` (``generate``, ``self-instruct``, ``evolve``, ``structured``, ``regenerate``).

    ``regenerate`` takes the options of the ``generate`` step it repeats (``teacher``,
    ``template``, ``params``, ``n``, ``cache``) beside its own (``verifier``, ``attempts``,
    ``feedback``). ``generate`` with a ``verifier`` is best-of-n, as ``synthkit generate -n N
    --keep K --verifier V``: each record's ``n`` samples are verified and ``keep`` (default 1;
    ``null``: every passing one) kept, the rest dropped with their reasons; ``by``,
    ``too_easy`` and ``too_hard`` are :class:`~synthkit.generators.sampling.BestOfN`'s. The step remembers what it was built from, so a pipeline holding it can be
    written as a recipe.

    Raises:
        UnknownNameError: no such generator step (the message lists them).
        OptionError: an option the step does not take, or a value of the wrong type.
    """
    if name not in GENERATORS:
        raise _unknown("generator step", name, sorted(GENERATORS))
    cls = _load(*GENERATORS[name])
    given = dict(options)
    try:
        if name == "regenerate":
            own = {k: given.pop(k) for k in _REGENERATE_OWN if k in given}
            if "verifier" not in own:
                msg = "step 'regenerate' needs a verifier: the check a sample must pass (e.g. verifier: math)"
                raise OptionError(msg)
            inner_cls = _load(*GENERATORS["generate"])
            inner = inner_cls(**check_options(inner_cls, given, what="step 'regenerate'"))
            own = check_options(cls, {"generate": inner, **own}, what="step 'regenerate'")
            built = cls(**own)
        elif name == "generate" and any(k in given for k in _BEST_OF_N):
            own = {k: given.pop(k) for k in _BEST_OF_N if k in given}
            if "verifier" not in own:
                msg = f"option {next(iter(own))!r} of step 'generate' keeps samples by a verifier; add verifier: NAME (e.g. verifier: math)"
                raise OptionError(msg)
            inner = cls(**check_options(cls, given, what="step 'generate'"))
            best = _load("synthkit.generators.sampling", "BestOfN")
            built = best(inner, **check_options(best, own, what="step 'generate' (best-of-n)"))
        else:
            built = cls(**check_options(cls, given, what=f"step {name!r}"))
    except OptionError:
        raise
    except (TypeError, ValueError) as exc:
        msg = f"step {name!r} cannot be built with {sorted(options) or 'no options'}: {exc}"
        raise OptionError(msg) from None
    return remember(built, "step", name, options)


def _problems(teacher: Any, n: int, seed: int = 0, difficulty: Any = 1, families: Any = None) -> Iterator[Any]:
    """``n`` problems of a teacher that makes its own (the ``procedural`` teacher's ``problems``)."""
    built = resolve("teacher", teacher) if isinstance(teacher, str) else teacher
    make = getattr(built, "problems", None)
    if make is None:
        msg = f"teacher {getattr(built, 'name', teacher)!r} makes no problems of its own; use a file source instead"
        raise OptionError(msg)
    return make(n, seed=seed, difficulty=difficulty, families=families)


def _rounds(n: int) -> Iterator[Any]:
    """``n`` trigger records for self-instruct, one request each."""
    return _load("synthkit.generators.self_instruct", "SelfInstruct").rounds(n)


def _documents(paths: Any, size: int = 1500, overlap: int = 0) -> Iterator[Any]:
    """One seed record per chunk of the text files under ``paths``."""
    return _load("synthkit.generators.chunking", "chunk_documents")(paths, size=size, overlap=overlap)


def _grid(attributes: Mapping[str, Any], sample: int | None = None, seed: int = 0) -> Iterator[Any]:
    """One seed record per combination of attribute values (or a seeded sample of them)."""
    return _load("synthkit.generators.grid", "attribute_grid")(attributes, sample=sample, seed=seed)


def _records(records: list[Any]) -> Iterator[Any]:
    """The records written in the recipe itself."""
    from synthkit.records import Record

    return (r if isinstance(r, Record) else Record.from_dict(r) for r in records)


#: Sources by recipe name; the value is the one option a short form (``rounds: 3``) gives.
SOURCES: dict[str, tuple[Any, str]] = {
    "problems": (_problems, "n"),
    "documents": (_documents, "paths"),
    "rounds": (_rounds, "n"),
    "grid": (_grid, "attributes"),
    "records": (_records, "records"),
}


@attrs.frozen
class RecipeSource:
    """A source a recipe describes by name (``problems``, ``documents``, ``rounds``, ``grid``, ``records``).

    Iterating it builds the records afresh each time, so a dry run and the run read the same ones.
    """

    kind: str
    options: Mapping[str, Any] = attrs.field(converter=FrozenDict)

    def __iter__(self) -> Iterator[Any]:
        return iter(SOURCES[self.kind][0](**self.options))


def source(kind: str, /, **options: Any) -> RecipeSource:
    """Return the source ``kind`` with checked ``options`` (e.g. ``source("documents", paths="docs", size=800)``).

    Raises:
        UnknownNameError: no such source kind.
        OptionError: an option it does not take, a value of the wrong type, or a missing one.
    """
    if kind not in SOURCES:
        raise _unknown("source", kind, sorted(SOURCES))
    func = SOURCES[kind][0]
    checked = check_options(func, options, what=f"source {kind!r}")
    import inspect

    missing = [p.name for p in inspect.signature(func).parameters.values() if p.default is p.empty and p.name not in checked]
    if missing:
        msg = f"source {kind!r} needs {', '.join(missing)}"
        raise OptionError(msg)
    return RecipeSource(kind, checked)
