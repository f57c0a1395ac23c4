"""Mixers: blend real and synthetic records in stated, reproducible proportions.

* :mod:`~synthkit.mix.mixers`: Mixers: blend synthetic records with real ones in stated, reproducible proportions.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "AccumulateMixer",
    "REAL",
    "RatioMixer",
    "RealFloorMixer",
    "SYNTHETIC",
    "StratifiedMixer",
    "TailPreservingMixer",
    "Unit",
    "count_tokens",
    "example_text",
    "rarity_strata",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "AccumulateMixer": "mixers",
        "REAL": "mixers",
        "RatioMixer": "mixers",
        "RealFloorMixer": "mixers",
        "SYNTHETIC": "mixers",
        "StratifiedMixer": "mixers",
        "TailPreservingMixer": "mixers",
        "Unit": "mixers",
        "count_tokens": "mixers",
        "example_text": "mixers",
        "rarity_strata": "mixers",
    },
    globals(),
)
