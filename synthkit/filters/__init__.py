"""Filters: heuristics, exact and near dedup, semantic dedup, decontamination, novelty, and the shared text tools.

* :mod:`~synthkit.filters.decontam`: Decontamination: drop records that share word n-grams with evaluation sets.
* :mod:`~synthkit.filters.dedup`: Duplicate removal: exact (normalised text, 64-bit hash) and near (MinHash LSH).
* :mod:`~synthkit.filters.heuristics`: Heuristic quality filters: each judges one record and gives a reason for every drop.
* :mod:`~synthkit.filters.ngrams`: Shared text tools: normalisation, word tokenisation, n-grams and 64-bit hashing.
* :mod:`~synthkit.filters.novelty`: The ``novelty`` filter: drop a text too close (ROUGE-L or word n-gram Jaccard) to a seed or an earlier kept text.
* :mod:`~synthkit.filters.semantic`: Semantic dedup: drop records whose embedding is close (cosine) to an earlier kept record's.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "BandIndex",
    "DEFAULT_FILTERS",
    "Decontaminate",
    "ENGINES",
    "EmptyFilter",
    "EvalItem",
    "ExactDedup",
    "GOPHER_DUP_NGRAMS",
    "GOPHER_TOP_NGRAMS",
    "LanguageFilter",
    "LengthFilter",
    "NearDedup",
    "NoveltyFilter",
    "REFUSAL_PHRASES",
    "RefusalFilter",
    "RepetitionFilter",
    "SemanticDedup",
    "SymbolFilter",
    "TextFilter",
    "TruncatedFilter",
    "hash64",
    "hash64_many",
    "load_minilm",
    "ngram_hash_batch",
    "ngram_hashes",
    "ngram_jaccard",
    "normalize",
    "normalize_table",
    "oph_signatures",
    "raw_words",
    "read_eval_items",
    "read_text",
    "rensa_signatures",
    "rouge_l",
    "seed_texts",
    "word_hash_batch",
    "word_ngrams",
    "words",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "BandIndex": "dedup",
        "DEFAULT_FILTERS": "heuristics",
        "Decontaminate": "decontam",
        "ENGINES": "dedup",
        "EmptyFilter": "heuristics",
        "EvalItem": "decontam",
        "ExactDedup": "dedup",
        "GOPHER_DUP_NGRAMS": "heuristics",
        "GOPHER_TOP_NGRAMS": "heuristics",
        "LanguageFilter": "heuristics",
        "LengthFilter": "heuristics",
        "NearDedup": "dedup",
        "NoveltyFilter": "novelty",
        "REFUSAL_PHRASES": "heuristics",
        "RefusalFilter": "heuristics",
        "RepetitionFilter": "heuristics",
        "SemanticDedup": "semantic",
        "SymbolFilter": "heuristics",
        "TextFilter": "heuristics",
        "TruncatedFilter": "heuristics",
        "hash64": "ngrams",
        "hash64_many": "ngrams",
        "load_minilm": "semantic",
        "ngram_hash_batch": "ngrams",
        "ngram_hashes": "ngrams",
        "ngram_jaccard": "novelty",
        "normalize": "ngrams",
        "normalize_table": "ngrams",
        "oph_signatures": "dedup",
        "raw_words": "ngrams",
        "read_eval_items": "decontam",
        "read_text": "heuristics",
        "rensa_signatures": "dedup",
        "rouge_l": "novelty",
        "seed_texts": "novelty",
        "word_hash_batch": "ngrams",
        "word_ngrams": "ngrams",
        "words": "ngrams",
    },
    globals(),
)
