"""Shared text tools: normalisation, words, n-grams and their vectorised hashes agree."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from synthkit.filters.ngrams import hash64, ngram_hash_batch, ngram_hashes, normalize, word_hash_batch, word_ngrams, words

# ASCII letters, punctuation and whitespace, plus a few non-ASCII letters and marks
alphabet = st.sampled_from(list(string.ascii_letters + string.digits + string.punctuation + " \t\n") + list("éßÅ’“”—…\u00a0\u3000Ωж"))
texts = st.text(alphabet, max_size=80)


def test_normalize_folds_case_punctuation_and_space():
    """Case, punctuation (ASCII and Unicode), control characters and runs of whitespace all fold away."""
    assert normalize("  Hello,\tWORLD!!\n") == "hello world"
    assert normalize("«Straße» — done…") == "strasse done"
    assert normalize("It’s\x00fine") == "it s fine"
    assert normalize("ﬁne") == "fine"  # NFKC


def test_words_and_ngrams():
    """words() splits normalised text; word_ngrams gives sliding windows, and the whole text when short."""
    assert words("A dog-eat-dog world.") == ["a", "dog", "eat", "dog", "world"]
    assert word_ngrams(["a", "b", "c", "d"], 3) == ["a b c", "b c d"]
    assert word_ngrams(["a", "b"], 3) == ["a b"]
    assert word_ngrams([], 3) == []


def test_hash64_is_stable_unsigned_64_bit():
    """hash64 is xxh3-64: a fixed value for a fixed text, in [0, 2**64)."""
    assert hash64("hello") == hash64("hello") != hash64("hello ")
    assert 0 <= hash64("hello") < 2**64


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, min_size=1, max_size=6), st.integers(1, 6))
def test_gram_hashes_are_a_bijection_of_gram_strings(batch, n):
    """Gram k of a text hashes gram k of word_ngrams(words(text)); equal grams hash equal, distinct grams differ."""
    grams, offsets = ngram_hash_batch(batch, n)
    seen: dict[int, str] = {}
    back: dict[str, int] = {}
    for i, t in enumerate(batch):
        expected = word_ngrams(words(t), n)
        got = grams[offsets[i] : offsets[i + 1]].tolist()
        assert len(got) == len(expected)
        for h, g in zip(got, expected):
            assert seen.setdefault(h, g) == g
            assert back.setdefault(g, h) == h


@settings(max_examples=100, deadline=None)
@given(st.lists(texts, min_size=2, max_size=6))
def test_hashes_do_not_depend_on_the_batch(batch):
    """A text's word hashes are the same alone as inside any batch."""
    flat, offsets = word_hash_batch(batch)
    for i, t in enumerate(batch):
        alone, _ = word_hash_batch([t])
        assert alone.tolist() == flat[offsets[i] : offsets[i + 1]].tolist()


def test_very_long_text_is_hashed_in_segments_consistently():
    """A text longer than one numpy segment (1 MB) has the same grams as its pieces would."""
    unit = "alpha beta gamma delta epsilon zeta eta theta "
    long_text = unit * 40000  # about 1.9 MB
    grams, offsets = ngram_hash_batch([long_text], 3)
    assert offsets[1] == len(long_text.split()) - 2
    assert set(grams.tolist()) == ngram_hashes(unit * 3, 3)


def test_ngram_hashes_set_matches_normalisation():
    """Texts equal after normalisation have equal gram sets."""
    assert ngram_hashes("Hello, World! How are you?", 2) == ngram_hashes("hello world how ARE you", 2)
    assert ngram_hashes("", 2) == set()


def test_many_texts_span_several_segments():
    """A batch larger than one numpy segment (1 MB), mixing ASCII and non-ASCII texts, hashes like each text alone."""
    texts = [("Ünïcode " if i % 7 == 0 else "") + " ".join(f"w{i}x{j}" for j in range(300)) for i in range(600)]
    grams, offsets = ngram_hash_batch(texts, 5)
    assert sum(len(t) for t in texts) > 2**20
    for i in (0, 1, 299, 599):
        alone, _ = ngram_hash_batch([texts[i]], 5)
        assert alone.tolist() == grams[offsets[i] : offsets[i + 1]].tolist()
