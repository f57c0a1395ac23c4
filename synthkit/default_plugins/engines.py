"""The built-in ``local`` engine; ``ray`` comes from the ``synthkit-ray`` distribution under ``plugins/``."""

from __future__ import annotations

from synthkit.hookspecs import Register, hookimpl
from synthkit.plugins import lazy


@hookimpl
def register_engines(register: Register) -> None:
    """Register the built-in ``local`` engine."""
    register(
        "local",
        lazy("synthkit.pipeline.local", "LocalEngine"),
        summary="asyncio in this process (the default)",
    )
