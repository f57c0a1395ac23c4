"""Generators: steps that ask a teacher and make records (generate, regenerate, structured, self-instruct, evol-instruct, grids, chunking).

* :mod:`~synthkit.generators.build`: The generating step for a template name: the one the CLI's ``generate`` runs.
* :mod:`~synthkit.generators.chunking`: Document-grounded QA: chunk text files, ask for a question with a supporting quote, check the quote.
* :mod:`~synthkit.generators.dialogue`: Multi-turn dialogues: a simulated user with a persona and a goal talks with the assistant teacher.
* :mod:`~synthkit.generators.evolve`: Evol-instruct: rewrite each record's prompt with a depth or breadth operator.
* :mod:`~synthkit.generators.generate`: The basic generator: render a template, ask a teacher, make one child record per sample.
* :mod:`~synthkit.generators.grid`: Persona and attribute grids: seed records for combinations of attribute values.
* :mod:`~synthkit.generators.pairs`: Preference pairs: from the verified samples of one prompt, a chosen and a rejected answer.
* :mod:`~synthkit.generators.regenerate`: Verify, then regenerate: a failed sample is asked for again with the failure reason.
* :mod:`~synthkit.generators.sampling`: Best-of-n and rejection sampling: sample ``n`` per prompt, verify each, keep ``k``, and say how many passed.
* :mod:`~synthkit.generators.self_instruct`: Self-instruct: show a seeded sample of seed tasks, ask for new ones, one record per new task.
* :mod:`~synthkit.generators.structured`: Structured output: a JSON schema or an attrs class describes the response.
* :mod:`~synthkit.generators.trajectory`: Agent trajectories: the model calls tools, the tools answer, until a final answer or a step limit.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "attribute_grid",
    "BestOfN",
    "child_of",
    "chunk_documents",
    "chunk_text",
    "chunk_text_records",
    "DEFAULT_FEEDBACK",
    "Dialogue",
    "dialogue_seeds",
    "Evolve",
    "Generate",
    "generator_for",
    "make_pairs",
    "pair",
    "parse_tasks",
    "Regenerate",
    "select",
    "select_samples",
    "SelfInstruct",
    "Structured",
    "Trajectory",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "attribute_grid": "grid",
        "BestOfN": "sampling",
        "child_of": "generate",
        "chunk_documents": "chunking",
        "chunk_text": "chunking",
        "chunk_text_records": "chunking",
        "DEFAULT_FEEDBACK": "regenerate",
        "Dialogue": "dialogue",
        "dialogue_seeds": "dialogue",
        "Evolve": "evolve",
        "Generate": "generate",
        "generator_for": "build",
        "make_pairs": "pairs",
        "pair": "pairs",
        "parse_tasks": "self_instruct",
        "Regenerate": "regenerate",
        "select": "sampling",
        "select_samples": "sampling",
        "SelfInstruct": "self_instruct",
        "Structured": "structured",
        "Trajectory": "trajectory",
    },
    globals(),
)
