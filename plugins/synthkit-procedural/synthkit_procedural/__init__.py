"""synthkit-procedural: training data from nothing.

A teacher, ``procedural``, that makes verifiable problems in several families (arithmetic,
word problems, linear equations, modular powers, base conversion, dates, lists, logic)
and solves them step by step; and a verifier, ``final-answer``, that checks a response's
final answer against the record's. :mod:`.plugin` registers both with synthkit.
"""

from __future__ import annotations

from synthkit.plugins import lazy_exports

__version__ = "0.1.0"

__all__ = [
    "FAMILIES",
    "Family",
    "FinalAnswerVerifier",
    "Problem",
    "ProceduralTeacher",
    "Solution",
    "extract_final_answer",
    "same_answer",
]

#: Where each name lives: imported on first use, so that loading the plugin (as every command
#: does) imports no family.
_PARTS = {
    "FAMILIES": "families",
    "Family": "families",
    "FinalAnswerVerifier": "verifier",
    "Problem": "problem",
    "ProceduralTeacher": "teacher",
    "Solution": "problem",
    "extract_final_answer": "answers",
    "same_answer": "answers",
}


__getattr__, __dir__ = lazy_exports(__name__, _PARTS, globals())
