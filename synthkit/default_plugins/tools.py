"""The built-in tools."""

from __future__ import annotations

from synthkit.hookspecs import Register, hookimpl
from synthkit.plugins import lazy


@hookimpl
def register_tools(register: Register) -> None:
    """Register the built-in tools."""
    register("calculator", lazy("synthkit.tools.builtin", "calculator"), summary="arithmetic on numbers, exactly (no eval)")
