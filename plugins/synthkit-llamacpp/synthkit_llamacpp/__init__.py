"""synthkit-llamacpp: the ``llamacpp`` teacher, a GGUF model run in process by llama.cpp, offline.

The plugin registers through the ``synthkit`` entry point (:mod:`synthkit_llamacpp.plugin`);
llama-cpp-python is imported only when a teacher is built.
"""

from __future__ import annotations

from synthkit_llamacpp.teacher import BUNDLED_MODEL, LlamaCppTeacher, model_file

__all__ = ["BUNDLED_MODEL", "LlamaCppTeacher", "model_file"]
