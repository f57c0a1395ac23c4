"""The filter, dedup and decontaminate commands: contract, outputs, rejects and reasons."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from synthkit.cli import cli
from synthkit.plugins import get_filter

SYNTHKIT = str(Path(sys.executable).with_name("synthkit"))

GOOD = "The committee met on Tuesday to review the budget and agreed to publish a draft plan next week."


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def read(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_every_builtin_filter_is_registered():
    """Each built-in filter name builds a Filter whose name is the registered name."""
    from synthkit.plugins import get_plugins

    names = get_plugins().registries["filters"].names()
    assert {"exact-dedup", "near-dedup", "length", "novelty"} <= set(names)
    for name in names:
        if name in ("decontaminate", "semantic-dedup", "language"):
            continue  # need files, the semantic extra, or a model load
        assert get_filter(name).name == name


def test_filter_default_set_writes_kept_and_rejects_with_reasons(tmp_path):
    """The default set drops empty, truncated, repetitive and refusal records, each with step and reason."""
    src = write(
        tmp_path / "in.jsonl",
        [
            {"id": "ok", "response": GOOD},
            {"id": "empty", "response": "   "},
            {"id": "cut", "response": GOOD, "lineage": {"origin": "synthetic", "finish_reason": "length"}},
            {"id": "rep", "response": "\n".join(["same line again"] * 6 + ["other"])},
            {"id": "ai", "response": "As an AI language model, I cannot do that."},
        ],
    )
    res = invoke("filter", src, "-o", tmp_path / "out.jsonl", "--rejects", tmp_path / "rej.jsonl")
    assert res.exit_code == 0, res.output
    assert [r["id"] for r in read(tmp_path / "out.jsonl")] == ["ok"]
    rejects = {r["id"]: r["reject"] for r in read(tmp_path / "rej.jsonl")}
    assert {k: v["step"] for k, v in rejects.items()} == {"empty": "empty", "cut": "truncated", "rep": "repetition", "ai": "refusal"}
    assert all(v["status"] == "dropped" and v["reason"] for v in rejects.values())
    assert "5 inputs -> 1 kept, 4 dropped" in res.output


def test_filter_options_set_thresholds_and_add_filters(tmp_path):
    """--min-words, --set and --add change what is dropped; --filters picks the set."""
    src = write(tmp_path / "in.jsonl", [{"text": "one two three"}, {"text": GOOD}, {"text": "x = 1 + 2 = 3 and y = 4"}])
    out = tmp_path / "out.jsonl"
    invoke("filter", src, "-o", out, "--min-words", "4")
    assert len(read(out)) == 2
    invoke("filter", src, "-o", out, "--set", "length.max_words=5")
    assert [r["text"] for r in read(out)] == ["one two three"]
    invoke("filter", src, "-o", out, "--filters", "empty", "--add", "symbols")
    assert len(read(out)) == 2
    res = CliRunner().invoke(cli, ["filter", str(src), "-o", str(out), "--set", "nonsense"])
    assert res.exit_code != 0 and "FILTER.OPTION=VALUE" in res.output


def test_filter_field_option(tmp_path):
    """--field judges the named field instead of text/response."""
    src = write(tmp_path / "in.jsonl", [{"prompt": "q", "response": GOOD, "answer": ""}])
    out = tmp_path / "out.jsonl"
    invoke("filter", src, "-o", out, "--filters", "empty", "--field", "answer")
    assert read(out) == []


def test_dedup_exact_and_near(tmp_path):
    """--exact drops normalised copies; --near also drops an edited copy; reasons name the kept id."""
    base = " ".join(f"word{i}" for i in range(60))
    edited = base.replace("word30", "changed")
    src = write(
        tmp_path / "in.jsonl",
        [
            {"id": "a", "text": base},
            {"id": "b", "text": base.upper() + "!"},
            {"id": "c", "text": edited},
            {"id": "d", "text": "something else entirely, with its own words and more of them"},
        ],
    )
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    assert invoke("dedup", src, "-o", out, "--rejects", rej).exit_code == 0  # --exact is the default
    assert [r["id"] for r in read(out)] == ["a", "c", "d"]
    assert read(rej)[0]["reject"]["reason"] == "exact duplicate of a"
    invoke("dedup", src, "-o", out, "--exact", "--near", "0.8", "--rejects", rej)
    assert [r["id"] for r in read(out)] == ["a", "d"]
    reasons = {r["id"]: (r["reject"]["step"], r["reject"]["reason"]) for r in read(rej)}
    assert reasons["b"] == ("exact-dedup", "exact duplicate of a")
    assert reasons["c"][0] == "near-dedup" and reasons["c"][1].startswith("near-duplicate of a (jaccard 0.")


def test_dedup_field_option(tmp_path):
    """--field prompt dedups on prompts even when responses differ."""
    src = write(tmp_path / "in.jsonl", [{"prompt": "Same?", "response": "one"}, {"prompt": "same", "response": "two"}])
    out = tmp_path / "out.jsonl"
    invoke("dedup", src, "-o", out, "--field", "prompt")
    assert [r["response"] for r in read(out)] == ["one"]


def test_decontaminate_against_several_files_after_one_flag(tmp_path):
    """--against takes several files; a record copying either eval set is dropped naming the set and span."""
    q1 = "Natalia sold clips to 48 of her friends in April and then she sold half as many clips in May"
    q2 = "Find the number of ordered pairs of positive integers whose product is one hundred and sum even"
    e1 = write(tmp_path / "gsm.jsonl", [{"question": q1}])
    e2 = write(tmp_path / "math.jsonl", [{"problem": q2}])
    src = write(tmp_path / "in.jsonl", [{"id": "x", "response": "Q: " + q1.lower()}, {"id": "y", "response": GOOD}, {"id": "z", "response": q2 + "?"}])
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    res = invoke("decontaminate", src, "--against", e1, e2, "-o", out, "--rejects", rej)
    assert res.exit_code == 0, res.output
    assert [r["id"] for r in read(out)] == ["y"]
    reasons = {r["id"]: r["reject"]["reason"] for r in read(rej)}
    assert "eval set 'gsm'" in reasons["x"] and "span 'natalia sold clips" in reasons["x"]
    assert "eval set 'math'" in reasons["z"]


def test_commands_run_as_real_subprocesses(tmp_path):
    """The installed synthkit script runs filter, dedup and decontaminate end to end, exiting 0."""
    src = write(tmp_path / "in.jsonl", [{"text": GOOD}, {"text": GOOD}])
    ev = write(tmp_path / "eval.jsonl", [{"text": GOOD}])
    for args in (
        ["filter", src, "-o", tmp_path / "f.jsonl"],
        ["dedup", src, "-o", tmp_path / "d.jsonl", "--exact", "--near", "0.7"],
        ["decontaminate", src, "--against", ev, "-o", tmp_path / "c.jsonl"],
    ):
        proc = subprocess.run([SYNTHKIT, *map(str, args)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert "inputs ->" in proc.stderr
    assert len(read(tmp_path / "f.jsonl")) == 2
    assert len(read(tmp_path / "d.jsonl")) == 1
    assert read(tmp_path / "c.jsonl") == []


def test_missing_input_is_a_clean_error(tmp_path):
    """A missing input file exits 1 with a message naming it, not a traceback."""
    proc = subprocess.run([SYNTHKIT, "dedup", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "nope.jsonl" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("flag", ["--exact", "--near"])
def test_dedup_help_lists_contract_options(flag):
    """synthkit dedup --help documents --exact, --near, --field and --rejects."""
    res = invoke("dedup", "--help")
    assert flag in res.output and "--field" in res.output and "--rejects" in res.output


def test_record_without_the_field_is_dropped_alone(tmp_path):
    """In a batch, a record lacking the --field is dropped with a reason; the other records are judged normally."""
    rows = [{"id": f"r{i}", "answer": f"answer number {i % 3}"} for i in range(9)]
    rows.insert(4, {"id": "bad", "prompt": "no answer here"})
    src = write(tmp_path / "in.jsonl", rows)
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    for args in (["dedup", "--exact", "--near", "0.9"], ["filter"], ["decontaminate", "--against", str(src)]):
        res = invoke(args[0], src, "-o", out, "--rejects", rej, "--field", "answer", *args[1:])
        assert res.exit_code == 0, res.output
        reasons = {r["id"]: r["reject"]["reason"] for r in read(rej)}
        assert reasons["bad"] == "no text: field 'answer' is missing", args
        assert "0 failed" in res.output
    # dedup kept one record per distinct answer
    invoke("dedup", src, "-o", out, "--field", "answer")
    assert [r["id"] for r in read(out)] == ["r0", "r1", "r2"]
