"""What a recipe runs after its pipeline (``then:``): the file commands ``select``, ``pairs`` and ``export``.

Each stage is one of those commands on files: it reads the file its first key names (the
pipeline's sink, or an earlier stage's output) and writes ``output``. Its options are the
Python function's (:func:`~synthkit.generators.sampling.select_samples`,
:func:`~synthkit.generators.pairs.make_pairs`, :func:`~synthkit.io.exporters.export`),
checked and converted as every part's options are (:func:`synthkit.plugins.check_options`)::

    then:
      - select: out/samples.jsonl      # synthkit select out/samples.jsonl -o out/kept.jsonl --verifier math
        output: out/kept.jsonl
        verifier: math
      - export: out/kept.jsonl         # synthkit export out/kept.jsonl -o out/sft.jsonl --format openai
        output: out/sft.jsonl
        format: openai
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Mapping
from typing import Any

import attrs

from synthkit._frozen import FrozenDict
from synthkit.errors import OptionError, UnknownNameError
from synthkit.plugins import check_options

__all__ = ["STAGES", "Stage", "stage"]

#: Stages by recipe name: (module, function). Each function takes the input file, then ``output=``.
STAGES: dict[str, tuple[str, str]] = {
    "select": ("synthkit.generators.sampling", "select_samples"),
    "pairs": ("synthkit.generators.pairs", "make_pairs"),
    "export": ("synthkit.io.exporters", "export"),
}

#: Options of the functions a recipe does not give: the command line is the recipe's, and a verifier's
#: options go with it (``verifier: {verifier: judge, threshold: 7}``).
_NOT_OPTIONS = ("command", "verifier_options")


def _function(kind: str) -> Any:
    module, name = STAGES[kind]
    return getattr(importlib.import_module(module), name)


@attrs.frozen
class Stage:
    """One stage of a recipe's ``then:``: the command ``kind`` on the file ``source``, writing ``options["output"]``."""

    kind: str
    source: str
    options: Mapping[str, Any] = attrs.field(converter=FrozenDict)

    @property
    def output(self) -> str:
        return str(self.options["output"])

    def label(self) -> str:
        """The command line the stage is, without ``synthkit`` (the plan's line, and the lineage's command)."""
        rest = [_flag(k, v) for k, v in self.options.items() if k != "output"]
        return " ".join([self.kind, self.source, "-o", self.output, *rest])

    def run(self, *, command: str | None = None) -> Any:
        """Run the stage; return what its function returns (a summary that prints as the command's)."""
        options = dict(self.options)
        if self.kind != "export":
            options["command"] = command
        return _function(self.kind)(self.source, **options)


def _flag(key: str, value: Any) -> str:
    """``--key value`` as the command takes it: ``--keep all`` for ``None``, a built verifier as ``--verifier NAME -O k=v``."""
    from synthkit._specs import spec_of

    flag = f"--{key.replace('_', '-')}"
    if key == "keep" and value is None:
        return f"{flag} all"
    spec = spec_of(value) if not isinstance(value, (str, int, float)) else None
    if spec is not None:
        return " ".join([flag, spec.name, *(f"-O {k}={_plain(v)}" for k, v in spec.plain_options().items())])
    return f"{flag} {_plain(value)}"


def _plain(value: Any) -> str:
    """A value as a command line writes it: a part (a teacher, a verifier) by its name."""
    name = getattr(value, "name", None)
    return name if isinstance(name, str) and not isinstance(value, str) else str(value)


def stage(kind: str, source: str, /, **options: Any) -> Stage:
    """Return the stage ``kind`` on the file ``source`` with checked ``options`` (``output`` is needed).

    Example: ``stage("select", "out/samples.jsonl", output="out/kept.jsonl", verifier="math", keep=1)``.

    Raises:
        UnknownNameError: no such stage (the message lists them).
        OptionError: no ``output``, an option the command does not take, or a value of the wrong type.
    """
    if kind not in STAGES:
        close = difflib.get_close_matches(kind, list(STAGES), n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        msg = f"unknown stage {kind!r}.{hint} Known: {', '.join(STAGES)}"
        raise UnknownNameError(msg)
    what = f"stage {kind!r}"
    for key in _NOT_OPTIONS:
        if key in options:
            msg = f"unknown option {key!r} for {what}: the recipe gives it (a verifier's options go in a mapping: verifier: {{verifier: NAME, ...}})"
            raise OptionError(msg)
    if "source" in options:
        msg = f"unknown option 'source' for {what}: the file it reads is the value of '{kind}:'"
        raise OptionError(msg)
    checked = check_options(_function(kind), options, what=what)
    if not checked.get("output"):
        msg = f"{what} needs an output: the file it writes (output: PATH)"
        raise OptionError(msg)
    checked["output"] = str(checked["output"])
    return Stage(kind, str(source), checked)
