"""Tool trajectories through the fake server: tool calls on the wire, schema checks, execution, step limits, verified answers."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthkit as sk
from synthkit.errors import InputError
from synthkit.generators.trajectory import Trajectory
from synthkit.plugins import get_tool
from synthkit.records import Record
from synthkit.testing import by_model, tool_call, trajectory_script
from synthkit.tools import PythonTools, SimulatedTools, Tool, ToolCall, calculate, check_call, load_tools, tool
from synthkit.verify.tool_result import ToolResultVerifier

PRICES = {"apple": 3, "pear": 5}


@tool
def lookup(item: str) -> int:
    """Look up the unit price of an item in dollars."""
    if item not in PRICES:
        raise KeyError(f"no price for {item!r}")
    return PRICES[item]


def _teacher(server, model="agent"):
    return sk.get_teacher("openai", model=model, base_url=server.url, api_key="k", max_attempts=1)


def _shopping_script():
    """Look up the price, multiply with the calculator, answer with the calculator's result."""
    return trajectory_script(
        tool_call("lookup", {"item": "pear"}),
        lambda messages: tool_call("calculator", {"expression": f"{messages[-1]['content']} * 4"}),
        lambda messages: f"Four pears cost {messages[-1]['content']} dollars.",
    )


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_trajectory_with_two_tool_calls_ends_in_a_verified_final_answer(openai_server, tmp_path):
    """Two tool calls go out and come back over HTTP; the final answer passes the math and tool-result verifiers."""
    openai_server.configure(reply=_shopping_script())
    src = _write(tmp_path / "in.jsonl", [{"prompt": "How much do four pears cost?", "answer": "20"}])
    step = Trajectory(_teacher(openai_server), tools=[get_tool("calculator"), lookup], cache=tmp_path / "cache.sqlite")
    summary = sk.Pipeline(src).step(step).verify("math").verify(ToolResultVerifier()).run(tmp_path / "out.jsonl")
    assert summary.kept == 1, summary
    rec = Record.from_json((tmp_path / "out.jsonl").read_text())
    assert rec.response == "Four pears cost 20 dollars."
    roles = [m["role"] for m in rec.messages]
    assert roles == ["user", "assistant", "tool", "assistant", "tool"]
    assert rec.messages[1]["tool_calls"][0]["function"] == {"name": "lookup", "arguments": '{"item": "pear"}'}
    assert [m["content"] for m in rec.messages if m["role"] == "tool"] == ["5", "20"]
    assert [t["function"]["name"] for t in rec.data["tools"]] == ["calculator", "lookup"]
    assert {v.name: v.passed for v in rec.lineage.verdicts} == {"math": True, "tool-result": True}
    turns = rec.lineage.turns
    assert [t["role"] for t in turns] == ["assistant", "tool", "assistant", "tool", "assistant"]
    assert [t.get("name") for t in turns if t["role"] == "tool"] == ["lookup", "calculator"]
    assert rec.lineage.usage["prompt_tokens"] == sum(t["usage"]["prompt_tokens"] for t in turns if t["role"] == "assistant")
    # on the wire: every request carried the tools and tool_choice; the later ones the tool messages
    bodies = [r.body for r in openai_server.requests]
    assert len(bodies) == 3 and all(b["tool_choice"] == "auto" and len(b["tools"]) == 2 for b in bodies)
    assert bodies[2]["messages"][-1] == {"role": "tool", "tool_call_id": bodies[2]["messages"][-2]["tool_calls"][0]["id"], "name": "calculator", "content": "20"}
    # a re-run is answered from the cache: no request re-paid, same output
    again = sk.Pipeline(src).step(Trajectory(_teacher(openai_server), tools=[get_tool("calculator"), lookup], cache=tmp_path / "cache.sqlite"))
    assert again.run(tmp_path / "again.jsonl").kept == 1
    assert openai_server.request_count == 3
    assert Record.from_json((tmp_path / "again.jsonl").read_text()).messages == rec.messages


