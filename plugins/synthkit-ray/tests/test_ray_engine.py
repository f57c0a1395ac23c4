"""The ray engine writes what the local engine writes, shares one rate limit and one budget, and says what it cannot do."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import synthkit as sk
from synthkit.errors import InputError
from synthkit.testing import FakeOpenAIServer

pytestmark = pytest.mark.usefixtures("ray_cluster")

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi"]


def _engine(**options):
    from synthkit_ray.engine import RayEngine

    return RayEngine(actors=2, block_size=16, **options)


def _teacher(url: str, **options):
    return sk.get_teacher("openai", model="fake-1", base_url=url, api_key="k", max_attempts=2, **options)


def _pipeline(src: Path, url: str, cache: Path) -> sk.Pipeline:
    return (
        sk.Pipeline(src, seed=7, concurrency=4, on_bad_line="skip")
        .generate(_teacher(url), params={"max_tokens": 32}, n=2, cache=cache)
        .verify("regex", pattern="7", mode="none")
        .filter("length", max_words=3)
        .filter("exact-dedup")
        .filter("near-dedup", threshold=0.6, ngram=2)
    )


def test_generate_verify_filter_dedup_output_equals_local(tmp_path, openai_server):
    """Generation through a server with a cache, then verify, filter and dedup: ray's files and counts equal local's."""
    openai_server.configure(fault_script=lambda messages: "400" if "bad" in messages[-1]["content"] else None)
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"prompt": f"question {i % 45}" + (" bad" if i % 23 == 0 else "")}) for i in range(90)]
    lines.insert(40, "{not json")
    src.write_text("\n".join(lines) + "\n")
    cache = tmp_path / "cache.sqlite"

    ray_summary = _pipeline(src, openai_server.url, cache).run(
        tmp_path / "ray.jsonl", rejects=tmp_path / "ray.rej.jsonl", engine=_engine()
    )
    local_summary = _pipeline(src, openai_server.url, cache).run(tmp_path / "local.jsonl", rejects=tmp_path / "local.rej.jsonl")

    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert (tmp_path / "ray.rej.jsonl").read_bytes() == (tmp_path / "local.rej.jsonl").read_bytes()
    counts = ("inputs", "expanded", "kept", "dropped", "failed")
    assert {c: getattr(ray_summary, c) for c in counts} == {c: getattr(local_summary, c) for c in counts}
    assert ray_summary.balanced and ray_summary.kept > 0
    assert ray_summary.dropped[("exact-dedup", "exact duplicate of #")] > 0
    assert ray_summary.failed[("generate:openai", "http_400")] == 4
    assert ray_summary.failed[("source", "bad_line")] == 1


def _write_corpus(path: Path, n: int) -> None:
    rng = random.Random(3)
    base = [" ".join(rng.choice(WORDS) for _ in range(30)) for _ in range(n // 3)]
    with path.open("w") as fh:
        for i in range(n):
            text = base[rng.randrange(len(base))]
            if i % 5 == 0:  # a near-duplicate: one word changed
                words = text.split()
                words[rng.randrange(len(words))] = "changed"
                text = " ".join(words)
            if i % 11 == 0:
                text = text.upper()
            if i % 97 == 0:
                text = "too short"
            fh.write(json.dumps({"text": text, "n": i}) + "\n")
            if i == 500:
                fh.write("{broken\n")


@pytest.mark.parametrize(
    "command",
    [
        ["filter", "--min-words", "5"],
        ["dedup", "--exact", "--near", "0.8"],
    ],
    ids=["filter", "dedup"],
)
def test_cli_engine_ray_output_is_byte_identical(tmp_path, ray_cluster, command):
    """`synthkit filter` and `synthkit dedup --exact --near` (real subprocesses) with --engine ray write local's files."""
    src = tmp_path / "in.jsonl"
    _write_corpus(src, 2000)
    outputs = {}
    for engine in ("local", "ray"):
        out, rej = tmp_path / f"{engine}.jsonl", tmp_path / f"{engine}.rej.jsonl"
        env = {**os.environ, "RAY_ADDRESS": ray_cluster}
        args = [sys.executable, "-m", "synthkit", *command[:1], str(src), "-o", str(out), "--rejects", str(rej)]
        args += [*command[1:], "--on-bad-line", "skip", "--engine", engine]
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=240, check=False)
        assert proc.returncode == 0, proc.stderr
        outputs[engine] = (out.read_bytes(), rej.read_bytes(), proc.stderr.strip().splitlines()[-1])
    assert outputs["ray"][:2] == outputs["local"][:2]
    assert outputs["local"][0].count(b"\n") > 100 and outputs["local"][1].count(b"\n") > 100
    assert "bad_line" in outputs["ray"][2] or "bad_line" in outputs["ray"][1].decode()


