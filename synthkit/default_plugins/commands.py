"""The built-in commands; each command family lives in its own module of :mod:`synthkit.cli`."""

from __future__ import annotations

import importlib

import click

from synthkit.hookspecs import hookimpl

#: The modules of :mod:`synthkit.cli` whose ``add_commands(cli)`` adds their commands.
FAMILIES = ("plugins", "generate", "dialogue", "verify", "filters", "mix", "export", "card", "sampling", "run", "view", "push", "student")


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Add every built-in command."""
    for family in FAMILIES:
        importlib.import_module(f"synthkit.cli.{family}").add_commands(cli)
