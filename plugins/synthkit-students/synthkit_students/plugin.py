"""The module synthkit loads through the ``synthkit`` entry point; it only registers parts."""

from __future__ import annotations

from synthkit import hookimpl
from synthkit.hookspecs import Register
from synthkit.plugins import lazy


@hookimpl
def register_students(register: Register) -> None:
    """Register the ``tiny-transformer`` student (torch is imported only when it is built)."""
    register(
        "tiny-transformer",
        lazy("synthkit_students.tiny", "TinyTransformer"),
        summary="a small byte-level transformer trained from scratch on CPU (PyTorch)",
    )
    register(
        "trl-sft",
        lazy("synthkit_students.sft", "SFTStudent"),
        summary="supervised fine-tuning (TRL) of a local Hugging Face causal LM directory, on CPU",
    )