def test_an_invalid_tool_call_is_rejected_with_its_reason(openai_server, tmp_path):
    """A call whose arguments break the schema drops the record; the reject names the call, the path and the rule."""
    openai_server.configure(reply=trajectory_script(tool_call("calculator", {"expression": 12}), "12"))
    src = _write(tmp_path / "in.jsonl", [{"prompt": "What is 12?"}])
    step = Trajectory(_teacher(openai_server), tools=["calculator"])
    summary = sk.Pipeline(src).step(step).run(tmp_path / "out.jsonl", rejects=tmp_path / "rejects.jsonl")
    assert summary.kept == 0 and summary.n_dropped == 1
    reject = json.loads((tmp_path / "rejects.jsonl").read_text())
    reason = reject["reject"]["reason"]
    assert "invalid tool call" in reason and "at $.expression: 12 is not of type 'string'" in reason
    verdict = reject["lineage"]["verdicts"][-1]
    assert verdict["name"] == "tool-call" and verdict["passed"] is False
    assert openai_server.request_count == 1  # nothing ran, nothing more was asked


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (ToolCall("c", "calculater", '{"expression": "1"}'), "no such tool; the tools are calculator"),
        (ToolCall("c", "calculator", '{"expression": "1"'), "its arguments are not JSON"),
        (ToolCall("c", "calculator", "[1]"), "must be a JSON object, got list"),
        (ToolCall("c", "calculator", "{}"), "at $: 'expression' is a required property"),
        (ToolCall("c", "calculator", '{"expression": "1", "x": 2}'), "Additional properties are not allowed"),
    ],
)
def test_check_call_names_what_is_wrong(call, needle):
    """Each way a call can be wrong gets its own reason."""
    verdict = check_call(call, [get_tool("calculator")])
    assert not verdict.passed and needle in verdict.reason, verdict.reason


def test_feedback_lets_the_model_correct_an_invalid_call(openai_server, tmp_path):
    """With on_invalid='feedback' the error goes back as the tool result and the corrected call runs."""

    def script(messages, body, index):
        tools_said = [m["content"] for m in messages if m["role"] == "tool"]
        if not tools_said:
            return {"tool_calls": [tool_call("calculator", {"expression": 12}, id="a")]}
        if tools_said[-1].startswith("error:"):
            return {"tool_calls": [tool_call("calculator", {"expression": "12"}, id="b")]}
        return f"It is {tools_said[-1]}."

    openai_server.configure(reply=script)
    src = _write(tmp_path / "in.jsonl", [{"prompt": "What is 12?"}])
    summary = sk.Pipeline(src).step(Trajectory(_teacher(openai_server), tools=["calculator"], on_invalid="feedback")).run(tmp_path / "out.jsonl")
    assert summary.kept == 1
    rec = Record.from_json((tmp_path / "out.jsonl").read_text())
    results = [m["content"] for m in rec.messages if m["role"] == "tool"]
    assert results[0].startswith("error: tool call a to 'calculator': at $.expression") and results[1] == "12"
    assert [t["ok"] for t in rec.lineage.turns if t["role"] == "tool"] == [False, True]


def test_a_model_that_never_stops_calling_tools_hits_the_step_limit(openai_server, tmp_path):
    """A model calling tools forever is stopped after max_steps replies and dropped with 'step limit'."""
    openai_server.configure(reply=lambda messages: {"tool_calls": [tool_call("calculator", {"expression": "1+1"}, id=f"c{len(messages)}")]})
    src = _write(tmp_path / "in.jsonl", [{"prompt": "Loop."}])
    step = Trajectory(_teacher(openai_server), tools=["calculator"], max_steps=3)
    summary = sk.Pipeline(src).step(step).run(tmp_path / "out.jsonl", rejects=tmp_path / "rejects.jsonl")
    assert summary.kept == 0 and summary.n_dropped == 1
    reject = json.loads((tmp_path / "rejects.jsonl").read_text())
    assert reject["reject"]["reason"] == "step limit: the model was still calling tools after 3 steps"
    assert openai_server.request_count == 4  # three steps answered, the fourth call is not run
    assert sum(1 for m in reject["messages"] if m["role"] == "tool") == 3


