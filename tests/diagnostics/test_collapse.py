"""The collapse study: closed forms, the Gaussian and n-gram results' directions and magnitudes, the command."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys

import numpy as np
import pytest

from synthkit.diagnostics.collapse import (
    BigramLM,
    accumulate_log_sd,
    digamma,
    expected_log_variance,
    gaussian_study,
    mix_log_sd,
    run_study,
    sd_log_variance,
    trigamma,
)

EULER = 0.5772156649015329


def test_digamma_and_trigamma_match_known_values():
    """psi and psi' agree with their closed-form values and recurrences to 1e-10."""
    assert digamma(1) == pytest.approx(-EULER, abs=1e-10)
    assert digamma(0.5) == pytest.approx(-EULER - 2 * math.log(2), abs=1e-10)
    assert digamma(10.0) == pytest.approx(digamma(9.0) + 1 / 9, abs=1e-12)
    assert trigamma(1) == pytest.approx(math.pi**2 / 6, abs=1e-10)
    assert trigamma(0.5) == pytest.approx(math.pi**2 / 2, abs=1e-10)
    assert trigamma(24.5) == pytest.approx(trigamma(25.5) + 1 / 24.5**2, abs=1e-12)


def test_the_replace_closed_form_matches_a_monte_carlo_of_chi2_products():
    """E[ln var_G] and its spread under replace equal those of a product of G chi2_{n-1}/(n-1) draws."""
    rng = np.random.default_rng(0)
    n, G = 20, 60
    draws = np.log(rng.chisquare(n - 1, size=(40_000, G)) / (n - 1)).sum(axis=1)
    se = draws.std() / math.sqrt(len(draws))
    assert abs(draws.mean() - expected_log_variance(n, G)) < 4 * se
    assert draws.std() == pytest.approx(sd_log_variance(n, G), rel=0.03)
    mle = np.log(rng.chisquare(n - 1, size=(40_000, G)) / n).sum(axis=1)
    assert abs(mle.mean() - expected_log_variance(n, G, ddof=0)) < 4 * mle.std() / math.sqrt(len(mle))


@pytest.fixture(scope="module")
def gauss():
    """Run the Gaussian study through the mixers: n=20 values per generation, 60 generations, 32 seeds."""
    runs = gaussian_study(n=20, generations=60, seeds=32, real_fraction=0.2, seed=5)
    return {s: np.log(np.asarray(v)) - np.log(np.asarray(v))[:, :1] for s, v in runs.items()}


def test_replace_variance_collapses_at_the_closed_form_rate(gauss):
    """Under replace, ln(var_60/var_0) averages G*(digamma(19/2) + ln(2/19)) = -3.2 and most runs lose most variance."""
    d = gauss["replace"][:, -1]
    expected, sd = expected_log_variance(20, 60), sd_log_variance(20, 60)
    assert expected == pytest.approx(-3.21, abs=0.01)
    assert abs(d.mean() - expected) < 4 * sd / math.sqrt(len(d))
    assert 0.6 * sd < d.std() < 1.5 * sd
    assert np.median(d) < -1.5 and (d < 0).mean() > 0.8


def test_accumulate_holds_the_variance_near_its_start(gauss):
    """Under accumulate, ln(var_G/var_0) stays within its bounded spread sqrt(2/(n-1) (pi^2/6 - 1)) = 0.26 of zero."""
    d = gauss["accumulate"][:, -1]
    bound = accumulate_log_sd(20)
    assert abs(np.median(d)) < bound
    assert 0.4 * bound < d.std() < 1.6 * bound
    assert np.abs(gauss["accumulate"]).max() < 8 * bound  # no run ever wanders off


