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
        "dpo",
        lazy("synthkit.io.preference", "DPOExporter"),
        summary="TRL preference rows from pairs: prompt, chosen, rejected (lists of messages).",
    )
    register(
        "kto",
        lazy("synthkit.io.preference", "KTOExporter"),
        summary="TRL unpaired preference rows: prompt, completion (messages), label; two per pair.",
    )
    register(
        "doc-qa",
        lazy("synthkit.io.qa", "DocQAExporter"),
        summary="Document-QA records as chat rows: the question as the user turn, the answer as the assistant's.",
    )
    register(
        "trl",
        lazy("synthkit.io.chat", "TRLExporter"),
        summary="TRL conversational rows: {messages}, with tool_calls, tool turns and tools for tool conversations.",
    )
