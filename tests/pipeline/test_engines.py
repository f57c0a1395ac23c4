"""Engines: the built-in local engine, choosing one by name, the --engine option, stateful filters."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import synthkit as sk
from synthkit.cli import cli
from synthkit.pipeline.local import LocalEngine
from synthkit.plugins import resolve
from synthkit.errors import UnknownNameError


def _source(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [{"text": f"the record number {i % 7} is here"} for i in range(30)] + [{"text": ""}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return src


def test_local_engine_by_name_object_and_default_write_the_same(tmp_path):
    """`engine="local"`, a LocalEngine object and the default give identical files and counts."""
    src = _source(tmp_path)
    results = []
    for i, engine in enumerate(("local", LocalEngine(), None)):
        pipe = sk.Pipeline(src).filter("empty").filter("exact-dedup")
        out, rej = tmp_path / f"{i}.jsonl", tmp_path / f"{i}.rej.jsonl"
        s = pipe.run(out, rejects=rej) if engine is None else pipe.run(out, rejects=rej, engine=engine)
        results.append((out.read_bytes(), rej.read_bytes(), s.kept, dict(s.dropped)))
    assert results[0] == results[1] == results[2]
    assert results[0][2] == 7 and sum(results[0][3].values()) == 24


def test_unknown_engine_lists_installed_and_names_the_package(fresh_plugins, monkeypatch):
    """An unknown engine name lists the installed engines; `ray` without synthkit-ray says what to install."""
    from synthkit.plugins import reset_plugins

    with pytest.raises(UnknownNameError, match="Available engines: .*local"):
        resolve("engine", "locall")
    monkeypatch.setenv("SYNTHKIT_LOAD_PLUGINS", "")
    reset_plugins()
    with pytest.raises(UnknownNameError, match="pip install synthkit-ray"):
        sk.Pipeline([]).run(engine="ray")


def test_dedup_and_novelty_filters_are_stateful_and_heuristics_are_not():
    """Filters whose verdict depends on earlier records say so, so parallel engines keep them in one place."""
    from synthkit.filters.dedup import ExactDedup, NearDedup
    from synthkit.filters.heuristics import LengthFilter
    from synthkit.filters.novelty import NoveltyFilter

    assert ExactDedup.stateful and NearDedup.stateful and NoveltyFilter.stateful
    assert not LengthFilter.stateful and not sk.Filter.stateful


def test_engine_option_on_pipeline_commands(tmp_path):
    """`--engine` is on every command that runs a pipeline, names the choices, and dedup's MinHash option moved to --minhash."""
    for command in ("generate", "verify", "filter", "dedup", "decontaminate"):
        res = CliRunner().invoke(cli, [command, "--help"])
        assert "--engine NAME" in res.output and "local" in res.output, command
    src = _source(tmp_path)
    res = CliRunner().invoke(cli, ["dedup", str(src), "-o", str(tmp_path / "o.jsonl"), "--engine", "numpy"])
    assert res.exit_code != 0 and "--minhash numpy" in res.output
    res = CliRunner().invoke(cli, ["filter", str(src), "-o", str(tmp_path / "o.jsonl"), "--engine", "nope"])
    assert res.exit_code != 0 and isinstance(res.exception, UnknownNameError)
    res = CliRunner().invoke(cli, ["dedup", str(src), "-o", str(tmp_path / "o.jsonl"), "--near", "0.8", "--minhash", "numpy", "--engine", "local"])
    assert res.exit_code == 0, res.output


class _Sizes(sk.Filter):
    """Keeps every record and notes the size of each batch it is given."""

    name = "sizes"

    def __init__(self, batch_size: int | None) -> None:
        self.batch_size = batch_size
        self.sizes: list[int] = []

    def check(self, record):
        return sk.Verdict(self.name, True)

    def check_batch(self, records):
        self.sizes.append(len(records))
        return [self.check(r) for r in records]


@pytest.mark.parametrize("asked", [None, 1000])
def test_filter_step_batches_up_to_what_its_filters_ask(tmp_path, asked):
    """A filter step is given up to 256 records at once, or up to the smallest ``batch_size`` its filters ask; the output does not change."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"r{i}", "text": f"text {i}"}) + "\n" for i in range(3000)))
    filt = _Sizes(asked)
    out = tmp_path / "out.jsonl"
    summary = sk.Pipeline(src).filter(filt).run(out)
    assert summary.kept == 3000 == sum(filt.sizes)
    limit = asked or 256
    assert max(filt.sizes) <= limit
    assert max(filt.sizes) > 256 if asked else True  # read from a file, the records are there: batches fill up
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [f"r{i}" for i in range(3000)]


class _DropOdd(_Sizes):
    """Drops the records with an odd number; notes batch sizes."""

    name = "drop-odd"

    def check(self, record):
        return sk.Verdict(self.name, int(record.id[1:]) % 2 == 0, "odd")


class _Yes(sk.Verifier):
    name = "yes"

    async def verify(self, record):
        return sk.Verdict(self.name, True)


def test_filter_blocks_reach_every_kind_of_next_stage(tmp_path):
    """A filter step hands blocks on, to a verify step and to the writer; kept, rejects and order as one a record."""
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"r{i}", "text": f"text {i}"}) + "\n" for i in range(5000)))
    big, small = _DropOdd(4096), _Sizes(100)
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    summary = sk.Pipeline(src).filter(big).verify(_Yes()).filter(small).run(out, rejects=rej)
    assert (summary.kept, sum(summary.dropped.values())) == (2500, 2500)
    assert max(big.sizes) > 256 and max(small.sizes) <= 100 and sum(small.sizes) == 2500
    kept = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in kept] == [f"r{i}" for i in range(0, 5000, 2)]
    assert [json.loads(x)["id"] for x in rej.read_text().splitlines()] == [f"r{i}" for i in range(1, 5000, 2)]
