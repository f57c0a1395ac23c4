"""Mixers: proportions (property-tested), reproducibility, lineage, registration, the mix command, the pipeline."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthkit as sk
from synthkit.errors import InputError
from synthkit.mix.mixers import (
    AccumulateMixer,
    RatioMixer,
    RealFloorMixer,
    StratifiedMixer,
    TailPreservingMixer,
    count_tokens,
    rarity_strata,
)
from synthkit.plugins import load_plugins


def make(kind: str, n: int, *, words: int | list[int] = 1, start: int = 0, **data) -> list[sk.Record]:
    """Build ``n`` plain records (default lineage, as read from a JSONL file)."""
    sizes = words if isinstance(words, list) else [words] * n
    return [
        sk.Record(id=f"{kind}{start + i}", data={"text": " ".join([f"{kind}{start + i}"] * sizes[i % len(sizes)]), **data})
        for i in range(n)
    ]


def roles(records):
    return Counter("real" if r.id.startswith("real") else "syn" for r in records)


fractions = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(n_real=st.integers(0, 120), n_syn=st.integers(0, 200), f=fractions, seed=st.integers(0, 2**31 - 1))
def test_ratio_holds_the_fraction_within_one_record_and_uses_what_it_can(n_real, n_syn, f, seed):
    """The ratio mixer keeps real = f/(1-f) * synthetic to the nearest record, and stops only when a source runs out."""
    real, syn = make("real", n_real), make("syn", n_syn)
    m = RatioMixer(f)
    if f > 0 and n_real == 0:
        out = list(m.mix({"real": real, "synthetic": syn}, seed=seed))
        assert roles(out)["real"] == 0
        return
    out = list(m.mix({"real": real, "synthetic": syn}, seed=seed))
    c = roles(out)
    assert len({r.id for r in out}) == len(out)  # nothing repeated
    assert m.report.produced == {"real": c["real"], "synthetic": c["syn"]}
    assert m.report.asked == {"real": f, "synthetic": 1 - f}
    if f < 1:
        assert abs(c["real"] - f / (1 - f) * c["syn"]) <= 0.5 + 1e-9
        # maximal: all synthetic used, or the next synthetic record would have needed real data that was not there
        if c["syn"] < n_syn:
            assert n_real + 0.5 <= f / (1 - f) * (c["syn"] + 1)
    else:
        assert c == Counter({"real": n_real})


@settings(max_examples=80, deadline=None)
@given(n_real=st.integers(1, 80), n_syn=st.integers(0, 120), f=st.floats(0.05, 0.95), total=st.integers(1, 150), seed=st.integers(0, 1000))
def test_ratio_with_a_total_splits_it_by_the_fraction(n_real, n_syn, f, total, seed):
    """With ``total``, the ratio mixer emits at most ``total`` records, synthetic up to (1-f)*total, in the asked ratio."""
    m = RatioMixer(f, total=total)
    out = list(m.mix({"real": make("real", n_real), "synthetic": make("syn", n_syn)}, seed=seed))
    c = roles(out)
    assert len(out) <= total + 1
    assert c["syn"] <= (1 - f) * total + 0.5
    if n_syn >= total and n_real >= total:
        assert abs(len(out) - total) <= 1 and abs(c["real"] - f * total) <= 1
    else:  # a source ran short: what was produced still holds the fraction, to within one record
        assert abs(c["real"] - f * len(out)) <= 1 + 1e-9


@settings(max_examples=80, deadline=None)
@given(
    real_sizes=st.lists(st.integers(1, 30), min_size=1, max_size=40),
    syn_sizes=st.lists(st.integers(1, 30), min_size=1, max_size=60),
    f=st.floats(0.05, 0.95),
    seed=st.integers(0, 1000),
)
def test_ratio_by_tokens_holds_the_token_share(real_sizes, syn_sizes, f, seed):
    """By tokens, real tokens track f/(1-f) of synthetic tokens to within half the largest real record."""
    real = make("real", len(real_sizes), words=real_sizes)
    syn = make("syn", len(syn_sizes), words=syn_sizes)
    m = RatioMixer(f, unit="tokens")
    out = list(m.mix({"real": real, "synthetic": syn}, seed=seed))
    real_tok = sum(count_tokens(r) for r in out if r.id.startswith("real"))
    syn_tok = sum(count_tokens(r) for r in out if r.id.startswith("syn"))
    assert m.report.unit == "tokens" and m.report.produced == {"real": real_tok, "synthetic": syn_tok}
    assert abs(real_tok - f / (1 - f) * syn_tok) <= max(real_sizes) / 2 + 1e-9


@settings(max_examples=100, deadline=None)
@given(n_real=st.integers(1, 120), n_syn=st.integers(0, 200), f=st.floats(0.01, 0.99), seed=st.integers(0, 1000))
def test_real_floor_uses_all_real_data_and_never_less_than_the_floor(n_real, n_syn, f, seed):
    """real-floor emits every real record, and synthetic ones only while the real share stays at the floor or above."""
    m = RealFloorMixer(f)
    out = list(m.mix({"real": make("real", n_real), "synthetic": make("syn", n_syn)}, seed=seed))
    c = roles(out)
    assert c["real"] == n_real
    assert c["real"] / len(out) >= f - 0.5 / len(out) - 1e-9
    if c["syn"] < n_syn:  # synthetic was cut: the real share sits at the floor
        assert abs(c["real"] - f / (1 - f) * c["syn"]) <= 0.5 + 1e-9 + f / (1 - f)


@settings(max_examples=60, deadline=None)
@given(n_real=st.integers(0, 60), gens=st.lists(st.integers(0, 40), min_size=1, max_size=5))
def test_accumulate_keeps_every_record_of_every_generation_in_order(n_real, gens):
    """accumulate streams real data, then each generation oldest first, dropping nothing and marking generations."""
    sources = {"real": make("real", n_real)}
    for i, k in enumerate(gens[:-1], 1):
        sources[f"gen{i}"] = make(f"g{i}x", k)
    sources["synthetic"] = make(f"g{len(gens)}x", gens[-1])
    m = AccumulateMixer()
    out = list(m.mix(sources))
    expected = [r.id for src in sources.values() for r in src]
    assert [r.id for r in out] == expected
    for r in out:
        if r.id.startswith("real"):
            assert r.lineage.origin == "real" and r.lineage.generation == 0
        else:
            assert r.lineage.origin == "synthetic" and r.lineage.generation == int(r.id[1 : r.id.index("x")])
    assert m.report.produced == {name: len(src) for name, src in sources.items()}


@settings(max_examples=60, deadline=None)
@given(n_real=st.integers(1, 50), n_syn=st.integers(0, 200), f=st.floats(0.05, 0.9), seed=st.integers(0, 1000))
def test_accumulate_with_a_real_fraction_repeats_real_data_to_the_floor(n_real, n_syn, f, seed):
    """accumulate with real_fraction drops nothing and repeats real records until real makes up the floor."""
    m = AccumulateMixer(real_fraction=f, shuffle=True)
    syn = make("syn", n_syn)
    out = list(m.mix({"real": make("real", n_real), "synthetic": syn}, seed=seed))
    c = roles(out)
    assert {r.id for r in syn} <= {r.id for r in out}
    assert c["syn"] == n_syn and c["real"] >= n_real
    assert c["real"] / len(out) >= f - 1 / len(out) - 1e-9


def test_accumulate_total_subsamples_each_source_in_proportion():
    """accumulate with total keeps that many records, each generation in proportion to its size."""
    m = AccumulateMixer(total=100)
    out = list(m.mix({"real": make("real", 100), "gen1": make("g1x", 100), "synthetic": make("g2x", 200)}, seed=3))
    c = Counter(r.id[:3] for r in out)
    assert len(out) == 100 and c == {"rea": 25, "g1x": 25, "g2x": 50}


strata_lists = st.lists(st.sampled_from("abcd"), min_size=1, max_size=150)


@settings(max_examples=80, deadline=None)
@given(real=strata_lists, syn=strata_lists, f=st.floats(0.0, 0.9), seed=st.integers(0, 1000))
def test_stratified_output_follows_the_real_strata_shares(real, syn, f, seed):
    """stratified holds every stratum at the real data's share, to within one record per stratum."""
    real_recs = [sk.Record(id=f"real{i}", data={"text": "r", "domain": d}) for i, d in enumerate(real)]
    syn_recs = [sk.Record(id=f"syn{i}", data={"text": "s", "domain": d}) for i, d in enumerate(syn)]
    m = StratifiedMixer("domain", real_fraction=f)
    out = list(m.mix({"real": real_recs, "synthetic": syn_recs}, seed=seed))
    if not out:
        return
    want = Counter(real)
    got = Counter(r.data["domain"] for r in out)
    total = len(out)
    for s, k in want.items():
        assert abs(got[s] - k / len(real) * total) <= len(want) + 1, (s, got, want)
    assert set(got) <= set(want)
    assert m.report.produced["real"] + m.report.produced["synthetic"] == total


