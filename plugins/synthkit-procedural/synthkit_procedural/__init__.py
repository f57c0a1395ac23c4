"""synthkit-procedural: training data from nothing.

A teacher, ``procedural``, that makes verifiable problems in several families (arithmetic,
word problems, linear equations, modular powers, base conversion, dates, lists, logic)
and solves them step by step; and a verifier, ``final-answer``, that checks a response's
final answer against the record's. :mod:`.plugin` registers both with synthkit.
"""

from __future__ import annotations

from .answers import extract_final_answer, same_answer
from .families import FAMILIES, Family
from .problem import Problem, Solution
from .teacher import ProceduralTeacher
from .verifier import FinalAnswerVerifier

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
