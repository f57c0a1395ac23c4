"""Tool trajectories exported intact: OpenAI fine-tuning with tools, ShareGPT as LLaMA-Factory reads it, TRL with a tools chat template."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthkit as sk
from synthkit.errors import RecordError
from synthkit.generators.trajectory import Trajectory
from synthkit.io.chat import sharegpt_row, tool_chat
from synthkit.plugins import get_tool
from synthkit.records import Record
from synthkit.testing import tool_call, trajectory_script
from synthkit.tools import tool
from tests.io.chat_template import offline_tokenizer


@tool
def lookup(item: str) -> int:
    """Look up the unit price of an item in dollars."""
    return {"apple": 3, "pear": 5}[item]


SCRIPT = trajectory_script(
    tool_call("lookup", {"item": "pear"}),
    lambda messages: [tool_call("calculator", {"expression": f"{messages[-1]['content']} * 4"}), tool_call("lookup", {"item": "apple"})],
    lambda messages: f"Four pears cost {messages[-2]['content']} dollars; an apple costs {messages[-1]['content']}.",
)


@pytest.fixture
def trajectories(openai_server, tmp_path):
    """Two trajectories made through the fake server: one call, then two parallel calls, then the answer."""
    openai_server.configure(reply=SCRIPT)
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"messages": [{"role": "system", "content": "You are a shop assistant."}, {"role": "user", "content": "Four pears, and an apple?"}]}) + "\n"
        + json.dumps({"prompt": "What do four pears and an apple cost?"}) + "\n"
    )
    teacher = sk.get_teacher("openai", model="agent", base_url=openai_server.url, api_key="k")
    out = tmp_path / "traj.jsonl"
    assert sk.Pipeline(src).step(Trajectory(teacher, tools=[get_tool("calculator"), lookup])).run(out).kept == 2
    return out


def _load(path):
    import datasets

    return datasets.load_dataset("json", data_files=str(path), split="train")


def test_openai_rows_keep_tools_tool_calls_and_tool_messages(trajectories, tmp_path):
    """The openai export has tools, assistant tool_calls with JSON-text arguments and tool messages; datasets loads it."""
    out = tmp_path / "openai.jsonl"
    summary = sk.export(trajectories, out, format="openai")
    assert summary.exported == 2 and summary.balanced
    row = json.loads(out.read_text().splitlines()[0])
    assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant", "tool", "assistant", "tool", "tool", "assistant"]
    call = row["messages"][2]["tool_calls"][0]
    assert call["type"] == "function" and call["function"] == {"name": "lookup", "arguments": '{"item": "pear"}'}
    assert row["messages"][3] == {"role": "tool", "tool_call_id": call["id"], "content": "5"}
    assert [t["function"]["name"] for t in row["tools"]] == ["calculator", "lookup"]
    assert len(row["messages"][4]["tool_calls"]) == 2  # parallel calls stay one turn
    ds = _load(out)
    assert len(ds) == 2 and ds[0]["messages"] == row["messages"] and ds[0]["tools"] == row["tools"]


def _llamafactory_accepts(row):
    """LLaMA-Factory's SharegptDatasetConverter rules (src/llamafactory/data/converter.py) and FunctionFormatter's parsing."""
    msgs = row["conversations"]
    if msgs and msgs[0]["from"] == "system":
        msgs = msgs[1:]
    odd, even = ("human", "observation"), ("gpt", "function_call")
    for i, m in enumerate(msgs):
        assert m["from"] in (odd, even)[i % 2], (i, m)
    assert len(msgs) % 2 == 0
    for m in msgs:
        if m["from"] == "function_call":
            calls = json.loads(m["value"])
            for c in calls if isinstance(calls, list) else [calls]:
                assert isinstance(c["name"], str) and isinstance(c["arguments"], dict)
    tools = json.loads(row["tools"])
    assert all((t["function"] if t.get("type") == "function" else t)["name"] for t in tools)


def test_sharegpt_rows_are_what_llamafactory_reads(trajectories, tmp_path):
    """function_call/observation turns in alternation, a tools JSON text; datasets loads it and LLaMA-Factory's rules hold."""
    out = tmp_path / "sharegpt.jsonl"
    assert sk.export(trajectories, out, format="sharegpt").exported == 2
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [t["from"] for t in rows[0]["conversations"]] == ["system", "human", "function_call", "observation", "function_call", "observation", "gpt"]
    assert json.loads(rows[0]["conversations"][2]["value"]) == {"name": "lookup", "arguments": {"item": "pear"}}
    assert json.loads(rows[0]["conversations"][4]["value"]) == [
        {"name": "calculator", "arguments": {"expression": "5 * 4"}},
        {"name": "lookup", "arguments": {"item": "apple"}},
    ]
    assert json.loads(rows[0]["conversations"][5]["value"]) == ["20", "3"]
    for row in rows:
        _llamafactory_accepts(row)
    ds = _load(out)
    assert len(ds) == 2 and ds[1]["conversations"] == rows[1]["conversations"] and json.loads(ds[1]["tools"]) == json.loads(rows[1]["tools"])


