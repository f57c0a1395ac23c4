"""The pipeline: a builder that describes, a frozen plan, and the engines that run it.

* :mod:`~synthkit.pipeline.builder`: :class:`Pipeline`, composed step by step;
* :mod:`~synthkit.pipeline.plan`: the frozen :class:`Plan` and its step types;
* :mod:`~synthkit.pipeline.engine`: the sink and progress types every engine takes (the
  :class:`~synthkit.Engine` interface is in :mod:`synthkit.interfaces`);
* :mod:`~synthkit.pipeline.local`: the built-in ``local`` engine (asyncio in this process);
* :mod:`~synthkit.pipeline.steps`: the per-record routines every engine runs;
* :mod:`~synthkit.pipeline.ledger`: the run ledger every engine writes through;
* :mod:`~synthkit.pipeline.summary`: :class:`Outcome` and :class:`Summary`;
* :mod:`~synthkit.pipeline.source`: reading a plan's source;
* :mod:`~synthkit.pipeline.progress`: a live progress bar.

The builder imports the plan; engines import the plan, never the builder.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "FilterStep",
    "GeneratorStep",
    "LocalEngine",
    "MixStep",
    "Outcome",
    "Pipeline",
    "Plan",
    "ProgressReporter",
    "RunLedger",
    "RunProgress",
    "Summary",
    "VerifyStep",
    "apply_filters",
    "reason_key",
    "run_step",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "Pipeline": "builder",
        "Plan": "plan",
        "GeneratorStep": "plan",
        "VerifyStep": "plan",
        "FilterStep": "plan",
        "MixStep": "plan",
        "ProgressReporter": "engine",
        "LocalEngine": "local",
        "RunLedger": "ledger",
        "Outcome": "summary",
        "Summary": "summary",
        "reason_key": "summary",
        "run_step": "steps",
        "apply_filters": "steps",
        "RunProgress": "progress",
    },
    globals(),
)
