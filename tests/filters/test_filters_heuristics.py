"""Heuristic filters: each threshold on its edge, and a reason on every drop."""

from __future__ import annotations

import pytest

from synthkit.filters.heuristics import (
    EmptyFilter,
    LanguageFilter,
    LengthFilter,
    RefusalFilter,
    RepetitionFilter,
    SymbolFilter,
    TruncatedFilter,
)
from synthkit.records import Lineage, Record


def rec(text: str | None = None, **kw) -> Record:
    data = {"text": text} if text is not None else {}
    return Record.create(data=data, **kw)


PROSE = (
    "The committee met on Tuesday to review the budget for the coming year. Several members raised "
    "concerns about rising maintenance costs, while others argued that new investment in the library "
    "would pay for itself within a decade. After a long debate, they agreed to publish a draft plan."
)


# -- empty and truncated -------------------------------------------------------------------


def test_empty_drops_blank_and_missing_text():
    """Blank text and a record with no text field are dropped with a reason; any visible character passes."""
    f = EmptyFilter()
    assert not f.check(rec("")).passed
    v = f.check(rec("  \n\t "))
    assert not v.passed and v.reason == "empty text"
    v = f.check(Record.create(data={"other": 1}))
    assert not v.passed and v.reason == "no text: field 'text', 'response' or 'prompt' is missing"
    assert f.check(rec(".")).passed


def test_truncated_drops_finish_reason_length_only():
    """finish_reason 'length' is dropped; 'stop' and unknown pass; the set is configurable."""
    f = TruncatedFilter()
    cut = rec("partial answer", lineage=Lineage(origin="synthetic", finish_reason="length"))
    v = f.check(cut)
    assert not v.passed and "length" in v.reason
    assert f.check(rec("done", lineage=Lineage(finish_reason="stop"))).passed
    assert f.check(rec("no lineage")).passed
    g = TruncatedFilter(finish_reasons="length,content_filter")
    assert not g.check(rec("x", lineage=Lineage(finish_reason="content_filter"))).passed


# -- length ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "opts", "passed"),
    [
        ("one two three", {"min_words": 3}, True),
        ("one two", {"min_words": 3}, False),
        ("one two three", {"max_words": 3}, True),
        ("one two three four", {"max_words": 3}, False),
        ("abcde", {"min_chars": 5}, True),
        ("abcd", {"min_chars": 5}, False),
        ("abcde", {"max_chars": 5}, True),
        ("abcdef", {"max_chars": 5}, False),
        ("word", {}, True),
        ("   ", {}, False),  # default min_words=1
    ],
)
def test_length_bounds_are_inclusive(text, opts, passed):
    """Word and character bounds keep texts exactly at the bound and drop one past it."""
    v = LengthFilter(**opts).check(rec(text))
    assert v.passed is passed
    if not passed:
        assert v.reason.startswith(("too short", "too long"))


def test_length_reason_names_count_and_bound():
    """The drop reason states the measured count and the bound it broke."""
    v = LengthFilter(min_words=5).check(rec("just three words"))
    assert v.reason == "too short: 3 words < min_words 5"


def test_length_rejects_inverted_bounds():
    """min above max is a configuration error."""
    with pytest.raises(ValueError, match="min_words"):
        LengthFilter(min_words=10, max_words=5)


def test_length_reads_named_field_and_fails_without_it():
    """field='response' judges the response; a record without the field is dropped with a reason naming it."""
    r = Record.create(prompt="a b c d e f", response="short")
    assert not LengthFilter(min_words=2, field="response").check(r).passed
    assert LengthFilter(min_words=2, field="prompt").check(r).passed
    v = LengthFilter(field="answer").check(r)
    assert not v.passed and v.reason == "no text: field 'answer' is missing"


# -- repetition (Gopher) ---------------------------------------------------------------------


def test_prose_passes_every_repetition_rule():
    """Ordinary prose with no repeats passes the default Gopher thresholds."""
    assert RepetitionFilter().check(rec(PROSE)).passed


