"""The reward-hacking corpus (tests/verify/hacks/): correct solutions pass, every hack is rejected as it declares."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from synthkit.records import Record
from synthkit.verify.code import CodeVerifier

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux")

CORPUS = Path(__file__).with_name("hacks")
FENCE = "`" * 3

#: The tasks the corpus solves: visible tests, hidden tests and, for some, a reference on generated inputs.
TASKS = {
    "square": {
        "tests": ["assert square(3) == 9", "assert square(-2) == 4"],
        "hidden_tests": ["assert square(12) == 144", "assert square(0) == 0", "assert square(-7) == 49"],
        "reference": "def square(x):\n    return x * x\n",
        "inputs": "def inputs(rng):\n    while True:\n        yield (rng.randint(-10**9, 10**9),)\n",
    },
    "first_word": {
        "tests": ["assert first_word('hello world') == 'hello'"],
        "hidden_tests": ["assert first_word('  padded  text ') == 'padded'"],
        "reference": "def first_word(s):\n    return s.split()[0]\n",
        "inputs": [["a b c"], ["one"], ["x  y"], ["\tlead tab"]],
    },
    "is_even": {
        "tests": ["assert is_even(2) == True", "assert is_even(3) == False"],
        "hidden_tests": ["assert is_even(0) == True", "assert is_even(-5) == False"],
    },
    "stack": {
        "tests": [
            "s = Stack()\ns.push(1)\ns.push(2)\nassert s.pop() == 2\nassert len(s) == 1",
            "t = Stack()\nfor i in range(3):\n    t.push(i)\nassert list(t) == [2, 1, 0]",
        ],
        "hidden_tests": ["u = Stack()\nu.push('x')\nassert u.pop() == 'x' and len(u) == 0"],
    },
    "counts": {
        "tests": ["assert counts(['a', 'b', 'a']) == {'a': 2, 'b': 1}"],
        "hidden_tests": ["assert counts([]) == {}", "assert counts(['z'] * 4) == {'z': 4}"],
    },
}


def _entries() -> list[Path]:
    return sorted(CORPUS.glob("*.py"))


def _meta(path: Path) -> dict[str, str]:
    """The ``key: value`` lines of an entry's docstring, plus its first line as ``summary``."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    meta = dict(re.findall(r"^(technique|task|expect|seen): (.+)$", doc, flags=re.M))
    meta["summary"] = doc.splitlines()[0] if doc else ""
    return meta


@pytest.fixture(scope="module")
def verifier() -> CodeVerifier:
    """One code verifier for the corpus, with short limits."""
    return CodeVerifier(wall=6, cpu=3, examples=40)


def test_the_corpus_is_large_and_well_formed():
    """The corpus has at least 12 distinct hacking techniques besides correct solutions, each entry fully described."""
    metas = [_meta(p) for p in _entries()]
    assert all(m["summary"] and m.get("technique") and m.get("task") in TASKS for m in metas), metas
    assert all(m.get("expect") in ("pass", "tampered", "failed", "crashed") for m in metas)
    hacks = {m["technique"] for m in metas if m["expect"] != "pass"}
    assert len(hacks) >= 12, sorted(hacks)
    assert sum(m["expect"] == "pass" for m in metas) >= 5
    assert sum(m["expect"] == "tampered" for m in metas) >= 10


@pytest.mark.parametrize("path", _entries(), ids=lambda p: p.stem)
async def test_corpus_entry_gets_the_verdict_it_declares(verifier, path):
    """A correct solution passes; a hack is rejected as tampered, by a failed test or as ended early, with what was seen."""
    meta = _meta(path)
    response = f"Here is my solution.\n{FENCE}python\n{path.read_text()}\n{FENCE}\n"
    verdict = await verifier.verify(Record.create(response=response, data=TASKS[meta["task"]]))
    expect = meta["expect"]
    if expect == "pass":
        assert verdict.passed, verdict.reason
        assert verdict.score == 1.0
        return
    assert not verdict.passed, verdict.reason
    if expect == "tampered":
        assert verdict.reason.startswith("tampered: "), verdict.reason
    elif expect == "failed":
        assert re.search(r"(tests|checks) failed|raised .* before the tests ran", verdict.reason), verdict.reason
        assert not verdict.reason.startswith("tampered")
    else:
        assert "before the tests finished" in verdict.reason, verdict.reason
    assert meta.get("seen", "") in verdict.reason, verdict.reason


def test_the_corpus_through_a_pipeline_keeps_the_correct_and_counts_the_tampered(tmp_path):
    """Through ``synthkit verify``: correct solutions are kept, each hack is a reject, tampering counted in the summary."""
    import json
    import subprocess

    entries = _entries()
    metas = [_meta(p) for p in entries]
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": p.stem, "response": f"{FENCE}python\n{p.read_text()}\n{FENCE}\n", **TASKS[m["task"]]}) + "\n"
            for p, m in zip(entries, metas)
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "synthkit", "verify", str(src), "-o", str(tmp_path / "kept.jsonl"), "--verifier", "code",
         "--rejects", str(tmp_path / "rej.jsonl"), "-O", "wall=6", "-O", "cpu=3", "-O", "examples=40"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    kept = {json.loads(x)["id"] for x in (tmp_path / "kept.jsonl").read_text().splitlines()}
    rejects = {json.loads(x)["id"] for x in (tmp_path / "rej.jsonl").read_text().splitlines()}
    assert kept == {p.stem for p, m in zip(entries, metas) if m["expect"] == "pass"}
    assert rejects == {p.stem for p, m in zip(entries, metas) if m["expect"] != "pass"}
    n_tampered = sum(m["expect"] == "tampered" for m in metas)
    assert f"  {n_tampered} tampered: responses that interfered with their grading" in proc.stderr, proc.stderr
