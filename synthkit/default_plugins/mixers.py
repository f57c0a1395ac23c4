"""The built-in mixers."""

from __future__ import annotations

from synthkit.hookspecs import Register, hookimpl
from synthkit.plugins import lazy


@hookimpl
def register_mixers(register: Register) -> None:
    """Register the built-in mixers."""
    register(
        "ratio",
        lazy("synthkit.mix.mixers", "RatioMixer"),
        summary="A fixed share of real data (real_fraction), held all along the stream.",
    )
    register(
        "real-floor",
        lazy("synthkit.mix.mixers", "RealFloorMixer"),
        summary="All real data, and synthetic data only while real stays above real_fraction.",
    )
    register(
        "accumulate",
        lazy("synthkit.mix.mixers", "AccumulateMixer"),
        summary="Keep real data and every earlier generation, add the new one (no replacing).",
    )
    register(
        "stratified",
        lazy("synthkit.mix.mixers", "StratifiedMixer"),
        summary="Hold each stratum (key field) at the real data's share, with real_fraction inside each.",
    )
    register(
        "tail-preserving",
        lazy("synthkit.mix.mixers", "TailPreservingMixer"),
        summary="Spend the real share on the strata (default: word-rarity buckets) the synthetic side under-covers.",
    )
