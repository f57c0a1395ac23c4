"""Final answers written in prose and everyday notation, and hedged answers that must not be verified."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthkit.records import Record
from synthkit.verify.math import MathVerifier, equivalent, final_answers

NOTATIONS = [
    # the examples
    ("1000", "The total is 1,000 apples."),
    ("1/4", "The probability is 25%."),
    ("16*pi", "\\boxed{16\\pi}"),
    ("16\\pi", "16*pi"),
    ("16\\pi", "Final answer: 16π"),
    # thousands separators
    ("1234567", "There are 1,234,567 grains."),
    ("1000000", "\\boxed{1,000,000}"),
    ("2500.75", "Final answer: 2,500.75"),
    # currency
    ("12", "It costs $12."),
    ("12", "It costs \\$12."),
    ("1234.5", "The cost is $1,234.50."),
    ("5", "Final answer: €5"),
    ("7.25", "She pays 7.25 dollars."),
    ("30", "#### $30"),
    ("12", "\\boxed{\\$12}"),
    # units
    ("5", "The distance is 5 km."),
    ("5", "Final answer: 5 cm^2"),
    ("3", "The speed is 3 m/s."),
    ("90", "The angle is 90°."),
    ("90", "\\boxed{90^\\circ}"),
    ("42", "Final answer: 42 apples"),
    # percentages
    ("0.25", "Final answer: 25 percent"),
    ("3/4", "The answer is 75%"),
    ("1/4", "\\boxed{25\\%}"),
    # scientific notation
    ("1500", "1.5e3"),
    ("1500", "Final answer: 1.5E+3"),
    ("0.0015", "The rate is 1.5e-3."),
    ("1500", "$1.5 \\times 10^3$"),
    ("1500", "Final answer: 1.5 × 10^3"),
    ("1500", "Final answer: 1.5 x 10^3"),
    ("6.02 \\times 10^{23}", "Final answer: 6.02e23"),
    # mixed numbers
    ("5/2", "2 1/2"),
    ("5/2", "Final answer: 2 1/2"),
    ("15/4", "You need 3 3/4 cups."),
    ("5/2", "$2\\frac{1}{2}$"),
    ("7/3", "\\boxed{2\\tfrac{1}{3}}"),
    # the same value said twice is one answer
    ("1/2", "So \\boxed{1/2}, that is \\boxed{0.5}."),
    ("1/2", "Final answer: 0.5, which is 1/2"),
]

NOT_EQUAL = [
    ("1", "2 1/2"),  # a mixed number, not 2 * 1/2
    ("5000", "The distance is 5 km."),  # units are set aside, not converted
    ("12", "It costs $21."),
    ("1/4", "The probability is 2.5%."),
    ("1000", "The total is 100 apples."),
    ("16\\pi", "\\boxed{16}"),
    ("150", "1.5e3"),
    ("3", "3-5"),  # a hyphen between numbers is a minus sign: 3-5 is -2
]

#: Hedged responses and the values they hedge between; none may verify against any of them.
HEDGES = [
    ("3 or 4", ("3", "4")),
    ("It is either 3 or 4.", ("3", "4")),
    ("x = 3 or x = 4", ("3", "4")),
    ("Final answer: $3$ or $4$", ("3", "4")),
    ("The answer is \\boxed{3} or \\boxed{4}.", ("3", "4")),
    ("First \\boxed{3}. On reflection \\boxed{4}.", ("3", "4")),
    ("\\boxed{3 \\text{ or } 4}", ("3", "4")),
    ("The value is between 3 and 5.", ("3", "5")),
    ("Final answer: 3 to 5", ("3", "5")),
    ("Final answer: 3–5", ("3", "5")),
    ("\\boxed{[3, 5]}", ("3", "5")),
    ("Final answer: 3, 4", ("3", "4")),
    ("\\boxed{3, 4}", ("3", "4")),
    ("The roots are $\\{3, 4\\}$", ("3", "4")),
    ("It costs $3 or $4.", ("3", "4")),
    ("The probability is 25% or 50%.", ("1/4", "1/2")),
    ("Final answer: 1,000 or 2,000", ("1000", "2000")),
]


@pytest.mark.parametrize(("gold", "response"), NOTATIONS)
def test_everyday_notations_are_read(gold, response):
    """Thousands separators, currency, units, percentages, scientific notation and mixed numbers read as the number."""
    ok, reason = equivalent(gold, response)
    assert ok, reason
    assert reason.startswith("final answer ")


@pytest.mark.parametrize(("gold", "response"), NOT_EQUAL)
def test_notation_traps_stay_unequal(gold, response):
    """Reading a notation never makes a different number equal."""
    assert not equivalent(gold, response)[0]


@pytest.mark.parametrize(("response", "values"), HEDGES, ids=[h[0] for h in HEDGES])
def test_hedged_answers_verify_against_none_of_their_values(response, values):
    """A response that commits to several answers, a range or a list is not verified by one of them matching."""
    for gold in values:
        ok, reason = equivalent(gold, response)
        assert not ok, (gold, reason)
        assert "hedging is not verified" in reason or "not equivalent" in reason, reason
    assert "hedging is not verified" in equivalent(values[0], response)[1]


def test_a_set_answer_may_list_its_members():
    """Where the reference is a set or a tuple, listing its members is the answer, not a hedge."""
    assert equivalent("{3, 4}", "Final answer: 3, 4")[0]
    assert equivalent("(1, 2)", "\\boxed{(1, 2)}")[0]
    assert not equivalent("{3, 4}", "\\boxed{\\{3, 4\\}} or maybe \\boxed{\\{3, 5\\}}")[0]


def test_the_extraction_rule():
    """Boxed values first, then the answer line, then inline maths (joined by 'or'), then a one-line reply's values."""
    assert final_answers("\\boxed{2} and \\boxed{2}") == ["2"]
    assert final_answers("Work: $x=1$.\nFinal answer: 1,000 apples") == ["1000"]
    assert final_answers("So $x = 1$ and then $y = \\frac{3}{4}$.") == ["y = \\frac{3}{4}"]
    assert final_answers("It is $3$ or $4$.") == ["3", "4"]
    assert final_answers("The cost is between $3 and $5.") == ["3", "5"]
    assert final_answers("A long explanation\nwith no conclusion at all") == []


