"""Exact dedup: normalisation, reasons, field choice, registration."""

from __future__ import annotations

from synthkit.filters.dedup import ExactDedup
from synthkit.records import Record


def _r(rid: str, **kw) -> Record:
    return Record.create(id=rid, **kw)


def test_later_copy_dropped_with_id_of_first():
    """A second record with the same text is dropped and its reason names the first record's id."""
    f = ExactDedup()
    assert f.check(_r("a", data={"text": "Hello world"})).passed
    v = f.check(_r("b", data={"text": "Hello world"}))
    assert not v.passed
    assert v.reason == "exact duplicate of a"
    assert v.name == "exact-dedup"


def test_normalisation_ignores_case_whitespace_punctuation():
    """Texts differing only in case, whitespace and punctuation count as duplicates."""
    f = ExactDedup()
    assert f.check(_r("a", response="Hello,   World!")).passed
    assert not f.check(_r("b", response="hello world")).passed
    assert not f.check(_r("c", response="  HELLO\n\tworld ...")).passed
    assert f.check(_r("d", response="hello there world")).passed


def test_default_field_prefers_text_then_response_then_prompt():
    """With no field named, text is used before response, and response before prompt."""
    f = ExactDedup()
    assert f.check(_r("a", prompt="same", response="x", data={"text": "one"})).passed
    assert not f.check(_r("b", response="one")).passed
    assert f.check(_r("c", prompt="one")).passed is False
    assert f.check(_r("d", prompt="two")).passed


def test_named_field_is_used():
    """field='prompt' compares prompts only, whatever the responses."""
    f = ExactDedup(field="prompt")
    assert f.check(_r("a", prompt="Q", response="A1")).passed
    assert not f.check(_r("b", prompt="q", response="A2")).passed


def test_missing_field_is_dropped_naming_the_field():
    """A record without the named field is dropped with a reason naming the field, and is not indexed."""
    f = ExactDedup(field="answer")
    v = f.check(_r("a", prompt="q"))
    assert not v.passed and v.reason == "no text: field 'answer' is missing"
    assert len(f) == 0
    v = f.check(_r("b", data={"answer": 42}))
    assert v.reason == "no text: field 'answer' is not a string (int)"


def test_index_holds_one_entry_per_distinct_text():
    """The index grows with distinct texts, not with records."""
    f = ExactDedup()
    for i in range(100):
        f.check(_r(str(i), data={"text": f"doc {i % 10}"}))
    assert len(f) == 10


# -- properties ----------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from synthkit.filters.ngrams import normalize  # noqa: E402

variants = st.sampled_from(["Hello world", "hello, WORLD!", "Goodbye world", "goodbye   world.", "x", "X?", ""])


def _kept(texts: list[str]) -> list[int]:
    f = ExactDedup()
    return [i for i, t in enumerate(texts) if f.check(_r(str(i), data={"text": t})).passed]


@settings(max_examples=100, deadline=None)
@given(st.lists(variants, max_size=20), st.randoms(use_true_random=False))
def test_exact_keeps_one_per_normalised_text_in_any_order(texts, rnd):
    """Whatever the order, exactly one record per distinct normalised text is kept, and it is the first one seen."""
    order = list(range(len(texts)))
    rnd.shuffle(order)
    shuffled = [texts[i] for i in order]
    kept = _kept(shuffled)
    assert sorted(normalize(shuffled[i]) for i in kept) == sorted({normalize(t) for t in texts})
    seen: set[str] = set()
    for i, t in enumerate(shuffled):
        assert (i in kept) == (normalize(t) not in seen)
        seen.add(normalize(t))


@settings(max_examples=100, deadline=None)
@given(st.lists(variants, max_size=20))
def test_exact_is_idempotent(texts):
    """Deduplicating the kept records again keeps all of them."""
    once = [texts[i] for i in _kept(texts)]
    assert _kept(once) == list(range(len(once)))
