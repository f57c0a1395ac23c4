"""The llamacpp teacher with the real Gemma 3 270M, in process: a pipeline, structured output, n and seeds, resume.

A real model promises no exact text, so these tests assert what it can promise:
well-formed records, schema-valid JSON under a grammar, verdicts present, the same
samples for the same seed, and byte-identical output from the cache.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import jsonschema
import pytest

import synthkit as sk
from synthkit.errors import OptionError, RecordError
from synthkit.records import Record
from synthkit.templates.jinja import JinjaTemplate

pytestmark = pytest.mark.real_model

SHORT = {"max_tokens": 16, "temperature": 0.0, "stop": ["###"]}
CAPITALS = [("France", "Paris"), ("Italy", "Rome"), ("Japan", "Tokyo"), ("Germany", "Berlin")]


@pytest.fixture(scope="module")
def teacher(gguf):
    """One in-process teacher for the module (loading the model takes a second)."""
    from synthkit_llamacpp import LlamaCppTeacher

    return LlamaCppTeacher(str(gguf), n_ctx=512, n_threads=1)


def test_registered_and_checks_its_options(gguf):
    """`llamacpp` is a registered teacher; a missing file, --base-url or an unknown parameter is a clear error."""
    t = sk.get_teacher("llamacpp", model=str(gguf), n_ctx=256)
    assert t.name == "llamacpp" and t.cost.price is not None and t.cost.price.input == 0
    with pytest.raises(OptionError, match="does not exist"):
        sk.get_teacher("llamacpp", model="/no/such/model.gguf")
    with pytest.raises(OptionError, match="--teacher openai"):
        sk.get_teacher("llamacpp", model=str(gguf), base_url="http://127.0.0.1:1/v1")


async def test_completion_usage_finish_reason_and_bad_param(teacher):
    """A reply has text, llama.cpp's token usage and finish reason; an unknown parameter fails the record at once."""
    out = await teacher.complete([{"role": "user", "content": "What is the capital of France?"}], SHORT)
    c = out[0]
    assert isinstance(c.text, str) and c.finish_reason in ("stop", "length")
    assert c.usage.prompt_tokens > 5 and 0 < c.usage.completion_tokens <= 16 and c.usage.cost_usd == 0.0
    with pytest.raises(RecordError, match="does not take sampling parameter 'logit_bias'"):
        await teacher.complete([{"role": "user", "content": "hi"}], {"logit_bias": {}})


async def test_n_samples_are_reproducible_by_seed(teacher):
    """n=3 with a seed draws seeds seed, seed+1, seed+2: the same three samples every time, each with its own usage."""
    msgs = [{"role": "user", "content": "Write one word about the sea."}]
    params = {"max_tokens": 8, "temperature": 1.0, "seed": 11, "stop": ["###"]}
    first = await teacher.complete(msgs, params, n=3)
    again = await teacher.complete(msgs, params, n=3)
    assert [c.text for c in first] == [c.text for c in again] and len(first) == 3
    assert all(c.usage.completion_tokens > 0 for c in first)
    alone = await teacher.complete(msgs, {**params, "seed": 12}, n=1)
    assert alone[0].text == first[1].text  # sample 1 is the sample of seed + 1


async def test_json_schema_output_validates(teacher):
    """A json_schema response_format becomes a grammar: every reply parses and validates against the schema."""
    schema = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20}, "country": {"type": "string", "maxLength": 20}},
              "required": ["city", "country"], "additionalProperties": False}
    params = {"max_tokens": 48, "temperature": 0.7, "seed": 3,
              "response_format": {"type": "json_schema", "json_schema": {"name": "place", "schema": schema}}}
    out = await teacher.complete([{"role": "user", "content": "Name a city and its country as JSON."}], params, n=2)
    for c in out:
        jsonschema.validate(json.loads(c.text), schema)


def test_pipeline_with_template_and_verifier(teacher, tmp_path):
    """The teacher in a pipeline with a template and a verifier: every record is kept or dropped with a verdict."""
    ask = JinjaTemplate.from_string("What is the capital of {{ country }}? Answer with the city only.", name="capital")
    rows = [Record.create(data={"country": c, "answer": a}) for c, a in CAPITALS]
    summary = (
        sk.Pipeline(rows)
        .generate(teacher, template=ask, params=SHORT, cache=tmp_path / "c.sqlite")
        .verify("regex", pattern=r"\w")  # a reply with any word passes; an empty one is dropped
        .run(sink=tmp_path / "out.jsonl", rejects=tmp_path / "rejects.jsonl")
    )
    assert summary.balanced and summary.inputs == len(CAPITALS) and summary.n_failed == 0
    kept = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    for row in kept:
        assert row["lineage"]["teacher"] == "llamacpp" and row["lineage"]["template"] == "capital"
        assert row["lineage"]["verdicts"] and row["lineage"]["verdicts"][0]["passed"] is True


def test_kill_and_resume_from_the_cache(gguf, tmp_path):
    """`generate --teacher llamacpp` killed mid-run resumes from its cache; a third run is byte-identical and sends nothing."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"prompt": f"Count from {i} to {i + 3}."}) + "\n" for i in range(12)))
    out, cache = tmp_path / "out.jsonl", tmp_path / "c.sqlite"
    cmd = [sys.executable, "-m", "synthkit", "generate", str(src), "-o", str(out), "--teacher", "llamacpp", "--model", str(gguf),
           "--cache", str(cache), "-p", "max_tokens=12", "-p", "temperature=0", "-p", 'stop=["###"]', "--seed", "1"]
    env = {**os.environ, "SYNTHKIT_RETRY_NO_WAIT": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if cache.exists() and _cached(cache) >= 3:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    paid = _cached(cache)
    assert 0 < paid < 12, "the run was to be killed part way"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    first = out.read_bytes()
    assert len(first.splitlines()) == 12 and _cached(cache) == 12
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and out.read_bytes() == first and _cached(cache) == 12


def _cached(path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
            return sum(db.execute(f"select count(*) from {t}").fetchone()[0] for t in tables if t.startswith("response"))  # noqa: S608
    except sqlite3.Error:
        return 0


def test_teacher_options_from_the_command_line(gguf, tmp_path):
    """`-T n_ctx=64` reaches the llamacpp teacher: a prompt past 64 tokens fails with kind context_window, a short one passes."""
    from click.testing import CliRunner

    from synthkit.cli import cli

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"prompt": "Say hi."}) + "\n" + json.dumps({"prompt": "word " * 200}) + "\n")
    args = ["generate", str(src), "-o", str(tmp_path / "out.jsonl"), "--teacher", "llamacpp", "--model", str(gguf), "--no-cache",
            "-T", "n_ctx=64", "-p", "max_tokens=4", "--max-failure-rate", "0.5"]
    res = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    failed = [json.loads(x) for x in (tmp_path / "out.failures.jsonl").read_text().splitlines()]
    assert len(failed) == 1 and failed[0]["reject"]["kind"] == "context_window" and "n_ctx" in json.dumps(failed[0]["reject"])
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 1