def test_a_fixed_real_fraction_sits_between_replace_and_accumulate(gauss):
    """With 20% real data, runs wander at the AR(1) stationary spread: more than accumulate, far less than replace."""
    spread = {s: float(np.median(np.abs(v[:, -1]))) for s, v in gauss.items()}
    assert spread["accumulate"] < spread["mix"] < spread["replace"]
    d = gauss["mix"][:, -20:].ravel()  # stationary by then; pool the last 20 generations
    assert 0.6 * mix_log_sd(20, 0.2) < d.std() < 1.5 * mix_log_sd(20, 0.2)
    assert abs(np.median(d)) < mix_log_sd(20, 0.2)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Run the default study once (the configuration the docs and the command use)."""
    out = tmp_path_factory.mktemp("study")
    return run_study(out, json_path=out / "results.json"), out


def test_default_study_runs_under_a_minute_and_writes_its_outputs(study):
    """The full study finishes in under 60 s and writes the JSON (exact shape) and both plots."""
    result, out = study
    assert result.seconds < 60
    data = json.loads((out / "results.json").read_text())
    assert set(data) == {"gaussian", "lm"}
    assert {k: len(v) for k, v in data["gaussian"].items()} == {"replace": 101, "accumulate": 101, "mix": 101}
    assert {k: len(v) for k, v in data["lm"].items()} == {"replace": 21, "accumulate": 21, "mix": 21}
    for name in ("collapse_gaussian.png", "collapse_lm.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_default_study_gaussian_medians(study):
    """At n=50 after 100 generations the median variance under replace is near exp(E ln var) = 0.13; the remedies stay near 1."""
    g = study[0].gaussian
    start = g["replace"][0]
    assert math.exp(expected_log_variance(50, 100)) == pytest.approx(0.128, abs=0.001)
    assert 0.02 < g["replace"][-1] / start < 0.5
    assert 0.75 < g["accumulate"][-1] / start < 1.25 and 0.6 < g["mix"][-1] / start < 1.5


def test_lm_replace_loses_the_tail_and_the_remedies_hold(study):
    """Retrained on its own samples, the bigram LM's held-out perplexity climbs under replace, barely moves under accumulate, and mix sits between."""
    r = study[0]
    ppl, d2, vocab = r.lm, r.lm_distinct, r.lm_vocab
    start = ppl["replace"][0]
    assert 60 < start < 110  # a bigram model of Python's help text
    assert all(b > a for a, b in zip(ppl["replace"], ppl["replace"][1:]))  # every generation worse
    assert ppl["replace"][-1] > 6 * start
    assert ppl["accumulate"][-1] < 1.8 * start
    assert ppl["accumulate"][-1] < ppl["mix"][-1] < ppl["replace"][-1] / 3
    assert d2["replace"][-1] < d2["mix"][-1] < d2["accumulate"][-1]
    assert d2["replace"][-1] < 0.5 * d2["replace"][1]  # samples grow repetitive
    assert vocab["replace"][-1] < 0.6 * vocab["replace"][0]  # the tail of the vocabulary is gone
    assert len(set(vocab["accumulate"])) == 1  # real data stays in: nothing is ever lost


def test_bigram_model_probabilities_sum_to_one_and_samples_use_seen_pairs():
    """The interpolated model is a distribution over the vocabulary, and a sample holds only pairs seen in training."""
    lm = BigramLM({"a", "b", "c", "d"}).fit(["a b", "a c a b", "b a"])
    pu = lm._p_uni(np.arange(lm.V))
    assert pu.sum() == pytest.approx(1.0) and pu[lm.stoi["d"]] > 0  # the unseen word keeps a floor
    for ctx in (lm.stoi["a"], lm.stoi["d"], lm.bos):  # seen contexts, one never seen, the sentence start
        cv, tv = lm.ctx_count[ctx], lm.ctx_types[ctx]
        pairs = {int(w): c for cc, w, c in zip(lm.pair_ctx, lm.pair_w, lm.pair_c) if cc == ctx}
        p = np.array([(pairs.get(w, 0.0) + tv * pu[w]) / (cv + tv) if cv else pu[w] for w in range(lm.V)])
        assert p.sum() == pytest.approx(1.0)
    lp, n = lm.logprob(["a b", "d"])  # the model scores exactly this distribution
    assert n == 5 and lp < 0
    seen = {("<s>", "a"), ("a", "b"), ("b", "</s>"), ("a", "c"), ("c", "a"), ("<s>", "b"), ("b", "a"), ("a", "</s>")}
    for s in lm.sample(200, np.random.default_rng(0)):
        toks = ["<s>", *s.split(), "</s>"]
        assert set(zip(toks, toks[1:])) <= seen


def test_collapse_study_command_quick_run(tmp_path):
    """`synthkit collapse-study --quick` writes the JSON results and the plots and prints a summary."""
    p = subprocess.run(
        [sys.executable, "-m", "synthkit", "collapse-study", "-o", str(tmp_path / "plots"), "--json", str(tmp_path / "r.json"), "--quick"],
        capture_output=True, text=True, timeout=120,
    )
    assert p.returncode == 0, p.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert {k: len(v) for k, v in data["gaussian"].items()} == {"replace": 31, "accumulate": 31, "mix": 31}
    assert {k: len(v) for k, v in data["lm"].items()} == {"replace": 5, "accumulate": 5, "mix": 5}
    assert data["lm"]["replace"][-1] > data["lm"]["mix"][-1] > data["lm"]["accumulate"][-1]
    assert "Bigram LM" in p.stdout and statistics.median(data["gaussian"]["accumulate"]) > 0
    assert sorted(x.name for x in (tmp_path / "plots").iterdir()) == ["collapse_gaussian.png", "collapse_lm.png"]
