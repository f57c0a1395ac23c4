"""Built-in generation-strategy templates, registered through the same hooks third-party plugins use."""

from __future__ import annotations

from synthkit.hookspecs import hookimpl


@hookimpl
def register_templates(register):
    """Register the strategy templates."""