def test_trl_rows_render_through_a_chat_template_with_tools(trajectories, tmp_path):
    """The trl export loads with datasets and renders with TRL's apply_chat_template: tools, calls with object arguments, results."""
    pytest.importorskip("trl")  # the trainers extra (needs torch)
    from trl.data_utils import apply_chat_template, is_conversational

    out = tmp_path / "trl.jsonl"
    assert sk.export(trajectories, out, format="trl").exported == 2
    ds = _load(out)
    example = ds[0]
    assert is_conversational(example)
    assert example["messages"][2]["tool_calls"][0]["function"]["arguments"] == {"item": "pear"}
    text = apply_chat_template(example, offline_tokenizer(), tools=example["tools"])["text"]
    assert '"name": "calculator"' in text and "# Tools" in text
    assert '<tool_call>{"name": "lookup", "arguments": {"item": "pear"}}</tool_call>' in text
    assert '<tool_call>{"name": "calculator", "arguments": {"expression": "5 * 4"}}</tool_call>' in text
    assert "<|im_start|>tool\n20<|im_end|>" in text
    assert text.rstrip().endswith("an apple costs 3.<|im_end|>")


def test_a_dialogue_without_tools_converts_with_trls_sharegpt_converter(tmp_path):
    """A plain multi-turn ShareGPT row goes through TRL's maybe_convert_to_chatml and renders with the template."""
    pytest.importorskip("trl")  # the trainers extra (needs torch)
    from trl.data_utils import apply_chat_template, maybe_convert_to_chatml

    rec = Record.create(
        messages=[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Bye"}],
        response="Goodbye!",
    )
    src = tmp_path / "d.jsonl"
    src.write_text(rec.to_json() + "\n")
    out = tmp_path / "sharegpt.jsonl"
    sk.export(src, out, format="sharegpt")
    example = dict(_load(out)[0])
    chatml = maybe_convert_to_chatml({k: [dict(m) for m in v] if isinstance(v, list) else v for k, v in example.items()})
    roles = {"human": "user", "gpt": "assistant"}
    chatml["messages"] = [{"role": roles.get(m["role"], m["role"]), "content": m["content"]} for m in chatml["messages"]]
    text = apply_chat_template(chatml, offline_tokenizer())["text"]
    assert text.count("<|im_start|>user") == 2 and text.rstrip().endswith("Goodbye!<|im_end|>")


@pytest.mark.parametrize(
    ("messages", "kind"),
    [
        ([{"role": "user", "content": "q"}, {"role": "tool", "tool_call_id": "x", "content": "1"}], "orphan_tool_result"),
        ([{"role": "user", "content": "q"}, {"role": "assistant", "content": None, "tool_calls": [tool_call("f", {})]}], "unanswered_tool_call"),
        ([{"role": "user", "content": "q"}, {"role": "function", "content": "1"}], "unsupported_role"),
    ],
)
def test_broken_tool_conversations_are_rejected_with_a_kind(messages, kind):
    """A broken structure is a RecordError of its kind, which export counts and writes to rejects."""
    rec = Record.create(messages=messages, response="done")
    with pytest.raises(RecordError) as info:
        tool_chat(rec)
    assert info.value.kind == kind


def test_text_beside_tool_calls_is_kept_by_openai_and_refused_by_sharegpt():
    """ShareGPT's function_call turn cannot hold text, so such a record is refused there, not stripped silently."""
    msgs = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "Let me look.", "tool_calls": [tool_call("lookup", {"item": "pear"})]},
        {"role": "tool", "tool_call_id": "call_lookup", "content": "5"},
    ]
    rec = Record.create(messages=msgs, response="5", data={"tools": [lookup.to_openai()]})
    assert sk.get_exporter("openai").convert(rec)["messages"][1]["content"] == "Let me look."
    with pytest.raises(RecordError) as info:
        sharegpt_row(rec)
    assert info.value.kind == "text_beside_tool_calls"


def _random_trajectory(draw_rounds):
    """A trajectory record: rounds of parallel calls, each answered, then a final answer."""
    msgs = [{"role": "user", "content": "go"}]
    n = 0
    for width in draw_rounds:
        calls = [tool_call("lookup", {"item": f"i{n + k}"}, id=f"c{n + k}") for k in range(width)]
        msgs.append({"role": "assistant", "content": None, "tool_calls": calls})
        msgs += [{"role": "tool", "tool_call_id": c["id"], "content": f"r{n + k}"} for k, c in enumerate(calls)]
        n += width
    return Record.create(messages=msgs, response="done", data={"tools": [lookup.to_openai()]}), n


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 3), max_size=4), st.sampled_from(["openai", "sharegpt", "trl"]))
def test_every_call_and_result_survives_each_format(rounds, fmt):
    """Property: each format keeps every tool call (name and arguments) and every result, in order, and ends on the answer."""
    rec, n = _random_trajectory(rounds)
    row = sk.get_exporter(fmt).convert(rec)
    if fmt == "sharegpt":
        turns = row["conversations"]
        calls = []
        for t in turns:
            if t["from"] == "function_call":
                v = json.loads(t["value"])
                calls += v if isinstance(v, list) else [v]
        results = []
        for t in turns:
            if t["from"] == "observation":
                results += json.loads(t["value"]) if t["value"].startswith("[") else [t["value"]]
        _llamafactory_accepts(row)
        assert turns[-1] == {"from": "gpt", "value": "done"}
        args = [c["arguments"] for c in calls]
    else:
        msgs = row["messages"]
        calls = [c["function"] for m in msgs if m["role"] == "assistant" for c in m.get("tool_calls", ())]
        results = [m["content"] for m in msgs if m["role"] == "tool"]
        args = [c["arguments"] if fmt == "trl" else json.loads(c["arguments"]) for c in calls]
        assert msgs[-1] == {"role": "assistant", "content": "done"}
    assert args == [{"item": f"i{k}"} for k in range(n)]
    assert results == [f"r{k}" for k in range(n)]
