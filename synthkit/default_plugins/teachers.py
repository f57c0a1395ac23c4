"""The built-in ``openai`` teacher; ``litellm`` and ``procedural`` come from their own distributions under ``plugins/``."""

from __future__ import annotations

from synthkit.hookspecs import Register, hookimpl
from synthkit.plugins import lazy


@hookimpl
def register_teachers(register: Register) -> None:
    """Register the built-in ``openai`` teacher."""
    register(
        "openai",
        lazy("synthkit.teachers.openai_client", "OpenAITeacher"),
        summary="any OpenAI-compatible /v1/chat/completions endpoint (OpenAI, vLLM, SGLang, llama.cpp, Ollama, TGI)",
    )