def test_shared_limit_gives_no_429_where_per_actor_limits_do(tmp_path):
    """Two generation actors under one shared RPM get no 429; each with the full RPM alone, the server answers 429s."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"p{i}"}) + "\n" for i in range(60)))
    seen = {}
    for shared in (True, False):
        with FakeOpenAIServer(rpm=600) as server:  # 10 a second, a burst of 10
            teacher = _teacher(server.url, rpm=600, concurrency=8)
            summary = (
                sk.Pipeline(src, concurrency=8)
                .generate(teacher)
                .run(tmp_path / f"out{shared}.jsonl", engine=_engine(share_limits=shared))
            )
            seen[shared] = (server.stats().get("status_429", 0), summary.kept)
    assert seen[True] == (0, 60)
    assert seen[False][0] > 0


def test_bad_line_stops_after_writing_what_came_before(tmp_path):
    """With on_bad_line='stop' the run raises InputError naming the line, after writing the records before it, as locally."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": f"record number {i}"}) + "\n" for i in range(20)) + "{oops\n")
    for engine in ("local", _engine()):
        out = tmp_path / f"{getattr(engine, 'name', engine)}.jsonl"
        with pytest.raises(InputError, match=r"in\.jsonl:21") as info:
            sk.Pipeline(src).filter("exact-dedup").run(out, engine=engine)
        assert info.value.summary.kept == 20
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()


def test_unpicklable_step_is_refused_with_the_fix(tmp_path):
    """A step that cannot pickle is refused before any work, naming the step and the fix."""
    from synthkit_ray.engine import RayEngineError

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"prompt": "hi"}) + "\n")

    class Holds(sk.Filter):
        name = "holds-a-file"

        def __init__(self):
            self.lock = threading.Lock()

        def check(self, record):
            return sk.Verdict(self.name, True)

    with pytest.raises(RayEngineError, match="holds-a-file.*does not pickle"):
        sk.Pipeline(src).filter(Holds()).run(tmp_path / "out.jsonl", engine=_engine())
    assert not (tmp_path / "out.jsonl").exists()


