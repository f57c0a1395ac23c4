"""Trainer-format exporters and `synthkit export`: shapes, rejects, and acceptance by the formats' own loaders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from synthkit import Exporter, Record
from synthkit.cli import cli
from synthkit.errors import RecordError
from synthkit.io.exporters import export
from synthkit.io.interchange import read_records, write_records
from synthkit.plugins import get_exporter

from tests.strategies import records

FORMATS = ("openai", "sharegpt", "alpaca")


def sample() -> list[Record]:
    return [
        Record.create(id="a", prompt="What is 2+2?", response="4"),
        Record.create(
            id="b",
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye"}],
            response="Bye!",
        ),
        Record.create(id="c", prompt="No answer yet"),
        Record.create(id="d", messages=[{"role": "user", "content": "x"}, {"role": "user", "content": "y"}], response="z"),
        Record.create(id="e", messages=[{"role": "tool", "content": "{}"}], response="ok"),
    ]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_builtin_exporters_are_registered():
    """openai, sharegpt and alpaca build Exporters whose name is the registered name."""
    for name in FORMATS:
        exp = get_exporter(name)
        assert isinstance(exp, Exporter) and exp.name == name


def test_rows_keep_the_system_prompt_where_the_format_has_one():
    """Each format's row for a multi-turn record with a system message, and --system for one without."""
    rec = sample()[1]
    assert get_exporter("openai").convert(rec)["messages"][0] == {"role": "system", "content": "Be brief."}
    assert get_exporter("openai").convert(rec)["messages"][-1] == {"role": "assistant", "content": "Bye!"}
    conv = get_exporter("sharegpt").convert(rec)["conversations"]
    assert [t["from"] for t in conv] == ["system", "human", "gpt", "human", "gpt"]
    assert get_exporter("alpaca").convert(rec) == {"instruction": "Bye", "input": "", "output": "Bye!", "system": "Be brief.", "history": [["Hi", "Hello"]]}
    simple = sample()[0]
    assert get_exporter("alpaca", system="S").convert(simple) == {"instruction": "What is 2+2?", "input": "", "output": "4", "system": "S"}
    assert get_exporter("openai").convert(simple) == {"messages": [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]}
    # the record's own system message wins over the default
    assert get_exporter("sharegpt", system="S").convert(rec)["conversations"][0]["value"] == "Be brief."


def test_records_a_format_cannot_express_are_counted_and_written_out(tmp_path):
    """Skipped records are counted per reason, written to rejects with the reason, and nothing is lost."""
    write_records(sample(), tmp_path / "in.jsonl")
    s = export(tmp_path / "in.jsonl", tmp_path / "out.jsonl", format="sharegpt", rejects=tmp_path / "rej.jsonl")
    assert (s.inputs, s.exported) == (5, 2) and s.balanced
    assert dict(s.skipped) == {"no_response": 1, "not_alternating": 1, "orphan_tool_result": 1}  # a tool message answering no call
    rej = {r["id"]: r["reject"] for r in map(json.loads, (tmp_path / "rej.jsonl").read_text().splitlines())}
    assert rej["c"]["kind"] == "no_response" and "record c" in rej["c"]["reason"] and rej["c"]["step"] == "export:sharegpt"
    # openai allows two user turns in a row
    assert export(tmp_path / "in.jsonl", tmp_path / "o.jsonl", format="openai").exported == 3


@settings(max_examples=100, deadline=None)
@given(records, st.sampled_from(FORMATS))
def test_every_record_is_exported_or_rejected_with_a_kind(rec, fmt):
    """Any record gives a row whose last turn is the response, or a RecordError with a kind; nothing else."""
    try:
        row = get_exporter(fmt).convert(rec)
    except RecordError as exc:
        assert exc.kind != "error"
        return
    last = {"openai": lambda r: r["messages"][-1]["content"], "sharegpt": lambda r: r["conversations"][-1]["value"], "alpaca": lambda r: r["output"]}[fmt](row)
    if rec.response is not None:
        assert last == rec.response
    json.dumps(row)


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_hf_datasets_loads_every_format(tmp_path, suffix):
    """datasets.load_dataset('json'/'parquet') reads each format's output with the expected columns."""
    import datasets
    write_records(sample(), tmp_path / "in.jsonl")
    builder = "json" if suffix == ".jsonl" else "parquet"
    for fmt, column in (("openai", "messages"), ("sharegpt", "conversations"), ("alpaca", "instruction")):
        out = tmp_path / f"{fmt}{suffix}"
        export(tmp_path / "in.jsonl", out, format=fmt)
        ds = datasets.load_dataset(builder, data_files=str(out), split="train", cache_dir=str(tmp_path / "cache"))
        assert len(ds) == (3 if fmt == "openai" else 2) and column in ds.column_names
    ds = datasets.load_dataset(builder, data_files=str(tmp_path / f"openai{suffix}"), split="train", cache_dir=str(tmp_path / "cache"))
    assert ds.features["messages"] == datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")})


