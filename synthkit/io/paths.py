"""The files that go with an output file: its response cache and its failures file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

__all__ = ["companion"]

_SUFFIXES = {"cache": ".cache.sqlite", "failures": ".failures.jsonl", "rejects": ".rejects.jsonl"}


def companion(output: str | Path, kind: Literal["cache", "failures", "rejects"]) -> Path:
    """Return the default file of ``kind`` beside ``output``: ``OUT.cache.sqlite``, ``OUT.failures.jsonl``...

    For ``-`` (standard output) they are ``synthkit.cache.sqlite`` and so on in the current folder.

    Example:
        >>> str(companion("runs/answers.jsonl", "cache"))
        'runs/answers.cache.sqlite'
    """
    if str(output) == "-":  # records go to standard output: the companions are in this folder
        return Path("synthkit" + _SUFFIXES[kind])
    out = Path(output)
    stem = out.name
    for suffix in (".jsonl.gz", ".jsonl", ".parquet", ".pq"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return out.with_name(stem + _SUFFIXES[kind])
