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
    ("source: in.jsonl\nsteps:\n  - generate: procedural\n    n: 4\n    keep: 2\n", "5:11", "add verifier: NAME"),
    ("source: in.jsonl\nsteps:\n  - generate: procedural\n    n: 4\n    verifier: mth\n", "5:15", "Did you mean 'math'?"),
    ("source: in.jsonl\nsteps:\n  - generate: procedural\n    verifier: math\n    too_easy: always\n", "5:15", "takes a number, got 'always'"),
    ("source: in.jsonl\nsteps:\n  - verify: math\nthen:\n  - selct: a.jsonl\n    output: b.jsonl\n", "5:5", "did you mean 'select'?"),
    ("source: in.jsonl\nsteps:\n  - verify: math\nthen:\n  - select: a.jsonl\n    outptu: b.jsonl\n", "6:5", "did you mean 'output'?"),
    ("source: in.jsonl\nsteps:\n  - verify: math\nthen:\n  - pairs: a.jsonl\n    output: b.jsonl\n    margin: big\n", "7:13", "takes a number, got 'big'"),
    ("source: in.jsonl\nsteps:\n  - verify: math\nthen:\n  - export: a.jsonl\n    format: openai\n", "5:13", "needs an output"),
    ("source: in.jsonl\nsteps:\n  - verify: math\nthen:\n  - export:\n    output: b.jsonl\n", "5:12", "names the file the stage reads"),
    ("source: in.jsonl\nsteps:\n  - verify: math\nthen:\n  - select: a.jsonl\n    output: b.jsonl\n    verifier: {verifier: math, tolerence: 1}\n", "7:32", "unknown option 'tolerence' for verifier 'math'"),
    ("source: in.jsonl\nsteps:\n  - verify: math\nthen: export\n", "4:7", "then is a list of stages"),
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


_BEST_OF_N = st.fixed_dictionaries(
    {"n": st.integers(1, 8), "verifier": st.sampled_from(["math", "final-answer"])},
    optional={"keep": st.one_of(st.none(), st.integers(1, 4)), "by": st.sampled_from(["first", "score"]), "too_easy": st.floats(0.5, 1.0), "too_hard": st.floats(0.0, 0.5)},
)

_STAGES = st.one_of(
    st.tuples(st.just("select"), st.fixed_dictionaries({"output": st.just("kept.jsonl")}, optional={"verifier": st.just("math"), "keep": st.integers(1, 3), "too_easy": st.floats(0.5, 1.0), "rejects": st.just("not-kept.jsonl")})),
    st.tuples(st.just("pairs"), st.fixed_dictionaries({"output": st.just("pairs.jsonl")}, optional={"verifier": st.just("math"), "by": st.sampled_from(["verdict", "score"]), "margin": st.floats(0, 1)})),
    st.tuples(st.just("export"), st.fixed_dictionaries({"output": st.just("sft.jsonl")}, optional={"format": st.sampled_from(["openai", "sharegpt", "dpo"]), "reasoning": st.sampled_from(["think", "field", "drop"])})),
)


@st.composite
def pipelines(draw):
    steps = []
    for name, opts in draw(st.lists(_FILTERS, min_size=1, max_size=4)):
        steps.append((name, {k: draw(v) for k, v in opts.items() if draw(st.booleans())}))
    best_of_n = draw(st.one_of(st.none(), _BEST_OF_N))
    then = draw(st.lists(_STAGES, max_size=3))
    return draw(st.integers(0, 99)), draw(st.integers(1, 64)), steps, best_of_n, then


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pipelines())
def test_to_recipe_then_from_recipe_is_the_same_plan(here, spec):
    """Property: for any best-of-n generate step, chain of filters and then-stages, from_recipe(to_recipe(p)) writes the same recipe as p."""
    from synthkit.recipes import read_recipe, stage

    seed, concurrency, steps, best_of_n, then = spec
    pipe = sk.Pipeline("in.jsonl", seed=seed, concurrency=concurrency)
    if best_of_n is not None:
        pipe.step(generator("generate", teacher=sk.get_teacher("procedural"), **best_of_n))
    for name, opts in steps:
        pipe.filter(name, **opts)
    stages = [stage(kind, "samples.jsonl", **opts) for kind, opts in then]
    text = pipe.to_recipe("p.yaml", then=stages)
    recipe = read_recipe("p.yaml")
    back = sk.Pipeline.from_recipe(recipe)
    assert back.to_recipe(then=recipe.then) == text
    assert recipe.then == tuple(stages)
    assert [f.name for s in back.steps if hasattr(s, "filters") for f in s.filters] == [f.name for s in pipe.steps if hasattr(s, "filters") for f in s.filters]
    if best_of_n is not None:
        made = back.steps[0].generator
        assert (made.step.n, made.verifier.name, made.keep) == (best_of_n["n"], best_of_n["verifier"], best_of_n.get("keep", 1))
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


