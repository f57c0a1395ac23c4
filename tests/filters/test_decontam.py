"""Decontamination: planted eval items are caught through light edits; reasons name set, item and span."""

from __future__ import annotations

import json

import pytest

from synthkit.filters.decontam import Decontaminate, EvalItem, read_eval_items
from synthkit.errors import InputError
from synthkit.records import Record

GSM = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
    "How many clips did Natalia sell altogether in April and May?"
)
MATH = "Find the number of ordered pairs of positive integers whose product is one hundred and whose sum is even."


@pytest.fixture
def evals(tmp_path):
    gsm = tmp_path / "gsm8k_test.jsonl"
    gsm.write_text(
        json.dumps({"id": "gsm-1", "question": GSM, "answer": "72"})
        + "\n"
        + json.dumps({"id": "gsm-2", "question": "What is seven times six?", "answer": "42"})
        + "\n"
    )
    math = tmp_path / "math.jsonl"
    math.write_text(json.dumps({"problem": MATH, "solution": "There are 4 such pairs."}) + "\n")
    return [gsm, math]


def check(f: Decontaminate, text: str):
    return f.check(Record.create(response=text))


def test_planted_item_with_light_edits_is_caught(evals):
    """A copied eval question with changed case, punctuation and two replaced words, inside other text, is dropped."""
    f = Decontaminate(evals)
    edited = GSM.upper().replace("FRIENDS", "pals").replace("ALTOGETHER", "in total").replace(",", " ;")
    v = check(f, f"Here is a practice problem. {edited} Let's think step by step.")
    assert not v.passed
    assert "eval set 'gsm8k_test' item gsm-1" in v.reason
    assert "span 'in april and then she sold half as many clips in may how many clips did natalia sell'" in v.reason


def test_clean_text_passes(evals):
    """Unrelated text, and text sharing fewer than 13 consecutive words with an item, pass."""
    f = Decontaminate(evals)
    assert check(f, "A train leaves the station at noon travelling at sixty miles per hour.").passed
    assert check(f, "Natalia sold clips to 48 of her friends in April and that was all.").passed  # 11 shared words


def test_second_set_named_in_reason(evals):
    """A record copying the second file's item names that set and its line number as the item."""
    v = check(Decontaminate(evals), "Problem: " + MATH)
    assert not v.passed and "eval set 'math' item 1" in v.reason


def test_short_eval_text_matched_whole_when_long_enough(tmp_path):
    """An eval text shorter than n words is matched as a whole word sequence if it has min_words words."""
    p = tmp_path / "short.jsonl"
    p.write_text(json.dumps({"question": "What is the sum of two and two in base ten arithmetic?"}) + "\n")
    f = Decontaminate([p])
    assert not check(f, "so, what is the sum of two and two in base ten arithmetic? four").passed
    assert check(f, "what is the sum of two and two").passed
    tiny = Decontaminate([p], min_words=13)
    assert len(tiny) == 0
    assert check(tiny, "what is the sum of two and two in base ten arithmetic").passed


def test_min_matches_raises_the_bar(evals):
    """min_matches=10 keeps a record sharing only a few 13-grams and drops a full copy."""
    f = Decontaminate(evals, min_matches=10)
    words = GSM.split()
    assert check(f, " ".join(words[:15])).passed  # 3 shared 13-grams
    assert not check(f, GSM).passed


def test_plain_text_eval_files_and_items(tmp_path):
    """A .txt eval file is one item per line; EvalItem objects can be passed directly."""
    p = tmp_path / "heldout.txt"
    p.write_text("first held out line that is long enough to make a thirteen word gram\n")
    f = Decontaminate([p, EvalItem("inline", "x1", MATH)])
    assert f.sets == ["heldout", "inline"]
    assert "eval set 'heldout' item 1" in check(f, "first held out line that is long enough to make a thirteen word gram!").reason
    assert "eval set 'inline' item x1" in check(f, MATH).reason


def test_eval_fields_restricts_what_is_indexed(evals):
    """eval_fields='answer' indexes only answers, so a copied question passes."""
    f = Decontaminate(evals, eval_fields="answer")
    assert check(f, GSM).passed


def test_missing_and_malformed_eval_files(tmp_path):
    """A missing eval file and a non-JSON line raise InputError naming the file (and line)."""
    with pytest.raises(InputError, match="does not exist"):
        Decontaminate([tmp_path / "nope.jsonl"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok"}\nnot json\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2"):
        list(read_eval_items(bad))


def test_batch_matches_single_checks(evals):
    """check_batch gives the same verdicts as check, record by record."""
    f = Decontaminate(evals)
    recs = [Record.create(response=t) for t in (GSM, "nothing here at all", MATH, "")]
    assert f.check_batch(recs) == [f.check(r) for r in recs]
    assert [v.passed for v in f.check_batch(recs)] == [False, True, False, True]