def test_stratified_with_proportions_and_a_skewed_synthetic_side():
    """Given proportions, stratified brings a skewed synthetic set back to them and reports each stratum."""
    syn = [sk.Record(id=f"syn{i}", data={"text": "s", "domain": "a" if i % 10 else "b"}) for i in range(500)]
    real = [sk.Record(id=f"real{i}", data={"text": "r", "domain": "ab"[i % 2]}) for i in range(200)]
    m = StratifiedMixer("domain", real_fraction=0.2, proportions={"a": 0.5, "b": 0.5})
    out = list(m.mix({"real": real, "synthetic": syn}, seed=0))
    got = Counter(r.data["domain"] for r in out)
    assert abs(got["a"] - got["b"]) <= 2
    assert m.strata["b"].synthetic == pytest.approx(0.1) and m.strata["b"].output == pytest.approx(0.5, abs=0.01)


@settings(max_examples=60, deadline=None)
@given(
    n_rare=st.integers(1, 60),
    n_common=st.integers(20, 200),
    syn_rare=st.integers(0, 10),
    n_syn=st.integers(50, 300),
    f=st.floats(0.05, 0.5),
    seed=st.integers(0, 1000),
)
def test_tail_preserving_restores_rare_strata_the_synthetic_side_lost(n_rare, n_common, syn_rare, n_syn, f, seed):
    """tail-preserving gives an under-covered stratum at least its real share when the real budget and data allow."""
    real = [sk.Record(id=f"real{i}", data={"text": "r", "kind": "rare" if i < n_rare else "common"}) for i in range(n_rare + n_common)]
    syn = [sk.Record(id=f"syn{i}", data={"text": "s", "kind": "rare" if i < syn_rare else "common"}) for i in range(n_syn)]
    m = TailPreservingMixer(f, key="kind")
    out = list(m.mix({"real": real, "synthetic": syn}, seed=seed))
    kinds = Counter((r.id[:3], r.data["kind"]) for r in out)
    p_real = n_rare / len(real)
    c = roles(out)
    assert abs(c["real"] - f / (1 - f) * c["syn"]) <= 1  # the real fraction itself still holds
    if kinds["syn", "rare"] / c["syn"] < p_real:  # under-covered by the synthetic records used
        # over-represented among the real records: at least its real share of them, as far as there are any
        assert kinds["rea", "rare"] >= min(n_rare, p_real * c["real"]) - 1
        need = p_real * len(out) - kinds["syn", "rare"]
        if need <= f * len(out) - 1 and need <= n_rare - 1:  # budget and data allow: back to its real share
            assert (kinds["rea", "rare"] + kinds["syn", "rare"]) / len(out) >= p_real - 1.5 / len(out)


