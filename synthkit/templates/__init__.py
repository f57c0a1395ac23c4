"""Prompt templates: jinja2 in its sandbox, the strategy templates, and the messages sent for a record.

* :mod:`~synthkit.templates.jinja`: Prompt templates on jinja2's sandboxed environment with ``StrictUndefined``.
* :mod:`~synthkit.templates.render`: The messages sent for a record: its template's rendering, else its own messages or prompt.
* :mod:`~synthkit.templates.strategies`: Strategy templates: self-instruct, evol-instruct, persona, the LLM-judge rubric.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "DEFAULT_RUBRIC",
    "DEPTH_OPERATORS",
    "DOC_QA",
    "EVOL_OPERATORS",
    "JUDGE",
    "JUDGE_SYSTEM",
    "JinjaTemplate",
    "PERSONA",
    "SELF_INSTRUCT",
    "StrategyTemplate",
    "doc_qa_template",
    "evol_template",
    "judge_template",
    "load_folder",
    "messages_for",
    "persona_template",
    "self_instruct_template",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "DEFAULT_RUBRIC": "strategies",
        "DEPTH_OPERATORS": "strategies",
        "DOC_QA": "strategies",
        "EVOL_OPERATORS": "strategies",
        "JUDGE": "strategies",
        "JUDGE_SYSTEM": "strategies",
        "JinjaTemplate": "jinja",
        "PERSONA": "strategies",
        "SELF_INSTRUCT": "strategies",
        "StrategyTemplate": "strategies",
        "doc_qa_template": "strategies",
        "evol_template": "strategies",
        "judge_template": "strategies",
        "load_folder": "jinja",
        "messages_for": "render",
        "persona_template": "strategies",
        "self_instruct_template": "strategies",
    },
    globals(),
)
