"""Near-duplicate removal: planted twins found, reasons, engines, and hypothesis properties."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthkit.filters.dedup import NearDedup, oph_signatures, rensa_signatures
from synthkit.filters.ngrams import ngram_hash_batch, word_ngrams, words
from synthkit.records import Record

VOCAB = [f"w{i}x{(i * 7919) % 1000}" for i in range(5000)]


def doc(rng: random.Random, n_words: int = 120) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(n_words))


def edit(rng: random.Random, text: str, k: int) -> str:
    ws = text.split()
    for _ in range(k):
        ws[rng.randrange(len(ws))] = rng.choice(VOCAB)
    return " ".join(ws)


def jaccard(a: str, b: str, n: int = 5) -> float:
    x, y = set(word_ngrams(words(a), n)), set(word_ngrams(words(b), n))
    return len(x & y) / len(x | y) if x | y else 1.0


def run(f: NearDedup, texts: list[str], ids: list[str] | None = None, batch: int = 64) -> list:
    ids = ids or [f"r{i}" for i in range(len(texts))]
    recs = [Record.create(id=i, data={"text": t}) for i, t in zip(ids, texts)]
    out = []
    for k in range(0, len(recs), batch):
        out += f.check_batch(recs[k : k + batch])
    return out


def test_planted_twins_found_and_reason_names_kept_record():
    """Twins with one or two edited words among 300 unrelated documents are all dropped, naming their original."""
    rng = random.Random(1)
    base = [doc(rng) for _ in range(300)]
    twins = {f"t{i}": (f"r{i}", edit(rng, base[i], 1 + i % 2)) for i in range(0, 300, 10)}
    texts = base + [t for _, t in twins.values()]
    ids = [f"r{i}" for i in range(300)] + list(twins)
    verdicts = run(NearDedup(0.7), texts, ids)
    dropped = {i: v for i, v in zip(ids, verdicts) if not v.passed}
    assert set(dropped) == set(twins)
    for tid, (orig, _) in twins.items():
        assert dropped[tid].reason.startswith(f"near-duplicate of {orig} (jaccard 0.")
        assert 0.7 <= dropped[tid].score <= 1.0


def test_twin_in_same_batch_is_found():
    """A twin arriving in the same batch as its original is dropped (the index grows within a batch)."""
    rng = random.Random(2)
    a = doc(rng)
    verdicts = run(NearDedup(0.8), [a, doc(rng), edit(rng, a, 1)], batch=10)
    assert [v.passed for v in verdicts] == [True, True, False]
    assert "near-duplicate of r0" in verdicts[2].reason


def test_check_matches_check_batch():
    """Checking one by one gives the same verdicts as checking in batches."""
    rng = random.Random(3)
    base = [doc(rng, 60) for _ in range(40)]
    texts = base + [edit(rng, t, 1) for t in base[:15]]
    rng.shuffle(texts)
    one = NearDedup(0.75)
    singles = [one.check(Record.create(id=f"r{i}", data={"text": t})) for i, t in enumerate(texts)]
    assert singles == run(NearDedup(0.75), texts, batch=16)


@pytest.mark.parametrize("engine", ["rensa", "numpy"])
@pytest.mark.parametrize("confirm", ["minhash", "exact"])
def test_engines_and_confirmations_find_the_same_clear_twins(engine, confirm):
    """Both engines, with estimated or exact confirmation, drop exactly the clear twins (Jaccard >= 0.9)."""
    rng = random.Random(4)
    base = [doc(rng) for _ in range(100)]
    twins = [edit(rng, base[i], 1) for i in range(0, 100, 5)]
    verdicts = run(NearDedup(0.7, engine=engine, confirm=confirm), base + twins)
    assert [v.passed for v in verdicts] == [True] * 100 + [False] * 20


def test_confirm_none_drops_on_band_match_without_score():
    """confirm='none' drops on a shared LSH band; the reason says so and carries no similarity."""
    rng = random.Random(5)
    a = doc(rng)
    v = run(NearDedup(0.9, confirm="none"), [a, a])[1]
    assert not v.passed and v.reason == "near-duplicate of r0 (shares an LSH band)" and v.score is None


def test_exact_confirmation_rejects_pairs_under_threshold():
    """With exact confirmation, a pair just under the threshold is kept and one at or above is dropped."""
    rng = random.Random(6)
    a = doc(rng, 200)
    near = edit(rng, a, 2)
    j = jaccard(a, near)
    assert run(NearDedup(j + 0.01, confirm="exact", bands=56), [a, near])[1].passed
    assert not run(NearDedup(j - 0.01, confirm="exact", bands=56), [a, near])[1].passed


def test_empty_and_short_texts():
    """A text with no words passes with a note; short identical texts (under 5 words) are duplicates."""
    verdicts = run(NearDedup(0.8), ["", "...", "hello there world", "Hello, there  world!"])
    assert [v.passed for v in verdicts] == [True, True, True, False]
    assert verdicts[0].reason == "no words to compare"


def test_bad_options_are_rejected():
    """Threshold, bands, confirm and engine are validated when the filter is built."""
    for kwargs in ({"threshold": 0}, {"threshold": 1.5}, {"bands": 15}, {"confirm": "maybe"}, {"engine": "gpu"}, {"ngram": 0}):
        with pytest.raises(ValueError):
            NearDedup(**kwargs)


@pytest.mark.parametrize("sign", [oph_signatures, rensa_signatures])
def test_signature_agreement_estimates_jaccard(sign):
    """The share of equal signature slots is within 0.15 of the true 5-gram Jaccard for edited pairs."""
    rng = random.Random(7)
    pairs = []
    for _ in range(40):
        a = doc(rng, 150)
        pairs.append((a, edit(rng, a, rng.randint(1, 12))))
    texts = [t for p in pairs for t in p]
    grams, offsets = ngram_hash_batch(texts, 5)
    sig = sign(grams, offsets, 112, 0)
    errors = [abs((sig[2 * i] == sig[2 * i + 1]).mean() - jaccard(a, b)) for i, (a, b) in enumerate(pairs)]
    assert max(errors) < 0.15
    assert sum(errors) / len(errors) < 0.05


# -- hypothesis properties -----------------------------------------------------------------

# clusters: distinct random documents, each with 1-3 copies edited by at most one word
clusters = st.lists(
    st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 3), st.lists(st.booleans(), min_size=3, max_size=3)),
    min_size=1,
    max_size=12,
    unique_by=lambda c: c[0],
)


def make_corpus(spec) -> tuple[list[str], list[int]]:
    texts, cluster_of = [], []
    for c, (seed, copies, edits) in enumerate(spec):
        rng = random.Random(seed)
        base = doc(rng, 150)
        for k in range(copies):
            texts.append(edit(rng, base, 1) if k and edits[k] else base)
            cluster_of.append(c)
    return texts, cluster_of


def kept_ids(verdicts, ids):
    return [i for i, v in zip(ids, verdicts) if v.passed]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters, st.randoms(use_true_random=False))
def test_keeps_one_per_cluster_whatever_the_order(spec, rnd):
    """Any order of the input keeps exactly one record of each cluster of near-copies."""
    texts, cluster_of = make_corpus(spec)
    order = list(range(len(texts)))
    rnd.shuffle(order)
    verdicts = run(NearDedup(0.7), [texts[i] for i in order], [str(i) for i in order], batch=7)
    kept = [int(i) for i in kept_ids(verdicts, [str(i) for i in order])]
    assert sorted(cluster_of[i] for i in kept) == list(range(len(spec)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters)
def test_dedup_is_idempotent(spec):
    """Deduplicating the kept records again keeps all of them."""
    texts, _ = make_corpus(spec)
    ids = [str(i) for i in range(len(texts))]
    kept = kept_ids(run(NearDedup(0.7), texts, ids), ids)
    again = run(NearDedup(0.7), [texts[int(i)] for i in kept], kept)
    assert all(v.passed for v in again)


word = st.sampled_from(VOCAB[:30])  # a small vocabulary, so texts overlap by chance
texts_st = st.lists(st.lists(word, min_size=0, max_size=25).map(" ".join), min_size=1, max_size=20)


@settings(max_examples=60, deadline=None)
@given(texts_st, st.sampled_from([0.5, 0.7, 0.9]))
def test_exact_confirmation_never_drops_without_a_twin_above_threshold(texts, threshold):
    """With exact confirmation, every dropped record has true Jaccard >= threshold with the kept record it names."""
    ids = [f"r{i}" for i in range(len(texts))]
    verdicts = run(NearDedup(threshold, confirm="exact", bands=56), texts, ids)
    by_id = dict(zip(ids, texts))
    for tid, v in zip(ids, verdicts):
        if not v.passed:
            kept_id = v.reason.split()[2]
            assert jaccard(by_id[tid], by_id[kept_id]) >= threshold - 1e-9


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=15, unique=True))
def test_unrelated_documents_are_never_dropped(seeds):
    """Documents with no near twin (random, unrelated) all pass with the default estimated confirmation."""
    texts = [doc(random.Random(s), 80) for s in seeds]
    assert all(v.passed for v in run(NearDedup(0.5), texts))


def test_band_index_finds_keys_before_and_after_merges():
    """BandIndex returns every record holding a key, whether the key is recent (dict) or merged (sorted arrays)."""
    import numpy as np

    from synthkit.filters.dedup import BandIndex

    idx = BandIndex(tail_size=8)
    idx.add_many([10, 11, 12], [0, 0, 0])
    idx.add([12, 13], 1)
    assert len(idx) == 5
    idx.maybe_merge()  # below tail_size: nothing moves
    assert idx.keys.size == 0 and idx.in_tail([12, 99]) == {12}
    idx.add([12, 14, 15, 16], 2)
    idx.maybe_merge()
    assert idx.keys.tolist() == sorted(idx.keys.tolist()) and idx.tail == {}
    lo, hi = idx.locate(np.array([12, 13, 99], dtype=np.uint64))
    assert idx.candidates([12, 13, 99], lo.tolist(), hi.tolist()) == {0, 1, 2}
    idx.add([99], 3)
    lo, hi = idx.locate(np.array([99, 10], dtype=np.uint64))
    assert idx.candidates([99, 10], lo.tolist(), hi.tolist()) == {3, 0}


def test_twins_found_across_index_merges():
    """With a tiny recent part (many merges), planted twins are still all found and nothing else is dropped."""
    from synthkit.filters.dedup import BandIndex

    rng = random.Random(8)
    base = [doc(rng, 80) for _ in range(200)]
    twins = [edit(rng, base[i], 1) for i in range(0, 200, 4)]
    f = NearDedup(0.7)
    f._index = BandIndex(tail_size=100)
    verdicts = run(f, base + twins, batch=16)
    assert [v.passed for v in verdicts] == [True] * 200 + [False] * 50
    assert f._index.keys.size > 0


def _copies_of(rng: random.Random, base: list[str], k: int) -> str:
    """A copy of a base text as is, in capitals, repeating a 5-gram (same set, other multiplicity), or with words edited."""
    t = rng.choice(base)
    how = rng.randrange(4)
    if how == 1:
        return t.upper()
    if how == 2:
        ws = t.split()
        return " ".join(ws + ws[:5]) if len(ws) >= 6 else t
    if how == 3:
        return edit(rng, t, k)
    return t


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 3))
def test_copies_found_by_their_set_key_are_judged_as_their_bands_would(seed, batch, k):
    """A copy of a kept record found by its gram-set key gets the verdict judging its bands gives (same record named, Jaccard 1)."""
    rng = random.Random(seed)
    base = [doc(rng, rng.randrange(6, 30)) for _ in range(12)]
    texts = [_copies_of(rng, base, k) if i > 3 else base[i] for i in range(80)]
    fast = run(NearDedup(0.7), texts, batch=batch)
    plain = NearDedup(0.7)
    plain._shard.sets = None  # no set keys: every copy is found by its bands and judged
    assert run(plain, texts, batch=batch) == fast
    assert any(v.score == 1.0 for v in fast)
