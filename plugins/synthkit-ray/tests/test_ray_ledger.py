"""The run ledger on the ray engine: rejects and summary agree, and equal the local engine's, for any pipeline."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.pipeline_properties import build, check_ledger, pipelines

pytestmark = pytest.mark.usefixtures("ray_cluster")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(pipelines)
def test_rejects_and_summary_agree_on_the_ray_engine(case):
    """On ray as locally: every rejects line is one dropped or failed record of the summary, and the files are the same."""
    from synthkit_ray.engine import RayEngine

    with tempfile.TemporaryDirectory() as tmp:
        out = {}
        for name, engine in (("local", "local"), ("ray", RayEngine(actors=2, block_size=4))):
            sink, rejects = Path(tmp, f"{name}.jsonl"), Path(tmp, f"{name}.rejects.jsonl")
            summary = build(case).run(sink, rejects=rejects, engine=engine)
            check_ledger(summary, sink, rejects)
            out[name] = (
                sink.read_text() if sink.exists() else "",
                rejects.read_text() if rejects.exists() else "",
                summary.to_dict() | {"elapsed_s": 0},
            )
        assert out["ray"] == out["local"]
