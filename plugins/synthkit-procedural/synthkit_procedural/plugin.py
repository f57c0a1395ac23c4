"""The module synthkit loads through the ``synthkit`` entry point.

It only registers parts, by module and name: their modules load when a part is built.
"""

from __future__ import annotations

from synthkit import hookimpl
from synthkit.hookspecs import Register
from synthkit.plugins import lazy


@hookimpl
def register_teachers(register: Register) -> None:
    """Register the ``procedural`` teacher."""
    register("procedural", lazy("synthkit_procedural.teacher", "ProceduralTeacher"), summary="verifiable problems from nothing, solved step by step")


@hookimpl
def register_verifiers(register: Register) -> None:
    """Register the ``final-answer`` verifier."""
    register("final-answer", lazy("synthkit_procedural.verifier", "FinalAnswerVerifier"), summary="compares the response's final answer with data['answer']")
