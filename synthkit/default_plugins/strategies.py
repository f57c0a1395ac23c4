"""Built-in strategy templates (self-instruct, evol-instruct, doc-qa, persona, judge) and the ``novelty`` filter.

Registered through the same hooks third-party plugins use; ``plain`` and ``cot`` come from
:mod:`synthkit.default_plugins.templates`.
"""

from __future__ import annotations


from synthkit.hookspecs import hookimpl
from synthkit.plugins import lazy


@hookimpl
def register_templates(register):
    """Register the strategy templates."""
    register("self-instruct", lazy("synthkit.strategies", "self_instruct_template"), summary="new tasks from seed_tasks (num_tasks=5); pair with the novelty filter")
    register("evol-instruct", lazy("synthkit.strategies", "evol_template"), summary="rewrite the prompt harder (operator=constraints|deepen|concretize|reasoning) or new (breadth)")
    register("doc-qa", lazy("synthkit.chunking", "doc_qa_template"), summary="a question, answer and verbatim quote from a document chunk (JSON)")
    register("persona", lazy("synthkit.strategies", "persona_template"), summary="one item for a topic, persona, difficulty and format")
    register("judge", lazy("synthkit.strategies", "judge_template"), summary="grade response against a rubric, ending 'Score: n/10' (rubric=, scale=)")


@hookimpl
def register_filters(register):
    """Register the ``novelty`` filter (self-instruct's rejection of near-copies of seeds)."""
    register("novelty", lazy("synthkit.strategies", "NoveltyFilter"), summary="drop a prompt whose ROUGE-L (or n-gram Jaccard) with a seed or earlier one >= threshold")
