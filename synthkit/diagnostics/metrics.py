"""Collapse diagnostics: how a synthetic set compares with real text of the same size.

Recursive training on model output narrows the data: rare words vanish first, then
phrasing repeats and texts converge (Shumailov et al. 2024; Guo et al. 2023, "The Curious
Decline of Linguistic Diversity"). Each metric here measures one symptom, and each is
judged against a **baseline**: a held-out half of the real reference, cut to the same
number of tokens as the synthetic sample. Diversity statistics move with sample size
(distinct-n falls as a sample grows), so comparing equal-size samples is what makes a
threshold mean the same thing for a 5,000-token set and a 5-million-token set.

The reference is shuffled (seeded) and split in two halves: half *A* gives the reference
statistics (vocabulary, rare types, word distribution); half *B* is the baseline, a real
sample treated exactly as the synthetic one. A metric warns when the synthetic value is
past its threshold relative to the baseline; :data:`THRESHOLDS` says where each one sits
and why.

Only the standard library is imported at module level; numpy loads when a metric runs.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import attrs

from synthkit.errors import InputError, MissingDependencyError
from synthkit.filters.ngrams import words
from synthkit.records import Record

__all__ = [
    "THRESHOLDS",
    "Threshold",
    "Metric",
    "Diagnosis",
    "diagnose",
    "format_value",
    "distinct_n",
    "entropy_bits",
    "jensen_shannon",
    "compression_ratio",
    "near_duplicate_share",
    "knn_coverage",
    "equal_token_sample",
]

Status = Literal["ok", "warn", "skipped"]
Embedder = Callable[[Sequence[str]], Any]


@attrs.frozen
class Threshold:
    """Where a metric starts to warn, and why there.

    Attributes:
        limit: the value of the comparison score at which the warning fires.
        direction: ``"below"`` warns when the score is under ``limit``, ``"above"`` over it.
        score: what the score is (``"synthetic / real"`` or ``"synthetic - real"``).
        why: the reason for the limit, in plain words.
    """

    limit: float
    direction: Literal["below", "above"]
    score: str
    why: str

    def fires(self, value: float) -> bool:
        return value < self.limit if self.direction == "below" else value > self.limit

    def describe(self) -> str:
        op = "<" if self.direction == "below" else ">"
        return f"warn if {self.score} {op} {self.limit:g}"


#: The warning thresholds, by metric key. Each compares the synthetic sample with the
#: real baseline sample of the same size.
THRESHOLDS: dict[str, Threshold] = {
    "distinct-2": Threshold(
        0.85,
        "below",
        "synthetic / real",
        "Two real samples of the same size differ by a few percent in distinct word pairs; a 15% drop is well "
        "past that noise and is about what one or two rounds of training on model output cost (Guo et al. 2023 "
        "report 10-30% drops over a few generations).",
    ),
    "entropy": Threshold(
        -0.5,
        "below",
        "synthetic - real (bits)",
        "Half a bit less unigram entropy means an effective vocabulary (2^H) about 30% smaller: the word "
        "distribution has concentrated on its head, the first sign of collapse in the Gaussian and n-gram studies.",
    ),
    "vocabulary": Threshold(
        0.8,
        "below",
        "synthetic / real",
        "The share of the reference vocabulary a sample uses; a real sample of the same size sets the bar. "
        "Using 20% fewer reference words means whole regions of the language are missing.",
    ),
    "tail-coverage": Threshold(
        0.7,
        "below",
        "synthetic / real",
        "Rare words (seen at most 5 times in the reference half) are what recursive training loses first "
        "(Shumailov et al. 2024). Coverage of them is noisy, so the bar is lower: 30% below a real sample.",
    ),
    "divergence": Threshold(
        0.03,
        "above",
        "synthetic - real (bits)",
        "Jensen-Shannon divergence of word distributions from the reference, beyond what a real sample of the "
        "same size shows. Two real samples of 10,000 words differ from the reference by under 0.01 bits more than "
        "each other; 0.03 bits of excess is a shift of the word distribution, not sampling noise.",
    ),
    "compression": Threshold(
        0.85,
        "below",
        "synthetic / real",
        "Repetitive text compresses better. A compression ratio (compressed/raw bytes) 15% under real text of "
        "the same size means long repeated stretches: templates, boilerplate, mode collapse.",
    ),
    "near-duplicates": Threshold(
        0.10,
        "above",
        "synthetic - real (share)",
        "The share of records the near-dedup filter would drop (word 3-gram Jaccard >= 0.5 with an earlier "
        "record). Real text full of set phrases (such as documentation) already has some, and two real samples "
        "of 500 records differ by up to 3 points; ten points more is repetition a model would overfit.",
    ),
    "length-spread": Threshold(
        0.5,
        "below",
        "synthetic / real (IQR)",
        "The spread (interquartile range) of record lengths. Collapsed generators converge on one length; "
        "half the real spread is far outside what sampling does.",
    ),
    "embedding-coverage": Threshold(
        0.8,
        "below",
        "synthetic / real",
        "Coverage (Naeem et al. 2020): the share of reference texts that have a sample text closer than their "
        "5th-nearest reference neighbour. 20% below a real sample means parts of the meaning space are empty.",
    ),
}

#: Below this many tokens in the synthetic or the baseline sample, metrics are skipped.
MIN_TOKENS = 300


def format_value(x: float | None) -> str:
    """Format a metric value for a table: ``–`` when missing, thousands grouped from 100 up, else 3 significant digits."""
    if x is None:
        return "–"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


@attrs.frozen
class Metric:
    """One diagnostic with its values, the threshold and a plain-language verdict.

    Attributes:
        key: the metric's key in :data:`THRESHOLDS`.
        title: a human name.
        synthetic: the synthetic sample's value.
        real: the real baseline sample's value (same size).
        score: what the threshold judges (a ratio or a difference of the two).
        status: ``"ok"``, ``"warn"`` or ``"skipped"``.
        verdict: one sentence a non-specialist can act on.
        threshold: the threshold, described.
        collapse: whether a warning here is a collapse warning (all built-in ones are).
    """

    key: str
    title: str
    synthetic: float | None
    real: float | None
    score: float | None
    status: Status
    verdict: str
    threshold: str = ""
    collapse: bool = True


@attrs.frozen
class Diagnosis:
    """The result of :func:`diagnose`: the metrics, and the data behind the plots.

    Attributes:
        metrics: one :class:`Metric` per diagnostic, in a fixed order.
        sizes: record and token counts of the inputs and of the equal-size samples.
        plots: arrays for the report's figures (lengths, rank-frequency, distinct-n).
    """

    metrics: tuple[Metric, ...]
    sizes: dict[str, int]
    plots: dict[str, Any]

    @property
    def warnings(self) -> list[Metric]:
        """The metrics whose warning fired."""
        return [m for m in self.metrics if m.status == "warn"]

    @property
    def collapsed(self) -> bool:
        """Whether any collapse warning fired."""
        return any(m.collapse for m in self.warnings)

    def metric(self, key: str) -> Metric:
        """Return the metric ``key``."""
        for m in self.metrics:
            if m.key == key:
                return m
        msg = f"no metric {key!r}; the metrics are {[m.key for m in self.metrics]}"
        raise KeyError(msg)

    def to_dict(self) -> dict[str, Any]:
        return {"metrics": [attrs.asdict(m) for m in self.metrics], "sizes": dict(self.sizes), "collapsed": self.collapsed}


# -- the statistics -------------------------------------------------------------------


def distinct_n(docs: Sequence[Sequence[str]], n: int) -> float:
    """Return distinct ``n``-grams over all ``n``-grams (n-grams do not cross documents)."""
    grams: set[tuple[str, ...]] = set()
    total = 0
    for d in docs:
        k = len(d) - n + 1
        if k <= 0:
            continue
        total += k
        grams.update(tuple(d[i : i + n]) for i in range(k))
    return len(grams) / total if total else 0.0


def entropy_bits(counts: Counter[str]) -> float:
    """Return the Shannon entropy (bits) of the distribution given by ``counts``."""
    n = sum(counts.values())
    if not n:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in counts.values() if c)


def jensen_shannon(p: Counter[str], q: Counter[str]) -> float:
    """Return the Jensen-Shannon divergence (bits, in [0, 1]) of two count distributions."""
    np_, nq = sum(p.values()), sum(q.values())
    if not np_ or not nq:
        return 1.0
    js = 0.0
    for w in set(p) | set(q):
        a, b = p.get(w, 0) / np_, q.get(w, 0) / nq
        m = (a + b) / 2
        if a:
            js += 0.5 * a * math.log2(a / m)
        if b:
            js += 0.5 * b * math.log2(b / m)
    return max(0.0, min(1.0, js))


def compression_ratio(docs: Sequence[Sequence[str]]) -> float:
    """Return zlib-compressed bytes over raw bytes of the documents (one per line)."""
    raw = "\n".join(" ".join(d) for d in docs).encode("utf-8")
    return len(zlib.compress(raw, 9)) / len(raw) if raw else 1.0


def near_duplicate_share(texts: Sequence[str], *, threshold: float = 0.5, ngram: int = 3) -> float:
    """Return the share of texts that synthkit's near-dedup filter would drop.

    A text is dropped when its word ``ngram``-grams have a Jaccard similarity of at least
    ``threshold`` with an earlier kept text (:class:`synthkit.filters.dedup.NearDedup`, MinHash LSH
    with 28 bands of 4 rows, so pairs near a low threshold are still found).
    """
    if len(texts) < 2:
        return 0.0
    from synthkit.filters.dedup import NearDedup

    dedup = NearDedup(threshold, ngram=ngram, num_perm=112, bands=28)
    verdicts = dedup.check_batch([Record(id=str(i), data={"text": t}) for i, t in enumerate(texts)])
    return sum(not v.passed for v in verdicts) / len(texts)


def knn_coverage(reference: Any, sample: Any, *, k: int = 5) -> float:
    """Return coverage (Naeem et al. 2020): the share of reference points whose k-NN ball holds a sample point."""
    import numpy as np

    ref = np.asarray(reference, dtype=float)
    smp = np.asarray(sample, dtype=float)
    if len(ref) <= k or not len(smp):
        return 0.0
    def sq_dist(a: Any, b: Any) -> Any:
        return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T), 0.0)

    radius = np.partition(sq_dist(ref, ref), k, axis=1)[:, k]  # the point itself is at distance 0
    return float((sq_dist(ref, smp).min(axis=1) <= radius + 1e-12).mean())


def equal_token_sample(docs: Sequence[Sequence[str]], tokens: int, rng: random.Random) -> list[list[str]]:
    """Return documents drawn in random order until exactly ``tokens`` tokens (the last one cut)."""
    order = list(range(len(docs)))
    rng.shuffle(order)
    out: list[list[str]] = []
    have = 0
    for i in order:
        if have >= tokens:
            break
        d = list(docs[i][: tokens - have])
        if d:
            out.append(d)
            have += len(d)
    return out


# -- the diagnosis --------------------------------------------------------------------


def _texts(items: Iterable[Record | str], field: str | None) -> list[str]:
    out = []
    for it in items:
        out.append(it if isinstance(it, str) else it.text(field))
    return out


def _iqr(values: Sequence[float]) -> float:
    if len(values) < 4:
        return 0.0
    q = statistics.quantiles(values, n=4)
    return q[2] - q[0]


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _judge(key: str, title: str, synthetic: float, real: float, score: float, ok: str, warn: str) -> Metric:
    th = THRESHOLDS[key]
    fired = th.fires(score)
    return Metric(
        key=key,
        title=title,
        synthetic=synthetic,
        real=real,
        score=score,
        status="warn" if fired else "ok",
        verdict=warn if fired else ok,
        threshold=th.describe(),
    )


def _skipped(key: str, title: str, why: str) -> Metric:
    return Metric(key=key, title=title, synthetic=None, real=None, score=None, status="skipped", verdict=why, threshold=THRESHOLDS[key].describe())


def _default_embedder() -> Embedder | None:
    """Return an embedder when one is available offline, else ``None`` (the metric is then skipped).

    ``$SYNTHKIT_EMBEDDING_MODEL`` names an already-downloaded sentence-transformers model;
    otherwise the bundled all-MiniLM-L6-v2 of the ``semantic`` extra is used if installed.
    Nothing is ever downloaded.
    """
    name = os.environ.get("SYNTHKIT_EMBEDDING_MODEL")
    if name:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            msg = "SYNTHKIT_EMBEDDING_MODEL is set but sentence-transformers is missing: pip install 'synthkit[semantic]'"
            raise MissingDependencyError(msg) from None
        model = SentenceTransformer(name, local_files_only=True)
    else:
        from synthkit.filters.semantic import load_minilm

        try:
            model = load_minilm()
        except MissingDependencyError:
            return None
    return lambda texts: model.encode(list(texts), normalize_embeddings=True, show_progress_bar=False)


def diagnose(
    synthetic: Iterable[Record | str],
    reference: Iterable[Record | str],
    *,
    field: str | None = None,
    seed: int = 0,
    max_tokens: int = 200_000,
    max_docs: int = 2_000,
    embed: Embedder | None = None,
) -> Diagnosis:
    """Compare a synthetic set with a real reference, metric by metric.

    Holds the texts of both sets in memory (the samples it compares are capped by
    ``max_tokens`` and ``max_docs``).

    Args:
        synthetic: the records (or texts) to judge.
        reference: real records (or texts) of the kind the synthetic set stands in for;
            half of them become the baseline sample, so give at least twice as much.
        field: the field holding the text (default: ``text``, else ``response``, else ``prompt``).
        seed: seeds the split of the reference and the equal-size samples.
        max_tokens: the largest equal-size sample, in words.
        max_docs: the most records compared for near-duplicates and embeddings.
        embed: a function from texts to vectors for embedding coverage; by default the
            model named by ``$SYNTHKIT_EMBEDDING_MODEL`` (already downloaded) or the bundled
            all-MiniLM-L6-v2 of the ``semantic`` extra, if installed; else the metric is
            skipped. Nothing is downloaded.

    Raises:
        InputError: a record has no text in ``field``, or the reference is empty.
    """
    rng = random.Random(seed)
    syn_texts = _texts(synthetic, field)
    ref_texts = _texts(reference, field)
    if len(ref_texts) < 2:
        msg = f"the reference needs at least 2 records (it is split into a reference half and a baseline half), got {len(ref_texts)}"
        raise InputError(msg)
    syn_docs = [words(t) for t in syn_texts]
    ref_docs = [words(t) for t in ref_texts]
    order = list(range(len(ref_docs)))
    rng.shuffle(order)
    half = len(order) // 2
    ref_a = [ref_docs[i] for i in order[:half]]
    ref_b_idx = order[half:]
    ref_b = [ref_docs[i] for i in ref_b_idx]
    syn_tok = sum(map(len, syn_docs))
    b_tok = sum(map(len, ref_b))
    size = min(syn_tok, b_tok, max_tokens)
    s_smp = equal_token_sample(syn_docs, size, rng)
    b_smp = equal_token_sample(ref_b, size, rng)
    sizes = {
        "synthetic_records": len(syn_texts),
        "reference_records": len(ref_texts),
        "synthetic_tokens": syn_tok,
        "reference_tokens": sum(map(len, ref_docs)),
        "sample_tokens": size,
    }
    metrics: list[Metric] = []
    plots: dict[str, Any] = {}
    small = size < MIN_TOKENS
    why_small = (
        f"Skipped: the samples hold {size} words; at least {MIN_TOKENS} are needed "
        f"(synthetic {syn_tok}, real baseline half {b_tok})."
    )

    # distinct-n
    if small:
        metrics.append(_skipped("distinct-2", "Distinct word pairs (distinct-2)", why_small))
    else:
        dn_s = {n: distinct_n(s_smp, n) for n in (1, 2, 3, 4)}
        dn_b = {n: distinct_n(b_smp, n) for n in (1, 2, 3, 4)}
        plots["distinct"] = {"synthetic": dn_s, "real": dn_b}
        r = dn_s[2] / dn_b[2] if dn_b[2] else 0.0
        metrics.append(
            _judge(
                "distinct-2",
                "Distinct word pairs (distinct-2)",
                dn_s[2],
                dn_b[2],
                r,
                f"Healthy: {_pct(r)} as many distinct word pairs as real text of the same size ({size} words).",
                f"Repetitive: only {_pct(r)} as many distinct word pairs as real text of the same size ({size} words). "
                "The set reuses the same phrases; mix in real data or raise sampling diversity.",
            )
        )

    c_s = Counter(w for d in s_smp for w in d)
    c_b = Counter(w for d in b_smp for w in d)
    c_a = Counter(w for d in ref_a for w in d)

    # entropy
    if small:
        metrics.append(_skipped("entropy", "Word entropy", why_small))
    else:
        h_s, h_b = entropy_bits(c_s), entropy_bits(c_b)
        d = h_s - h_b
        metrics.append(
            _judge(
                "entropy",
                "Word entropy",
                h_s,
                h_b,
                d,
                f"Healthy: {h_s:.2f} bits per word against {h_b:.2f} for real text.",
                f"Concentrated: {h_s:.2f} bits per word against {h_b:.2f} for real text ({-d:.2f} bits less, an effective "
                f"vocabulary {_pct(2**d)} the size). The word distribution is collapsing onto its most common words.",
            )
        )

    # vocabulary support and tail coverage (against reference half A)
    vocab_a = set(c_a)
    rare = {w for w, c in c_a.items() if c <= 5}
    if small or not vocab_a:
        metrics.append(_skipped("vocabulary", "Reference vocabulary used", why_small))
    else:
        v_s = len(vocab_a & set(c_s)) / len(vocab_a)
        v_b = len(vocab_a & set(c_b)) / len(vocab_a)
        r = v_s / v_b if v_b else 0.0
        metrics.append(
            _judge(
                "vocabulary",
                "Reference vocabulary used",
                v_s,
                v_b,
                r,
                f"Healthy: uses {_pct(v_s)} of the reference vocabulary; real text of the same size uses {_pct(v_b)}.",
                f"Narrow: uses {_pct(v_s)} of the reference vocabulary where real text of the same size uses {_pct(v_b)}. "
                "Whole topics or registers are missing.",
            )
        )
    if small or not rare:
        metrics.append(_skipped("tail-coverage", "Rare-word (tail) coverage", why_small if small else "Skipped: the reference has no rare words."))
    else:
        t_s = len(rare & set(c_s)) / len(rare)
        t_b = len(rare & set(c_b)) / len(rare)
        r = t_s / t_b if t_b else 0.0
        metrics.append(
            _judge(
                "tail-coverage",
                "Rare-word (tail) coverage",
                t_s,
                t_b,
                r,
                f"Healthy: {_pct(t_s)} of the reference's {len(rare)} rare words appear; real text of the same size has {_pct(t_b)}.",
                f"Tail lost: only {_pct(t_s)} of the reference's {len(rare)} rare words appear, against {_pct(t_b)} in real "
                "text of the same size. The rare end of the distribution is vanishing, the first stage of model collapse; "
                "keep real data in the mix (tail-preserving mixer).",
            )
        )
    plots["rank_frequency"] = {
        "synthetic": sorted(c_s.values(), reverse=True),
        "real": sorted(c_b.values(), reverse=True),
    }

    # divergence
    if small:
        metrics.append(_skipped("divergence", "Word-distribution divergence", why_small))
    else:
        js_s, js_b = jensen_shannon(c_s, c_a), jensen_shannon(c_b, c_a)
        d = js_s - js_b
        metrics.append(
            _judge(
                "divergence",
                "Word-distribution divergence",
                js_s,
                js_b,
                d,
                f"Healthy: Jensen-Shannon divergence from the reference {js_s:.3f} bits; real text of the same size: {js_b:.3f}.",
                f"Drifted: Jensen-Shannon divergence from the reference {js_s:.3f} bits against {js_b:.3f} for real text "
                "of the same size. The words are used in different proportions from real data.",
            )
        )

    # compression
    if small:
        metrics.append(_skipped("compression", "Compression ratio", why_small))
    else:
        z_s, z_b = compression_ratio(s_smp), compression_ratio(b_smp)
        r = z_s / z_b if z_b else 0.0
        metrics.append(
            _judge(
                "compression",
                "Compression ratio",
                z_s,
                z_b,
                r,
                f"Healthy: compresses to {_pct(z_s)} of its size; real text to {_pct(z_b)}.",
                f"Repetitive: compresses to {_pct(z_s)} of its size where real text only gets to {_pct(z_b)}. "
                "Long stretches repeat across records.",
            )
        )

    # near-duplicates (equal numbers of records)
    n_docs = min(len(syn_texts), len(ref_b_idx), max_docs)
    if n_docs < 10:
        metrics.append(_skipped("near-duplicates", "Near-duplicate records", f"Skipped: {n_docs} records to compare; at least 10 are needed."))
    else:
        s_pick = rng.sample(syn_texts, n_docs)
        b_pick = [ref_texts[i] for i in rng.sample(ref_b_idx, n_docs)]
        nd_s, nd_b = near_duplicate_share(s_pick), near_duplicate_share(b_pick)
        d = nd_s - nd_b
        metrics.append(
            _judge(
                "near-duplicates",
                "Near-duplicate records",
                nd_s,
                nd_b,
                d,
                f"Healthy: {_pct(nd_s)} of {n_docs} records are near-duplicates of another; real data: {_pct(nd_b)}.",
                f"Duplicated: {_pct(nd_s)} of {n_docs} records are near-duplicates of another, against {_pct(nd_b)} in "
                "real data. Run the near-dedup filter and check the generator is not stuck on a few templates.",
            )
        )

    # length distribution (all records)
    len_s = [len(d) for d in syn_docs]
    len_r = [len(d) for d in ref_docs]
    plots["lengths"] = {"synthetic": len_s, "real": len_r}
    iqr_s, iqr_r = _iqr(len_s), _iqr(len_r)
    if len(len_s) < 10 or iqr_r <= 0:
        metrics.append(_skipped("length-spread", "Length spread", "Skipped: too few records, or real lengths do not vary."))
    else:
        r = iqr_s / iqr_r
        med_s, med_r = statistics.median(len_s), statistics.median(len_r)
        metrics.append(
            _judge(
                "length-spread",
                "Length spread",
                iqr_s,
                iqr_r,
                r,
                f"Healthy: lengths spread over {iqr_s:g} words (interquartile range; median {med_s:g}) against {iqr_r:g} "
                f"(median {med_r:g}) in real data.",
                f"Uniform lengths: the middle half of records spans {iqr_s:g} words against {iqr_r:g} in real data "
                f"(medians {med_s:g} and {med_r:g}). The generator has settled on one length.",
            )
        )

    # embedding coverage
    embedder = embed if embed is not None else _default_embedder()
    title = "Embedding coverage"
    if embedder is None:
        metrics.append(
            _skipped(
                "embedding-coverage",
                title,
                "Skipped: no embedding model. Install synthkit[semantic] (bundled all-MiniLM-L6-v2), or set "
                "SYNTHKIT_EMBEDDING_MODEL to a downloaded sentence-transformers model, to measure it.",
            )
        )
    else:
        n_emb = min(n_docs, 1_000)
        ref_a_texts = [ref_texts[i] for i in order[:half]]
        if n_emb < 10 or len(ref_a_texts) < 10:
            metrics.append(_skipped("embedding-coverage", title, "Skipped: too few records to compare embeddings."))
        else:
            ref_e = embedder(rng.sample(ref_a_texts, min(len(ref_a_texts), 1_000)))
            cov_s = knn_coverage(ref_e, embedder(rng.sample(syn_texts, n_emb)))
            cov_b = knn_coverage(ref_e, embedder([ref_texts[i] for i in rng.sample(ref_b_idx, n_emb)]))
            r = cov_s / cov_b if cov_b else 0.0
            metrics.append(
                _judge(
                    "embedding-coverage",
                    title,
                    cov_s,
                    cov_b,
                    r,
                    f"Healthy: covers {_pct(cov_s)} of the reference's neighbourhoods; real text covers {_pct(cov_b)}.",
                    f"Gaps: covers {_pct(cov_s)} of the reference's neighbourhoods against {_pct(cov_b)} for real text. "
                    "Whole regions of meaning are missing from the synthetic set.",
                )
            )
    return Diagnosis(metrics=tuple(metrics), sizes=sizes, plots=plots)
