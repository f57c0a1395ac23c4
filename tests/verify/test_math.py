"""Final-answer equivalence: tables of equal and unequal answers, extraction, and the math verifier."""

from __future__ import annotations

import pytest

from synthkit.verify.math import equivalent, final_answer
from synthkit.records import Record
from synthkit.verify.math import MathVerifier

EQUIVALENT = [
    # fractions and decimals
    ("1/3", "\\frac{1}{3}"),
    ("1/3", "The answer is $\\boxed{\\frac13}$"),
    ("\\frac{1}{2}", "0.5"),
    ("0.5", "1/2"),
    ("\\frac{2}{4}", "\\dfrac{1}{2}"),
    ("2/3", "0.666667"),
    ("0.1", "1/10"),
    ("-\\frac{3}{2}", "-1.5"),
    ("\\frac{1}{3}", "\\boxed{1/3}"),
    # percentages
    ("50%", "0.5"),
    ("0.5", "50%"),
    ("50\\%", "1/2"),
    ("3/4", "75%"),
    ("25%", "\\boxed{25\\%}"),
    # sets (unordered), tuples and intervals (ordered)
    ("{1, 2}", "{2, 1}"),
    ("\\{1,2,3\\}", "\\{3, 2, 1\\}"),
    ("(1, 2)", "(1,2)"),
    ("(1, 2, 3)", "$(1, 2, 3)$"),
    ("[1, 2]", "[1,2]"),
    # expressions, LaTeX and plain
    ("x^2+2x+1", "(x+1)^2"),
    ("\\sqrt{2}/2", "\\frac{1}{\\sqrt{2}}"),
    ("sqrt(2)/2", "1/sqrt(2)"),
    ("2\\sqrt{3}", "\\sqrt{12}"),
    ("\\frac{\\pi}{2}", "\\pi/2"),
    ("e^{2}", "\\exp(2)"),
    ("\\infty", "\\infty"),
    # integers written differently
    ("-1", "- 1"),
    ("1000", "1,000"),
    ("1000", "10^3"),
    ("1000", "1e3"),
    ("5", "5.0"),
    # final answers inside reasoning
    ("12", "12 apples"),
    ("3", "Step 1: 1 + 2 = 3.\nFinal answer: 3"),
    ("7", "Reasoning here.\n#### 7"),
    ("42", "so the answer is 42."),
    ("2", "x = 2"),
    ("x=2", "2"),
    ("{-2, 3}", "The roots are $\\{3, -2\\}$"),
    ("5", "Substituting, we find \\(y = 5\\)"),
    ("\\frac{1}{2}", "Final answer: $\\frac{1}{2}$ of the cake"),
]

NOT_EQUIVALENT = [
    ("1/3", "0.33"),  # trap: a rounded decimal is not the fraction
    ("1/3", "0.3333"),
    ("(1, 2)", "(2, 1)"),  # trap: tuples are ordered
    ("(1, 2, 3)", "(3, 2, 1)"),
    ("{1, 2}", "{1, 2, 3}"),
    ("[1, 2]", "(1, 2)"),  # closed vs open interval
    ("(1, 2)", "[1, 2]"),
    ("x^2+2x+1", "(x+1)^3"),
    ("x+1", "x-1"),
    ("-1", "1"),
    ("5", "5.0001"),
    ("3", "Final answer: 4"),
    ("\\pi/2", "1.57"),
    ("2", "\\boxed{3}"),
    ("50%", "0.05"),
    ("1/2", "2"),
    ("10", "10.5"),
    ("\\sqrt{2}", "1.41"),
    ("6", "I don't know."),
    ("0", "1"),
    ("12", "21"),
    ("a", "b"),
]


def test_the_tables_are_large_enough():
    """The equivalence tables hold at least 40 cases between them, traps included."""
    assert len(EQUIVALENT) + len(NOT_EQUIVALENT) >= 40
    assert ("1/3", "0.33") in NOT_EQUIVALENT and ("(1, 2)", "(2, 1)") in NOT_EQUIVALENT


@pytest.mark.parametrize(("gold", "response"), EQUIVALENT)
def test_equivalent_answers(gold, response):
    """Each pair is judged equal, with a reason naming both answers."""
    ok, reason = equivalent(gold, response)
    assert ok, reason
    assert reason.startswith("final answer") and gold in reason


@pytest.mark.parametrize(("gold", "response"), NOT_EQUIVALENT)
def test_non_equivalent_answers(gold, response):
    """Each pair is judged different, with a reason."""
    ok, reason = equivalent(gold, response)
    assert not ok
    assert reason


def test_trap_reasons_show_both_answers():
    """The reason for 1/3 vs 0.33 names the expected and the given answer."""
    assert equivalent("1/3", "0.33") == (False, "expected 1/3, got 0.33: not equivalent")
    assert equivalent("(1, 2)", "(2, 1)") == (False, "expected (1, 2), got (2, 1): not equivalent")


def test_final_answer_extraction():
    """The final answer is the last boxed value, else the last 'answer' line, else a short reply."""
    assert final_answer("First \\boxed{1}, then \\boxed{\\frac{2}{3}}.") == "\\frac{2}{3}"
    assert final_answer("\\boxed{\\{1, \\{2\\}\\}}") == "\\{1, \\{2\\}\\}"
    assert final_answer("Work.\nFinal answer: 17.") == "17"
    assert final_answer("#### 9") == "9"
    assert final_answer("  42 ") == "42"
    assert final_answer("So $x = 1$ and then $y = \\frac{3}{4}$.") == "y = \\frac{3}{4}"
    assert final_answer("Final answer: $7$ apples") == "7"
    assert final_answer("A long explanation\nwith no conclusion at all, just words and more words here") is None


async def test_math_verifier_reads_response_and_answer():
    """The math verifier compares record.response with data['answer'] and gives a reason and a score."""
    v = MathVerifier()
    good = Record.create(prompt="1/2 + 1/4?", response="We add.\nFinal answer: 3/4", data={"answer": "0.75"})
    bad = Record.create(prompt="1/3 as a decimal?", response="\\boxed{0.33}", data={"answer": "\\frac{1}{3}"})
    vg, vb = await v.verify(good), await v.verify(bad)
    assert vg.passed and vg.score == 1.0 and "3/4" in vg.reason
    assert not vb.passed and vb.reason == "expected \\frac{1}{3}, got 0.33: not equivalent"


async def test_math_verifier_explains_missing_fields():
    """A record without an answer or a response fails with a reason saying which is missing."""
    v = MathVerifier()
    assert "no reference answer in 'answer'" in (await v.verify(Record.create(response="3"))).reason
    assert "no 'response'" in (await v.verify(Record.create(data={"answer": "3"}))).reason
    assert "no final answer" in (await v.verify(Record.create(response="Let me think about it at length.\n" * 3, data={"answer": "3"}))).reason


from fractions import Fraction  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.integers(min_value=-50, max_value=50), st.integers(min_value=1, max_value=50))
@settings(max_examples=40, deadline=None)
def test_fractions_equal_their_long_decimals_but_not_two_digit_roundings(p, q):
    """p/q equals its 9-digit decimal; its 2-digit rounding is equal only when exact."""
    f = Fraction(p, q)
    assert equivalent(f"{p}/{q}", f"Final answer: {float(f):.9f}")[0]
    rounded = f"{float(f):.2f}"
    assert equivalent(f"{p}/{q}", rounded)[0] == (Fraction(rounded) == f)