async def test_the_math_verifier_rejects_hedges_with_the_reason():
    """In a pipeline the hedged record is dropped and its reason says it hedged."""
    v = MathVerifier()
    hedged = await v.verify(Record.create(response="So \\boxed{12} or \\boxed{14}.", data={"answer": "12"}))
    prose = await v.verify(Record.create(response="The total is 1,000 apples.", data={"answer": "1000"}))
    assert not hedged.passed and hedged.score == 0.0
    assert hedged.reason == "expected one answer, 12; the response boxes 2 different answers (12, 14): hedging is not verified"
    assert prose.passed


@given(st.integers(-10**6, 10**6), st.integers(-10**6, 10**6), st.sampled_from(["{a} or {b}", "\\boxed{{{a}}} then \\boxed{{{b}}}", "between {a} and {b}", "Final answer: {a} or {b}"]))
@settings(max_examples=60, deadline=None)
def test_two_different_values_never_verify(a, b, form):
    """For any two different integers, a response giving both verifies against neither; giving one verifies it."""
    response = form.format(a=a, b=b)
    if a != b:
        assert not equivalent(str(a), response)[0]
        assert not equivalent(str(b), response)[0]
    assert equivalent(str(a), f"Final answer: {a}")[0]


@given(st.integers(0, 10**12))
@settings(max_examples=60, deadline=None)
def test_thousands_separators_never_change_the_number(n):
    """A number written with thousands separators, in a sentence, equals the bare number."""
    assert equivalent(str(n), f"The total is {n:,} items.")[0]
    assert equivalent(f"{n:,}", str(n))[0]
