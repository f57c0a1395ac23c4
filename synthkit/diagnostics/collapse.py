"""The collapse study: model collapse and its remedies, reproduced with synthkit's own mixers.

Two small experiments, each run under three ways of building a generation's training data:

* **replace**: train only on the previous model's samples (Shumailov et al., Nature 2024);
* **accumulate**: keep the real data and every earlier generation, add the new samples
  (:class:`~synthkit.mix.mixers.AccumulateMixer`; Gerstgrasser et al. 2024);
* **mix**: a fixed real fraction, the rest fresh samples, same size every generation
  (:class:`~synthkit.mix.mixers.RatioMixer`).

**Gaussian.** Fit a mean and a variance (unbiased) to ``n`` values, sample ``n`` values from
the fit, refit, and so on. Under replace each step multiplies the variance by
``chi2_{n-1} / (n - 1)``, so ``ln var`` is a random walk with drift
``E[ln chi2_{n-1}/(n-1)] = digamma((n-1)/2) + ln(2/(n-1)) < 0``: the variance goes to 0 even
though its mean stays put (a rare seed keeps a huge variance). See
:func:`expected_log_variance`.

**n-gram language model.** A bigram model (Witten-Bell interpolation) trained on sentences
of ``pydoc_data.topics`` (documentation text that ships with Python), sampled, retrained on
its samples. Samples are drawn from the unsmoothed bigram, as LLM decoding truncates the
tail (top-p): a sample only holds word pairs seen in training, so a pair or a word that is not
sampled once is gone for good under replace. We track
perplexity on held-out real sentences and distinct-2 of the samples.

``run_study`` runs both in well under a minute on two cores and writes the plots.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from synthkit._deps import require
from synthkit.errors import InputError
from synthkit.mix.mixers import AccumulateMixer, RatioMixer
from synthkit.records import Lineage, Record

__all__ = [
    "STRATEGIES",
    "StudyResult",
    "BigramLM",
    "digamma",
    "trigamma",
    "expected_log_variance",
    "sd_log_variance",
    "accumulate_log_sd",
    "mix_log_sd",
    "pydoc_sentences",
    "gaussian_study",
    "lm_study",
    "run_study",
    "plot_study",
]

STRATEGIES = ("replace", "accumulate", "mix")


# -- closed forms ---------------------------------------------------------------------


def digamma(x: float) -> float:
    """Return the digamma function psi(x) for x > 0 (recurrence, then the asymptotic series)."""
    if x <= 0:
        msg = f"digamma is only implemented for x > 0, got {x}"
        raise ValueError(msg)
    acc = 0.0
    while x < 10:
        acc -= 1 / x
        x += 1
    inv2 = 1 / (x * x)
    return acc + math.log(x) - 0.5 / x - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 / 240)))


def trigamma(x: float) -> float:
    """Return the trigamma function psi'(x) for x > 0."""
    if x <= 0:
        msg = f"trigamma is only implemented for x > 0, got {x}"
        raise ValueError(msg)
    acc = 0.0
    while x < 10:
        acc += 1 / (x * x)
        x += 1
    inv = 1 / x
    inv2 = inv * inv
    return acc + inv + inv2 / 2 + inv * inv2 * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 / 30)))


def expected_log_variance(n: int, generations: int, *, ddof: int = 1) -> float:
    """Return E[ln(var_G / var_0)] under replace, for ``n`` samples per generation.

    Each refit gives ``var' = var * chi2_{n-1} / (n - ddof)`` independently of the past, and
    ``E[ln chi2_k] = digamma(k/2) + ln 2``, so after G generations
    ``E[ln var_G] = ln var_0 + G * (digamma((n-1)/2) + ln(2 / (n - ddof)))``.
    With ``ddof=1`` (unbiased) the drift is about ``-1/(n-1)`` per generation; with the
    maximum-likelihood fit (``ddof=0``) about ``-2/n``.
    """
    return generations * (digamma((n - 1) / 2) + math.log(2 / (n - ddof)))


def sd_log_variance(n: int, generations: int) -> float:
    """Return the standard deviation of ln(var_G / var_0) under replace: ``sqrt(G * trigamma((n-1)/2))``."""
    return math.sqrt(generations * trigamma((n - 1) / 2))