def test_generate_with_a_verifier_is_best_of_n_as_in_python_and_writes_back(here):
    """A generate step with n, verifier and keep keeps what BestOfN keeps, drops the rest with reasons, and round-trips."""
    from synthkit.generators import Generate
    from synthkit.generators.sampling import BestOfN

    pathlib.Path("r.yaml").write_text(
        "teachers:\n  t: {teacher: procedural, error_rate: 0.4}\nsource: {problems: {teacher: t, n: 20, seed: 2}}\n"
        "steps:\n  - generate: t\n    n: 4\n    verifier: math\n    keep: 2\n    too_easy: 1.0\nsink: kept.jsonl\nrejects: dropped.jsonl\n"
    )
    summary = run_recipe("r.yaml")
    teacher = sk.get_teacher("procedural", error_rate=0.4)
    twin = sk.Pipeline(source("problems", teacher=teacher, n=20, seed=2)).step(BestOfN(Generate(teacher, n=4), "math", keep=2, too_easy=1.0))
    twin_summary = twin.run(sink="twin.jsonl", rejects="twin.rejects.jsonl")

    def lines(path):
        out = []
        for line in pathlib.Path(path).read_text().splitlines():
            rec = json.loads(line)
            rec["lineage"].pop("commands", None)
            out.append(rec)
        return out

    assert lines("kept.jsonl") == lines("twin.jsonl") and lines("dropped.jsonl") == lines("twin.rejects.jsonl")
    assert summary.kept == twin_summary.kept > 0 and summary.n_dropped == twin_summary.n_dropped > 0
    assert summary.kept + summary.n_dropped == 80  # every sample kept or dropped with its reason
    reasons = {json.loads(line)["reject"]["reason"].split(":")[0] for line in pathlib.Path("dropped.jsonl").read_text().splitlines()}
    assert reasons <= {"passed, not kept", "failed math", "too easy"} and "failed math" in reasons
    text = sk.Pipeline.from_recipe("r.yaml").to_recipe()
    assert "- generate: procedural\n  n: 4\n  verifier: math\n  keep: 2\n  too_easy: 1.0\n" in text
    from synthkit.recipes import estimate_recipe

    told = []
    estimate_recipe("r.yaml", echo=told.append)
    assert "requests to send:   20" in "\n".join(told)  # estimated as its samples: the math verifier asks no model
    assert twin.to_recipe().split("steps:")[1] == text.split("steps:")[1]  # the Python-built BestOfN writes the same step


def test_then_stages_run_after_the_pipeline_and_not_after_a_stopped_run(here):
    """Stages run in order on the files before them; the CLI prints each result; a dry run lists them and writes nothing."""
    pathlib.Path("r.yaml").write_text(
        "teachers:\n  t: {teacher: procedural, error_rate: 0.4}\nsource: {problems: {teacher: t, n: 10, seed: 4}}\n"
        "steps:\n  - generate: t\n    n: 4\nsink: samples.jsonl\n"
        "then:\n  - pairs: samples.jsonl\n    output: pairs.jsonl\n    verifier: {verifier: math}\n"
        "  - export: pairs.jsonl\n    output: dpo.jsonl\n    format: dpo\n"
    )
    dry = subprocess.run([sys.executable, "-m", "synthkit", "run", "r.yaml", "--dry-run"], capture_output=True, text=True, env=os.environ, check=False)
    assert dry.returncode == 0, dry.stderr
    assert "then:\n    1. pairs samples.jsonl -o pairs.jsonl --verifier math\n    2. export pairs.jsonl -o dpo.jsonl --format dpo\n" in dry.stdout
    assert not pathlib.Path("samples.jsonl").exists()
    proc = subprocess.run([sys.executable, "-m", "synthkit", "run", "r.yaml"], capture_output=True, text=True, env=os.environ, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "then 1. pairs samples.jsonl" in proc.stderr and "then 2. export pairs.jsonl" in proc.stderr
    pairs = pathlib.Path("pairs.jsonl").read_text().splitlines()
    dpo = [json.loads(line) for line in pathlib.Path("dpo.jsonl").read_text().splitlines()]
    assert len(dpo) == len(pairs) > 0 and {"prompt", "chosen", "rejected"} <= set(dpo[0])
    # the samples' lineage names the run, the pair's adds the command the stage is
    assert json.loads(pairs[0])["lineage"]["commands"][-2:] == ["synthkit run r.yaml", "synthkit pairs samples.jsonl -o pairs.jsonl --verifier math"]


def test_a_stopped_run_leaves_its_stages_and_says_so(here):
    """A run that stops early (here: the budget) does not run its stages, and says how to resume."""
    from synthkit.recipes.recipe import read_recipe
    from synthkit.recipes.run import run_recipe as run

    pathlib.Path("r.yaml").write_text(
        "source: in.jsonl\nsteps:\n  - generate: procedural\nsink: s.jsonl\nthen:\n  - export: s.jsonl\n    output: e.jsonl\n"
    )
    assert [s.kind for s in read_recipe("r.yaml").then] == ["export"]
    told = []
    import synthkit.recipes.run as run_module

    real = run_module.pipeline_of

    def stopping(recipe, *, command=None):
        pipe = real(recipe, command=command)
        original = pipe.run

        def run_and_stop(**kw):
            summary = original(**kw)
            summary.stopped, summary.stopped_by = "budget of $0 reached", "BudgetExceeded"
            return summary

        pipe.run = run_and_stop
        return pipe

    run_module.pipeline_of = stopping
    try:
        run("r.yaml", echo=told.append)
    finally:
        run_module.pipeline_of = real
    assert not pathlib.Path("e.jsonl").exists()
    assert told == ["the run stopped early, so the 1 stage(s) after it did not run; re-run the recipe to resume"]


def test_a_stage_reads_as_the_command_it_is():
    """A stage's label is the command line it equals: flags as the command spells them, a built verifier by name and -O options."""
    from synthkit.errors import OptionError
    from synthkit.plugins import resolve
    from synthkit.recipes import stage

    select = stage("select", "s.jsonl", output="k.jsonl", keep=None, too_easy="1", verifier=resolve("verifier", "math", field="response"))
    assert select.label() == "select s.jsonl -o k.jsonl --keep all --too-easy 1.0 --verifier math -O field=response"
    assert select.options["too_easy"] == 1.0  # converted as the CLI converts it
    with pytest.raises(OptionError, match="needs an output"):
        stage("export", "s.jsonl", format="openai")
    with pytest.raises(OptionError, match="unknown option 'command' for stage 'pairs'"):
        stage("pairs", "s.jsonl", output="p.jsonl", command="x")
