"""synthkit: build verified, deduplicated, well-mixed synthetic training data.

The core defines records with lineage, the interfaces (generators, filters, mixers,
teachers, templates, verifiers) and a streaming pipeline; plugins supply the parts.
Heavy modules load lazily, so ``import synthkit`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import SynthkitError
from .hookspecs import hookimpl
from .interfaces import (
    Completion,
    Context,
    Engine,
    Exporter,
    Filter,
    Generator,
    Mixer,
    MixReport,
    PromptTemplate,
    Teacher,
    Usage,
    Verifier,
)
from .records import Lineage, Record, Verdict

if TYPE_CHECKING:
    from .card import dataset_card, write_card
    from .exporters import export
    from .interchange import read_records, to_dataset, to_pandas, to_polars, write_records
    from .jsonl import JsonlWriter, iter_records
    from .pipeline import Drop, Generate, Pipeline, Summary
    from .plugins import get_engine, get_exporter, get_filter, get_mixer, get_plugins, get_teacher, get_template, get_verifier
    from .templates import JinjaTemplate

__version__ = "0.1.0"

__all__ = [
    "Completion",
    "Context",
    "Drop",
    "Engine",
    "Exporter",
    "Filter",
    "Generate",
    "Generator",
    "JinjaTemplate",
    "JsonlWriter",
    "Lineage",
    "Mixer",
    "MixReport",
    "Pipeline",
    "PromptTemplate",
    "Record",
    "Summary",
    "SynthkitError",
    "Teacher",
    "Usage",
    "Verdict",
    "Verifier",
    "dataset_card",
    "export",
    "get_engine",
    "get_exporter",
    "get_filter",
    "get_mixer",
    "get_plugins",
    "get_teacher",
    "get_template",
    "get_verifier",
    "hookimpl",
    "iter_records",
    "read_records",
    "to_dataset",
    "to_pandas",
    "to_polars",
    "write_records",
    "write_card",
]

_LAZY = {
    "read_records": "interchange",
    "write_records": "interchange",
    "to_dataset": "interchange",
    "to_pandas": "interchange",
    "to_polars": "interchange",
    "export": "exporters",
    "Pipeline": "pipeline",
    "Generate": "pipeline",
    "Drop": "pipeline",
    "Summary": "pipeline",
    "JinjaTemplate": "templates",
    "JsonlWriter": "jsonl",
    "iter_records": "jsonl",
    "dataset_card": "card",
    "write_card": "card",
    "get_plugins": "plugins",
    "get_teacher": "plugins",
    "get_template": "plugins",
    "get_verifier": "plugins",
    "get_engine": "plugins",
    "get_exporter": "plugins",
    "get_filter": "plugins",
    "get_mixer": "plugins",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'synthkit' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