def accumulate_log_sd(n: int) -> float:
    """Return the limiting standard deviation of ln(var_G / var_0) under accumulate (large G).

    At generation t the pooled fit holds t + 1 batches of n values and the newest batch moves
    ln var by about ``1/(t+1)`` times its own log-variance noise, whose variance is ``2/(n-1)``.
    The steps shrink, so the wander stays bounded: ``Var ~ 2/(n-1) * sum_{t>=1} 1/(t+1)^2 =
    2/(n-1) * (pi^2/6 - 1)``. (Linearised; the fluctuations of the fitted mean add a little.)
    """
    return math.sqrt(2 / (n - 1) * (math.pi**2 / 6 - 1))


def mix_log_sd(n: int, real_fraction: float) -> float:
    """Return the stationary standard deviation of ln(var_G / var_0) under a fixed real fraction ``f``.

    Linearised: ``d' = (1-f) * (d + e)`` where ``e``, the log-noise of refitting on the
    ``k = (1-f) n`` synthetic values, has variance ``2/(k-1)``; this AR(1) process has
    stationary variance ``(1-f)^2 * 2/(k-1) / (1 - (1-f)^2)``. Bounded, like accumulate, but
    wider: the real share pulls the variance back each generation, yet every generation
    is refitted on fresh noise.
    """
    f = real_fraction
    k = (1 - f) * n
    return math.sqrt((1 - f) ** 2 * 2 / (k - 1) / (1 - (1 - f) ** 2))


# -- the Gaussian study ---------------------------------------------------------------


def _values(records: Iterable[Record]) -> list[float]:
    return [r.data["x"] for r in records]


def _fit(values: Sequence[float]) -> tuple[float, float]:
    import numpy as np

    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.var(ddof=1))


def _gauss_records(values: Sequence[float], generation: int, tag: str) -> list[Record]:
    origin = "real" if generation == 0 else "synthetic"
    lin = Lineage(origin=origin, generation=generation)
    return [Record(id=f"{tag}-g{generation}-{i}", data={"x": float(v)}, lineage=lin) for i, v in enumerate(values)]


def gaussian_study(
    *,
    n: int = 50,
    generations: int = 100,
    seeds: int = 16,
    real_fraction: float = 0.2,
    seed: int = 0,
    strategies: Sequence[str] = STRATEGIES,
) -> dict[str, list[list[float]]]:
    """Refit a Gaussian generation after generation; return the fitted variance per seed and generation.

    Generation 0 is the fit to ``n`` real values from N(0, 1); generation g is the fit to
    the training data built from generation g-1's samples by the strategy. Returns
    ``{strategy: [[var_0, ..., var_G] for each seed]}``.
    """
    import numpy as np

    out: dict[str, list[list[float]]] = {s: [] for s in strategies}
    for k in range(seeds):
        base = np.random.default_rng([seed, k, 0])
        real = _gauss_records(base.normal(0.0, 1.0, n), 0, f"real{k}")
        for si, strategy in enumerate(strategies):
            rng = np.random.default_rng([seed, k, si + 1])
            mu, var = _fit(_values(real))
            trace = [var]
            history: dict[str, list[Record]] = {}
            for g in range(1, generations + 1):
                samples = _gauss_records(rng.normal(mu, math.sqrt(var), n), g, f"{strategy}{k}")
                if strategy == "replace":
                    train: Iterable[Record] = samples
                elif strategy == "accumulate":
                    history[f"gen{g}"] = samples
                    train = AccumulateMixer().mix({"real": real, **history}, seed=g)
                elif strategy == "mix":
                    mixer = RatioMixer(real_fraction, total=n)
                    train = mixer.mix({"real": real, "synthetic": samples}, seed=int(rng.integers(2**31)))
                else:
                    msg = f"unknown strategy {strategy!r}; choose from {STRATEGIES}"
                    raise InputError(msg)
                mu, var = _fit(_values(train))
                trace.append(var)
            out[strategy].append(trace)
    return out


# -- the n-gram language model study -------------------------------------------------


def pydoc_sentences() -> list[str]:
    """Return the prose sentences of ``pydoc_data.topics`` (Python's own help text), in a fixed order.

    Code blocks (indented paragraphs) and heading rules are left out; sentences have 4 to
    60 words.
    """
    import pydoc_data.topics

    from synthkit.filters.ngrams import words

    out = []
    for key in sorted(pydoc_data.topics.topics):
        for para in re.split(r"\n\s*\n", pydoc_data.topics.topics[key]):
            if para.startswith("   ") or set(para.strip()) <= set("*=-"):
                continue
            for sent in re.split(r"(?<=[.!?])\s+(?=[A-Z\"(])", " ".join(para.split())):
                if 4 <= len(words(sent)) <= 60:
                    out.append(sent)
    return out


