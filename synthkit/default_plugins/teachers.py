"""Built-in teachers, registered through the same hooks third-party plugins use."""

from __future__ import annotations

from synthkit.hookspecs import hookimpl


@hookimpl
def register_teachers(register):
    """Register the built-in teachers."""