def test_a_tool_that_raises_tells_the_model_and_a_wrong_answer_fails_the_tool_result_check(openai_server, tmp_path):
    """A tool's exception becomes the tool message; a final answer not stating the tool result is rejected by tool-result."""
    openai_server.configure(reply=trajectory_script(tool_call("lookup", {"item": "kiwi"}), "A kiwi costs 2 dollars."))
    src = _write(tmp_path / "in.jsonl", [{"prompt": "Price of a kiwi?"}])
    summary = sk.Pipeline(src).step(Trajectory(_teacher(openai_server), tools=[lookup])).verify("tool-result").run(
        tmp_path / "out.jsonl", rejects=tmp_path / "rejects.jsonl"
    )
    assert summary.kept == 0
    reject = json.loads((tmp_path / "rejects.jsonl").read_text())
    assert reject["messages"][-1]["content"] == "error: KeyError: \"no price for 'kiwi'\""
    assert "does not state the last tool result" in reject["reject"]["reason"]


def test_tools_can_come_from_the_record_and_be_simulated_by_a_teacher(openai_server, tmp_path):
    """A record's own tools (no Python function) are played by a simulating teacher; its usage is in the turns."""
    weather = Tool("weather", "Current temperature in a city, in Celsius.", {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
    openai_server.configure(
        reply=by_model(
            {
                "agent": trajectory_script(tool_call("weather", {"city": "Oslo"}), lambda m: f"It is {m[-1]['content']} degrees in Oslo."),
                "simulator": lambda messages: "-3",
            }
        )
    )
    src = _write(tmp_path / "in.jsonl", [{"prompt": "How cold is Oslo?", "tools": [weather.to_openai()]}])
    step = Trajectory(_teacher(openai_server), executor=SimulatedTools(_teacher(openai_server, "simulator")), cache=tmp_path / "c.sqlite")
    summary = sk.Pipeline(src).step(step).run(tmp_path / "out.jsonl")
    assert summary.kept == 1
    rec = Record.from_json((tmp_path / "out.jsonl").read_text())
    assert rec.response == "It is -3 degrees in Oslo."
    tool_turn = next(t for t in rec.lineage.turns if t["role"] == "tool")
    assert tool_turn["executor"] == "simulated" and tool_turn["model"] == "simulator" and tool_turn["usage"]["completion_tokens"] == 1
    sim_request = next(r for r in openai_server.requests if r.body["model"] == "simulator")
    assert "Current temperature in a city" in sim_request.body["messages"][0]["content"]


def test_the_server_refuses_a_tool_message_that_answers_no_call(openai_server):
    """The fake server checks the tool protocol as OpenAI does: an orphan tool message gets 400 with the reason."""
    import asyncio

    from synthkit.errors import RecordError

    t = _teacher(openai_server)
    msgs = [{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "x", "content": "1"}]
    with pytest.raises(RecordError, match="must answer a tool call"):
        asyncio.run(t.complete(msgs, {}))


def test_bad_tool_files_get_clear_errors(tmp_path):
    """A malformed tools file names the file, the entry and what is wrong."""
    bad = tmp_path / "tools.json"
    bad.write_text(json.dumps([{"type": "function", "function": {"name": "ok"}}, {"type": "function", "function": {"description": "x"}}]))
    with pytest.raises(InputError, match=r"tools.json, entry 1: a tool needs function.name"):
        load_tools(bad)
    bad.write_text(json.dumps([{"type": "function", "function": {"name": "a", "parameters": {"type": "objekt"}}}]))
    with pytest.raises(InputError, match="not a valid JSON schema"):
        load_tools(bad)
    with pytest.raises(InputError, match="give tools to Trajectory"):
        Trajectory(sk.get_teacher("openai", model="m", base_url="http://127.0.0.1:9/v1"), tools=["calculator"], params={"tools": []})


def test_a_python_function_becomes_a_tool_with_its_schema():
    """Type hints give the schema, the docstring the description; the executor runs it and writes non-text as JSON."""
    spec = lookup.to_openai()["function"]
    assert spec["description"] == "Look up the unit price of an item in dollars."
    assert spec["parameters"]["properties"] == {"item": {"type": "string"}} and spec["parameters"]["required"] == ["item"]
    import asyncio

    assert asyncio.run(PythonTools().run(lookup, {"item": "apple"})).content == "3"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=6), st.lists(st.sampled_from(["+", "-", "*"]), min_size=5, max_size=5))
