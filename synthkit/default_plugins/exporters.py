"""The built-in trainer-format exporters."""

from __future__ import annotations

from synthkit.hookspecs import Register, hookimpl
from synthkit.plugins import lazy


@hookimpl
def register_exporters(register: Register) -> None:
    """Register the built-in trainer-format exporters."""
    register(
        "openai",
        lazy("synthkit.io.exporters", "OpenAIExporter"),
        summary="OpenAI chat fine-tuning rows: {messages: [{role, content}]}, system message first.",
    )
    register(
        "sharegpt",
        lazy("synthkit.io.exporters", "ShareGPTExporter"),
        summary="ShareGPT rows: {conversations: [{from: system|human|gpt, value}]}.",
    )
    register(
        "alpaca",
        lazy("synthkit.io.exporters", "AlpacaExporter"),
        summary="Alpaca rows: instruction, input, output, plus system and history (LLaMA-Factory).",
    )
    register(
        "trl",
        lazy("synthkit.io.chat", "TRLExporter"),
        summary="TRL conversational rows: {messages}, with tool_calls, tool turns and tools for tool conversations.",
    )
