"""Interchange: JSONL, Parquet, Hugging Face datasets, pandas and polars in and out, exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthkit import Lineage, Pipeline, Record, Verdict
from synthkit.cli import cli
from synthkit.errors import InputError
from synthkit.io.interchange import (
    from_hub,
    push_to_hub,
    read_records,
    to_dataset,
    to_pandas,
    to_polars,
    write_records,
)
from synthkit.io.jsonl import BadLine, JsonlWriter
from synthkit.io.tables import TableWriter

from tests.strategies import records

# Parquet column names cannot hold NUL; everything else a JSON key can be is fair game
parquet_records = records.filter(lambda r: all("\x00" not in k for k in r.data))
settings_ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def sample_records() -> list[Record]:
    lin = Lineage(origin="synthetic", teacher="openai", model="m", params={"temperature": 0.7}, parents=("p1",), generation=1, verdicts=(Verdict("math", True, "ok", 1.0),))
    return [
        Record.create(id="a", prompt="What is 2+2?", response="4", data={"answer": "4", "n": 1, "tags": ["x", "y"]}, lineage=lin),
        Record.create(id="b", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], response="Hello", data={"n": 2}),
        Record.create(id="c", prompt="Nothing else", data={"answer": None, "meta": {"src": "web"}}),
    ]


def plain(rs) -> list[Record]:
    out = list(rs)
    assert not any(isinstance(r, BadLine) for r in out)
    return out


@settings_
@given(st.lists(parquet_records, max_size=30), st.integers(1, 8))
def test_parquet_round_trip_keeps_records_equal(tmp_path_factory, rs, group):
    """Any records written to Parquet (row groups small enough to force schema changes) read back equal, in order."""
    path = tmp_path_factory.mktemp("pq") / "r.parquet"
    with TableWriter(path, row_group_size=group) as out:
        for r in rs:
            out.write(r)
    assert plain(read_records(path)) == rs


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(parquet_records, min_size=1, max_size=20))
def test_jsonl_parquet_dataset_round_trip(tmp_path_factory, rs):
    """JSONL -> Parquet -> HF Dataset (load_dataset on the file) -> JSONL keeps every field and the lineage."""
    import datasets
    tmp = tmp_path_factory.mktemp("rt")
    write_records(rs, tmp / "a.jsonl")
    write_records(plain(read_records(tmp / "a.jsonl")), tmp / "b.parquet")
    ds = datasets.load_dataset("parquet", data_files=str(tmp / "b.parquet"), split="train", cache_dir=str(tmp / "cache"))
    write_records(plain(read_records(ds)), tmp / "c.jsonl")
    assert plain(read_records(tmp / "c.jsonl")) == rs


@settings_
@given(st.lists(parquet_records, max_size=20))
def test_dataset_and_frames_round_trip(rs):
    """to_dataset, to_pandas and to_polars give tables that read_records turns back into the same records."""
    assert plain(read_records(to_dataset(rs))) == rs
    assert plain(read_records(to_pandas(rs))) == rs
    assert plain(read_records(to_polars(rs))) == rs


def test_columns_are_native_where_types_agree_and_json_elsewhere(tmp_path):
    """Consistent keys get native Arrow types (messages as role/content structs); mixed ones and lineage are JSON."""
    path = tmp_path / "r.parquet"
    write_records(sample_records(), path)
    schema = pq.read_schema(path)
    assert schema.field("id").type == pa.string()
    assert schema.field("n").type == pa.int64()
    assert schema.field("tags").type == pa.list_(pa.string())
    assert schema.field("messages").type == pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    assert schema.field("lineage").type == pa.json_()
    assert schema.field("answer").type == pa.json_()  # holds an explicit null beside a string
    assert plain(read_records(path)) == sample_records()


def test_absent_and_null_stay_apart(tmp_path):
    """A key absent from a record stays absent and an explicit null stays null."""
    rs = [Record.create(id="1", data={"x": None}), Record.create(id="2", data={}), Record.create(id="3", data={"x": 5})]
    write_records(rs, tmp_path / "r.parquet")
    back = plain(read_records(tmp_path / "r.parquet"))
    assert [("x" in r.data, r.data.get("x")) for r in back] == [(True, None), (False, None), (True, 5)]


def test_late_key_and_type_change_widen_the_schema(tmp_path):
    """A key first seen in a later row group gets its own column, and a type conflict turns the column JSON."""
    rs = [Record.create(id=str(i), prompt="p", data={"k": i}) for i in range(50)]
    rs.append(Record.create(id="late", prompt="p", data={"k": "text", "new": [1.5]}))
    path = tmp_path / "r.parquet"
    with TableWriter(path, row_group_size=16) as out:
        for r in rs:
            out.write(r)
    assert out.rewrites == 1
    schema = pq.read_schema(path)
    assert schema.field("k").type == pa.json_()
    assert schema.field("new").type == pa.list_(pa.float64())
    assert pq.ParquetFile(path).metadata.num_row_groups == 4
    assert plain(read_records(path)) == rs


def test_writer_streams_row_groups_and_replaces_file_atomically(tmp_path):
    """Rows go out a row group at a time to a temporary file that only replaces the target on close."""
    path = tmp_path / "r.parquet"
    path.write_text("old")
    out = TableWriter(path, row_group_size=10)
    for i in range(25):
        out.write({"i": i})
    assert path.read_text() == "old" and len(out._rows) == 5
    out.close()
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    assert not list(tmp_path.glob(".*partial"))


def test_nul_in_a_key_is_refused_with_the_fix(tmp_path):
    """A top-level key with a NUL character cannot be a Parquet column: the error names it and suggests JSONL."""
    with pytest.raises(InputError, match="cannot be a Parquet column.*JSONL"):
        write_records([Record.create(id="1", data={"a\x00b": 1})], tmp_path / "n.parquet")
    write_records([Record.create(id="1", data={"x": {"a\x00b": 1}})], tmp_path / "m.parquet")  # nested: a JSON column
    assert plain(read_records(tmp_path / "m.parquet"))[0].data == {"x": {"a\x00b": 1}}


def test_empty_input_writes_an_empty_table(tmp_path):
    """No records still makes a readable Parquet file with no rows."""
    assert write_records([], tmp_path / "e.parquet") == 0
    assert plain(read_records(tmp_path / "e.parquet")) == []


def test_foreign_parquet_without_ids_gets_position_ids(tmp_path):
    """A Parquet file from elsewhere reads as is; rows without ids get the ids JSONL lines would get."""
    rows = [{"prompt": "a", "score": 1.5}, {"prompt": "a", "score": 1.5}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "f.parquet")
    (tmp_path / "f.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    from_parquet = plain(read_records(tmp_path / "f.parquet"))
    assert from_parquet == plain(read_records(tmp_path / "f.jsonl"))
    assert from_parquet[0].id != from_parquet[1].id


def test_bad_parquet_row_stops_or_is_skipped(tmp_path):
    """A row that is not a record names the file and row, or with on_bad_line='skip' comes out as a BadLine."""
    pq.write_table(pa.table({"id": ["ok", "bad"], "prompt": [None, 5]}), tmp_path / "b.parquet")
    with pytest.raises(InputError, match=r"b\.parquet row 2: .*--on-bad-line skip"):
        list(read_records(tmp_path / "b.parquet"))
    items = list(read_records(tmp_path / "b.parquet", on_bad_line="skip"))
    assert isinstance(items[0], Record) and isinstance(items[1], BadLine) and items[1].lineno == 2


def test_unreadable_sources_are_named(tmp_path):
    """A missing file, a non-Parquet .parquet file and a DatasetDict each give an error saying what to do."""
    import datasets
    with pytest.raises(InputError, match="does not exist"):
        list(read_records(tmp_path / "nope.parquet"))
    (tmp_path / "fake.parquet").write_text('{"prompt": "x"}\n')
    with pytest.raises(InputError, match="not a readable Parquet file.*\\.jsonl"):
        list(read_records(tmp_path / "fake.parquet"))
    dd = datasets.DatasetDict({"train": to_dataset(sample_records())})
    with pytest.raises(InputError, match="give one split"):
        list(read_records(dd))


def test_from_hub_streams_local_files(tmp_path):
    """from_hub wraps datasets.load_dataset (streaming) and works on local JSON and Parquet files."""
    write_records(sample_records(), tmp_path / "r.parquet")
    write_records(sample_records(), tmp_path / "r.jsonl")
    assert plain(from_hub("parquet", data_files=str(tmp_path / "r.parquet"))) == sample_records()
    # the json builder reads JSONL; lineage comes back as an object and data keys as they were
    got = plain(from_hub("json", data_files=str(tmp_path / "r.jsonl"), streaming=False, cache_dir=str(tmp_path / "c")))
    assert [r.lineage for r in got] == [r.lineage for r in sample_records()]


def test_push_to_hub_hands_the_records_as_a_dataset(monkeypatch):
    """push_to_hub gives Dataset.push_to_hub a Dataset holding the records (the Hub itself is not reachable here)."""
    import datasets
    seen = {}

    def capture(self, repo_id, **kwargs):
        seen.update(repo=repo_id, kwargs=kwargs, records=plain(read_records(self)))
        return "ok"

    monkeypatch.setattr(datasets.Dataset, "push_to_hub", capture)
    assert push_to_hub(sample_records(), "me/data", private=True) == "ok"
    assert seen == {"repo": "me/data", "kwargs": {"private": True}, "records": sample_records()}


def test_pipeline_reads_and_writes_parquet(tmp_path):
    """A pipeline takes a Parquet source and a Dataset source, and writes a .parquet sink."""
    write_records(sample_records(), tmp_path / "in.parquet")
    summary = Pipeline(tmp_path / "in.parquet").filter("empty").run(sink=tmp_path / "out.parquet", rejects=tmp_path / "rej.jsonl")
    assert (summary.inputs, summary.kept) == (3, 3)
    out = plain(read_records(tmp_path / "out.parquet"))
    assert [r.id for r in out] == ["a", "b", "c"] and out[0].lineage.verdicts[-1].name == "empty"
    assert out[0].data == sample_records()[0].data
    summary = Pipeline(to_dataset(sample_records())).run(sink=tmp_path / "ds.jsonl")
    assert plain(read_records(tmp_path / "ds.jsonl")) == sample_records()


def test_filter_command_takes_parquet_in_and_out(tmp_path):
    """`synthkit filter IN.parquet -o OUT.parquet` works like the JSONL form."""
    write_records([Record.create(id="e", response="  "), *sample_records()], tmp_path / "in.parquet")
    res = CliRunner().invoke(cli, ["filter", str(tmp_path / "in.parquet"), "-o", str(tmp_path / "out.parquet"), "--filters", "empty"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert [r.id for r in plain(read_records(tmp_path / "out.parquet"))] == ["a", "b", "c"]


def test_iterables_of_dicts_and_records(tmp_path):
    """read_records takes records and dicts mixed; a non-dict item is a bad row."""
    got = plain(read_records([sample_records()[0], {"id": "d", "prompt": "x"}]))
    assert [r.id for r in got] == ["a", "d"]
    with pytest.raises(InputError, match="row 1: a record must be a Record or a dict"):
        list(read_records([42]))


def test_jsonl_writer_and_table_writer_share_the_interface(tmp_path):
    """write_records picks the writer by suffix, and both count what they wrote."""
    for name in ("r.jsonl", "r.parquet"):
        assert write_records(iter(sample_records()), tmp_path / name) == 3
    assert Path(tmp_path / "r.jsonl").read_text().count("\n") == 3
    assert isinstance(JsonlWriter(None), JsonlWriter)


def test_gzipped_jsonl_reads_like_jsonl_and_a_truncated_one_keeps_what_was_read(tmp_path):
    """A .jsonl.gz source gives the records of the same JSONL; a cut-off gzip stops naming the file, after the good lines."""
    import gzip

    lines = "".join(json.dumps({"text": f"line {i}"}) + "\n" for i in range(500))
    plain, packed = tmp_path / "in.jsonl", tmp_path / "in.jsonl.gz"
    plain.write_text(lines)
    packed.write_bytes(gzip.compress(lines.encode()))
    assert list(read_records(packed)) == list(read_records(plain))
    summary = Pipeline(packed).filter("exact-dedup").run(sink=tmp_path / "out.parquet")
    assert summary.kept == 500

    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed.read_bytes()[:-40])
    got = []
    with pytest.raises(InputError, match=r"cut\.jsonl\.gz:\d+: cannot read the file") as info:
        got.extend(read_records(cut))
    assert "complete gzip file" in str(info.value)
    assert got == list(read_records(plain))[: len(got)] and len(got) > 400


def test_a_missing_input_leaves_no_empty_output_behind(tmp_path):
    """`synthkit export` and a pipeline with a missing input fail naming it, and create no output file."""
    from synthkit.io.exporters import export

    missing = tmp_path / "nope.jsonl"
    for out in (tmp_path / "out.parquet", tmp_path / "out.jsonl"):
        with pytest.raises(InputError, match="nope.jsonl does not exist"):
            export(missing, out)
        with pytest.raises(InputError, match="nope.jsonl does not exist"):
            Pipeline(missing).filter("empty").run(sink=out)
        assert not out.exists()


def test_parquet_output_gets_the_mode_an_ordinary_file_gets(tmp_path):
    """The Parquet writer's temporary file is not left at mkstemp's 0600: the output follows the umask like JSONL does."""
    import os

    recs = [Record.create(prompt="p", response="r")]
    old = os.umask(0o022)
    try:
        write_records(recs, tmp_path / "a.parquet")
        write_records(recs, tmp_path / "a.jsonl")
    finally:
        os.umask(old)
    modes = {p.suffix: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {".parquet": 0o644, ".jsonl": 0o644}
