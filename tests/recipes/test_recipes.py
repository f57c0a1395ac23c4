"""Recipe files: errors at file:line:column, the dry run, and the Python pipeline written to and read from a recipe."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synthkit as sk
from synthkit.errors import RecipeError
from synthkit.recipes import generator, read_recipe, run_recipe, source

BAD = [
    ("source: in.jsonl\nsteps:\n  - filter: length\n    min_wrds: 5\n", "4:5", "did you mean 'min_words'?"),
    ("source: in.jsonl\nsteps:\n  - filter: length\n    min_words: lots\n", "4:16", "takes a whole number, got 'lots'"),
    ("source: in.jsonl\nsteps:\n  - filter: lenght\n", "3:13", "Did you mean 'length'?"),
    ("source: in.jsonl\nstep:\n  - verify: math\n", "2:1", "did you mean 'steps'?"),
    ("source: in.jsonl\nsteps:\n  - verify: math\n   bad: [\n", "4:4", "not valid YAML"),
    ("source: in.jsonl\nsteps:\n  - generate: procedral\n", "3:15", "Did you mean 'procedural'?"),
    ("source: in.jsonl\nsteps:\n  - generat: procedural\n", "3:5", "did you mean 'generate'?"),
    ("source: in.jsonl\nsteps:\n  - generate: procedural\n    temprature: 3\n", "4:5", "unknown option 'temprature' for step 'generate'"),
    ("source: in.jsonl\nconcurrency: many\nsteps:\n  - verify: math\n", "2:14", "takes a whole number"),
    ("source: {rounds: 2, grid: 3}\nsteps:\n  - verify: math\n", "1:9", "source is a file path"),
    ("source:\n  problem: {n: 3}\nsteps:\n  - verify: math\n", "2:3", "did you mean 'problems'?"),
    ("source: in.jsonl\nsteps:\n  - verify: math\n  - verify: math\n    field: a\n    field: b\n", "6:5", "'field' is given twice"),
    ("source: in.jsonl\nsteps:\n  - generate: {teacher: openai, model: m, base_url: '${NOT_SET_ANYWHERE}'}\n", "3:53", "NOT_SET_ANYWHERE is not set"),
    ("source: in.jsonl\nsteps:\n  - verify: judge\n    teacher: {teacher: procedural, eror_rate: 0.1}\n", "4:36", "did you mean 'error_rate'?"),
    ("source: missing.jsonl\nsteps:\n  - verify: math\n", "1:9", "missing.jsonl does not exist"),
    ("steps:\n  - verify: math\n", "1:1", "has no 'source'"),
]


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pathlib.Path("in.jsonl").write_text('{"prompt": "1+1?", "answer": "2"}\n')
    return tmp_path


@pytest.mark.parametrize(("text", "spot", "says"), BAD, ids=[b[2][:30] for b in BAD])
def test_bad_recipe_names_file_line_and_column(text, spot, says, here):
    """Each mistake is reported at its file, line and column, with the fix."""
    pathlib.Path("bad.yaml").write_text(text)
    with pytest.raises(RecipeError) as info:
        read_recipe("bad.yaml")
    assert str(info.value).startswith(f"bad.yaml:{spot}: "), str(info.value)
    assert says in str(info.value)


def test_cli_reports_a_bad_recipe_without_a_traceback(here):
    """`synthkit run` on a bad recipe exits 1 with one line naming file:line:column, and no traceback."""
    pathlib.Path("bad.yaml").write_text("source: in.jsonl\nsteps:\n  - filter: length\n    min_wrds: 5\n")
    proc = subprocess.run([sys.executable, "-m", "synthkit", "run", "bad.yaml"], capture_output=True, text=True, env=os.environ, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: bad.yaml:4:5: unknown option 'min_wrds' for filter 'length'; did you mean 'min_words'?")
    assert "Traceback" not in proc.stderr + proc.stdout


def test_dry_run_prints_the_plan_and_the_cost_and_sends_nothing(here, openai_server, monkeypatch):
    """--dry-run lists every step and estimates the requests and dollars of the generate step; no request is sent."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-dry-run")
    pathlib.Path("r.yaml").write_text(
        f"source: in.jsonl\nsteps:\n  - generate: {{teacher: openai, model: gpt-4o-mini, base_url: '{openai_server.url}'}}\n"
        "    params: {max_tokens: 100}\n  - verify: math\nsink: out.jsonl\nbudget: 0.000001\n"
    )
    proc = subprocess.run([sys.executable, "-m", "synthkit", "run", "r.yaml", "--dry-run"], capture_output=True, text=True, env=os.environ, check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "1. generate (teacher=openai, params={'max_tokens': 100})" in out
    assert "2. verify math" in out
    assert "requests to send:   1" in out
    assert "completion tokens:  <= 100" in out
    assert "cost for gpt-4o-mini: $0.0001" in out
    assert "the run would stop at the budget" in out
    assert openai_server.request_count == 0
    assert not pathlib.Path("out.jsonl").exists()


def test_cli_run_writes_the_sink_and_rejects(here):
    """`synthkit run` runs the recipe and writes its sink and rejects; exit 0."""
    pathlib.Path("r.yaml").write_text(
        "teachers:\n  t: {teacher: procedural, error_rate: 0.5}\nsource: {problems: {teacher: t, n: 30, seed: 3}}\n"
        "steps:\n  - generate: t\n  - verify: final-answer\nsink: kept.jsonl\nrejects: wrong.jsonl\n"
    )
    proc = subprocess.run([sys.executable, "-m", "synthkit", "run", "r.yaml"], capture_output=True, text=True, env=os.environ, check=False)
    assert proc.returncode == 0, proc.stderr
    kept = pathlib.Path("kept.jsonl").read_text().splitlines()
    wrong = pathlib.Path("wrong.jsonl").read_text().splitlines()
    assert len(kept) + len(wrong) == 30
    assert json.loads(wrong[0])["reject"]["step"] == "final-answer"
    assert json.loads(kept[0])["lineage"]["commands"] == ["synthkit run r.yaml"]


def test_pipeline_round_trips_through_a_recipe(here):
    """A pipeline written as a recipe and read back writes the same records, and writes the same recipe again."""
    teacher = sk.get_teacher("procedural", error_rate=0.2)
    pipe = (
        sk.Pipeline(source("problems", teacher=teacher, n=60, seed=1), seed=1, concurrency=4)
        .generate(teacher, template="cot", n=2)
        .verify("final-answer")
        .filter("length", min_words=3)
        .filter("exact-dedup")
    )
    text = pipe.to_recipe("r.yaml", sink="a.jsonl", rejects="a.rej.jsonl")
    again = sk.Pipeline.from_recipe("r.yaml")
    assert again.to_recipe(sink="a.jsonl", rejects="a.rej.jsonl") == text
    pipe.run(sink="a.jsonl")
    again.run(sink="b.jsonl")
    assert pathlib.Path("a.jsonl").read_text() == pathlib.Path("b.jsonl").read_text()
    assert "min_words: 3" in text and "n: 2" in text and "concurrency: 4" in text


def test_a_recipe_never_holds_the_api_key(here):
    """Writing a pipeline whose teacher was given an API key leaves the key out of the recipe."""
    teacher = sk.get_teacher("openai", model="gpt-4o-mini", api_key="sk-secret-123", base_url="http://127.0.0.1:9/v1")
    text = sk.Pipeline("in.jsonl").generate(teacher).verify("judge", teacher=teacher).to_recipe()
    assert "sk-secret-123" not in text
    assert "api_key" not in text
    import yaml

    assert list(yaml.safe_load(text)["teachers"]) == ["openai"]  # one shared teacher, named once


def test_a_part_built_in_python_cannot_be_written_and_says_how(here):
    """A step made from a class directly is refused with the fix: build it by name."""
    from synthkit.generators.evolve import Evolve

    pipe = sk.Pipeline("in.jsonl").step(Evolve(sk.get_teacher("procedural")))
    with pytest.raises(RecipeError, match="step 1 .* was built in Python; build it by name"):
        pipe.to_recipe()
    pipe = sk.Pipeline("in.jsonl").step(generator("evolve", teacher=sk.get_teacher("procedural"), operators=["breadth"]))
    assert "- evolve: procedural\n  operators:\n  - breadth\n" in pipe.to_recipe()


_FILTERS = st.sampled_from(
    [("length", {"min_words": st.integers(1, 5)}), ("exact-dedup", {}), ("repetition", {"max_dup_line_frac": st.floats(0.1, 0.9)}), ("refusal", {})]
)


@st.composite
def pipelines(draw):
    steps = []
    for name, opts in draw(st.lists(_FILTERS, min_size=1, max_size=4)):
        steps.append((name, {k: draw(v) for k, v in opts.items() if draw(st.booleans())}))
    return draw(st.integers(0, 99)), draw(st.integers(1, 64)), steps


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pipelines())
def test_to_recipe_then_from_recipe_is_the_same_plan(here, spec):
    """Property: for any chain of filters and options, from_recipe(to_recipe(p)) writes the same recipe as p."""
    seed, concurrency, steps = spec
    pipe = sk.Pipeline("in.jsonl", seed=seed, concurrency=concurrency)
    for name, opts in steps:
        pipe.filter(name, **opts)
    text = pipe.to_recipe("p.yaml")
    back = sk.Pipeline.from_recipe("p.yaml")
    assert back.to_recipe() == text
    assert [f.name for s in back.steps for f in s.filters] == [f.name for s in pipe.steps for f in s.filters]
    assert back.plan().seed == seed and back.plan().concurrency == concurrency


