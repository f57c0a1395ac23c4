"""synthkit-students: students that learn from synthkit records (``tiny-transformer``); :mod:`.plugin` registers them."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["TinyTransformer"]


def __getattr__(name: str):  # noqa: ANN202 - torch loads only when the student is used
    if name == "TinyTransformer":
        from .tiny import TinyTransformer

        return TinyTransformer
    raise AttributeError(name)
