"""Built-in verifiers, registered through the same hooks third-party plugins use."""

from __future__ import annotations

from synthkit.hookspecs import hookimpl


@hookimpl
def register_verifiers(register):
    """Register the built-in verifiers."""
