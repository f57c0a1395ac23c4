"""What every engine takes besides the plan: where kept records go (:data:`Sink`) and who hears of progress."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from synthkit.pipeline.summary import Summary

__all__ = ["ProgressReporter", "Sink"]

#: Where kept records go: a ``.jsonl`` (``.jsonl.gz``) or ``.parquet`` path, or ``None`` to count them only.
Sink = str | Path | None


class ProgressReporter(Protocol):
    """Told of progress as records finish; :class:`~synthkit.pipeline.progress.RunProgress` draws a live bar."""

    def update(self, summary: Summary) -> None: ...

    def close(self, summary: Summary) -> None: ...