class BigramLM:
    """A word bigram model with Witten-Bell interpolation over a fixed vocabulary.

    ``P(w|v) = (c(v,w) + T(v) Pu(w)) / (c(v) + T(v))`` where ``T(v)`` counts the distinct
    successors of ``v``; ``Pu(w) = (c(w) + T Pf(w)) / (N + T)`` interpolates the unigram
    with a uniform floor ``Pf`` over the vocabulary, so every held-out word has a
    probability. :meth:`sample` draws from the maximum-likelihood bigram (the unigram only
    after an unseen context), as truncated decoding (top-p) does: it never produces a pair
    of words its training data did not hold.

    Args:
        vocab: the words the model knows; anything else reads as ``<unk>``.
        smoothed_sampling: sample from the interpolated model instead (backing off to the
            unigram with the Witten-Bell weight, still without the uniform floor).
    """

    BOS, EOS, UNK = "<s>", "</s>", "<unk>"

    def __init__(self, vocab: Iterable[str], *, smoothed_sampling: bool = False) -> None:
        import numpy as np

        self.smoothed_sampling = smoothed_sampling

        words = sorted(set(vocab) - {self.BOS, self.EOS, self.UNK})
        self.itos = [self.EOS, self.UNK, *words]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.V = len(self.itos)
        self.bos = self.V  # context id of the sentence start
        self._np = np

    def encode(self, sentence: str) -> list[int]:
        unk = self.stoi[self.UNK]
        return [self.stoi.get(w, unk) for w in sentence.split()]

    def fit(self, sentences: Iterable[str]) -> BigramLM:
        """Count unigrams and bigrams of ``sentences`` (space-separated words); return ``self``."""
        np = self._np
        ctx: list[int] = []
        nxt: list[int] = []
        bos, eos = self.bos, self.stoi[self.EOS]
        for s in sentences:
            ids = self.encode(s)
            ctx.append(bos)
            ctx.extend(ids)
            nxt.extend(ids)
            nxt.append(eos)
        c = np.asarray(ctx, dtype=np.int64)
        w = np.asarray(nxt, dtype=np.int64)
        V = self.V
        self.uni = np.bincount(w, minlength=V).astype(float)
        self.N = float(self.uni.sum())
        self.T_uni = float((self.uni > 0).sum())
        codes, counts = np.unique(c * V + w, return_counts=True)
        self.pair_ctx = codes // V
        self.pair_w = codes % V
        self.pair_c = counts.astype(float)
        self.ctx_count = np.bincount(self.pair_ctx, weights=self.pair_c, minlength=V + 1)
        self.ctx_types = np.bincount(self.pair_ctx, minlength=V + 1).astype(float)
        self.ctx_start = np.searchsorted(self.pair_ctx, np.arange(V + 2))
        # cumulative within each context, offset by the context id, for vectorised sampling
        cum = np.cumsum(self.pair_c)
        before = np.concatenate([[0.0], cum])[self.ctx_start[self.pair_ctx]]
        self.pair_cum = self.pair_ctx + (cum - before) / self.ctx_count[self.pair_ctx]
        self.uni_cum = np.cumsum(self.uni) / self.N
        return self

    def _p_uni(self, w: Any) -> Any:
        return (self.uni[w] + self.T_uni / self.V) / (self.N + self.T_uni)

    def logprob(self, sentences: Iterable[str]) -> tuple[float, int]:
        """Return the total natural-log probability of ``sentences`` (with ``</s>``) and the token count."""
        np = self._np
        V = self.V
        ctx: list[int] = []
        nxt: list[int] = []
        for s in sentences:
            ids = self.encode(s)
            ctx.append(self.bos)
            ctx.extend(ids)
            nxt.extend(ids)
            nxt.append(self.stoi[self.EOS])
        c = np.asarray(ctx, dtype=np.int64)
        w = np.asarray(nxt, dtype=np.int64)
        codes = c * V + w
        pair_codes = self.pair_ctx * V + self.pair_w
        idx = np.searchsorted(pair_codes, codes)
        idx_ok = np.minimum(idx, len(pair_codes) - 1)
        found = pair_codes[idx_ok] == codes
        cvw = np.where(found, self.pair_c[idx_ok], 0.0)
        cv, tv = self.ctx_count[c], self.ctx_types[c]
        pu = self._p_uni(w)
        p = np.where(cv > 0, (cvw + tv * pu) / np.maximum(cv + tv, 1e-300), pu)
        return float(np.log(p).sum()), len(nxt)

    def perplexity(self, sentences: Sequence[str]) -> float:
        """Return the per-token perplexity on ``sentences``."""
        lp, n = self.logprob(sentences)
        return math.exp(-lp / n)

    def sample(self, count: int, rng: Any, *, max_len: int = 60) -> list[str]:
        """Return ``count`` sentences sampled from the model without the uniform floor."""
        np = self._np
        eos = self.stoi[self.EOS]
        ctx = np.full(count, self.bos, dtype=np.int64)
        out = np.full((count, max_len), -1, dtype=np.int64)
        alive = np.ones(count, dtype=bool)
        for t in range(max_len):
            rows = np.nonzero(alive)[0]
            if not len(rows):
                break
            c = ctx[rows]
            cv, tv = self.ctx_count[c], self.ctx_types[c]
            if self.smoothed_sampling:
                use_bigram = rng.random(len(rows)) * (cv + tv) < cv
            else:
                use_bigram = cv > 0
            u = rng.random(len(rows))
            w = np.empty(len(rows), dtype=np.int64)
            b = use_bigram
            if b.any():
                pos = np.searchsorted(self.pair_cum, c[b] + u[b], side="right")
                pos = np.minimum(pos, self.ctx_start[c[b] + 1] - 1)
                w[b] = self.pair_w[pos]
            if (~b).any():
                w[~b] = np.minimum(np.searchsorted(self.uni_cum, u[~b], side="right"), self.V - 1)
            out[rows, t] = w
            ended = w == eos
            alive[rows[ended]] = False
            ctx[rows] = w
        itos = self.itos
        sents = []
        for row in out:
            toks = [itos[i] for i in row if i >= 0 and i != eos]
            sents.append(" ".join(toks))
        return sents


