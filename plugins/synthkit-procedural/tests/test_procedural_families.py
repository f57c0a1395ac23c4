"""Every problem family: its solver finds the answer its generator built in."""

from __future__ import annotations

import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from synthkit import Record
from synthkit.plugins import load_plugins

from synthkit_procedural import FAMILIES, same_answer
from synthkit_procedural.families import LEVELS

FAMILY_NAMES = sorted(FAMILIES)
seeds = st.integers(min_value=0, max_value=2**64)
difficulties = st.integers(min_value=LEVELS.start, max_value=LEVELS.stop - 1)


@pytest.fixture(scope="module")
def templates():
    """The core's registered prompt templates."""
    return load_plugins(entry_points=False).registries["templates"]


@pytest.mark.parametrize("name", FAMILY_NAMES)
@settings(max_examples=60, deadline=None)
@given(seed=seeds, difficulty=difficulties)
def test_solver_finds_the_generated_answer(name, seed, difficulty):
    """solve(make(rng, d)) gives the answer the generator built in, with at least one step."""
    family = FAMILIES[name]
    problem = family.make(random.Random(seed), difficulty)
    solution = family.solve(problem.text)
    assert solution is not None, problem.text
    assert solution.answer == problem.answer, problem.text
    assert solution.steps and all(isinstance(s, str) and s for s in solution.steps)


@pytest.mark.parametrize("name", FAMILY_NAMES)
@settings(max_examples=25, deadline=None)
@given(seed=seeds, difficulty=difficulties)
def test_only_its_own_family_reads_a_problem(name, seed, difficulty):
    """No other family's solver claims a problem, so the teacher's dispatch is unambiguous."""
    text = FAMILIES[name].make(random.Random(seed), difficulty).text
    readers = [other for other in FAMILY_NAMES if FAMILIES[other].solve(text) is not None]
    assert readers == [name]


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_make_is_deterministic_for_a_seed(name):
    """The same seed and difficulty give the same problem; other seeds give others."""
    family = FAMILIES[name]
    first = [family.make(random.Random(s), 3) for s in range(20)]
    again = [family.make(random.Random(s), 3) for s in range(20)]
    assert first == again
    assert len({p.text for p in first}) > 10


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_difficulty_makes_longer_solutions(name):
    """Difficulty 5 needs more solution steps on average than difficulty 1."""
    family = FAMILIES[name]

    def mean_steps(d):
        return statistics.mean(len(family.solve(family.make(random.Random(s), d).text).steps) for s in range(40))

    assert mean_steps(5) > mean_steps(1)


@pytest.mark.parametrize("name", FAMILY_NAMES)
@pytest.mark.parametrize("template", ["plain", "cot"])
def test_solver_reads_problems_wrapped_by_a_template(name, template, templates):
    """A problem rendered through the core's plain or cot template is still solved."""
    family = FAMILIES[name]
    for seed in range(10):
        problem = family.make(random.Random(seed), 1 + seed % 5)
        messages = templates.get(template).render(Record.create(prompt=problem.text))
        solution = family.solve(messages[-1]["content"])
        assert solution is not None and solution.answer == problem.answer


@pytest.mark.parametrize("name", FAMILY_NAMES)
@settings(max_examples=30, deadline=None)
@given(seed=seeds, difficulty=difficulties)
def test_slip_is_always_wrong(name, seed, difficulty):
    """A family's deliberate mistake is never accepted as the right answer."""
    family = FAMILIES[name]
    rng = random.Random(seed)
    problem = family.make(rng, difficulty)
    wrong = family.slip(problem.text, problem.answer, rng)
    assert not same_answer(wrong, problem.answer)
    assert same_answer(problem.answer, problem.answer)


@pytest.mark.parametrize(
    "text",
    [
        "Evaluate the expression 2 ** 10.",
        "Evaluate the expression 3 / 4.",
        "Evaluate the expression (1 + 2.",
        "Evaluate the expression 7.",
        "Maya has 3 apples. How many apples does Maya have now?",
        "Maya has 6 apples. She splits the apples into 4 equal groups and keeps one group. How many apples does Maya have now?",
        "Maya has 3 apples. She eats 2 apples. She buys 4 more apples. How many apples does Maya have now?",
        "Solve for x: 2x + 1 = 2x + 5.",
        "Solve for x: x^2 = 4.",
        "Compute 3^5 mod 1.",
        "Compute 3^" + "9" * 30 + " mod 7.",
        "Convert 129 from base 2 to base 10.",
        "Convert 10 from base 17 to base 2.",
        "Convert 10 from base 2 to base 2.",
        "What is the date 10 days after 2023-02-30?",
        "What is the date 1000000 days after 2023-01-01?",
        "What is the date 1 day before 0001-01-01?",
        "Find the 9th smallest number in this list: 1, 2, 3.",
        "Ann, Ben and Cal run a race with no ties. Ann finishes before Ben. Who finishes second?",
        "Ann, Ben and Cal run a race with no ties. Dan finishes first. Who finishes first?",
        "Ann, Ben and Cal run a race with no ties. Ben finishes first. Cal trips. Who finishes first?",
        "What is the capital of France?",
        "",
    ],
)
def test_malformed_or_foreign_problems_are_not_solved(text):
    """Text that is not a well-formed problem of any family is solved by none."""
    assert [name for name in FAMILY_NAMES if FAMILIES[name].solve(text) is not None] == []
