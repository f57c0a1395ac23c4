"""`synthkit --help` and every command's help are complete, and their examples run as written."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from synthkit.cli import cli

BIN = str(Path(sys.executable).parent)


def registered_commands() -> list[str]:
    """Every command the installed plugins register, built-in or not."""
    with click.Context(cli) as ctx:
        return cli.list_commands(ctx)


def help_text(*args: str) -> str:
    """What ``synthkit ARGS --help`` prints."""
    result = CliRunner().invoke(cli, [*args, "--help"], prog_name="synthkit")
    assert result.exit_code == 0, result.output
    return result.output


def examples(text: str, command: str) -> list[str]:
    """The example command lines of a help text: the ``synthkit COMMAND ...`` lines after ``Example``."""
    _, found, tail = text.partition("Example")
    if not found:
        return []
    return [ln.strip() for ln in tail.splitlines() if ln.strip().startswith(f"synthkit {command}")]


def test_top_level_help_gives_an_overview_and_a_workflow():
    """`synthkit --help` says what synthkit does and shows a workflow made of registered commands."""
    text = help_text()
    flat = " ".join(text.split())
    assert "synthetic training data" in flat and "`synthkit plugins` lists them" in flat
    workflow = [ln.strip() for ln in text.partition("Example workflow:")[2].splitlines() if ln.strip().startswith("synthkit ")]
    assert len(workflow) >= 4
    names = set(registered_commands())
    assert {shlex.split(ln)[1] for ln in workflow} <= names


@pytest.mark.parametrize("command", registered_commands())
def test_every_command_has_a_description_and_an_example(command):
    """Each command's help has a description and an `Example:` whose lines are whole `synthkit COMMAND` command lines."""
    cmd = cli.get_command(click.Context(cli), command)
    assert cmd is not None and (cmd.help or "").strip(), f"`synthkit {command}` has no description"
    text = help_text(command)
    assert re.search(r"^  Examples?:", text, flags=re.MULTILINE), f"`synthkit {command} --help` has no Example: section"
    lines = examples(text, command)
    assert lines, f"`synthkit {command} --help`: its Example: shows no `synthkit {command} ...` line"
    for line in lines:  # click rewraps a paragraph unless it starts with \b: a wrapped example is cut short
        assert not line.endswith("\\"), f"{line!r}: keep an example on one line (put \\b before it)"
        try:
            shlex.split(line)
        except ValueError:
            pytest.fail(f"`synthkit {command} --help`: example {line!r} was wrapped; put \\b on the line before it")
    for param in cmd.params:
        if isinstance(param, click.Option) and not param.hidden and param.name != "help":
            assert param.help, f"`synthkit {command}`: option {param.opts[0]} has no help text"


# -- the examples run ------------------------------------------------------------------------


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A folder holding every file the built-in commands' examples name, with realistic content."""
    from tests.diagnostics.test_diagnostics import corpora

    d = tmp_path_factory.mktemp("cli-examples")
    c = corpora()
    problems = [(f"What is {a} + {b}?", str(a + b)) for a in range(1, 9) for b in range(1, 4)]
    _jsonl(d / "prompts.jsonl", [{"prompt": p, "answer": a} for p, a in problems])
    _jsonl(d / "answers.jsonl", [{"prompt": p, "answer": a, "response": f"Add them.\nFinal answer: {a if i % 4 else int(a) + 1}"} for i, (p, a) in enumerate(problems)])
    _jsonl(d / "gen.jsonl", [{"text": t} for t in c["healthy"][:150]])
    _jsonl(d / "real.jsonl", [{"text": t} for t in c["reference"][:300]])
    _jsonl(d / "gsm8k_test.jsonl", [{"question": t} for t in c["healthy"][:3]])
    (d / "personas.txt").write_text("a hiker who counts every gram\na parent planning a first camping trip\n")
    (d / "goals.txt").write_text("buy a light tent\n")
    _jsonl(d / "problems.jsonl", [{"prompt": p, "answer": a} for p, a in problems[:4]])
    (d / "math_test.jsonl").write_text(json.dumps({"question": "Find the sum of the first one hundred positive integers and explain each step you take."}) + "\n")
    _sampling_files(d)
    return d


