"""Dedup in two phases and over shards: bands chosen from the threshold, recall just above it, and sharded verdicts equal to local ones."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthkit.cli import cli
from synthkit.filters.dedup import (
    BandIndex,
    BandTable,
    ExactDedup,
    LocalShards,
    NearDedup,
    candidate_probability,
    choose_bands,
)
from synthkit.filters.ngrams import word_ngrams, words
from synthkit.records import Record

VOCAB = [f"v{i}q{(i * 7919) % 997}" for i in range(20000)]


def doc(rng: random.Random, n_words: int = 200) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(n_words))


def jaccard(a: str, b: str, n: int = 5) -> float:
    x, y = set(word_ngrams(words(a), n)), set(word_ngrams(words(b), n))
    return len(x & y) / len(x | y)


def twin_at(rng: random.Random, text: str, lo: float, hi: float) -> str:
    """Return an edited copy of ``text`` whose word 5-gram Jaccard with it is in ``[lo, hi]``."""
    ws = text.split()
    while True:
        edited = list(ws)
        for _ in range(rng.randint(4, 10)):
            edited[rng.randrange(len(edited))] = rng.choice(VOCAB)
        out = " ".join(edited)
        if lo <= jaccard(text, out) <= hi:
            return out


def records(texts: list[str], prefix: str = "r") -> list[Record]:
    return [Record.create(id=f"{prefix}{i}", data={"text": t}) for i, t in enumerate(texts)]


def in_batches(check, recs: list[Record], cuts: list[int]) -> list:
    out, start = [], 0
    for end in [*cuts, len(recs)]:
        out += check(recs[start:end])
        start = end
    return out


# -- bands from the threshold ------------------------------------------------------------


@pytest.mark.parametrize("num_perm", [32, 112, 128, 256])
@pytest.mark.parametrize("weights", [(0.5, 0.5), (0.02, 0.98), (0.3, 0.7)])
def test_choose_bands_matches_datasketch(num_perm, weights):
    """The (bands, rows) chosen minimise the same weighted error as datasketch's MinHashLSH, for every threshold tried."""
    from datasketch.lsh import _optimal_param

    for threshold in [x / 100 for x in range(30, 100, 5)]:
        assert choose_bands(threshold, num_perm, weights) == _optimal_param(threshold, num_perm, *weights), threshold


def test_default_layout_finds_pairs_at_the_threshold():
    """With the bands chosen from the threshold, a pair at the threshold is a candidate with probability >= 0.93 (0.57 for the old 14 x 8 at 0.7)."""
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9):
        f = NearDedup(threshold)
        assert f.chosen and f.bands * f.rows <= f.num_perm
        assert candidate_probability(threshold, f.bands, f.rows) >= 0.93
    assert (NearDedup(0.7).bands, NearDedup(0.7).rows) == (22, 5)
    assert candidate_probability(0.7, 14, 8) == pytest.approx(0.565, abs=0.001)


def test_expected_recall_and_description():
    """expected_recall is the LSH candidate probability at the threshold, times the estimate's chance with confirm='minhash'; describe() says so."""
    exact = NearDedup(0.7)
    assert exact.expected_recall == pytest.approx(candidate_probability(0.7, 22, 5))
    assert "22 bands of 5 rows (chosen for threshold 0.7)" in exact.describe()
    assert f"probability {exact.expected_recall:.3f}" in exact.describe()
    lean = NearDedup(0.7, bands=14, confirm="minhash")
    assert not lean.chosen and lean.expected_recall < 0.4
    assert "14 bands of 8 rows (as given)" in lean.describe()


def test_bands_override_and_validation():
    """bands alone must divide num_perm; bands with rows may leave slots unused; bad layouts are refused."""
    assert (NearDedup(0.7, bands=28).rows, NearDedup(0.7, bands=20, rows=5).rows) == (4, 5)
    for kwargs in ({"bands": 15}, {"bands": 30, "rows": 4}, {"rows": 5}, {"bands": 0, "rows": 1}):
        with pytest.raises(ValueError):
            NearDedup(0.7, **kwargs)


