"""The built-in templates: plain, chain of thought, self-instruct, evol-instruct, doc-qa, persona, the judge rubric.

Each is a :class:`~synthkit.JinjaTemplate`, so it is sandboxed, strict about missing
fields and hashed into lineage. The generators that use them live in
:mod:`synthkit.generators`.
"""

from __future__ import annotations

import attrs
from synthkit.errors import TemplateError
from synthkit.records import Record
from synthkit.templates.jinja import JinjaTemplate


__all__ = [
    "PLAIN",
    "COT",
    "COT_SYSTEM",
    "plain_template",
    "cot_template",
    "SELF_INSTRUCT",
    "EVOL_OPERATORS",
    "DEPTH_OPERATORS",
    "PERSONA",
    "JUDGE_SYSTEM",
    "DEFAULT_RUBRIC",
    "JUDGE",
    "StrategyTemplate",
    "self_instruct_template",
    "evol_template",
    "persona_template",
    "judge_template",
    "DOC_QA",
    "doc_qa_template",
]


PLAIN = "{{ prompt }}"

COT_SYSTEM = "You are a careful expert. Reason step by step before you answer."
COT = """{{ prompt }}

Think step by step: write each step on its own line. Then end with a last line of the form
Final answer: <answer>"""

SELF_INSTRUCT = """You are asked to come up with {{ num_tasks }} new, diverse tasks for training a helpful assistant.
Here are some example tasks:
{% for task in seed_tasks %}
Task {{ loop.index }}: {{ task }}
{% endfor %}

Write {{ num_tasks }} new tasks. Each must be self-contained, differ from the examples and from each
other in topic and in wording, and be answerable by a text-only assistant.
Write them as a numbered list, one task per line:
1. <task>
2. <task>"""


#: Evol-instruct operators: four deepen the prompt ("depth"), one writes a new one ("breadth").
EVOL_OPERATORS: dict[str, str] = {
    "constraints": "Add one more constraint or requirement to the prompt.",
    "deepen": "If the prompt asks about a specific issue, increase the depth and breadth of the question.",
    "concretize": "Replace general concepts in the prompt with more specific ones.",
    "reasoning": "If the prompt can be solved in a few simple steps, rewrite it to explicitly require "
    "multi-step reasoning.",
    "breadth": "Draw inspiration from the prompt to create a brand-new prompt in the same domain, "
    "but rarer and more long-tailed. It must have a similar length and difficulty.",
}


DEPTH_OPERATORS = ("constraints", "deepen", "concretize", "reasoning")


_EVOL = """I want you to act as a prompt rewriter.
Your objective is to rewrite a given prompt into a {{ "new" if operator == "breadth" else "more complex" }} version
that a capable assistant can still answer, and that a human would understand.
Do not omit the non-text parts (tables, code) of the given prompt. The rewritten prompt may add at most
20 words to the given prompt{% if operator == "breadth" %} (for a new prompt: about the same length){% endif %}.
Do not use the words "given prompt" or "rewritten prompt" in it.

Method: {{ instruction }}

#Given Prompt#:
{{ prompt if prompt is not none else record.user_content() }}

#Rewritten Prompt#:"""


PERSONA = """{% if persona is defined %}You are writing for this reader: {{ persona }}.
{% endif %}Write one {{ difficulty | default("medium") }}-difficulty {{ format | default("question") }} about {{ topic }}.
{% for key, value in extra | default({}) | dictsort %}{{ key }}: {{ value }}
{% endfor %}It must be self-contained. Reply with the {{ format | default("question") }} only."""


JUDGE_SYSTEM = "You are a strict, fair grader of answers. You follow the rubric exactly."


DEFAULT_RUBRIC = """10: fully correct, complete and clearly explained.
7-9: correct, with minor omissions or unclear steps.
4-6: partly correct, or correct with a significant error in the reasoning.
1-3: wrong, off-topic or unsupported."""


JUDGE = """Grade the response to the task below with the rubric.

# Task
{{ prompt if prompt is not none else record.user_content() }}

# Response
{{ response }}

{% if answer is defined %}
# Reference answer
{{ answer }}

{% endif %}
# Rubric (score from 1 to {{ scale }})
{{ rubric }}

Give your reasons in a few sentences. Then end with a last line of the form
Score: <n>/{{ scale }}"""


@attrs.frozen
class StrategyTemplate(JinjaTemplate):
    """A :class:`~synthkit.JinjaTemplate` that also requires some content fields to be non-empty.

    Attributes:
        required: fields that must be present and not ``None`` or empty; ``"prompt"`` is
            satisfied by a prompt or a user message.
    """

    required: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def render(self, record: Record) -> list[dict[str, str]]:
        for field in self.required:
            value = record.user_content() if field == "prompt" else record.get(field)
            if value is None or value == "":
                msg = (
                    f"template {self.name!r} cannot render record {record.id}: it needs {field!r}, which the record "
                    f"lacks. Add the field to the input, or choose another template."
                )
                raise TemplateError(msg)
        return super().render(record)


def plain_template() -> JinjaTemplate:
    """The ``plain`` template: the record's prompt as is."""
    return JinjaTemplate(name="plain", user=PLAIN)


def cot_template() -> JinjaTemplate:
    """The ``cot`` template: step-by-step reasoning ending in ``Final answer: ...``."""
    return JinjaTemplate(name="cot", user=COT, system=COT_SYSTEM)


def self_instruct_template(*, num_tasks: int = 5) -> JinjaTemplate:
    """The ``self-instruct`` template: needs ``seed_tasks`` (a list of strings)."""
    return JinjaTemplate(name="self-instruct", user=SELF_INSTRUCT, defaults={"num_tasks": num_tasks})


def evol_template(operator: str = "constraints") -> JinjaTemplate:
    """The ``evol-instruct`` template for one operator of :data:`EVOL_OPERATORS`."""
    if operator not in EVOL_OPERATORS:
        msg = f"unknown evol-instruct operator {operator!r}; choose one of {', '.join(EVOL_OPERATORS)}"
        raise ValueError(msg)
    return StrategyTemplate(
        name=f"evol-instruct:{operator}",
        user=_EVOL,
        defaults={"operator": operator, "instruction": EVOL_OPERATORS[operator]},
        required=("prompt",),
    )


def persona_template() -> JinjaTemplate:
    """The ``persona`` template: ``topic`` required; ``persona``, ``difficulty``, ``format`` optional."""
    return JinjaTemplate(name="persona", user=PERSONA)


def judge_template(*, rubric: str = DEFAULT_RUBRIC, scale: int = 10) -> JinjaTemplate:
    """The ``judge`` template: grades ``response`` to ``prompt`` (and ``answer``, if any)."""
    return StrategyTemplate(
        name="judge", user=JUDGE, system=JUDGE_SYSTEM, defaults={"rubric": rubric, "scale": scale}, required=("prompt", "response")
    )


DOC_QA = """Read the passage and write one question that the passage answers, with its answer.
Copy, word for word, the sentence or phrase of the passage that supports the answer.

# Passage{% if source is defined %} (from {{ source }}){% endif %}


{{ chunk }}

Reply with only a JSON object:
{"question": "...", "answer": "...", "quote": "<copied exactly from the passage>"}"""


def doc_qa_template() -> JinjaTemplate:
    """The ``doc-qa`` template: needs ``chunk``; shows ``source`` if present."""
    return JinjaTemplate(name="doc-qa", user=DOC_QA)
