"""The built-in filters: heuristics, dedup, decontamination, novelty."""

from __future__ import annotations

from synthkit.hookspecs import Register, hookimpl
from synthkit.plugins import lazy


@hookimpl
def register_filters(register: Register) -> None:
    """Register the built-in filters."""
    register(
        "exact-dedup",
        lazy("synthkit.filters.dedup", "ExactDedup"),
        summary="Drop records whose normalised text (case, whitespace, punctuation) was seen before.",
    )
    register(
        "near-dedup",
        lazy("synthkit.filters.dedup", "NearDedup"),
        summary="Drop near-duplicates: MinHash LSH on word 5-grams, Jaccard threshold (default 0.8).",
    )
    register(
        "semantic-dedup",
        lazy("synthkit.filters.semantic", "SemanticDedup"),
        summary="Drop records whose MiniLM embedding is close (cosine) to a kept one; extra synthkit[semantic].",
    )
    register(
        "decontaminate",
        lazy("synthkit.filters.decontam", "Decontaminate"),
        summary="Drop records sharing 13-grams with eval files (against=[paths]).",
    )
    register(
        "empty",
        lazy("synthkit.filters.heuristics", "EmptyFilter"),
        summary="Drop records with no text or only whitespace.",
    )
    register(
        "truncated",
        lazy("synthkit.filters.heuristics", "TruncatedFilter"),
        summary="Drop records the teacher cut off (finish_reason 'length').",
    )
    register(
        "length",
        lazy("synthkit.filters.heuristics", "LengthFilter"),
        summary="Drop texts outside word/character bounds (default 1 to 100,000 words).",
    )
    register(
        "repetition",
        lazy("synthkit.filters.heuristics", "RepetitionFilter"),
        summary="Gopher repetition rules: duplicate lines, paragraphs and n-grams (Rae et al. 2021).",
    )
    register(
        "symbols",
        lazy("synthkit.filters.heuristics", "SymbolFilter"),
        summary="Gopher symbol rules: '#' and ellipsis ratios, bullet lines, words without letters.",
    )
    register(
        "refusal",
        lazy("synthkit.filters.heuristics", "RefusalFilter"),
        summary="Drop refusals and boilerplate ('As an AI language model...').",
    )
    register(
        "language",
        lazy("synthkit.filters.heuristics", "LanguageFilter"),
        summary="Keep texts in the given languages (py3langid); extra synthkit[lang].",
    )
    register(
        "novelty",
        lazy("synthkit.filters.novelty", "NoveltyFilter"),
        summary="Drop a prompt whose ROUGE-L (or n-gram Jaccard) with a seed or an earlier one reaches the threshold.",
    )