def test_planted_pairs_at_jaccard_070_to_075_found_with_recall_095():
    """Pairs planted at word 5-gram Jaccard 0.70-0.75 are dropped with recall >= 0.95 at threshold 0.7, and nothing else is."""
    rng = random.Random(11)
    bases = [doc(rng) for _ in range(300)]
    twins = [twin_at(rng, b, 0.70, 0.75) for b in bases]
    others = [doc(rng) for _ in range(200)]
    texts = bases + others + twins
    verdicts = in_batches(NearDedup(0.7).check_batch, records(texts), list(range(128, len(texts), 128)))
    dropped = [not v.passed for v in verdicts]
    assert not any(dropped[:500])
    recall = sum(dropped[500:]) / len(twins)
    assert recall >= 0.95, recall


def test_cli_near_07_finds_pairs_planted_at_070_to_075(tmp_path):
    """`synthkit dedup --near 0.7` (its defaults, end to end) drops >= 95% of twins planted at Jaccard 0.70-0.75, and no other record."""
    rng = random.Random(12)
    bases = [doc(rng) for _ in range(200)]
    twins = [twin_at(rng, b, 0.70, 0.75) for b in bases]
    assert all(0.70 <= jaccard(b, t) <= 0.75 for b, t in zip(bases, twins))
    others = [doc(rng) for _ in range(100)]
    rows = [{"id": f"b{i}", "text": t} for i, t in enumerate(bases)] + [{"id": f"o{i}", "text": t} for i, t in enumerate(others)]
    rows += [{"id": f"t{i}", "text": t} for i, t in enumerate(twins)]
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = CliRunner().invoke(cli, ["dedup", str(src), "-o", str(out), "--near", "0.7"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    kept = {json.loads(line)["id"] for line in out.read_text().splitlines()}
    assert all(f"b{i}" in kept for i in range(200)) and all(f"o{i}" in kept for i in range(100))
    recall = sum(f"t{i}" not in kept for i in range(200)) / 200
    assert recall >= 0.95, recall


def test_cli_near_prints_the_choice_and_expected_recall(tmp_path):
    """`synthkit dedup --near 0.7` prints the bands, rows and expected recall it chose; --bands overrides them."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in ["a b c d e f g h i j", "a b c d e f g h i k", "x y z"]))
    runner = CliRunner()
    res = runner.invoke(cli, ["dedup", str(src), "-o", str(tmp_path / "o.jsonl"), "--near", "0.7"], catch_exceptions=False)
    assert "112 permutations (numpy MinHash), 22 bands of 5 rows (chosen for threshold 0.7)" in res.output
    assert "found with probability 0.983" in res.output
    res = runner.invoke(cli, ["dedup", str(src), "-o", str(tmp_path / "o.jsonl"), "--near", "0.7", "--bands", "28"], catch_exceptions=False)
    assert "28 bands of 4 rows (as given)" in res.output


# -- the index structures ----------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [lambda: BandTable(capacity=16), lambda: BandTable(capacity=16, max_load=0.9, grow_chunk=7), lambda: BandIndex(tail_size=64)],
    ids=["table", "full-table-small-chunks", "sorted-index"],
)
def test_band_indexes_return_every_number_of_a_key(table):
    """BandTable (growing many times) and BandIndex (merging many times) return, for each key looked up, every number stored under it."""
    rng = np.random.default_rng(3)
    idx, ref, n = table(), {}, 0
    for step in range(60):
        keys = rng.integers(1, 2**64, size=int(rng.integers(1, 300)), dtype=np.uint64)
        if ref and step % 3 == 0:
            keys[:5] = rng.choice(np.array(list(ref), dtype=np.uint64), 5)  # repeats of stored keys
        probe = np.concatenate([keys[:40], rng.integers(1, 2**64, size=20, dtype=np.uint64)])
        pos, nums = idx.lookup(probe)
        got: dict[int, set[int]] = {}
        for p, x in zip(pos.tolist(), nums.tolist()):
            got.setdefault(p, set()).add(x)
        for p, k in enumerate(probe.tolist()):
            assert got.get(p, set()) == set(ref.get(k, [])), (step, p)
        numbers = np.arange(n, n + keys.size)
        n += keys.size
        idx.insert(keys, numbers)
        for k, x in zip(keys.tolist(), numbers.tolist()):
            ref.setdefault(k, []).append(x)
    assert len(idx) == n


# -- sharded = local, whatever the batches -------------------------------------------------


def corpus(seed: int, n: int = 600) -> list[str]:
    """Texts with exact copies, near copies (one to six words edited) and unrelated texts, shuffled."""
    rng = random.Random(seed)
    base = [doc(rng, 40) for _ in range(n // 3)]
    out = []
    for _ in range(n):
        t = rng.choice(base)
        k = rng.choice([0, 0, 1, 2, 4, 6])
        ws = t.split()
        for _ in range(k):
            ws[rng.randrange(len(ws))] = rng.choice(VOCAB[:300])
        out.append(" ".join(ws) if rng.random() > 0.1 else " ".join(ws).upper())
    out[5] = ""
    return out


def run_sharded(filt, recs: list[Record], shards: int, cuts: list[int]) -> list:
    index = filt.sharded(LocalShards([filt.shard(s, shards) for s in range(shards)]))
    return in_batches(lambda part: filt.decide(filt.prepare(part), index), recs, cuts)


@pytest.mark.parametrize("confirm", ["exact", "minhash", "none"])
@pytest.mark.parametrize("shards", [1, 2, 5])
def test_sharded_near_dedup_equals_local(confirm, shards):
    """Over 1, 2 or 5 shards, near dedup gives exactly the local verdicts (same kept records, same reasons)."""
    recs = records(corpus(1))
    local = NearDedup(0.6, confirm=confirm).check_batch(recs)
    assert sum(not v.passed for v in local) > 100
    assert run_sharded(NearDedup(0.6, confirm=confirm), recs, shards, list(range(50, len(recs), 50))) == local


@pytest.mark.parametrize("shards", [1, 3])
def test_sharded_exact_dedup_equals_local(shards):
    """Over shards, exact dedup gives exactly the local verdicts (the first copy kept, later ones naming it)."""
    recs = records(corpus(2)) + [Record.create(id="no-text", data={"other": 1})]
    local = ExactDedup().check_batch(recs)
    assert sum(not v.passed for v in local) > 50
    assert run_sharded(ExactDedup(), recs, shards, list(range(64, len(recs), 64))) == local


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 299), max_size=8, unique=True).map(sorted), st.integers(1, 4), st.integers(0, 3))
def test_verdicts_do_not_depend_on_batches_or_shards(cuts, shards, seed):
    """However the records are cut into batches and however many shards, near and exact dedup give the one-batch verdicts."""
    recs = records(corpus(seed, 300))
    for make in (lambda: NearDedup(0.7), lambda: NearDedup(0.7, confirm="minhash"), ExactDedup):
        whole = make().check_batch(recs)
        assert in_batches(make().check_batch, recs, cuts) == whole
        assert run_sharded(make(), recs, shards, cuts) == whole


def test_batch_take_prepares_like_a_smaller_batch():
    """A prepared batch's take(rows) judges like preparing only those records."""
    recs = records(corpus(4, 120))
    rows = [3, 7, 8, 50, 99, 100, 119]
    for make in (NearDedup, ExactDedup):
        f = make()
        assert make().decide(f.prepare(recs).take(rows)) == make().check_batch([recs[i] for i in rows])
