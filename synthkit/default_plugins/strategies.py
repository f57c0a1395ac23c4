"""Built-in strategy templates (self-instruct, evol-instruct, doc-qa, persona, judge) and the ``novelty`` filter.

Registered through the same hooks third-party plugins use; ``plain`` and ``cot`` come from
:mod:`synthkit.default_plugins.templates`.
"""

from __future__ import annotations

from typing import Any

from synthkit.hookspecs import hookimpl


def _self_instruct(**options: Any) -> Any:
    from synthkit.strategies import self_instruct_template

    return self_instruct_template(**options)


def _evol(**options: Any) -> Any:
    from synthkit.strategies import evol_template

    return evol_template(**options)


def _doc_qa(**options: Any) -> Any:
    from synthkit.chunking import doc_qa_template

    return doc_qa_template(**options)


def _persona(**options: Any) -> Any:
    from synthkit.strategies import persona_template

    return persona_template(**options)


def _judge(**options: Any) -> Any:
    from synthkit.strategies import judge_template

    return judge_template(**options)


def _novelty(*args: Any, **options: Any) -> Any:
    from synthkit.strategies import NoveltyFilter

    return NoveltyFilter(*args, **options)


@hookimpl
def register_templates(register):
    """Register the strategy templates."""
    register("self-instruct", _self_instruct, summary="new tasks from seed_tasks (num_tasks=5); pair with the novelty filter")
    register("evol-instruct", _evol, summary="rewrite the prompt harder (operator=constraints|deepen|concretize|reasoning) or new (breadth)")
    register("doc-qa", _doc_qa, summary="a question, answer and verbatim quote from a document chunk (JSON)")
    register("persona", _persona, summary="one item for a topic, persona, difficulty and format")
    register("judge", _judge, summary="grade response against a rubric, ending 'Score: n/10' (rubric=, scale=)")


@hookimpl
def register_filters(register):
    """Register the ``novelty`` filter (self-instruct's rejection of near-copies of seeds)."""
    register("novelty", _novelty, summary="drop a prompt whose ROUGE-L (or n-gram Jaccard) with a seed or earlier one >= threshold")
