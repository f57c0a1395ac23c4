"""Running a recipe, or estimating it: what ``synthkit run`` calls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from synthkit.generators.sampling import BestOfN
from synthkit.pipeline.builder import Pipeline
from synthkit.pipeline.engine import ProgressReporter
from synthkit.pipeline.summary import Summary
from synthkit.recipes.recipe import Recipe, read_recipe

__all__ = ["estimate_recipe", "pipeline_of", "run_recipe"]


def pipeline_of(recipe: Recipe, *, command: str | None = None) -> Pipeline:
    """Return the :class:`~synthkit.Pipeline` a read recipe describes (:meth:`Pipeline.from_recipe`)."""
    return Pipeline.from_recipe(recipe, command=command)


def run_recipe(
    path: str | Path,
    *,
    progress: ProgressReporter | None = None,
    command: str | None = None,
    echo: Callable[[str], Any] | None = None,
) -> Summary:
    """Run the recipe file ``path`` to the end; return the run's :class:`~synthkit.pipeline.summary.Summary`.

    The sink, rejects file, engine and budget are the recipe's. Errors in the recipe raise
    :class:`~synthkit.errors.RecipeError` (``file:line:column``) before anything runs. When the
    run finished (not stopped early), the recipe's ``then:`` stages run in order, each result
    told to ``echo`` (a stopped run leaves them: re-run the recipe to resume, then they run). What a
    stage writes names, in its lineage, the command the stage is (``synthkit select ...``).
    """
    recipe = read_recipe(path)
    command = command or f"synthkit run {path}"
    pipe = pipeline_of(recipe, command=command)
    summary = pipe.run(sink=recipe.sink, rejects=recipe.rejects, progress=progress, engine=recipe.engine)
    if summary.stopped is None:
        for i, stage in enumerate(recipe.then, 1):
            result = stage.run(command=f"synthkit {stage.label()}")
            if echo is not None:
                echo(f"then {i}. {stage.label()}\n{result}")
    elif recipe.then and echo is not None:
        echo(f"the run stopped early, so the {len(recipe.then)} stage(s) after it did not run; re-run the recipe to resume")
    return summary


def estimate_recipe(path: str | Path, *, echo: Callable[[str], Any] = print) -> Recipe:
    """Print the plan of the recipe file ``path`` and the cost estimate of its generator steps; send nothing.

    Each step that can estimate itself (``generate``) is estimated as if every source record
    reached it, an upper bound when steps before it fan out no records. Steps that ask a
    teacher but cannot estimate (judges, self-instruct, evolve) are named, not estimated.
    """
    recipe = read_recipe(path, dry_run=True)
    echo(recipe.describe())
    echo("cost estimate (nothing was sent):")
    total: float | None = 0.0
    for i, (step, label) in enumerate(zip(recipe.steps, recipe.labels), 1):
        estimate = getattr(step, "estimate", None)
        if estimate is None and isinstance(step, BestOfN) and not step.verifier.teachers():
            estimate = getattr(step.step, "estimate", None)  # best-of-n with a free verifier costs what its samples cost
        teachers = step.teachers() if hasattr(step, "teachers") else ()
        if estimate is not None:
            est = estimate(recipe.source)
            lines = str(est).splitlines()[1:]
            note = "" if i == 1 else " (if every source record reaches it)"
            echo(f"  step {i}, {label.split(' (')[0]}{note}:")
            echo("\n".join("  " + line for line in lines))
            total = None if total is None or est.cost_usd is None else total + est.cost_usd
        elif teachers:
            names = ", ".join(sorted({f"{t.name} ({t.model})" for t in teachers}))
            echo(f"  step {i}, {label.split(' (')[0]}: asks {names}; not estimated")
            total = None
    if total is not None:
        echo(f"  total: ${total:.4f}")
    else:
        echo("  total: unknown (a step above is not estimated or its model has no known price)")
    if recipe.budget is not None:
        over = total is not None and total > recipe.budget
        echo(f"  budget: ${recipe.budget:g}" + (": the run would stop at the budget before finishing" if over else ""))
    for step in recipe.steps:
        cache = getattr(getattr(step, "teacher", None), "cache", None)
        if cache is not None:
            cache.close()
    return recipe
