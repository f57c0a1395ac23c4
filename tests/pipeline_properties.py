"""The ledger property shared by the engine tests: the rejects file and the summary always agree."""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

import synthkit as sk
from synthkit.pipeline import reason_key

WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta"]

texts = st.lists(st.sampled_from(WORDS), min_size=0, max_size=5).map(" ".join)

#: One step of a random pipeline: (kind, name, options).
steps = st.one_of(
    st.tuples(st.just("filter"), st.just("length"), st.fixed_dictionaries({"max_words": st.integers(1, 5)})),
    st.tuples(st.just("filter"), st.just("exact-dedup"), st.just({})),
    st.tuples(st.just("filter"), st.just("empty"), st.just({})),
    st.tuples(st.just("verify"), st.just("regex"), st.fixed_dictionaries({"pattern": st.sampled_from(["a", "e", "^b", "z"]), "mode": st.sampled_from(["search", "none"])})),
    st.tuples(st.just("verify"), st.just("math"), st.just({})),
)

mixes = st.none() | st.tuples(st.sampled_from(["ratio", "real-floor"]), st.floats(0.1, 0.9), st.integers(0, 6))

pipelines = st.tuples(st.lists(texts, min_size=0, max_size=25), st.lists(steps, max_size=4), mixes)


def build(case: tuple[list[str], list[tuple[str, str, dict[str, Any]]], Any]) -> sk.Pipeline:
    """Build the pipeline a drawn case describes."""
    inputs, plan, mix = case
    records = [sk.Record.create(response=t, data={"n": i, "answer": str(i % 3)}) for i, t in enumerate(inputs)]
    pipeline = sk.Pipeline(records, seed=3, concurrency=3)
    for kind, name, options in plan:
        getattr(pipeline, kind)(name, **options)
    if mix is not None:
        mixer, fraction, n_real = mix
        real = [sk.Record.create(response=f"real {i}", data={"r": i}) for i in range(n_real)]
        pipeline.mix(mixer, sources={"real": real}, real_fraction=fraction)
    return pipeline


def check_ledger(summary: sk.Summary, sink: Path, rejects: Path) -> None:
    """Every rejects line is one dropped or failed record of the summary and vice versa; the sink holds the kept ones."""
    dropped: collections.Counter[tuple[str, str]] = collections.Counter()
    failed: collections.Counter[tuple[str, str]] = collections.Counter()
    for line in (rejects.read_text().splitlines() if rejects.exists() else []):
        reject = json.loads(line)["reject"]
        if reject["status"] == "dropped":
            dropped[(reject["step"], reason_key(reject["reason"]))] += 1
        else:
            failed[(reject["step"], reject["kind"])] += 1
    assert dropped == +summary.dropped
    assert failed == +summary.failed
    kept = len(sink.read_text().splitlines()) if sink.exists() else 0
    assert kept == summary.kept + summary.mixed_in
    assert summary.balanced
