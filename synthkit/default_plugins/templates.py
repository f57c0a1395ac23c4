"""The built-in prompt templates: plain, chain of thought, and the strategy templates."""

from __future__ import annotations

from synthkit.hookspecs import Register, hookimpl
from synthkit.plugins import lazy


@hookimpl
def register_templates(register: Register) -> None:
    """Register plain, cot, self-instruct, evol-instruct, doc-qa, persona and judge."""
    register(
        "plain",
        lazy("synthkit.templates.strategies", "plain_template"),
        summary="the record's prompt as is",
    )
    register(
        "cot",
        lazy("synthkit.templates.strategies", "cot_template"),
        summary="step-by-step reasoning ending in 'Final answer: ...'",
    )
    register(
        "self-instruct",
        lazy("synthkit.templates.strategies", "self_instruct_template"),
        summary="new tasks from seed_tasks (num_tasks=5); pair with the novelty filter",
    )
    register(
        "evol-instruct",
        lazy("synthkit.templates.strategies", "evol_template"),
        summary="rewrite the prompt harder (operator=constraints|deepen|concretize|reasoning) or new (breadth)",
    )
    register(
        "doc-qa",
        lazy("synthkit.templates.strategies", "doc_qa_template"),
        summary="a question, answer and verbatim quote from a document chunk (JSON)",
    )
    register(
        "persona",
        lazy("synthkit.templates.strategies", "persona_template"),
        summary="one item for a topic, persona, difficulty and format",
    )
    register(
        "judge",
        lazy("synthkit.templates.strategies", "judge_template"),
        summary="grade response against a rubric, ending 'Score: n/10' (rubric=, scale=)",
    )
