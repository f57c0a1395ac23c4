"""Every example recipe runs and writes what its Python twin writes."""

from __future__ import annotations

import json
import pathlib
import runpy

import pytest

from synthkit.recipes import run_recipe

EXAMPLES = [
    ("quickstart", "out/quickstart.jsonl", "out/rejects.jsonl", False),
    ("self_instruct_judge", "out/self_instruct.jsonl", "out/self_instruct.rejects.jsonl", True),
    ("doc_qa", "out/doc_qa.jsonl", "out/doc_qa.rejects.jsonl", True),
]


def _lines(path: str) -> list[dict]:
    """The records of a JSONL file, without the command line that made them (a recipe's names the recipe)."""
    out = []
    for line in pathlib.Path(path).read_text().splitlines():
        rec = json.loads(line)
        rec.get("lineage", {}).pop("commands", None)
        out.append(rec)
    return out


@pytest.mark.parametrize(("name", "sink", "rejects", "needs_llm"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example_recipe_equals_its_python_twin(name, sink, rejects, needs_llm, workdir, request):
    """The recipe and the Python script of each example write the same kept records and the same rejects."""
    if needs_llm:
        request.getfixturevalue("llm")
    summary = run_recipe(f"examples/{name}.yaml")
    assert summary.kept > 0
    assert summary.n_dropped > 0  # each example drops something, so the rejects compare too
    from_recipe = (_lines(sink), _lines(rejects))
    pathlib.Path(sink).unlink()
    pathlib.Path(rejects).unlink()
    runpy.run_path(f"examples/{name}.py", run_name="__main__")
    assert (_lines(sink), _lines(rejects)) == from_recipe
    assert len(from_recipe[0]) == summary.kept


#: What the math rejection-sampling recipe writes: its sink, then its ``then:`` stages' outputs.
MATH_FILES = ["samples", "samples.rejects", "kept", "not-kept", "pass-rates", "pairs", "unpaired", "sft", "dpo"]


def test_math_rejection_sampling_recipe_equals_its_python_twin(workdir):
    """The math recipe (generate n=8, then select, pairs, export) writes every file its Python twin writes, line for line."""
    summary = run_recipe("examples/math_rejection_sampling.yaml")
    assert summary.kept == 800  # 100 problems, 8 samples each
    from_recipe = {f: _lines(f"out/{f}.jsonl") for f in MATH_FILES}
    assert len(from_recipe["kept"]) == len(from_recipe["pass-rates"]) - sum(r["outcome"] != "kept" for r in from_recipe["pass-rates"]) > 0
    assert from_recipe["not-kept"] and from_recipe["pairs"] and from_recipe["sft"] and from_recipe["dpo"]
    assert len(from_recipe["samples"]) == len(from_recipe["kept"]) + len(from_recipe["not-kept"])  # every sample kept or dropped
    assert len(from_recipe["samples"]) == 2 * len(from_recipe["pairs"]) + len(from_recipe["unpaired"])
    assert "<think>" in from_recipe["sft"][0]["messages"][-1]["content"]
    for f in MATH_FILES:
        pathlib.Path(f"out/{f}.jsonl").unlink()
    runpy.run_path("examples/math_rejection_sampling.py", run_name="__main__")
    assert {f: _lines(f"out/{f}.jsonl") for f in MATH_FILES} == from_recipe


def test_every_example_recipe_has_a_twin_and_a_test():
    """Each examples/*.yaml has a Python twin and is listed here."""
    root = pathlib.Path(__file__).resolve().parents[2] / "examples"
    recipes = sorted(p.stem for p in root.glob("*.yaml"))
    assert recipes == sorted([*(e[0] for e in EXAMPLES), "math_rejection_sampling"])
    assert all((root / f"{r}.py").exists() for r in recipes)
