"""The tiny-transformer student: it registers, learns a small task from scratch on CPU, and is deterministic per seed."""

from __future__ import annotations

import random

import pytest

import synthkit as sk
from synthkit.errors import InputError
from synthkit.plugins import load_plugins

torch = pytest.importorskip("torch")

from synthkit_students.tiny import TinyTransformer, target_of  # noqa: E402


def _echo(n: int, seed: int) -> list[sk.Record]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a = rng.randrange(10)
        out.append(sk.Record.create(prompt=f"Repeat {a}.", response=f"I repeat.\nFinal answer: {a}", data={"answer": str(a), "family": "echo"}))
    return out


def test_registered_through_the_entry_point():
    """The students distribution registers tiny-transformer with synthkit through its entry point."""
    plugins = load_plugins(only="students")
    assert "tiny-transformer" in plugins.registries["students"].names()
    student = plugins.registries["students"].get("tiny-transformer", d_model=32, layers=1)
    assert isinstance(student, sk.Student) and student.d_model == 32


def test_target_is_the_final_answer_line():
    """The student learns a response's last final answer, or the whole response when it has none."""
    assert target_of("step 1\nFinal answer: 4\nFinal answer: 5") == "5"
    assert target_of("  just text ") == "just text"


def test_learns_a_small_task_and_is_deterministic():
    """Trained from scratch for a few hundred steps it solves held-out echo prompts; the same seed gives the same answers."""
    from synthkit.students import evaluate
    from synthkit_procedural import FinalAnswerVerifier

    student = TinyTransformer(d_model=32, layers=1, heads=2, max_answer=4)
    held = _echo(40, seed=2)
    trained = student.train(_echo(200, seed=1), seed=0, budget=250)
    answers = trained.answer([r.prompt for r in held])
    assert all(a.startswith("Final answer: ") for a in answers)
    assert evaluate(trained, held, FinalAnswerVerifier()).accuracy >= 0.9
    again = student.train(_echo(200, seed=1), seed=0, budget=250)
    assert again.answer([r.prompt for r in held]) == answers


def test_untrained_or_empty_input_is_a_clear_error():
    """Answering before training, or training on nothing usable, names the problem."""
    student = TinyTransformer(d_model=16, layers=1, heads=2)
    with pytest.raises(InputError, match="not trained"):
        student.answer(["x"])
    with pytest.raises(InputError, match="no records"):
        student.train([sk.Record.create(prompt="x")], seed=0, budget=1)
    with pytest.raises(InputError, match="multiple of heads"):
        TinyTransformer(d_model=30, heads=4)
