"""synthkit-llamacpp: the ``llamacpp`` teacher, a GGUF model run in process by llama.cpp, offline.

The plugin registers through the ``synthkit`` entry point (:mod:`synthkit_llamacpp.plugin`);
llama-cpp-python is imported only when a teacher is built.
"""

from __future__ import annotations

from synthkit.plugins import lazy_exports

__all__ = ["BUNDLED_MODEL", "LlamaCppTeacher", "model_file"]

#: Where each name lives: imported on first use, so that loading the plugin does not load the teacher's module.
_PARTS = dict.fromkeys(__all__, "teacher")


__getattr__, __dir__ = lazy_exports(__name__, _PARTS, globals())
