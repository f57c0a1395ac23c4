"""Structured output: schemas from dicts and attrs classes, validation errors, and the bounded retry."""

from __future__ import annotations

import json
from typing import Literal

import attrs
import pytest

import synthkit as sk
from synthkit.errors import InputError
from synthkit.records import Record
from synthkit.verify.schema import Schema, find_json, schema_of_attrs
from synthkit.generators.structured import Structured


@attrs.define
class Step:
    text: str
    seconds: int


@attrs.define
class Recipe:
    title: str
    steps: list[Step]
    difficulty: Literal["easy", "hard"]
    serves: int | None = None


RECIPE = {"title": "Toast", "steps": [{"text": "Toast the bread", "seconds": 120}], "difficulty": "easy"}


def _teacher(server):
    return sk.get_teacher("openai", model="m", base_url=server.url, api_key="k", max_attempts=1)


def test_schema_of_an_attrs_class():
    """An attrs class becomes a JSON schema: required fields, nested classes, lists, Literal, Optional."""
    s = schema_of_attrs(Recipe)
    assert s["required"] == ["title", "steps", "difficulty"]
    assert s["properties"]["steps"] == {"type": "array", "items": schema_of_attrs(Step)}
    assert s["properties"]["difficulty"] == {"enum": ["easy", "hard"]}
    assert s["properties"]["serves"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}


def test_load_builds_instances_and_errors_name_the_path():
    """A valid reply loads into the attrs class (nested too); an invalid one names the failing path."""
    schema = Schema.of(Recipe)
    recipe = schema.load(json.dumps(RECIPE))
    assert recipe == Recipe("Toast", [Step("Toast the bread", 120)], "easy")
    bad = {**RECIPE, "steps": [{"text": "Toast", "seconds": "two"}]}
    value, error = schema.check(json.dumps(bad))
    assert value is None and error == "at $.steps[0].seconds: 'two' is not of type 'integer'"
    with pytest.raises(InputError, match="does not match the schema"):
        schema.load("{}")


def test_schema_from_dict_and_file(tmp_path):
    """A schema can be a dict or a .json file; an invalid schema is refused at once."""
    spec = {"type": "object", "required": ["a"]}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    assert Schema.of(tmp_path / "s.json").json_schema == spec
    assert Schema.of(spec).check('{"a": 1}') == ({"a": 1}, None)
    from jsonschema.exceptions import SchemaError

    with pytest.raises(SchemaError):
        Schema.of({"type": "no-such-type"})


def test_find_json_in_prose_and_fences():
    """JSON is found bare, in a fenced block, or as the first object in prose."""
    assert find_json('{"a": 1}') == {"a": 1}
    assert find_json('Sure!\n```json\n{"a": 2}\n```') == {"a": 2}
    assert find_json('Here: {"a": 3} and more {"b": 4}') == {"a": 3}
    with pytest.raises(ValueError, match="not JSON"):
        find_json("no json")


def test_retry_feeds_the_error_back(openai_server, tmp_path):
    """An invalid reply is retried with the validation error in the prompt; the kept record keeps every attempt."""

    def reply(messages):
        if messages[-1]["role"] == "user" and "rejected" in messages[-1]["content"]:
            return json.dumps(RECIPE)
        return json.dumps({**RECIPE, "difficulty": "medium"})

    openai_server.configure(reply=reply)
    step = Structured(_teacher(openai_server), Recipe, attempts=3)
    summary = sk.Pipeline([Record.create(prompt="A recipe for toast")]).step(step).run(sink=tmp_path / "out.jsonl")
    assert summary.kept == 1
    out = json.loads((tmp_path / "out.jsonl").read_text())
    assert out["parsed"] == RECIPE and json.loads(out["response"]) == RECIPE
    [attempt] = out["lineage"]["attempts"]
    assert attempt["reason"] == "response does not match the schema: at $.difficulty: 'medium' is not one of ['easy', 'hard']"
    assert json.loads(attempt["response"])["difficulty"] == "medium"
    assert [v["name"] for v in out["lineage"]["verdicts"]] == ["json-schema"]
    first, second = openai_server.requests
    assert "matches this JSON schema" in first.messages[-1]["content"]
    assert second.messages[-2] == {"role": "assistant", "content": attempt["response"]}
    assert "'medium' is not one of ['easy', 'hard']" in second.messages[-1]["content"]


def test_retries_are_bounded_and_the_raw_text_lands_in_the_reject(openai_server, tmp_path):
    """A teacher that never complies is asked retries+1 times; the reject keeps the raw text and the error."""
    openai_server.configure(reply=lambda m: "I'd rather write prose.")
    step = Structured(_teacher(openai_server), {"type": "object", "required": ["a"]}, attempts=2)
    summary = sk.Pipeline([Record.create(prompt="Give JSON")]).step(step).run(sink=tmp_path / "o.jsonl", rejects=tmp_path / "r.jsonl")
    assert summary.kept == 0 and openai_server.request_count == 2
    line = json.loads((tmp_path / "r.jsonl").read_text())
    rej = line["reject"]
    assert rej["status"] == "dropped" and rej["step"] == "structured:openai"
    assert rej["reason"].startswith("response does not match the schema: the reply is not JSON")
    assert rej["reason"].endswith("(still failing after 2 attempts)")
    assert line["response"] == "I'd rather write prose." and len(line["lineage"]["attempts"]) == 1


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(
    st.text(max_size=20),
    st.lists(st.builds(Step, st.text(max_size=10), st.integers(min_value=-10**6, max_value=10**6)), max_size=4),
    st.sampled_from(["easy", "hard"]),
    st.none() | st.integers(min_value=0, max_value=100),
)
@settings(max_examples=60, deadline=None)
def test_attrs_instances_round_trip_through_the_schema(title, steps, difficulty, serves):
    """Any Recipe dumped to JSON validates against its schema and loads back equal."""
    recipe = Recipe(title, steps, difficulty, serves)
    assert Schema.of(Recipe).load(json.dumps(attrs.asdict(recipe))) == recipe