def test_duplicate_line_fraction_edge():
    """3 of 10 lines repeated (0.30) passes; 4 of 10 (0.40) is dropped with the fraction in the reason."""
    f = RepetitionFilter(max_dup_line_char_frac=None, max_dup_para_char_frac=None, top_ngrams={}, dup_ngrams={})
    unique = [f"line number {i} says something different" for i in range(7)]
    ok = "\n".join([*unique, unique[0], unique[1], unique[2]])
    assert f.check(rec(ok)).passed
    bad = "\n".join([*unique[:6], unique[0], unique[1], unique[2], unique[3]])
    v = f.check(rec(bad))
    assert not v.passed and v.reason == "duplicate line fraction 0.40 > 0.30"


def test_duplicate_paragraph_fraction():
    """Paragraphs split on blank lines; a repeated paragraph over 30% of paragraphs is dropped."""
    f = RepetitionFilter(max_dup_line_frac=None, max_dup_line_char_frac=None, max_dup_para_char_frac=None, top_ngrams={}, dup_ngrams={})
    paras = ["First paragraph here.", "Second one, different.", "Buy now! Limited offer."]
    text = "\n\n".join([*paras, paras[2], paras[2]])
    v = f.check(rec(text))
    assert not v.passed and v.reason.startswith("duplicate paragraph fraction 0.40")


def test_duplicate_line_character_fraction():
    """One long repeated line can break the 0.20 character share even when few lines repeat."""
    f = RepetitionFilter(max_dup_line_frac=None, max_dup_para_frac=None, max_dup_para_char_frac=None, top_ngrams={}, dup_ngrams={})
    long_line = "This is a long sentence that goes on and on and carries most of the text"
    text = "\n".join(["a", "b", "c", "d", "e", long_line, long_line])
    v = f.check(rec(text))
    assert not v.passed and "duplicate line character fraction" in v.reason


def test_top_ngram_share_counts_only_repeated_grams():
    """A short answer whose 2-grams all occur once passes; a 2-gram repeated over 20% of characters is dropped."""
    f = RepetitionFilter()
    assert f.check(rec("The answer is 42.")).passed
    text = "click here " * 10 + PROSE
    v = f.check(rec(text))
    assert not v.passed and v.reason.startswith("top 2-gram 'click here' covers")


def test_duplicate_ngram_share_edge():
    """A repeated 5-gram block covering under 15% passes; a block repeated to cover more is dropped."""
    f = RepetitionFilter(top_ngrams={})
    base = PROSE.split()
    block = ["alpha", "beta", "gamma", "delta", "epsilon"]
    ok = " ".join(base + block + block)  # 5 repeated words of ~54: about 10% of characters
    assert f.check(rec(ok)).passed
    bad = " ".join(base + block * 4)
    v = f.check(rec(bad))
    assert not v.passed and "duplicate 5-grams cover" in v.reason


def test_repetition_switched_off_with_none_and_empty_maps():
    """Every rule off keeps even pure repetition."""
    f = RepetitionFilter(
        max_dup_line_frac=None, max_dup_para_frac=None, max_dup_line_char_frac=None, max_dup_para_char_frac=None, top_ngrams={}, dup_ngrams={}
    )
    assert f.check(rec("spam\n" * 50)).passed


def test_repetition_rejects_bad_fraction():
    """A threshold outside [0, 1] is a configuration error."""
    with pytest.raises(ValueError, match="fraction"):
        RepetitionFilter(max_dup_line_frac=1.5)


def test_repetition_keeps_empty_and_single_word():
    """Degenerate texts (empty, one word) pass: there is nothing repeated."""
    f = RepetitionFilter()
    assert f.check(rec("")).passed
    assert f.check(rec("hello")).passed


# -- symbols (Gopher) ----------------------------------------------------------------------


