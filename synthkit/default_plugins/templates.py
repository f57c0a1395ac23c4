"""Built-in prompt templates: ``plain`` and ``cot`` (chain of thought)."""

from __future__ import annotations

import functools

from synthkit.hookspecs import hookimpl
from synthkit.templates import JinjaTemplate

PLAIN = "{{ prompt }}"

COT_SYSTEM = "You are a careful expert. Reason step by step before you answer."
COT = """{{ prompt }}

Think step by step: write each step on its own line. Then end with a last line of the form
Final answer: <answer>"""


@hookimpl
def register_templates(register):
    """Register ``plain`` and ``cot``."""
    register("plain", functools.partial(JinjaTemplate, name="plain", user=PLAIN), summary="the record's prompt as is")
    register(
        "cot",
        functools.partial(JinjaTemplate, name="cot", user=COT, system=COT_SYSTEM),
        summary="step-by-step reasoning ending in 'Final answer: ...'",
    )
