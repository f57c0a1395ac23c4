"""synthkit: build verified, deduplicated, well-mixed synthetic training data.

The core defines records with lineage, the interfaces (generators, filters, mixers,
teachers, templates, verifiers) and a streaming pipeline; plugins supply the parts.
Heavy modules load lazily, so ``import synthkit`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from synthkit._lazy import exports
from synthkit.errors import SynthkitError
from synthkit.hookspecs import hookimpl
from synthkit.interfaces import (
    Completion,
    Context,
    Drop,
    Engine,
    Exporter,
    Filter,
    Generator,
    Mixer,
    MixReport,
    PromptTemplate,
    Student,
    Teacher,
    Usage,
    Verifier,
)
from synthkit.records import Lineage, Record, Verdict

if TYPE_CHECKING:  # what the lazy names are, for type checkers and the API reference (nothing is imported at run time)
    from synthkit.generators.generate import Generate
    from synthkit.io.card import dataset_card, write_card
    from synthkit.io.exporters import export
    from synthkit.io.interchange import read_records, to_dataset, to_pandas, to_polars, write_records
    from synthkit.io.jsonl import JsonlWriter, iter_records
    from synthkit.pipeline.builder import Pipeline
    from synthkit.pipeline.plan import Plan
    from synthkit.pipeline.summary import Summary
    from synthkit.plugins import (
        get_engine,
        get_exporter,
        get_filter,
        get_mixer,
        get_plugins,
        get_teacher,
        get_template,
        get_verifier,
        resolve,
    )
    from synthkit.templates.jinja import JinjaTemplate

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
    "Plan",
    "PromptTemplate",
    "Record",
    "Student",
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
    "resolve",
    "to_dataset",
    "to_pandas",
    "to_polars",
    "write_records",
    "write_card",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "read_records": "io.interchange",
        "write_records": "io.interchange",
        "to_dataset": "io.interchange",
        "to_pandas": "io.interchange",
        "to_polars": "io.interchange",
        "export": "io.exporters",
        "JsonlWriter": "io.jsonl",
        "iter_records": "io.jsonl",
        "dataset_card": "io.card",
        "write_card": "io.card",
        "Pipeline": "pipeline.builder",
        "Plan": "pipeline.plan",
        "Summary": "pipeline.summary",
        "Generate": "generators.generate",
        "JinjaTemplate": "templates.jinja",
        "get_plugins": "plugins",
        "get_teacher": "plugins",
        "get_template": "plugins",
        "get_verifier": "plugins",
        "get_engine": "plugins",
        "get_exporter": "plugins",
        "get_filter": "plugins",
        "get_mixer": "plugins",
        "resolve": "plugins",
    },
    globals(),
)
