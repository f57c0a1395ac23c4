"""synthkit-ray: run a synthkit pipeline on a Ray cluster (``--engine ray``).

Registers the ``ray`` engine through the ``register_engines`` hook. Ray itself is imported
only when the engine runs, so listing plugins stays fast.
"""

from __future__ import annotations

from typing import Any

from synthkit import hookimpl
from synthkit.plugins import lazy

__all__ = ["RayEngine", "register_engines"]


@hookimpl
def register_engines(register):
    """Register the ``ray`` engine."""
    register(
        "ray",
        lazy("synthkit_ray.engine", "RayEngine"),
        summary="Ray Data on a Ray cluster (local Ray by default; address= or $RAY_ADDRESS for a cluster)",
    )


def __getattr__(name: str) -> Any:
    if name == "RayEngine":
        from .engine import RayEngine

        return RayEngine
    msg = f"module 'synthkit_ray' has no attribute {name!r}"
    raise AttributeError(msg)
