"""The record model: JSON round trip, plain JSONL, and bad input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given

from synthkit import Lineage, Record, Verdict
from synthkit.errors import InputError
from synthkit.io.jsonl import BadLine, JsonlWriter, iter_records

from tests.strategies import records, verdicts


@given(records)
def test_json_round_trip_is_lossless(record):
    """A record written to JSON and read back equals the original."""
    assert Record.from_json(record.to_json()) == record


@given(records)
def test_json_form_is_stable(record):
    """Serialising twice (through a round trip) gives the same bytes."""
    once = record.to_json()
    assert Record.from_json(once).to_json() == once


def test_plain_prompt_and_text_lines_read_as_records(tmp_path):
    """Plain JSONL such as {"prompt": ...} or {"text": ...} reads without any record fields."""
    p = tmp_path / "plain.jsonl"
    p.write_text('{"prompt": "hi"}\n\n{"text": "a doc", "source": "web"}\n')
    a, b = list(iter_records(p))
    assert a.prompt == "hi" and a.lineage.origin == "real"
    assert b.data == {"text": "a doc", "source": "web"} and b.text() == "a doc"


def test_identical_lines_get_distinct_stable_ids(tmp_path):
    """Two identical input lines are two records with different ids, the same on every read."""
    p = tmp_path / "dup.jsonl"
    p.write_text('{"prompt": "x"}\n{"prompt": "x"}\n')
    first = [r.id for r in iter_records(p)]
    assert first[0] != first[1]
    assert first == [r.id for r in iter_records(p)]


def test_malformed_line_stop_names_file_and_line(tmp_path):
    """With the stop policy a malformed line raises an error naming the file and the line."""
    p = tmp_path / "bad.jsonl"
    p.write_text('{"prompt": "ok"}\n{"prompt": oops}\n')
    with pytest.raises(InputError, match=r"bad\.jsonl:2: .*on_bad_line='skip'"):
        list(iter_records(p))


def test_malformed_line_skip_yields_bad_line(tmp_path):
    """With the skip policy a malformed line is yielded as a BadLine and reading goes on."""
    p = tmp_path / "bad.jsonl"
    p.write_text('{"prompt": "ok"}\n[1, 2]\n{"prompt": "after"}\n')
    items = list(iter_records(p, on_bad_line="skip"))
    assert isinstance(items[1], BadLine) and items[1].lineno == 2
    assert items[2].prompt == "after"


def test_wrong_types_are_named():
    """A non-string prompt and a bad message are errors that name the field."""
    with pytest.raises(InputError, match="'prompt' must be a string"):
        Record.from_dict({"prompt": 3})
    with pytest.raises(InputError, match=r"messages\[0\]"):
        Record.from_dict({"messages": [{"content": "no role"}]})
    with pytest.raises(InputError, match="unknown lineage keys"):
        Record.from_dict({"prompt": "x", "lineage": {"origin": "real", "colour": 1}})


def test_missing_file_is_named(tmp_path):
    """A missing input file is an InputError naming it."""
    with pytest.raises(InputError, match="does not exist"):
        list(iter_records(tmp_path / "nope.jsonl"))


def test_text_field_choice():
    """Filters read `text`, else `response`, else a named field; a missing field says how to fix it."""
    r = Record.create(prompt="p", response="r", data={"body": "b"})
    assert r.text() == "r"
    assert r.text("body") == "b"
    with pytest.raises(InputError, match="--field"):
        r.text("nope")


def test_with_verdict_appends_to_lineage():
    """Verdicts accumulate in lineage, oldest first, and the original stays unchanged."""
    r = Record.create(prompt="p", lineage=Lineage(origin="synthetic", generation=2))
    r2 = r.with_verdict(Verdict("a", True)).with_verdict(Verdict("b", False, "too short"))
    assert [v.name for v in r2.lineage.verdicts] == ["a", "b"]
    assert r.lineage.verdicts == ()


def test_writer_round_trips_through_file(tmp_path):
    """Records written by JsonlWriter read back equal, one JSON object per line."""
    recs = [Record.create(prompt=f"p{i}", data={"answer": i}) for i in range(5)]
    with JsonlWriter(tmp_path / "o" / "out.jsonl") as w:
        for r in recs:
            w.write(r)
    lines = (tmp_path / "o" / "out.jsonl").read_text().splitlines()
    assert all(json.loads(line)["id"] for line in lines)
    assert list(iter_records(tmp_path / "o" / "out.jsonl")) == recs


@given(records, verdicts)
def test_with_verdict_equals_evolve(record, verdict):
    """The fast with_verdict copy equals the attrs.evolve one and leaves the original unchanged."""
    import attrs

    expected = attrs.evolve(record, lineage=attrs.evolve(record.lineage, verdicts=(*record.lineage.verdicts, verdict)))
    before = record.to_json()
    assert record.with_verdict(verdict) == expected
    assert record.to_json() == before


@given(records)
def test_with_command_equals_evolve_and_stamps_once(record):
    """with_command appends the command once (as attrs.evolve would), a repeat or None changes nothing, the original stays."""
    import attrs

    cmd = "synthkit dedup in.jsonl -o out.jsonl --near 0.7"
    before = record.to_json()
    stamped = record.with_command(cmd)
    if record.lineage.commands[-1:] == (cmd,):
        assert stamped is record
    else:
        assert stamped == attrs.evolve(record, lineage=attrs.evolve(record.lineage, commands=(*record.lineage.commands, cmd)))
    assert stamped.with_command(cmd) is stamped and record.with_command(None) is record
    assert record.to_json() == before
    assert Record.from_json(stamped.to_json()) == stamped


def test_plain_records_share_one_empty_lineage_safely():
    """Records read from plain JSON share the empty lineage, and giving one a verdict leaves the others' lineage empty."""
    a, b = Record.from_dict({"text": "a"}), Record.from_dict({"text": "b"})
    assert a.lineage == b.lineage == Lineage()
    a2 = a.with_verdict(Verdict("x", True)).with_command("synthkit filter")
    assert b.lineage.verdicts == () and b.lineage.commands == () and a.lineage == Lineage()
    assert a2.lineage.commands == ("synthkit filter",)


