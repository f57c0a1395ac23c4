"""`synthkit trajectory` and `synthkit dialogue` on files, through the fake server: tools from files, verification, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from synthkit.testing import by_model, tool_call, trajectory_script

SYNTHKIT = str(Path(sys.executable).with_name("synthkit"))


def run(*args, cwd):
    env = {**os.environ, "SYNTHKIT_API_KEY": "k", "SYNTHKIT_RETRY_NO_WAIT": "1"}
    return subprocess.run([SYNTHKIT, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120, check=False)


def test_trajectory_with_registered_and_simulated_tools_then_verify(openai_server, tmp_path):
    """--tool and --tools give the tools, --simulate-tools plays the file's tool; `verify --verifier tool-result` checks the answers."""
    openai_server.configure(reply=by_model({
        "agent": trajectory_script(
            tool_call("weather", {"city": "Oslo"}),
            lambda m: tool_call("calculator", {"expression": f"{m[-1]['content']} + 10"}),
            lambda m: f"Final answer: {m[-1]['content']}",
        ),
        "sim": lambda messages: "-3",
    }))
    (tmp_path / "tools.json").write_text(json.dumps([{"type": "function", "function": {"name": "weather", "description": "Temperature in Celsius.",
                                                                                       "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]))
    (tmp_path / "in.jsonl").write_text(json.dumps({"prompt": "Oslo plus ten?"}) + "\n")
    res = run("trajectory", "in.jsonl", "-o", "out.jsonl", "--model", "agent", "--base-url", openai_server.url, "--tool", "calculator",
              "--tools", "tools.json", "--simulate-tools", "--simulator-model", "sim", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rec = json.loads((tmp_path / "out.jsonl").read_text())
    assert [m["content"] for m in rec["messages"] if m["role"] == "tool"] == ["-3", "7"] and rec["response"] == "Final answer: 7"
    assert rec["lineage"]["commands"][0].startswith("synthkit trajectory in.jsonl --tools tools.json --tool calculator --simulate-tools")
    res = run("verify", "out.jsonl", "-o", "ok.jsonl", "--verifier", "tool-result", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert len((tmp_path / "ok.jsonl").read_text().splitlines()) == 1


def test_bad_tool_input_gets_a_clear_error_not_a_traceback(openai_server, tmp_path):
    """A malformed tools file, an unknown tool name and a dialogue with nothing to start from: clear errors, exit 1 or 2."""
    (tmp_path / "in.jsonl").write_text(json.dumps({"prompt": "x"}) + "\n")
    (tmp_path / "tools.json").write_text(json.dumps({"name": "not a list"}))
    res = run("trajectory", "in.jsonl", "-o", "o.jsonl", "--model", "m", "--base-url", openai_server.url, "--tools", "tools.json", cwd=tmp_path)
    assert res.returncode == 1 and "tools.json must be a JSON list of tools in the OpenAI format" in res.stderr and "Traceback" not in res.stderr
    res = run("trajectory", "in.jsonl", "-o", "o.jsonl", "--model", "m", "--base-url", openai_server.url, "--tool", "calculater", cwd=tmp_path)
    assert res.returncode == 1 and "unknown tool 'calculater'. Did you mean 'calculator'?" in res.stderr
    res = run("dialogue", "-o", "o.jsonl", "--model", "m", "--base-url", openai_server.url, cwd=tmp_path)
    assert res.returncode == 2 and "give IN.jsonl, or --personas and/or --goals" in res.stderr
    assert openai_server.request_count == 0


def test_trajectory_runs_tools_code_in_the_sandbox(openai_server, tmp_path):
    """--tools-code runs the file's functions in the sandbox for each call."""
    openai_server.configure(reply=trajectory_script(tool_call("shout", {"text": "hi"}), lambda m: f"Final answer: {m[-1]['content']}"))
    (tmp_path / "tools.json").write_text(json.dumps([{"type": "function", "function": {"name": "shout", "parameters": {"type": "object", "properties": {"text": {"type": "string"}}}}}]))
    (tmp_path / "tools.py").write_text("def shout(text):\n    return text.upper() + '!'\n")
    (tmp_path / "in.jsonl").write_text(json.dumps({"prompt": "Shout hi."}) + "\n")
    res = run("trajectory", "in.jsonl", "-o", "out.jsonl", "--model", "m", "--base-url", openai_server.url, "--tools", "tools.json", "--tools-code", "tools.py", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "out.jsonl").read_text())["response"] == "Final answer: HI!"
