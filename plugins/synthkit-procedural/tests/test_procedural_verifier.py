"""The final-answer verifier: extraction, normalisation and the verdict's reason."""

from __future__ import annotations

import pytest
from synthkit import Record, Verdict
from synthkit.errors import RecordError

from synthkit_procedural import FinalAnswerVerifier, extract_final_answer, same_answer


def record(response, answer="42", **data):
    """Return a record with a response and an expected answer."""
    fields = {"answer": answer, **data} if answer is not None else data
    return Record.create(prompt="q", response=response, data=fields)


async def verdict(response, answer="42"):
    """Return the verifier's verdict on one response."""
    return await FinalAnswerVerifier().verify(record(response, answer))


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("Step 1\nFinal answer: 42", "42"),
        ("final answer:   42  ", "42"),
        ("**Final answer:** 42", "42"),
        ("Final Answer: **42**", "**42**"),
        ("Final answer: 41\nWait, no.\nFinal answer: 42", "42"),
        ("so it is \\boxed{7} or rather \\boxed{\\frac{3}{4}}", "\\frac{3}{4}"),
        ("Final answer: 5\nand \\boxed{6}", "5"),
        ("Final answer:\n\\boxed{9}", "\\boxed{9}"),
        ("Final answer:\n\n  12\nmore", "12"),
        ("Final answer:", None),
        ("The answer is 42.", None),
        ("\\boxed{unclosed", None),
        ("", None),
    ],
)
def test_extract_final_answer(response, expected):
    """The last 'Final answer:' line wins, else the last balanced \\boxed{}, else nothing."""
    assert extract_final_answer(response) == expected


@pytest.mark.parametrize(
    ("got", "expected"),
    [
        ("42.", "42"),
        ("  42 ", "42"),
        ("$42$", "42"),
        ("`42`", "42"),
        ("\\boxed{42}", "42"),
        ("x = 9/4", "9/4"),
        ("0.75", "3/4"),
        ("\\frac{3}{4}", "0.75"),
        ("-9/4", "-2.25"),
        ("6/8", "3/4"),
        ("+5", "5"),
        ("5.0", "5"),
        ("[1, 3, 5]", "1, 3, 5"),
        ("1,3 ,5", "1, 3, 5"),
        ("1A3", "1a3"),
        ("friday,  2023-04-28.", "Friday, 2023-04-28"),
        ("ann", "Ann"),
    ],
)
def test_same_answer_accepts_equivalent_forms(got, expected):
    """Whitespace, trailing periods, markup, case and exact numeric equality do not matter."""
    assert same_answer(got, expected)


@pytest.mark.parametrize(
    ("got", "expected"),
    [
        ("0.333", "1/3"),
        ("0.3333333333", "1/3"),
        ("41", "42"),
        ("-42", "42"),
        ("1, 5, 3", "1, 3, 5"),
        ("1, 3", "1, 3, 5"),
        ("Thursday, 2023-04-28", "Friday, 2023-04-28"),
        ("1/0", "0"),
        ("42 apples", "42"),
        ("", "42"),
    ],
)
def test_same_answer_rejects_different_answers(got, expected):
    """Different values, orders, lengths and inexact decimals are not the same answer."""
    assert not same_answer(got, expected)


async def test_matching_answer_passes_with_reason():
    """A matching final answer passes with reason "final answer 'X' matches" and score 1."""
    assert await verdict("Step\nFinal answer: 42.") == Verdict("final-answer", True, "final answer '42.' matches", 1.0)


async def test_wrong_answer_fails_with_both_answers_in_the_reason():
    """A wrong final answer fails with reason "final answer 'X' != expected 'Y'"."""
    v = await verdict("Final answer: 41")
    assert (v.passed, v.reason, v.score) == (False, "final answer '41' != expected '42'", 0.0)


@pytest.mark.parametrize("response", ["I think it is 42.", None])
async def test_missing_final_answer_fails(response):
    """A response without a final answer (or no response at all) fails with 'no final answer found'."""
    v = await verdict(response)
    assert (v.passed, v.reason) == (False, "no final answer found")


async def test_long_answers_are_shortened_in_the_reason():
    """The reason stays short when the answers are long."""
    v = await verdict("Final answer: " + "1, " * 100 + "1", answer="2")
    assert not v.passed and len(v.reason) < 160 and "..." in v.reason


async def test_non_string_expected_answers_are_compared_as_text():
    """An expected answer stored as a number (from plain JSONL) still compares."""
    assert (await verdict("Final answer: 0.5", answer=0.5)).passed
    assert (await verdict("Final answer: 7", answer=7)).passed


async def test_a_record_without_an_answer_fails_the_record():
    """A record lacking the answer field raises RecordError kind 'missing_answer' naming the field."""
    with pytest.raises(RecordError, match="no 'answer' field") as info:
        await FinalAnswerVerifier().verify(record("Final answer: 1", answer=None, solution="1"))
    assert info.value.kind == "missing_answer"


async def test_answer_field_option_names_another_field():
    """answer_field= reads the expected answer from another data key."""
    r = record("Final answer: 12", answer=None, target="12")
    assert (await FinalAnswerVerifier(answer_field="target").verify(r)).passed