def test_regenerate_and_mix_steps_run_and_write_back(here):
    """A recipe with a regenerate step and a mix runs, mixes at the asked share, and writes back the same recipe."""
    teacher = sk.get_teacher("procedural")
    with open("real.jsonl", "w") as fh:
        for r in teacher.problems(30, seed=9):
            fh.write(r.to_json() + "\n")
    pathlib.Path("r.yaml").write_text(
        "teachers:\n  t: {teacher: procedural, error_rate: 0.2}\nsource: {problems: {teacher: t, n: 40, seed: 1}}\n"
        "steps:\n  - regenerate: t\n    verifier: final-answer\n    attempts: 2\n"
        "mix:\n  mixer: ratio\n  real_fraction: 0.5\n  sources: {real: real.jsonl}\nsink: mixed.jsonl\n"
    )
    summary = run_recipe("r.yaml")
    kept = [json.loads(line) for line in pathlib.Path("mixed.jsonl").read_text().splitlines()]
    real_ids = {json.loads(line)["id"] for line in pathlib.Path("real.jsonl").read_text().splitlines()}
    from_real = sum(r["id"] in real_ids for r in kept)
    assert from_real == len(kept) - from_real == summary.kept > 0  # half real, half the run's (the summary counts the run's)
    text = sk.Pipeline.from_recipe("r.yaml").to_recipe(sink="mixed.jsonl")
    assert "- regenerate: procedural\n  verifier: final-answer\n  attempts: 2\n" in text
    assert "mixer: ratio" in text and "real: real.jsonl" in text
