"""The generating step for a template name: the one the CLI's ``generate`` runs.

Most templates only shape the request, so :class:`~synthkit.generators.generate.Generate`
runs them. Two are strategies whose output is not an answer: ``self-instruct`` runs
:class:`~synthkit.generators.self_instruct.SelfInstruct` (one record per new task, not one
numbered list per record) and ``evol-instruct`` runs
:class:`~synthkit.generators.evolve.Evolve` (the rewritten prompt, without the
``#Rewritten Prompt#:`` label, as the record's prompt).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from synthkit.errors import OptionError
from synthkit.interfaces import Generator, Teacher

__all__ = ["STRATEGIES", "generator_for"]

#: The template names that run a generator of their own, and the template options each takes.
STRATEGIES: dict[str, tuple[str, ...]] = {
    "self-instruct": ("seeds", "num_tasks", "examples"),
    "evol-instruct": ("operator",),
}


def _only(name: str, options: Mapping[str, Any]) -> None:
    unknown = sorted(set(options).difference(STRATEGIES[name]))
    if unknown:
        msg = f"unknown template option(s) {unknown} for {name!r}; it takes {', '.join(STRATEGIES[name])}"
        raise OptionError(msg)


def generator_for(
    teacher: Teacher | str,
    template: str | None = None,
    *,
    template_options: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    n: int = 1,
    cache: str | Path | None = None,
    seeds: Sequence[str] | str | Path | None = None,
    batch: bool | str = False,
    batch_options: Mapping[str, Any] | None = None,
) -> Generator:
    """Return the step that generates with ``template`` (a name or file; ``None``: the records' own prompts).

    Args:
        teacher: a teacher or registered name.
        template: the template; ``"self-instruct"`` and ``"evol-instruct"`` run their strategies.
        template_options: the template's options: for ``self-instruct`` ``seeds`` (a JSONL
            path or a list; default ``seeds=``), ``num_tasks`` and ``examples``; for
            ``evol-instruct`` ``operator`` (one of the operators, ``depth``, or a list;
            default depth and breadth); any other template's own options.
        params: sampling parameters.
        n: samples per record (``Generate`` only: the strategies make one request per record).
        cache: the response cache file.
        seeds: self-instruct's seed tasks when ``template_options`` names none (the CLI gives the input file).
        batch: send the requests through the provider's batch API (``True``, or ``"auto"``: when
            enough are waiting); ``Generate`` only.
        batch_options: options of the batch mode (``poll_interval``...).

    Raises:
        OptionError: an option the template does not take, ``-n`` with a strategy, or self-instruct without seeds.
    """
    from synthkit.plugins import resolve

    opts = dict(template_options or {})
    if template in STRATEGIES:
        _only(template, opts)
        if batch:
            msg = f"--batch does not apply to {template}: its requests depend on each other's answers"
            raise OptionError(msg)
        if n != 1:
            msg = f"-n {n} does not apply to {template}: it makes one request per record (self-instruct: ask for more with num_tasks=N)"
            raise OptionError(msg)
        t: Teacher = resolve("teacher", teacher)
        if cache is not None:
            from synthkit.teachers.cache import CachedTeacher

            t = CachedTeacher(t, cache)
        if template == "self-instruct":
            from synthkit.generators.self_instruct import SelfInstruct

            chosen = opts.pop("seeds", seeds)
            if chosen is None:
                raise OptionError("self-instruct needs seed tasks: --template-option seeds=SEEDS.jsonl")
            return SelfInstruct(t, chosen, params=params or None, **{k: int(v) for k, v in opts.items()})
        from synthkit.generators.evolve import Evolve

        ops = opts.get("operator", ("depth", "breadth"))
        try:
            return Evolve(t, [ops] if isinstance(ops, str) else list(ops), params=params)
        except ValueError as exc:
            raise OptionError(f"--template-option operator: {exc}") from None
    from synthkit.generators.generate import Generate

    tmpl = None if template is None else resolve("template", template, **opts)
    if template is None and opts:
        raise OptionError(f"template options {sorted(opts)} were given without --template")
    return Generate(teacher, tmpl, params, n=n, cache=cache, batch=batch, batch_options=batch_options)
