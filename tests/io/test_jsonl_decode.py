"""The fast ways of reading and writing a line give what the standard library's ways give, byte for byte."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synthkit.io import jsonl
from synthkit.io.jsonl import decode_line
from synthkit.pipeline.summary import Outcome
from synthkit.records import RESERVED_KEYS, Record, encode_line
from tests.strategies import data_keys, json_values, records

# JSON the orjson path must hand back to the standard library: integers past 64 bits,
# NaN and infinities, lone surrogates, reserved keys of the wrong type
odd_scalars = (
    st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(alphabet=st.characters(blacklist_categories=()), max_size=8)
    | st.sampled_from(["\ud800", "\udfff x"])
)
odd_values = st.recursive(odd_scalars | json_values, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids, max_size=3), max_leaves=8)
line_objects = st.dictionaries(st.sampled_from(sorted(RESERVED_KEYS)) | data_keys, odd_values, max_size=5)


def _slow(raw: bytes, lineno: int) -> object:
    """Decode with the standard library only."""
    return None if not raw.strip() else jsonl._decode_standard(raw, lineno, "in.jsonl")


def _same(a: object, b: object) -> bool:
    if isinstance(a, Record) and isinstance(b, Record):
        return a.to_json() == b.to_json()  # equal JSON: equal records (NaN is not equal to itself, so not ``==``)
    return a == b


@given(obj=line_objects, lineno=st.integers(1, 10**6), spaced=st.booleans())
def test_fast_read_equals_standard_library_read(obj, lineno, spaced):
    """Any line, valid or not, decodes to the same record (same id, same JSON) or the same bad line either way."""
    raw = json.dumps(obj, ensure_ascii=spaced, separators=(", ", ": ") if spaced else (",", ":")).encode("utf-8", "surrogatepass")
    fast = decode_line(raw + b"\n", lineno, "in.jsonl")
    slow = _slow(raw + b"\n", lineno)
    assert type(fast) is type(slow)
    assert _same(fast, slow)


@pytest.mark.parametrize(
    "raw",
    [b'{"id":"a","n":123456789012345678901234567890}', b'{"x":NaN}', b'{"x":"\\ud800"}', b"\xef\xbb\xbf{}", b'{"x":1', b"[1]", b'{"prompt":3}', b"\xff{}"],
)
def test_lines_orjson_refuses_or_misreads_take_the_standard_path(raw):
    """Big integers keep every digit; NaN, lone surrogates and the errors of bad lines are the standard library's."""
    assert _same(decode_line(raw, 7, "in.jsonl"), _slow(raw, 7))
    if raw.startswith(b'{"id":"a"'):
        assert decode_line(raw, 7, "in.jsonl").data["n"] == 123456789012345678901234567890


@given(rid=st.text(max_size=10), data=st.dictionaries(data_keys, json_values, max_size=5))
def test_plain_lines_build_the_record_the_constructor_builds(rid, data):
    """A line of an id and data fields reads as ``Record(id=..., data=...)``: equal, same JSON, frozen data."""
    fast = Record.from_dict({"id": rid, **data})
    built = Record(id=rid, data=data)
    assert fast == built
    assert fast.to_json() == built.to_json()
    with pytest.raises(TypeError):
        fast.data["new"] = 1  # type: ignore[index]


@given(record=records, status=st.sampled_from(["dropped", "failed"]), reason=st.text(max_size=20), attempts=st.integers(1, 5))
def test_outcome_line_equals_json_of_its_dict(record, status, reason, attempts):
    """The rejects line written from the frozen record is ``json.dumps`` of ``Outcome.to_dict()``."""
    out = Outcome(status, "near-dedup", reason, record, kind="x", attempts=attempts)
    assert out.to_json() == json.dumps(out.to_dict(), ensure_ascii=False, separators=(",", ":"))
    assert Outcome("failed", "source", "bad", None).to_json() == json.dumps(Outcome("failed", "source", "bad", None).to_dict(), ensure_ascii=False, separators=(",", ":"))


@given(obj=st.dictionaries(st.text(max_size=5), odd_values | st.floats(-1e-3, 1e-3) | st.floats(allow_nan=True, allow_infinity=True), max_size=6))
def test_fast_write_equals_standard_library_write(obj):
    """Any JSON value (floats small and large, NaN, integers past 64 bits, lone surrogates) is written as ``json.dumps`` writes it."""
    assert encode_line(obj) == json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("value", [1e-05, -4.6e-05, 1e-07, 2.5e-300, 1e16, 1e300, 0.0001, float("nan"), float("-inf"), 2**64, "\ud800", None])
def test_values_orjson_spells_otherwise_are_written_by_the_standard_library(value):
    """Floats under 1e-4, NaN, infinities, big integers, lone surrogates and nulls: the standard library's spelling."""
    obj = {"x": value, "text": "re-run 3e-5"}
    assert encode_line(obj) == json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