def _read(path: Path) -> list[dict]:
    """The lines of a JSONL file; a rejects file is only created when something is rejected."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_budget_is_one_for_the_whole_cluster(tmp_path, openai_server):
    """Two generation actors share one budget: the run stops naming it, spends no more, and keeps what local keeps."""
    budget = 0.0001  # gpt-4o-mini with max_tokens=5: about $2e-6 a request, $4e-6 reserved; 300 inputs need more
    prompts = [f"question {i}" for i in range(300)]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in prompts))
    teacher = sk.get_teacher("openai", model="gpt-4o-mini", base_url=openai_server.url, api_key="k", budget=budget)
    pipe = sk.Pipeline(src, concurrency=4).generate(teacher, params={"max_tokens": 5})
    summary = pipe.run(tmp_path / "out.jsonl", rejects=tmp_path / "rej.jsonl", engine=_engine())

    assert summary.stopped.startswith("budget of $0.0001 reached")
    kept = _read(tmp_path / "out.jsonl")
    costs = [r["lineage"]["usage"]["cost_usd"] for r in kept]
    assert len(kept) == summary.kept > 0 and all(c > 0 for c in costs)
    assert sum(costs) <= budget
    # every request the server saw was reserved first, so even at the cheapest request's cost they fit the budget
    assert openai_server.request_count * min(costs) <= budget
    # as locally: what finished before the stop, in input order; records not started are written nowhere
    assert [r["prompt"] for r in kept] == prompts[: len(kept)]
    assert _read(tmp_path / "rej.jsonl") == [] and summary.n_dropped == summary.n_failed == 0
    # the source streams: inputs are the records read before the stop (more than were kept), not the whole file
    assert summary.kept < summary.inputs <= 300 and not summary.balanced
    # the teacher on the driver holds the run's totals, from every actor
    assert sum(costs) <= teacher.cost.spent <= budget and teacher.cost.reserved == 0
    assert teacher.stats.cost_usd == teacher.cost.spent
    assert summary.kept <= teacher.cost.requests == teacher.stats.ok <= openai_server.request_count
    assert teacher.stats.prompt_tokens == teacher.cost.prompt_tokens > 0


def test_cli_generate_budget_on_ray_stops_and_reports_like_local(tmp_path, ray_cluster, openai_server):
    """`synthkit generate --budget --engine ray` (a real subprocess) exits 3 naming the budget and prints the run's cost, as local does."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"question {i}"}) + "\n" for i in range(200)))
    env = {**os.environ, "RAY_ADDRESS": ray_cluster}
    for engine in ("local", "ray"):
        out = tmp_path / f"{engine}.jsonl"
        args = [sys.executable, "-m", "synthkit", "generate", str(src), "-o", str(out), "--model", "gpt-4o-mini"]
        args += ["--base-url", openai_server.url, "--api-key", "k", "--budget", "0.0001", "-p", "max_tokens=5"]
        args += ["--concurrency", "4", "--engine", engine]
        if engine == "ray":
            args += ["--engine-option", "actors=2", "--engine-option", "block_size=16"]
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=240, check=False)
        assert proc.returncode == 3, proc.stderr
        assert "stopped early: budget of $0.0001 reached" in proc.stderr
        cost_line = next(line for line in proc.stderr.splitlines() if line.startswith("  cost     openai gpt-4o-mini: "))
        spent, requests = float(cost_line.split("$")[1].split()[0]), int(cost_line.split(": ")[1].split()[0])
        kept = _read(out)
        assert 0 < len(kept) <= requests and spent <= 0.0001
        assert sum(r["lineage"]["usage"]["cost_usd"] for r in kept) <= spent + 5e-7  # the CLI prints 6 decimals


def test_parquet_and_dataset_sources_and_a_parquet_sink_equal_local(tmp_path):
    """A Parquet file or an HF Dataset as the source, Parquet as the sink: ray reads and writes what local does."""
    from synthkit.io.interchange import read_records, to_dataset, write_records

    src = tmp_path / "in.jsonl"
    _write_corpus(src, 300)
    records = [r for r in read_records(src, on_bad_line="skip") if isinstance(r, sk.Record)]
    write_records(records, tmp_path / "in.parquet")
    for name, source in (("parquet", tmp_path / "in.parquet"), ("dataset", to_dataset(records))):
        out = {}
        for engine in ("local", _engine()):
            path = tmp_path / f"{name}-{getattr(engine, 'name', engine)}.parquet"
            summary = sk.Pipeline(source).filter("length", min_words=5).filter("exact-dedup").run(path, engine=engine)
            out[getattr(engine, "name", engine)] = (list(read_records(path)), summary.kept, summary.n_dropped)
        assert out["ray"] == out["local"]
        assert 0 < out["local"][1] < len(records)
