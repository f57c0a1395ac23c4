"""The module synthkit loads through the ``synthkit`` entry point: it registers the ``llamacpp`` teacher."""

from __future__ import annotations

from synthkit import hookimpl
from synthkit.hookspecs import Register
from synthkit.plugins import lazy


@hookimpl
def register_teachers(register: Register) -> None:
    """Register the ``llamacpp`` teacher (llama-cpp-python is imported only when one is built)."""
    register("llamacpp", lazy("synthkit_llamacpp.teacher", "LlamaCppTeacher"), summary="a local GGUF model run in process by llama.cpp (offline, zero cost)")
