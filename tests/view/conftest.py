"""A two-generation run to view: generation 2 answers generation 1's records, so lineage crosses files."""

from __future__ import annotations

import pathlib

import pytest

import synthkit as sk


@pytest.fixture(scope="session")
def run_files(tmp_path_factory) -> dict[str, pathlib.Path]:
    """gen1.jsonl and gen2.jsonl with their rejects (wrong answers and duplicates), from the procedural teacher."""
    d = tmp_path_factory.mktemp("viewed")
    teacher = sk.get_teacher("procedural", error_rate=0.3)
    files = {k: d / f"{k}.jsonl" for k in ("gen1", "rej1", "gen2", "rej2")}
    (
        sk.Pipeline(teacher.problems(120, seed=5), seed=5)
        .generate(teacher, template="cot")
        .verify("final-answer")
        .filter("exact-dedup")
        .run(sink=files["gen1"], rejects=files["rej1"])
    )
    sk.Pipeline(str(files["gen1"]), seed=6).generate(teacher).verify("final-answer").run(sink=files["gen2"], rejects=files["rej2"])
    return files