def test_tail_preserving_default_strata_favour_rare_words():
    """Without a key, rarity buckets steer the real budget to records rich in words the synthetic side lacks."""
    rng = random.Random(0)
    common = [f"w{i}" for i in range(60)]
    weights = [1 / (i + 1) for i in range(60)]

    def sentence(extra=()):
        return " ".join([*rng.choices(common, weights, k=rng.randint(5, 12)), *extra])

    real = [sk.Record(id=f"real{i}", data={"text": sentence()}) for i in range(360)]
    real += [sk.Record(id=f"realr{i}", data={"text": sentence((f"zyx{i}", f"quorp{i}"))}) for i in range(40)]
    syn = [sk.Record(id=f"syn{i}", data={"text": sentence()}) for i in range(400)]
    key = rarity_strata(real)
    assert all(key(r) == "rarity-10/10" for r in real[-40:])
    m = TailPreservingMixer(0.2)
    out = list(m.mix({"real": real, "synthetic": syn}, seed=0))
    rare_out = sum(r.id.startswith("realr") for r in out)
    plain = list(RatioMixer(0.2).mix({"real": real, "synthetic": syn}, seed=0))
    assert rare_out == 40 > 2 * sum(r.id.startswith("realr") for r in plain)  # every rare record, where plain mixing takes ~10
    top = m.strata["rarity-10/10"]
    assert top.synthetic == 0 and top.real == pytest.approx(0.1) and top.output == pytest.approx(40 / len(out))


