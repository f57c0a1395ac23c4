"""Tool-use recipe: a model answers shopping questions with a calculator and a price lookup; the final answers are verified.

Runs offline: a scripted stand-in model on synthkit's fake OpenAI server plays the agent.
For a real model, replace ``teacher`` with ``sk.get_teacher("openai", model="gpt-4o-mini")``
(and leave out the server). Writes ``out/tool_use.jsonl`` (kept trajectories),
``out/tool_use.rejects.jsonl`` (with reasons) and three training exports.
"""

import json
import re
from pathlib import Path

import synthkit as sk
from synthkit.generators import Trajectory
from synthkit.plugins import get_tool
from synthkit.testing import FakeOpenAIServer, tool_call
from synthkit.tools import tool

PRICES = {"apple": 0.5, "pear": 0.75, "melon": 3.2, "lemon": 0.4}


@tool
def lookup(item: str) -> float:
    """Look up the unit price of a grocery item, in dollars."""
    return PRICES[item]


QUESTIONS = [
    sk.Record.create(prompt=f"How much do {qty} {item}s cost, in dollars?", data={"answer": str(round(PRICES[item] * qty, 2))})
    for item, qty in [("apple", 12), ("pear", 8), ("melon", 3), ("lemon", 25), ("melon", 7)]
]


def scripted_agent(messages):
    """A stand-in for a tool-using model: look the price up, multiply with the calculator, state the result.

    It guesses without the calculator for 7 melons, so the verifiers have something to reject.
    """
    qty, item = re.search(r"How much do (\d+) (\w+)s cost", messages[0]["content"]).groups()
    results = [m["content"] for m in messages if m["role"] == "tool"]
    if not results:
        return {"tool_calls": [tool_call("lookup", {"item": item})]}
    if len(results) == 1 and (item, qty) != ("melon", "7"):
        return {"tool_calls": [tool_call("calculator", {"expression": f"{results[0]} * {qty}"})]}
    total = results[-1] if len(results) == 2 else "21"
    return f"{qty} {item}s at ${results[0]} each.\nFinal answer: ${total}"


with FakeOpenAIServer(reply=scripted_agent) as server:
    teacher = sk.get_teacher("openai", model="agent", base_url=server.url, api_key="offline")
    pipeline = (
        sk.Pipeline(QUESTIONS)
        .step(Trajectory(teacher, tools=[get_tool("calculator"), lookup], max_steps=4, cache="out/tool_use.cache.sqlite"))
        .verify("math")          # the final answer equals the reference answer
        .verify("tool-result")   # ... and states what the calculator returned
    )
    print(pipeline.run(sink="out/tool_use.jsonl", rejects="out/tool_use.rejects.jsonl"))

for fmt in ("openai", "sharegpt", "trl"):
    print(fmt, sk.export("out/tool_use.jsonl", f"out/tool_use.{fmt}.jsonl", format=fmt).exported, "rows")
first = json.loads(Path("out/tool_use.openai.jsonl").read_text().splitlines()[0])
print(" -> ".join(m["role"] + ("(tool_calls)" if "tool_calls" in m else "") for m in first["messages"]))
