"""synthkit-llamacpp: the ``llamacpp`` teacher, a GGUF model run in process by llama.cpp, offline.

The plugin registers through the ``synthkit`` entry point (:mod:`synthkit_llamacpp.plugin`);
llama-cpp-python is imported only when a teacher is built.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["BUNDLED_MODEL", "LlamaCppTeacher", "model_file"]

#: Where each name lives: imported on first use, so that loading the plugin does not load the teacher's module.
_PARTS = dict.fromkeys(__all__, "teacher")


def __getattr__(name: str) -> Any:
    module = _PARTS.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
