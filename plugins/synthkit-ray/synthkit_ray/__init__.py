"""synthkit-ray: run a synthkit pipeline on a Ray cluster (``--engine ray``).

Registers the ``ray`` engine through the ``register_engines`` hook. Ray itself is imported
only when the engine runs, so listing plugins stays fast.
"""

from __future__ import annotations

from synthkit import hookimpl
from synthkit.plugins import lazy, lazy_exports

__all__ = ["RayEngine", "register_engines"]


@hookimpl
def register_engines(register):
    """Register the ``ray`` engine."""
    register(
        "ray",
        lazy("synthkit_ray.engine", "RayEngine"),
        summary="Ray Data on a Ray cluster (local Ray by default; address= or $RAY_ADDRESS for a cluster)",
    )


__getattr__, __dir__ = lazy_exports(__name__, {"RayEngine": "engine"}, globals())