def _text_records(sentences: Sequence[str], generation: int, tag: str) -> list[Record]:
    lin = Lineage(origin="real" if generation == 0 else "synthetic", generation=generation)
    return [Record(id=f"{tag}-g{generation}-{i}", data={"text": s}, lineage=lin) for i, s in enumerate(sentences)]


def lm_study(
    *,
    generations: int = 10,
    real_fraction: float = 0.2,
    seed: int = 0,
    strategies: Sequence[str] = STRATEGIES,
    distinct_tokens: int = 20_000,
) -> dict[str, Any]:
    """Retrain a bigram model on its own samples; return held-out perplexity and distinct-2 per generation.

    The sentences of :func:`pydoc_sentences` are split (fixed order) into 90% training
    and 10% held-out text. Each generation samples as many sentences as the real training
    set holds. Returns ``{"perplexity": {strategy: [...]}, "distinct2": {strategy: [...]},
    "vocab_seen": {strategy: [...]}}`` with one value per generation (0 = trained on real
    text; distinct-2 at generation 0 is the real training text's).
    """
    import random

    import numpy as np

    from synthkit.diagnostics.metrics import distinct_n
    from synthkit.filters.ngrams import words

    sents = [" ".join(words(s)) for s in pydoc_sentences()]
    order = list(range(len(sents)))
    random.Random(1234).shuffle(order)
    cut = len(order) // 10
    held = [sents[i] for i in order[:cut]]
    train = [sents[i] for i in order[cut:]]
    vocab = {w for s in train for w in s.split()}
    real = _text_records(train, 0, "real")

    def d2(texts: Sequence[str]) -> float:
        docs, have = [], 0
        for t in texts:
            if have >= distinct_tokens:
                break
            toks = t.split()[: distinct_tokens - have]
            docs.append(toks)
            have += len(toks)
        return distinct_n(docs, 2)

    result: dict[str, Any] = {"perplexity": {}, "distinct2": {}, "vocab_seen": {}}
    for si, strategy in enumerate(strategies):
        rng = np.random.default_rng([seed, 99, si])
        model = BigramLM(vocab).fit(train)
        ppl = [model.perplexity(held)]
        dist = [d2(train)]
        seen = [float((model.uni[2:] > 0).sum())]
        history: dict[str, list[Record]] = {}
        for g in range(1, generations + 1):
            samples = _text_records(model.sample(len(train), rng), g, f"{strategy}")
            if strategy == "replace":
                data: Iterable[Record] = samples
            elif strategy == "accumulate":
                history[f"gen{g}"] = samples
                data = AccumulateMixer().mix({"real": real, **history}, seed=g)
            elif strategy == "mix":
                data = RatioMixer(real_fraction, total=len(train)).mix({"real": real, "synthetic": samples}, seed=int(rng.integers(2**31)))
            else:
                msg = f"unknown strategy {strategy!r}; choose from {STRATEGIES}"
                raise InputError(msg)
            dist.append(d2([r.data["text"] for r in samples]))
            model = BigramLM(vocab).fit(r.data["text"] for r in data)
            ppl.append(model.perplexity(held))
            seen.append(float((model.uni[2:] > 0).sum()))
        result["perplexity"][strategy] = ppl
        result["distinct2"][strategy] = dist
        result["vocab_seen"][strategy] = seen
    result["sizes"] = {"train_sentences": len(train), "heldout_sentences": len(held), "vocab": len(vocab)}
    return result


