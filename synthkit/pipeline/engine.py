"""What runs a plan: the :class:`Engine` interface, and the progress protocol every engine reports to."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Protocol

from synthkit.pipeline.plan import Plan
from synthkit.pipeline.summary import Summary

__all__ = ["Engine", "ProgressReporter", "Sink"]

#: Where kept records go: a ``.jsonl`` (``.jsonl.gz``) or ``.parquet`` path, or ``None`` to count them only.
Sink = str | Path | None


class ProgressReporter(Protocol):
    """Told of progress as records finish; :class:`~synthkit.pipeline.progress.RunProgress` draws a live bar."""

    def update(self, summary: Summary) -> None: ...

    def close(self, summary: Summary) -> None: ...


class Engine(abc.ABC):
    """Runs a :class:`~synthkit.pipeline.plan.Plan`: ``local`` (asyncio in this process) or a plugin's, such as ``ray``.

    An engine gives the output the local engine gives: kept records in input order in
    the sink, dropped and failed ones (with their reasons) in the rejects file, and the
    same :class:`~synthkit.pipeline.summary.Summary` counts. A
    :class:`~synthkit.pipeline.ledger.RunLedger` does that bookkeeping for every engine.

    Attributes:
        name: the registered engine name.
    """

    name: str = "engine"

    @abc.abstractmethod
    def run(
        self,
        plan: Plan,
        sink: Sink = None,
        *,
        rejects: str | Path | None = None,
        progress: ProgressReporter | None = None,
    ) -> Summary:
        """Run ``plan`` to the end and return its summary.

        Args:
            plan: the source, steps, mix and settings.
            sink: the file for kept records (``None`` counts them only).
            rejects: JSONL file for dropped and failed records.
            progress: told of progress as records finish.

        Raises:
            FatalError: a step could not go on; everything finished before it is written,
                and the summary is on the exception as ``exc.summary``.
        """