def test_ratio_can_repeat_scarce_real_data_instead_of_stopping():
    """With repeat_real, a short real source is drawn again so every synthetic record is used at the asked share."""
    m = RatioMixer(0.5, repeat_real=True)
    out = list(m.mix({"real": make("real", 10), "synthetic": make("syn", 100)}, seed=0))
    c = roles(out)
    assert c == {"syn": 100, "real": 100}
    assert Counter(r.id for r in out if r.id.startswith("real")) == {f"real{i}": 10 for i in range(10)}


def test_real_floor_with_a_total_fills_with_real_when_synthetic_is_short():
    """real-floor with total caps synthetic at (1-f)*total and lets real data fill the rest."""
    m = RealFloorMixer(0.2, total=100)
    c = roles(m.mix({"real": make("real", 200), "synthetic": make("syn", 500)}, seed=0))
    assert c == {"syn": 80, "real": 20}
    c = roles(m.mix({"real": make("real", 200), "synthetic": make("syn", 30)}, seed=0))
    assert c == {"syn": 30, "real": 70}


def test_tokens_can_be_counted_by_a_custom_tokenizer():
    """A tokens= function replaces whitespace splitting when proportions are by tokens."""
    m = RatioMixer(0.5, unit="tokens", tokens=len)  # characters
    out = list(m.mix({"real": make("real", 50, words=1), "synthetic": make("syn", 10, words=5)}, seed=0))
    real_chars = sum(len(r.data["text"]) for r in out if r.id.startswith("real"))
    syn_chars = sum(len(r.data["text"]) for r in out if r.id.startswith("syn"))
    assert abs(real_chars - syn_chars) <= 3 and m.report.produced == {"real": real_chars, "synthetic": syn_chars}


@pytest.mark.parametrize(
    "mixer",
    [
        lambda: RatioMixer(0.3),
        lambda: RealFloorMixer(0.3),
        lambda: AccumulateMixer(shuffle=True, real_fraction=0.5),
        lambda: StratifiedMixer("d", real_fraction=0.3),
        lambda: TailPreservingMixer(0.3),
    ],
)
def test_same_seed_same_mix_other_seed_other_order(mixer):
    """Every mixer is reproducible from its seed, and the seed matters."""
    real = make("real", 80, d="x")
    syn = make("syn", 120, d="x")
    a = [r.id for r in mixer().mix({"real": real, "synthetic": syn}, seed=7)]
    b = [r.id for r in mixer().mix({"real": real, "synthetic": syn}, seed=7)]
    c = [r.id for r in mixer().mix({"real": real, "synthetic": syn}, seed=8)]
    assert a == b and a != c


def test_lineage_marks_origin_and_generation_without_overwriting():
    """Plain synthetic records become origin synthetic with their source's generation; set lineage is kept."""
    done = sk.Record(id="done", data={"text": "x"}, lineage=sk.Lineage(origin="synthetic", generation=5, teacher="t"))
    out = list(AccumulateMixer().mix({"real": make("real", 1), "gen1": make("a", 1), "synthetic": [done, *make("b", 1)]}))
    lin = {r.id: r.lineage for r in out}
    assert lin["real0"] == sk.Lineage()
    assert (lin["a0"].origin, lin["a0"].generation) == ("synthetic", 1)
    assert (lin["b0"].origin, lin["b0"].generation) == ("synthetic", 2)
    assert lin["done"] == done.lineage