def _sampling_files(d: Path) -> None:
    """Procedural problems, their samples, kept samples and pairs; a folder of documents (select, pairs, chunk, export)."""
    import synthkit as sk
    from synthkit.generators.generate import Generate
    from synthkit.generators.pairs import make_pairs
    from synthkit.generators.sampling import select_samples
    from synthkit.io.interchange import write_records

    teacher = sk.get_teacher("procedural", error_rate=0.4, think=True)
    write_records(teacher.problems(10, seed=4, families=["arithmetic"]), d / "problems.jsonl")
    sk.Pipeline(str(d / "problems.jsonl")).step(Generate(teacher, n=4)).run(sink=d / "samples.jsonl")
    select_samples(d / "samples.jsonl", d / "kept.jsonl", verifier="final-answer")
    make_pairs(d / "samples.jsonl", d / "pairs.jsonl", verifier="final-answer")
    (d / "docs").mkdir()
    (d / "docs" / "water.txt").write_text("Water boils at 100 C at sea level. It freezes at 0 C.\n")


#: Built-in commands whose examples run here, and the file each must write. Others are left
#: out on purpose: serve-test serves until interrupted.
RUNNABLE = {
    "plugins": None,
    "generate": "answers-gen.jsonl",
    "verify": "verified.jsonl",
    "filter": "clean.jsonl",
    "dedup": "unique.jsonl",
    "export": "train.jsonl",
    "decontaminate": "clean.jsonl",
    "mix": "train.jsonl",
    "report": "report.html",
    "collapse-study": "results.json",
    "select": "kept.jsonl",
    "pairs": "pairs.jsonl",
    "chunk": "chunks.jsonl",
    "dialogue": "dialogues.jsonl",
    "trajectory": "runs.jsonl",
    "loop": "run/log.json",
    "student-study": "R.json",
}


@pytest.mark.parametrize("command", sorted(RUNNABLE))
def test_help_examples_run(command, workspace, openai_server):
    """Each example of a built-in command's help runs offline on realistic files and writes what it says."""
    lines = examples(help_text(command), command)
    assert lines
    env = {
        **os.environ,
        "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
        "OPENAI_BASE_URL": openai_server.url,  # the openai teacher's default base URL: the fake server
        "OPENAI_API_KEY": "sk-help-test",
    }
    for line in lines:
        if command == "generate":  # write beside, not over, the answers the verify example reads
            line = line.replace("-o answers.jsonl", "-o answers-gen.jsonl")
        proc = subprocess.run(shlex.split(line), cwd=workspace, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, f"{line}\n{proc.stdout}\n{proc.stderr}"
        made = RUNNABLE[command]
        if made is None:
            assert json.loads(proc.stdout), line
        else:
            assert (workspace / made).stat().st_size > 0, line
    if command == "generate":
        rows = [json.loads(x) for x in (workspace / "answers-gen.jsonl").read_text().splitlines()]
        assert len(rows) == 24 and rows[0]["response"].startswith("echo: ") and rows[0]["lineage"]["template"] == "cot"
    if command == "verify":
        assert len((workspace / "wrong.jsonl").read_text().splitlines()) == 6


def test_examples_parser_reads_only_example_lines():
    """Only `synthkit COMMAND` lines after the Example heading count as examples."""
    text = "Run synthkit dedup x here.\n\nExample:\n\n    synthkit dedup a.jsonl -o b.jsonl\n    synthkit filter c\n"
    assert examples(text, "dedup") == ["synthkit dedup a.jsonl -o b.jsonl"]
    assert examples("no example here: synthkit dedup a", "dedup") == []
    assert re.search(r"\bExample:", help_text("dedup"))
