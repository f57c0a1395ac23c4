"""The ``--engine`` and ``--engine-option`` options of the commands that run a pipeline."""

from __future__ import annotations

from typing import Any
import click
from synthkit.cli import key_values


def _engine_names() -> str:
    from synthkit.plugins import get_plugins

    names = get_plugins().registries["engines"].names()
    if "ray" not in names:
        names.append("ray (pip install synthkit-ray)")
    return ", ".join(names)


def engine_options(f: Any) -> Any:
    """Add ``--engine NAME`` and ``--engine-option KEY=VALUE`` to a command that runs a pipeline."""
    f = click.option(
        "--engine-option", "engine_options", multiple=True, metavar="KEY=VALUE",
        help="Engine option, value as JSON if it parses (repeatable), e.g. --engine-option address=ray://head:10001.",
    )(f)
    return click.option(
        "--engine", "engine", default="local", show_default=True, metavar="NAME",
        help=f"What runs the pipeline: {_engine_names()}. Every engine writes the same output.",
    )(f)


def build_engine(name: str, options: tuple[str, ...]) -> Any:
    """Build the engine ``name`` with the ``--engine-option`` items (an unknown name lists what is installed)."""
    from synthkit.plugins import resolve

    opts = key_values(options, option="--engine-option", example="address=ray://head:10001")
    return resolve("engine", name, **{k.replace("-", "_"): v for k, v in opts.items()})