def _containers(value, path="record"):
    """Yield (path, container) for every mapping, tuple or list reachable inside a value."""
    import collections.abc as abc

    if isinstance(value, (str, bytes, int, float, bool)) or value is None:
        return
    if isinstance(value, abc.Mapping):
        yield path, value
        for k, v in value.items():
            yield from _containers(v, f"{path}[{k!r}]")
    elif isinstance(value, (tuple, list)):
        yield path, value
        for i, v in enumerate(value):
            yield from _containers(v, f"{path}[{i}]")


def _parts(record):
    """Every part of a record that holds other values: data, messages, and the lineage's mappings and tuples."""
    lin = record.lineage
    yield "data", record.data
    if record.messages is not None:
        yield "messages", record.messages
    for name in ("params", "usage", "attempts", "parents", "verdicts"):
        yield f"lineage.{name}", getattr(lin, name)


@given(records)
def test_every_part_of_a_record_refuses_mutation(record):
    """Assigning to a record, its lineage, a verdict, or into anything they hold raises."""
    import attrs
    import pytest

    for target, field in [(record, "data"), (record, "response"), (record.lineage, "params"), (record.lineage, "usage")]:
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(target, field, None)
    for verdict in record.lineage.verdicts:
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            verdict.passed = not verdict.passed
    for name, part in _parts(record):
        for path, container in _containers(part, name):
            assert not isinstance(container, list), f"{path} is a mutable list"
            if isinstance(container, dict):
                with pytest.raises(TypeError):
                    container["x"] = 1
                with pytest.raises(TypeError):
                    container.update(x=1)
                with pytest.raises(TypeError):
                    container.clear()


@given(records)
def test_copies_never_alias_mutable_state(record):
    """to_dict and evolve give copies: changing what to_dict returns leaves the record (and its JSON) as it was."""
    before = record.to_json()
    d = record.to_dict()
    for _path, container in _containers(d, "d"):
        if isinstance(container, dict):
            container["mutated"] = True
        elif isinstance(container, list):
            container.append("mutated")
    assert record.to_json() == before
    copy = record.evolve(response="changed")
    assert copy.data is record.data or copy.data == record.data  # a shared part is immutable, so sharing is safe
    assert record.to_json() == before


@given(records)
def test_frozen_records_pickle_and_round_trip_byte_identically(record):
    """A frozen record pickles (Ray ships records between processes) and its JSON round-trips byte for byte."""
    import pickle

    again = pickle.loads(pickle.dumps(record))
    assert again == record
    assert again.to_json() == record.to_json()
    assert Record.from_json(record.to_json()).to_json() == Record.from_dict(record.to_dict()).to_json()