def test_mixer_errors_say_what_to_do():
    """A missing real source and bad options raise InputError with the fix."""
    with pytest.raises(InputError, match="needs a source named 'real'"):
        list(RatioMixer(0.2).mix({"synthetic": make("syn", 3)}))
    with pytest.raises(InputError, match="between 0 and 1"):
        RatioMixer(1.5)
    with pytest.raises(InputError, match="'records' or 'tokens'"):
        RatioMixer(0.2, unit="bytes")
    with pytest.raises(InputError, match="no field 'domain'"):
        list(StratifiedMixer("domain").mix({"real": make("real", 2), "synthetic": make("syn", 2)}))


def test_builtin_mixers_are_registered_with_summaries():
    """The five mixers are registered by synthkit's built-in plugin, each with a summary, and build by name."""
    reg = load_plugins(entry_points=False).registries["mixers"]
    names = {"ratio", "real-floor", "accumulate", "stratified", "tail-preserving"}
    assert names <= set(reg.names())
    for name in names:
        e = reg.entry(name)
        assert e.plugin == "synthkit.mixers" and e.summary
    assert reg.get("ratio", real_fraction=0.4).real_fraction == 0.4
    assert reg.get("tail-preserving", real_fraction=0.1, unit="tokens").unit == "tokens"


def test_pipeline_mix_blends_real_records_into_the_output(tmp_path):
    """Pipeline.mix with a registered name blends a real JSONL file into the run's output and reports it."""
    real = tmp_path / "real.jsonl"
    real.write_text("".join(json.dumps({"text": f"real {i}"}) + "\n" for i in range(50)))
    out = tmp_path / "out.jsonl"
    recs = [sk.Record.create(data={"text": f"synthetic {i}"}) for i in range(60)]
    summary = sk.Pipeline(recs, seed=1).mix("ratio", sources={"real": real}, real_fraction=0.25).run(sink=out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    real_rows = [r for r in rows if r["text"].startswith("real")]
    assert len(rows) == 80 and len(real_rows) == 20
    assert summary.mix.produced == {"real": 20, "synthetic": 60} and summary.mixed_in == 20
    assert all(r["lineage"]["origin"] == "synthetic" for r in rows if r["text"].startswith("synthetic"))


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "synthkit", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_mix_command_writes_the_mix_and_prints_the_report(tmp_path):
    """`synthkit mix` blends files in the asked share; several --synthetic files are generations for accumulate."""
    (tmp_path / "r.jsonl").write_text("".join(json.dumps({"text": f"real {i}"}) + "\n" for i in range(100)))
    (tmp_path / "s1.jsonl").write_text("".join(json.dumps({"text": f"one {i}"}) + "\n" for i in range(100)))
    (tmp_path / "s2.jsonl").write_text("".join(json.dumps({"text": f"two {i}"}) + "\n" for i in range(200)))
    p = run_cli("mix", "--real", "r.jsonl", "--synthetic", "s2.jsonl", "-o", "out.jsonl", "--real-fraction", "0.2", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(rows) == 250 and sum(r["text"].startswith("real") for r in rows) == 50
    assert "real: 50 records (20.0%, asked 20.0%)" in p.stderr
    p = run_cli(
        "mix", "--real", "r.jsonl", "--synthetic", "s1.jsonl", "--synthetic", "s2.jsonl", "-o", "acc.jsonl",
        "--strategy", "accumulate", cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    gens = Counter(json.loads(x)["lineage"].get("generation", 0) for x in (tmp_path / "acc.jsonl").read_text().splitlines())
    assert gens == {0: 100, 1: 100, 2: 200}
    p = run_cli("mix", "--synthetic", "s1.jsonl", "-o", "x.jsonl", "--strategy", "ratio", cwd=tmp_path)
    assert p.returncode == 1 and "needs a source named 'real'" in p.stderr
