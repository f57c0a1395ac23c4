"""The built-in students."""

from __future__ import annotations

from synthkit.hookspecs import Register, hookimpl
from synthkit.plugins import lazy


@hookimpl
def register_students(register: Register) -> None:
    """Register the built-in students."""
    register(
        "lookup",
        lazy("synthkit.students.lookup", "LookupStudent"),
        summary="Memorises prompt -> response; the most common response elsewhere (a floor, and a fast test student).",
    )
