"""Recipes: a whole pipeline written as a YAML file, run with ``synthkit run``.

* :mod:`~synthkit.recipes.recipe`: :func:`read_recipe` reads and builds a recipe, every error at ``file:line:column``;
* :mod:`~synthkit.recipes.describe`: :func:`describe_plan` writes a plan down as a recipe;
* :mod:`~synthkit.recipes.parts`: the generator steps and sources a recipe names, :func:`generator` and :func:`source`;
* :mod:`~synthkit.recipes.stages`: the file commands a recipe runs after its pipeline (``then:``), :func:`stage`;
* :mod:`~synthkit.recipes.run`: :func:`run_recipe` and :func:`estimate_recipe`, what ``synthkit run`` calls.

:meth:`synthkit.Pipeline.to_recipe` and :meth:`synthkit.Pipeline.from_recipe` are the same, on the builder.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "GENERATORS",
    "SOURCES",
    "STAGES",
    "Recipe",
    "RecipeSource",
    "Stage",
    "describe_plan",
    "estimate_recipe",
    "generator",
    "pipeline_of",
    "read_recipe",
    "recipe_text",
    "run_recipe",
    "source",
    "stage",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "GENERATORS": "parts",
        "SOURCES": "parts",
        "RecipeSource": "parts",
        "generator": "parts",
        "source": "parts",
        "STAGES": "stages",
        "Stage": "stages",
        "stage": "stages",
        "Recipe": "recipe",
        "read_recipe": "recipe",
        "describe_plan": "describe",
        "recipe_text": "describe",
        "estimate_recipe": "run",
        "pipeline_of": "run",
        "run_recipe": "run",
    },
    globals(),
)