def _tokenizer():
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(WordLevel({"[UNK]": 0, "<s>": 1, "</s>": 2}, unk_token="[UNK]"))
    tok.pre_tokenizer = Whitespace()
    template = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
    return PreTrainedTokenizerFast(tokenizer_object=tok, chat_template=template, unk_token="[UNK]", eos_token="</s>")


def test_trl_reads_openai_and_sharegpt_as_conversations(tmp_path):
    """TRL sees both outputs as conversational, applies a chat template to OpenAI rows and converts ShareGPT keys to chatml."""
    pytest.importorskip("trl")
    import datasets
    from trl.data_utils import (
        apply_chat_template,
        is_conversational,
        maybe_convert_to_chatml,
    )

    write_records(sample(), tmp_path / "in.jsonl")
    export(tmp_path / "in.jsonl", tmp_path / "oa.parquet", format="openai")
    export(tmp_path / "in.jsonl", tmp_path / "sg.jsonl", format="sharegpt")
    oa = datasets.load_dataset("parquet", data_files=str(tmp_path / "oa.parquet"), split="train", cache_dir=str(tmp_path / "c"))
    sg = datasets.load_dataset("json", data_files=str(tmp_path / "sg.jsonl"), split="train", cache_dir=str(tmp_path / "c"))
    tok = _tokenizer()
    assert is_conversational(oa[0])
    text = apply_chat_template(oa[1], tok)["text"]
    assert text.startswith("<|system|>Be brief.\n<|user|>Hi\n") and text.endswith("<|assistant|>Bye!\n")
    converted = maybe_convert_to_chatml(sg[1])
    assert is_conversational(converted)
    # TRL renames the keys (from/value -> role/content) and keeps ShareGPT's role names
    assert [m["role"] for m in converted["messages"]] == ["system", "human", "gpt", "human", "gpt"]
    assert [m["content"] for m in converted["messages"]] == [m["content"] for m in oa[1]["messages"]]


def test_export_command_contract(tmp_path):
    """`synthkit export IN -o OUT.parquet` keeps full records; `-o OUT.jsonl --format F` writes rows; errors name the fix."""
    write_records(sample(), tmp_path / "in.jsonl")
    res = invoke("export", tmp_path / "in.jsonl", "-o", tmp_path / "all.parquet")
    assert res.exit_code == 0 and "5 inputs -> 5 exported (records), 0 skipped, 0 failed" in res.output
    assert list(read_records(tmp_path / "all.parquet")) == sample()
    res = invoke("export", tmp_path / "all.parquet", "-o", tmp_path / "a.jsonl", "--format", "alpaca", "--system", "S", "--rejects", tmp_path / "r.jsonl")
    assert res.exit_code == 0, res.output
    assert "5 inputs -> 2 exported (alpaca rows), 3 skipped" in res.output and "no_response" in res.output
    rows = [json.loads(x) for x in Path(tmp_path / "a.jsonl").read_text().splitlines()]
    assert rows[0] == {"instruction": "What is 2+2?", "input": "", "output": "4", "system": "S"}
    assert len(Path(tmp_path / "r.jsonl").read_text().splitlines()) == 3
    bad = CliRunner().invoke(cli, ["export", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "x.csv")])
    assert bad.exit_code != 0 and ".jsonl or .parquet" in bad.output
    bad = CliRunner().invoke(cli, ["export", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "x.jsonl"), "--system", "S"])
    assert bad.exit_code != 0 and "--format" in bad.output
    bad = CliRunner().invoke(cli, ["export", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "x.jsonl"), "--format", "openaii"])
    assert bad.exit_code != 0 and "Did you mean 'openai'" in str(bad.exception)
    assert "Example" in invoke("export", "--help").output


def test_export_skips_bad_lines_when_asked(tmp_path):
    """--on-bad-line skip counts a malformed line as failed and exports the rest."""
    (tmp_path / "in.jsonl").write_text('{"prompt": "a", "response": "b"}\nnot json\n')
    res = invoke("export", tmp_path / "in.jsonl", "-o", tmp_path / "o.jsonl", "--format", "openai", "--on-bad-line", "skip")
    assert res.exit_code == 0 and "2 inputs -> 1 exported (openai rows), 0 skipped, 1 failed" in res.output
