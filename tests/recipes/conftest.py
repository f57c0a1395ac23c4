"""Fixtures for the recipe tests: the repository's examples, run in a fresh folder, against a loopback OpenAI server."""

from __future__ import annotations

import hashlib
import json
import pathlib
import re
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

_TASKS = [
    "Why do volcanoes erupt?",
    "Plan a sourdough baking schedule for a busy weekend.",
    "Compare two chess openings for beginners in a table.",
    "Write a short poem set in a tide pool at dawn.",
    "Implement binary search in Python and explain each line.",
    "How did the Roman calendar handle leap years?",
    "Give step by step instructions for folding an origami crane.",
    "What safety rules matter when watching a solar eclipse?",
]


def scripted_reply(messages: list[dict]) -> str:
    """A deterministic stand-in for a model: new tasks, answers, judge scores and grounded QA, by what is asked."""
    last = messages[-1]["content"]
    digest = int(hashlib.sha256(last.encode()).hexdigest(), 16)
    if "new, diverse tasks" in last:
        picks = [_TASKS[(digest >> (4 * i)) % len(_TASKS)] for i in range(3)]
        return "\n".join(f"{i}. {task}" for i, task in enumerate(picks, 1))
    if "Grade the response" in last:
        return f"Clear and mostly complete.\nScore: {4 + digest % 7}/10"
    if "Read the passage" in last:
        passage = last.split("# Passage", 1)[1].split("Reply with only", 1)[0]
        sentences = [s.strip() for s in re.split(r"(?<=\.)\s+", passage.split("\n", 1)[1].strip()) if s.strip()]
        quote = sentences[digest % len(sentences)] if digest % 3 else "A sentence that is not in the passage."
        return json.dumps({"question": f"What does the passage say ({digest % 97})?", "answer": quote, "quote": quote})
    return f"Here is an answer ({digest % 1000}): {last[:60]}"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh folder holding a copy of examples/, made the current folder."""
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def llm(openai_server, monkeypatch):
    """The loopback OpenAI server with the scripted replies, named by OPENAI_BASE_URL and OPENAI_API_KEY."""
    openai_server.configure(reply=scripted_reply)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-recipes")
    return openai_server