def test_the_calculator_agrees_with_python_on_integer_arithmetic(numbers, ops):
    """Property: for integer +, -, * expressions the calculator gives Python's value."""
    expr = str(numbers[0]) + "".join(f" {op} ({n})" for op, n in zip(ops, numbers[1:]))
    assert calculate(expr) == str(eval(expr))  # noqa: S307 - the oracle, on generated integer arithmetic


def test_the_calculator_refuses_what_is_not_arithmetic():
    """Names, calls and huge exponents are refused with the reason."""
    for expr, needle in [("__import__('os')", "only numbers"), ("2 ** 1000", "exponents"), ("1/0", "division by zero")]:
        with pytest.raises(ValueError, match=needle):
            calculate(expr)


def test_tool_calls_survive_the_cache(tmp_path):
    """A completion's tool calls are stored and read back from the SQLite cache."""
    from synthkit.interfaces import Completion
    from synthkit.teachers.cache import ResponseCache

    cache = ResponseCache(tmp_path / "c.sqlite")
    c = Completion(text="", finish_reason="tool_calls", tool_calls=[tool_call("calculator", {"expression": "1"})])
    cache.put_many([("k", c)])
    back = cache.get_many(["k"])["k"]
    assert back.tool_calls == c.tool_calls and back.cached
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        assert "tool_calls" in db.execute("SELECT value FROM responses").fetchone()[0]


def test_tools_defined_in_user_code_run_in_the_sandbox(openai_server, tmp_path):
    """SandboxTools runs the user's tool code in the sandbox, a process per call; an exception and a timeout are error results."""
    from synthkit.tools import SandboxTools
    from synthkit.verify.sandbox import Limits, Sandbox

    code = tmp_path / "tools.py"
    code.write_text(
        "import os\n"
        "def word_count(text):\n    return {'words': len(text.split()), 'pid_is_1': os.getpid() == 1}\n"
        "def boom(text):\n    raise ValueError('no')\n"
        "def spin(text):\n    while True:\n        pass\n"
    )
    schema = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    tools = [Tool(n, "", schema) for n in ("word_count", "boom", "spin")]
    openai_server.configure(reply=trajectory_script(
        [tool_call("word_count", {"text": "a b c"}, id="a"), tool_call("boom", {"text": "x"}, id="b"), tool_call("spin", {"text": "x"}, id="c")],
        "done",
    ))
    executor = SandboxTools(code, sandbox=Sandbox(Limits(wall=2, cpu=1)))
    summary = sk.Pipeline([Record.create(prompt="count")]).step(Trajectory(_teacher(openai_server), tools=tools, executor=executor)).run(tmp_path / "o.jsonl")
    assert summary.kept == 1
    rec = Record.from_json((tmp_path / "o.jsonl").read_text())
    results = {m["name"]: m["content"] for m in rec.messages if m["role"] == "tool"}
    assert json.loads(results["word_count"]) == {"words": 3, "pid_is_1": True}  # the call ran in the sandbox's own pid namespace
    assert results["boom"].startswith("error: ") and "ValueError: no" in results["boom"]
    assert results["spin"].startswith("error: ") and ("cpu" in results["spin"].lower() or "time" in results["spin"].lower())
    assert [t["executor"] for t in rec.lineage.turns if t["role"] == "tool"] == ["sandbox"] * 3


def test_the_fake_teacher_plays_scripted_tool_calls_too(tmp_path):
    """FakeTeacher answers the same scripts as the server, tool calls included, without HTTP."""
    from synthkit.testing import FakeTeacher

    teacher = FakeTeacher(reply=trajectory_script(tool_call("calculator", {"expression": "2*21"}), lambda m: f"Final answer: {m[-1]['content']}"))
    summary = sk.Pipeline([Record.create(prompt="2*21?", data={"answer": "42"})]).step(Trajectory(teacher, tools=["calculator"])).verify("math").run(tmp_path / "o.jsonl")
    assert summary.kept == 1