def test_hash_ratio_edge():
    """One '#' per 10 words (0.10) passes; two per 10 words is dropped."""
    f = SymbolFilter()
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()
    assert f.check(rec(" ".join(words) + " #")).passed is True  # 1 hash / 11 words
    v = f.check(rec(" ".join(words[:9]) + " ##"))
    assert not v.passed and v.reason.startswith("hash symbols per word")


def test_bullet_and_ellipsis_lines():
    """All-bullet texts (> 90% of lines) and texts whose lines trail off (> 30%) are dropped."""
    f = SymbolFilter(max_ellipsis_ratio=None)
    bullets = "\n".join(f"• item {i}" for i in range(10))
    assert "bullet lines" in f.check(rec(bullets)).reason
    trailing = "\n".join(["first thought...", "second thought...", "a complete line", "another one"])
    assert f.check(rec(trailing)).reason == "lines ending in an ellipsis 0.50 > 0.30"


def test_alpha_word_share_edge():
    """80% of words with a letter passes; 70% is dropped; math text fails, which is why symbols is opt-in."""
    f = SymbolFilter(max_hash_ratio=None, max_ellipsis_ratio=None)
    assert f.check(rec("a b c d e f g h 1 2")).passed
    v = f.check(rec("a b c d e f g 1 2 3"))
    assert not v.passed and v.reason == "words with a letter 0.70 < 0.80"
    assert not f.check(rec("x = 3 + 4 = 7")).passed


def test_non_alpha_char_share_is_optional():
    """The non-alphabetic character share is off by default and drops symbol-heavy text when set."""
    text = "ab12 cd34 ef56"
    assert SymbolFilter(min_alpha_words=None).check(rec(text)).passed
    v = SymbolFilter(min_alpha_words=None, max_non_alpha_chars=0.4).check(rec(text))
    assert not v.passed and "non-alphabetic characters 0.50" in v.reason


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "As an AI language model, I cannot browse the internet.",
        "I'm sorry, but I can't help with that request.",
        "i’m SORRY,   but i CAN’T do this",  # curly quotes, case, spacing
        "Sure! Note: my knowledge cutoff is 2023, so check recent sources.",
    ],
)
def test_refusal_phrases_found_through_case_and_punctuation(text):
    """Refusal phrases match whatever the case, apostrophe style and spacing; the reason quotes the phrase."""
    v = RefusalFilter().check(rec(text))
    assert not v.passed and v.reason.startswith("refusal/boilerplate phrase")


def test_refusal_matches_whole_words_only():
    """A phrase inside longer words does not match, and ordinary answers pass."""
    f = RefusalFilter(phrases=["as an ai"])
    assert f.check(rec("Thomas an aide came by")).passed
    assert f.check(rec("The capital of France is Paris.")).passed


def test_refusal_custom_and_head_only():
    """extra_phrases adds phrases; head_chars limits the search to the start of the text."""
    f = RefusalFilter(extra_phrases=["lorem ipsum"])
    assert not f.check(rec("... Lorem, ipsum dolor")).passed
    g = RefusalFilter(head_chars=30)
    assert g.check(rec("A long and useful answer. " * 3 + "As an AI language model")).passed
    assert not g.check(rec("As an AI language model, no.")).passed


# -- language -------------------------------------------------------------------------------


def test_language_filter_keeps_allowed_language():
    """English prose passes an English filter; French prose is dropped naming the detected language."""
    f = LanguageFilter(languages="en")
    assert f.check(rec(PROSE)).passed
    v = f.check(rec("Le comité s'est réuni mardi pour examiner le budget de l'année prochaine et publier un plan."))
    assert not v.passed and v.reason.startswith("language fr")


def test_language_filter_skips_short_text_and_checks_confidence():
    """Texts under min_chars pass unchecked; min_confidence drops an uncertain guess."""
    f = LanguageFilter(languages=["en"], min_chars=20)
    assert f.check(rec("ok")).passed
    strict = LanguageFilter(languages=["en"], min_confidence=0.999999)
    v = strict.check(rec("The answer is 42 because of it."))
    assert not v.passed and "uncertain" in v.reason
