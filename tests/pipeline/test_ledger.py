"""The run ledger on the local engine: rejects and summary agree for any pipeline of filters, verifiers and a mixer."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from tests.pipeline_properties import build, check_ledger, pipelines


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pipelines)
def test_rejects_and_summary_agree_on_the_local_engine(case):
    """Every rejects line is a dropped or failed record of the summary (mixer drops included), and vice versa."""
    with tempfile.TemporaryDirectory() as tmp:
        sink, rejects = Path(tmp, "out.jsonl"), Path(tmp, "rejects.jsonl")
        summary = build(case).run(sink, rejects=rejects)
        check_ledger(summary, sink, rejects)


def test_a_mixer_writes_the_records_it_leaves_out_to_rejects(tmp_path):
    """Records the mixer does not pick are counted as dropped and written to the rejects file."""
    case = (["alpha", "beta", "gamma", "delta", "eps", "zeta"] * 3, [], ("ratio", 0.8, 2))
    summary = build(case).run(tmp_path / "out.jsonl", rejects=tmp_path / "rejects.jsonl")
    left_out = summary.dropped[("mix:ratio", "not selected by the mixer")]
    assert left_out > 0
    lines = (tmp_path / "rejects.jsonl").read_text().splitlines()
    assert len(lines) == left_out
    check_ledger(summary, tmp_path / "out.jsonl", tmp_path / "rejects.jsonl")
