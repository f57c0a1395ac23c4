"""The module synthkit loads through the ``synthkit`` entry point.

It only registers parts; the work happens in the objects it registers.
"""

from __future__ import annotations

from synthkit import hookimpl
from synthkit.hookspecs import Register

from .teacher import ProceduralTeacher
from .verifier import FinalAnswerVerifier


@hookimpl
def register_teachers(register: Register) -> None:
    """Register the ``procedural`` teacher."""
    register("procedural", ProceduralTeacher, summary="verifiable problems from nothing, solved step by step")


@hookimpl
def register_verifiers(register: Register) -> None:
    """Register the ``final-answer`` verifier."""
    register("final-answer", FinalAnswerVerifier, summary="compares the response's final answer with data['answer']")