# -- running and plotting -------------------------------------------------------------


@attrs.frozen
class StudyResult:
    """Everything :func:`run_study` measured.

    Attributes:
        gaussian: median fitted variance over seeds, per strategy and generation.
        gaussian_runs: the fitted variance of every seed, per strategy.
        lm: held-out perplexity per strategy and generation.
        lm_distinct: distinct-2 of each generation's samples (real text at generation 0).
        lm_vocab: vocabulary types the model has seen, per generation.
        params: the settings of the run.
        seconds: wall-clock time of the run.
        plots: the files written.
    """

    gaussian: dict[str, list[float]]
    gaussian_runs: dict[str, list[list[float]]]
    lm: dict[str, list[float]]
    lm_distinct: dict[str, list[float]]
    lm_vocab: dict[str, list[float]]
    params: dict[str, Any]
    seconds: float
    plots: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return ``{"gaussian": {strategy: [...]}, "lm": {strategy: [...]}}``."""
        return {"gaussian": {k: list(v) for k, v in self.gaussian.items()}, "lm": {k: list(v) for k, v in self.lm.items()}}

    def summary(self) -> str:
        """Return a short table of the first and last generation of each experiment."""
        p = self.params
        lines = [
            f"Gaussian, n={p['n']}, {p['gaussian_generations']} generations, median over {p['seeds']} seeds "
            f"(fitted variance; closed form for replace, exp E[ln var_G/var_0] = "
            f"{math.exp(expected_log_variance(p['n'], p['gaussian_generations'])):.3g}):"
        ]
        for s, v in self.gaussian.items():
            lines.append(f"  {s:<10} var gen0 {v[0]:.3f} -> gen{len(v) - 1} {v[-1]:.3g}")
        lines.append(f"Bigram LM on pydoc_data.topics, {p['lm_generations']} generations (held-out perplexity; distinct-2 of samples):")
        for s, v in self.lm.items():
            d = self.lm_distinct[s]
            lines.append(f"  {s:<10} ppl gen0 {v[0]:.1f} -> gen{len(v) - 1} {v[-1]:.1f}; distinct-2 {d[0]:.3f} -> {d[-1]:.3f}")
        lines.append(f"({self.seconds:.1f} s)")
        return "\n".join(lines)


_COLOURS = {"replace": "#c0392b", "accumulate": "#2e7d32", "mix": "#1f5fa8"}


def plot_study(result: StudyResult, out_dir: str | Path) -> list[Path]:
    """Write ``collapse_gaussian.png`` and ``collapse_lm.png`` to ``out_dir``; return their paths."""
    matplotlib = require("matplotlib", "plots")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import numpy as np

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    p = result.params
    n, G = p["n"], p["gaussian_generations"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.4))
    gens = np.arange(G + 1)
    f = p["real_fraction"]
    for s, runs in result.gaussian_runs.items():
        logv = np.log(np.asarray(runs))
        rel = logv - logv[:, :1]
        lo, med, hi = np.percentile(rel, [25, 50, 75], axis=0)
        ax.fill_between(gens, lo, hi, color=_COLOURS.get(s), alpha=0.18, linewidth=0)
        ax.plot(gens, med, color=_COLOURS.get(s), label=f"{s} (median, IQR over {len(runs)} seeds)")
        ax2.plot(gens, rel.std(axis=0), color=_COLOURS.get(s), label=f"{s}, measured")
    if "replace" in result.gaussian_runs:
        ax.plot(gens, [expected_log_variance(n, g) for g in gens], "k--", linewidth=1, label="replace, closed form E[ln var]")
        ax2.plot(gens, [sd_log_variance(n, g) for g in gens], "--", color=_COLOURS["replace"], linewidth=1, label="replace, closed form")
    if "accumulate" in result.gaussian_runs:
        ax2.axhline(accumulate_log_sd(n), linestyle="--", color=_COLOURS["accumulate"], linewidth=1, label="accumulate, limit (linearised)")
    if "mix" in result.gaussian_runs:
        ax2.axhline(mix_log_sd(n, f), linestyle="--", color=_COLOURS["mix"], linewidth=1, label="mix, stationary (linearised)")
    ax.axhline(0, color="grey", linewidth=0.6)
    ax.set_xlabel("generation")
    ax.set_ylabel("ln(fitted variance / generation-0 variance)")
    ax.set_title(f"Gaussian refitted on its own samples (n={n}, mix = {f:.0%} real)", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    ax2.set_yscale("log")
    ax2.set_xlabel("generation")
    ax2.set_ylabel("spread over seeds: SD of ln(var / var_0)")
    ax2.set_title("How far runs wander: replace grows like sqrt(G), the remedies stay bounded", fontsize=10)
    ax2.legend(fontsize=7, loc="lower right", ncol=2)
    ax2.grid(alpha=0.3, which="both")
    fig.tight_layout()
    g_path = out / "collapse_gaussian.png"
    fig.savefig(g_path, dpi=110, bbox_inches="tight")
    plt.close(fig)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for s, v in result.lm.items():
        a1.plot(range(len(v)), v, "o-", color=_COLOURS.get(s), label=s, markersize=3)
    a1.set_xlabel("generation")
    a1.set_yscale("log")
    a1.set_ylabel("perplexity on held-out real text (log scale)")
    a1.set_title("Bigram LM retrained on its own samples", fontsize=10)
    a1.legend(fontsize=8)
    a1.grid(alpha=0.3)
    for s, v in result.lm_distinct.items():
        a2.plot(range(len(v)), v, "o-", color=_COLOURS.get(s), label=s, markersize=3)
    a2.set_xlabel("generation")
    a2.set_ylabel(f"distinct-2 of samples ({p['distinct_tokens']:,} words)")
    a2.set_title("Diversity of each generation's samples", fontsize=10)
    a2.legend(fontsize=8)
    a2.grid(alpha=0.3)
    fig.tight_layout()
    l_path = out / "collapse_lm.png"
    fig.savefig(l_path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return [g_path, l_path]


def run_study(
    out_dir: str | Path | None = "collapse-study",
    *,
    json_path: str | Path | None = None,
    seed: int = 0,
    quick: bool = False,
    n: int = 50,
    gaussian_generations: int = 100,
    seeds: int = 24,
    lm_generations: int = 20,
    real_fraction: float = 0.2,
    log: Callable[[str], None] | None = None,
) -> StudyResult:
    """Run both experiments, write the plots to ``out_dir`` and the results to ``json_path``.

    ``quick`` shrinks the run (30 Gaussian generations, 6 seeds, 4 LM generations) for smoke tests.
    """
    import numpy as np

    say = log or (lambda _s: None)
    if quick:
        gaussian_generations, seeds, lm_generations = 30, 6, 4
    t0 = time.perf_counter()
    say(f"Gaussian: n={n}, {gaussian_generations} generations, {seeds} seeds ...")
    runs = gaussian_study(n=n, generations=gaussian_generations, seeds=seeds, real_fraction=real_fraction, seed=seed)
    medians = {s: [float(x) for x in np.median(np.asarray(v), axis=0)] for s, v in runs.items()}
    say(f"Bigram LM: {lm_generations} generations ...")
    lm = lm_study(generations=lm_generations, real_fraction=real_fraction, seed=seed)
    params = {
        "n": n,
        "gaussian_generations": gaussian_generations,
        "seeds": seeds,
        "lm_generations": lm_generations,
        "real_fraction": real_fraction,
        "seed": seed,
        "distinct_tokens": 20_000,
        **lm["sizes"],
    }
    result = StudyResult(
        gaussian=medians,
        gaussian_runs=runs,
        lm=lm["perplexity"],
        lm_distinct=lm["distinct2"],
        lm_vocab=lm["vocab_seen"],
        params=params,
        seconds=time.perf_counter() - t0,
    )
    plots: list[Path] = []
    if out_dir is not None:
        plots = plot_study(result, out_dir)
    result = attrs.evolve(result, plots=tuple(str(p) for p in plots), seconds=time.perf_counter() - t0)
    if json_path is not None:
        path = Path(json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result.to_json(), indent=1) + "\n", encoding="utf-8")
    return result
