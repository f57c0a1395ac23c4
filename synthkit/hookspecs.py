"""The hooks a synthkit plugin can implement.

Hooks are for discovery only: each hands the plugin a ``register`` callback (or the
click group). Per-record work runs on the registered objects, never through hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import click

__all__ = ["hookspec", "hookimpl", "Register"]

hookspec = pluggy.HookspecMarker("synthkit")
hookimpl = pluggy.HookimplMarker("synthkit")


class Register(Protocol):
    """The callback a ``register_*`` hook receives.

    ``factory`` is a class or callable; ``get_teacher(name, **options)`` (and the other
    getters) call it with the user's options and return what it returns.
    """

    def __call__(self, name: str, factory: Callable[..., Any], *, summary: str = "") -> None: ...


@hookspec
def register_teachers(register: Register) -> None:
    """Register :class:`~synthkit.Teacher` factories, e.g. ``register("openai", OpenAITeacher)``."""


@hookspec
def register_templates(register: Register) -> None:
    """Register :class:`~synthkit.PromptTemplate` factories, e.g. ``register("cot", make_cot)``."""


@hookspec
def register_verifiers(register: Register) -> None:
    """Register :class:`~synthkit.Verifier` factories, e.g. ``register("math", MathVerifier)``."""


@hookspec
def register_filters(register: Register) -> None:
    """Register :class:`~synthkit.Filter` factories, e.g. ``register("exact-dedup", ExactDedup)``."""


@hookspec
def register_mixers(register: Register) -> None:
    """Register :class:`~synthkit.Mixer` factories, e.g. ``register("ratio", RatioMixer)``."""


@hookspec
def register_exporters(register: Register) -> None:
    """Register :class:`~synthkit.Exporter` factories for trainer formats, e.g. ``register("alpaca", Alpaca)``."""


@hookspec
def register_engines(register: Register) -> None:
    """Register :class:`~synthkit.Engine` factories that run a pipeline, e.g. ``register("ray", RayEngine)``."""


@hookspec
def register_tools(register: Register) -> None:
    """Register tools a trajectory can offer, as factories of :class:`~synthkit.tools.Tool`, e.g. ``register("calculator", make_calculator)``."""


@hookspec
def register_students(register: Register) -> None:
    """Register :class:`~synthkit.Student` factories that learn from records, e.g. ``register("tiny-transformer", TinyTransformer)``."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``synthkit`` command-line group with ``@cli.command()``."""
