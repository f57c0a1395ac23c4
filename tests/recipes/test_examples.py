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


def test_every_example_recipe_has_a_twin_and_a_test():
    """Each examples/*.yaml has a Python twin and is listed here."""
    root = pathlib.Path(__file__).resolve().parents[2] / "examples"
    recipes = sorted(p.stem for p in root.glob("*.yaml"))
    assert recipes == sorted(e[0] for e in EXAMPLES)
    assert all((root / f"{r}.py").exists() for r in recipes)
