"""How ``generate`` builds its teacher: the command's own options where the teacher takes them, then ``--teacher-option``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from synthkit.cli import key_values

__all__ = ["build_teacher", "teacher_options", "template_options"]


def teacher_options(items: tuple[str, ...]) -> dict[str, Any]:
    """Parse ``--teacher-option KEY=VALUE`` items (``-`` in a key reads as ``_``)."""
    opts = key_values(items, option="--teacher-option", example="error_rate=0.3")
    return {k.replace("-", "_"): v for k, v in opts.items()}


def template_options(items: tuple[str, ...]) -> dict[str, Any]:
    """Parse ``--template-option KEY=VALUE`` items (``-`` in a key reads as ``_``)."""
    opts = key_values(items, option="--template-option", example="operator=deepen")
    return {k.replace("-", "_"): v for k, v in opts.items()}


def build_teacher(name: str, command_options: Mapping[str, Any], extra: Mapping[str, Any]) -> Any:
    """Build the teacher ``name``: the command's options it takes (a model-free teacher takes no ``--model``), then ``extra``.

    ``extra`` (``--teacher-option``) is passed whole, so an option the teacher does not take
    is an error naming the options it does take.

    Raises:
        click.UsageError: the teacher needs a model and ``--model`` is missing.
    """
    from synthkit.plugins import get_plugins, option_names, resolve

    try:
        factory = get_plugins().registries["teachers"].entry(name).factory
    except Exception:  # noqa: BLE001 - an unknown name: resolve below says what is installed
        return resolve("teacher", name, **{**command_options, **extra})
    takes = option_names(factory)
    options = {k: v for k, v in command_options.items() if takes is None or k in takes}
    if (takes is None or "model" in takes) and options.get("model") is None and "model" not in extra:
        raise click.UsageError(f"the {name} teacher needs --model")
    if options.get("model") is None:
        options.pop("model", None)
    return resolve("teacher", name, **{**options, **extra})
