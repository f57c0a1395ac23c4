"""Execution engines: what runs a :class:`~synthkit.Pipeline`.

The built-in ``local`` engine runs the streaming asyncio pipeline in this process
(:meth:`Pipeline.arun <synthkit.Pipeline.arun>`). Plugins register others through the
``register_engines`` hook; the ``ray`` engine of the ``synthkit-ray`` distribution runs the
same pipeline on a Ray cluster and writes the same output.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import SynthkitError, UnknownNameError
from .interfaces import Engine

if TYPE_CHECKING:
    from .pipeline import Pipeline, ProgressReporter, Summary

__all__ = ["FIRST_PARTY", "LocalEngine", "resolve_engine"]

#: Engines that first-party distributions provide, for the hint when one is not installed.
FIRST_PARTY = {"ray": "synthkit-ray"}


class LocalEngine(Engine):
    """Run the pipeline in this process: one asyncio loop, bounded queues between steps.

    Generators and verifiers run ``concurrency`` records at a time; filters run in order
    in the loop. This is :meth:`Pipeline.arun <synthkit.Pipeline.arun>` driven by
    :func:`asyncio.run`, so it cannot be called from inside a running event loop (await
    ``pipeline.arun(...)`` there).
    """

    name = "local"

    def run(
        self,
        pipeline: Pipeline,
        sink: str | Path | None = None,
        *,
        rejects: str | Path | None = None,
        progress: ProgressReporter | None = None,
    ) -> Summary:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(pipeline.arun(sink, rejects=rejects, progress=progress))
        msg = "Pipeline.run() was called inside a running event loop (a notebook or async code); use `await pipeline.arun(...)`"
        raise SynthkitError(msg)


def resolve_engine(engine: Engine | str, **options: Any) -> Engine:
    """Return ``engine`` itself, or build the registered engine of that name with ``options``.

    Raises:
        UnknownNameError: no installed plugin registers that name; the message lists the
            installed engines, the closest name, and the package of a first-party engine.
    """
    if isinstance(engine, Engine):
        return engine
    from .plugins import get_engine

    try:
        return get_engine(engine, **options)
    except UnknownNameError as exc:
        package = FIRST_PARTY.get(engine)
        if package is None:
            raise
        msg = f"{exc} The {engine!r} engine comes with the {package} distribution: pip install {package}"
        raise UnknownNameError(msg) from None
