"""Heuristic quality filters: each judges one record and gives a reason for every drop.

Defaults and their sources:

* :class:`RepetitionFilter` and :class:`SymbolFilter` use the thresholds of Gopher's quality
  filters (Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights from
  Training Gopher", appendix A1.1 and table A1). Those rules were tuned on web pages; a
  synthetic response is often short, so a top n-gram only counts when it occurs more than
  once, and :class:`SymbolFilter` is not in the default set (math and code answers are
  mostly symbols).
* :class:`RefusalFilter` matches phrases common in assistant refusals and boilerplate
  (the list is :data:`REFUSAL_PHRASES`).
* :class:`LengthFilter` keeps 1 to 100,000 words (Gopher's upper bound; Gopher's lower bound
  of 50 words suits web pages, not answers) with no character bound unless set.

Every filter takes ``field``: ``None`` reads ``text``, else ``response``, else ``prompt``.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from synthkit.errors import InputError, MissingDependencyError
from synthkit.interfaces import Filter
from synthkit.filters.ngrams import normalize
from synthkit.records import Record, Verdict

__all__ = [
    "TextFilter",
    "read_text",
    "EmptyFilter",
    "TruncatedFilter",
    "LengthFilter",
    "RepetitionFilter",
    "SymbolFilter",
    "RefusalFilter",
    "LanguageFilter",
    "REFUSAL_PHRASES",
    "GOPHER_TOP_NGRAMS",
    "GOPHER_DUP_NGRAMS",
    "DEFAULT_FILTERS",
]

#: The filters ``synthkit filter`` runs when none are named.
DEFAULT_FILTERS = ("empty", "truncated", "length", "repetition", "refusal")

#: Gopher table A1: drop when the most frequent n-gram covers more than this share of the characters.
GOPHER_TOP_NGRAMS: Mapping[int, float] = {2: 0.20, 3: 0.18, 4: 0.16}
#: Gopher table A1: drop when duplicated n-grams cover more than this share of the characters.
GOPHER_DUP_NGRAMS: Mapping[int, float] = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}

#: Phrases of assistant refusals and boilerplate, matched on normalised text (case, punctuation).
REFUSAL_PHRASES: tuple[str, ...] = (
    "as an ai language model",
    "as a language model",
    "as an ai model",
    "as an ai assistant",
    "as an artificial intelligence",
    "i am an ai language model",
    "i'm an ai language model",
    "i'm sorry, but i can't",
    "i'm sorry, but i cannot",
    "i am sorry, but i cannot",
    "i'm sorry, i can't",
    "i apologize, but i cannot",
    "i apologize, but i can't",
    "i cannot fulfill",
    "i can't fulfill",
    "i cannot assist with",
    "i can't assist with",
    "i cannot help with",
    "i can't help with",
    "i'm unable to provide",
    "i am unable to provide",
    "i cannot provide",
    "i can't provide",
    "i don't have personal opinions",
    "i do not have personal opinions",
    "i don't have access to real-time",
    "i do not have access to real-time",
    "my knowledge cutoff",
    "my training data only goes up to",
    "it is not appropriate for me to",
    "against my programming",
    "openai's content policy",
    "violates my guidelines",
)


def read_text(record: Record, field: str | None) -> tuple[str | None, str]:
    """Return ``(text, "")``, or ``(None, reason)`` when the record has no such text field.

    Filters drop such a record with the reason rather than raise, so in a batch one record
    without the field does not fail the others.
    """
    try:
        return record.text(field), ""
    except InputError:
        value = record.get(field) if field is not None else None
        where = repr(field) if field is not None else "'text', 'response' or 'prompt'"
        got = "missing" if value is None else f"not a string ({type(value).__name__})"
        return None, f"no text: field {where} is {got}"


class TextFilter(Filter):
    """Base of the heuristic filters: reads the text field and builds verdicts.

    Args:
        field: the record field to judge; ``None`` means ``text``, else ``response``, else ``prompt``.
    """

    name = "text-filter"

    def __init__(self, *, field: str | None = None) -> None:
        self.field = field

    def check(self, record: Record) -> Verdict:
        """Read the text (a record without it is dropped, naming the field) and :meth:`judge` it."""
        text, error = read_text(record, self.field)
        if text is None:
            return self.drop(error)
        return self.judge(text, record)

    def judge(self, text: str, record: Record) -> Verdict:
        """Return the verdict on ``text``, the record's text."""
        raise NotImplementedError

    def keep(self) -> Verdict:
        return Verdict(self.name, True)

    def drop(self, reason: str, score: float | None = None) -> Verdict:
        return Verdict(self.name, False, reason, score=score)


def _check_fraction(name: str, value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        msg = f"{name} must be a fraction between 0 and 1 (or None to switch the rule off), got {value}"
        raise ValueError(msg)


class EmptyFilter(TextFilter):
    """Drop records whose text is missing, empty or only whitespace."""

    name = "empty"

    def judge(self, text: str, record: Record) -> Verdict:
        if not text.strip():
            return self.drop("empty text")
        return self.keep()


class TruncatedFilter(Filter):
    """Drop records the teacher cut off: ``lineage.finish_reason`` in ``finish_reasons``.

    Args:
        finish_reasons: finish reasons that mean the output is incomplete; ``"length"``
            (OpenAI's and most servers' reason for hitting ``max_tokens``) by default.
    """

    name = "truncated"

    def __init__(self, *, finish_reasons: Iterable[str] = ("length",), field: str | None = None) -> None:
        if isinstance(finish_reasons, str):
            finish_reasons = [s.strip() for s in finish_reasons.split(",") if s.strip()]
        self.finish_reasons = frozenset(finish_reasons)
        self.field = field  # unused; accepted so every built-in filter takes field=

    def check(self, record: Record) -> Verdict:
        reason = record.lineage.finish_reason
        if reason in self.finish_reasons:
            return Verdict(self.name, False, f"truncated: finish_reason {reason!r}")
        return Verdict(self.name, True)


class LengthFilter(TextFilter):
    """Drop texts outside word and character bounds (words are whitespace-separated tokens).

    Args:
        min_words: fewest words kept (default 1).
        max_words: most words kept (default 100,000, Gopher's bound); ``None`` for no bound.
        min_chars: fewest characters kept (default 0).
        max_chars: most characters kept; ``None`` (default) for no bound.
    """

    name = "length"

    def __init__(
        self,
        *,
        min_words: int | None = 1,
        max_words: int | None = 100_000,
        min_chars: int | None = 0,
        max_chars: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(field=field)
        self.min_words, self.max_words = min_words, max_words
        self.min_chars, self.max_chars = min_chars, max_chars
        for lo, hi, what in ((min_words, max_words, "words"), (min_chars, max_chars, "chars")):
            if lo is not None and hi is not None and lo > hi:
                msg = f"length filter: min_{what} ({lo}) is above max_{what} ({hi})"
                raise ValueError(msg)

    def judge(self, text: str, record: Record) -> Verdict:
        n_chars = len(text)
        if self.min_chars is not None and n_chars < self.min_chars:
            return self.drop(f"too short: {n_chars} chars < min_chars {self.min_chars}")
        if self.max_chars is not None and n_chars > self.max_chars:
            return self.drop(f"too long: {n_chars} chars > max_chars {self.max_chars}")
        if self.min_words is not None or self.max_words is not None:
            n_words = len(text.split())
            if self.min_words is not None and n_words < self.min_words:
                return self.drop(f"too short: {n_words} words < min_words {self.min_words}")
            if self.max_words is not None and n_words > self.max_words:
                return self.drop(f"too long: {n_words} words > max_words {self.max_words}")
        return self.keep()


_PARAGRAPH = re.compile(r"\n\s*\n")


def _duplicates(items: Sequence[str]) -> tuple[int, int]:
    """Return (duplicate items, characters in duplicate items): every copy after the first counts."""
    seen: set[str] = set()
    n = chars = 0
    for x in items:
        if x in seen:
            n += 1
            chars += len(x)
        else:
            seen.add(x)
    return n, chars


class RepetitionFilter(TextFilter):
    """Gopher's repetition rules (Rae et al. 2021, table A1); each threshold is a maximum.

    Lines are split on newlines and paragraphs on blank lines (blank lines and paragraphs
    are ignored); words are whitespace-separated. Character shares are of the text's word
    characters. Every rule can be switched off with ``None``.

    Args:
        max_dup_line_frac: share of lines that repeat an earlier line (0.30).
        max_dup_para_frac: share of paragraphs that repeat an earlier one (0.30).
        max_dup_line_char_frac: share of characters in repeated lines (0.20).
        max_dup_para_char_frac: share of characters in repeated paragraphs (0.20).
        top_ngrams: ``{n: max share}`` of characters covered by the most frequent n-gram,
            counted only when it occurs more than once ({2: 0.20, 3: 0.18, 4: 0.16}).
        dup_ngrams: ``{n: max share}`` of characters covered by n-grams that occur before
            in the text ({5: 0.15, 6: 0.14, ..., 10: 0.10}).
    """

    name = "repetition"

    def __init__(
        self,
        *,
        max_dup_line_frac: float | None = 0.30,
        max_dup_para_frac: float | None = 0.30,
        max_dup_line_char_frac: float | None = 0.20,
        max_dup_para_char_frac: float | None = 0.20,
        top_ngrams: Mapping[int, float] | None = None,
        dup_ngrams: Mapping[int, float] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(field=field)
        self.max_dup_line_frac = max_dup_line_frac
        self.max_dup_para_frac = max_dup_para_frac
        self.max_dup_line_char_frac = max_dup_line_char_frac
        self.max_dup_para_char_frac = max_dup_para_char_frac
        self.top_ngrams = dict(GOPHER_TOP_NGRAMS if top_ngrams is None else {int(k): v for k, v in top_ngrams.items()})
        self.dup_ngrams = dict(GOPHER_DUP_NGRAMS if dup_ngrams is None else {int(k): v for k, v in dup_ngrams.items()})
        for name in ("max_dup_line_frac", "max_dup_para_frac", "max_dup_line_char_frac", "max_dup_para_char_frac"):
            _check_fraction(name, getattr(self, name))
        for n, v in (*self.top_ngrams.items(), *self.dup_ngrams.items()):
            if n < 1:
                msg = f"repetition filter: n-gram sizes must be at least 1, got {n}"
                raise ValueError(msg)
            _check_fraction(f"{n}-gram share", v)

    def judge(self, text: str, record: Record) -> Verdict:
        total = len(text)
        if total == 0:
            return self.keep()
        if "\n" in text:
            for kind, parts, max_frac, max_char in (
                ("line", [x.strip() for x in text.splitlines()], self.max_dup_line_frac, self.max_dup_line_char_frac),
                ("paragraph", [x.strip() for x in _PARAGRAPH.split(text)], self.max_dup_para_frac, self.max_dup_para_char_frac),
            ):
                parts = [x for x in parts if x]
                if len(parts) < 2:
                    continue
                n_dup, dup_chars = _duplicates(parts)
                frac = n_dup / len(parts)
                if max_frac is not None and frac > max_frac:
                    return self.drop(f"duplicate {kind} fraction {frac:.2f} > {max_frac:.2f}", frac)
                char_frac = dup_chars / total
                if max_char is not None and char_frac > max_char:
                    return self.drop(f"duplicate {kind} character fraction {char_frac:.2f} > {max_char:.2f}", char_frac)
        words = text.split()
        n_words = len(words)
        if n_words < 2:
            return self.keep()
        word_chars = sum(map(len, words))
        for n in sorted(self.top_ngrams):
            if n_words < n:
                break
            grams = Counter(zip(*(words[i:] for i in range(n))))
            gram, count = grams.most_common(1)[0]
            if count < 2:
                break  # no n-gram repeats, so no longer one does
            share = count * sum(map(len, gram)) / word_chars
            if share > self.top_ngrams[n]:
                return self.drop(f"top {n}-gram {' '.join(gram)!r} covers {share:.2f} > {self.top_ngrams[n]:.2f}", share)
        for n in sorted(self.dup_ngrams):
            if n_words <= n:
                break
            share = self._dup_ngram_share(words, n, word_chars)
            if share == 0.0:
                break  # no n-gram repeats, so no longer one does
            if share > self.dup_ngrams[n]:
                return self.drop(f"duplicate {n}-grams cover {share:.2f} > {self.dup_ngrams[n]:.2f}", share)
        return self.keep()

    @staticmethod
    def _dup_ngram_share(words: list[str], n: int, word_chars: int) -> float:
        """Return the share of word characters inside n-grams seen earlier in the text (overlaps counted once)."""
        seen: set[tuple[str, ...]] = set()
        covered_until = 0
        chars = 0
        for i, gram in enumerate(zip(*(words[j:] for j in range(n)))):
            if gram in seen:
                start = max(i, covered_until)
                end = i + n
                chars += sum(len(words[k]) for k in range(start, end))
                covered_until = end
            else:
                seen.add(gram)
        return chars / word_chars


class SymbolFilter(TextFilter):
    """Gopher's symbol and alphabetic rules (Rae et al. 2021, appendix A1.1).

    Not in the default set: math and code answers are mostly symbols. Every rule can be
    switched off with ``None``.

    Args:
        max_hash_ratio: most ``#`` per word (0.1).
        max_ellipsis_ratio: most ``...``/``…`` per word (0.1).
        max_bullet_lines: most share of lines starting with a bullet (0.9).
        max_ellipsis_lines: most share of lines ending with an ellipsis (0.3).
        min_alpha_words: least share of words with an alphabetic character (0.8).
        max_non_alpha_chars: most share of non-whitespace characters that are not
            alphabetic (``None``: off; not a Gopher rule).
    """

    name = "symbols"
    _BULLETS = ("•", "●", "○", "▪", "■", "□", "◦", "‣", "⁃", "-", "*", "–")

    def __init__(
        self,
        *,
        max_hash_ratio: float | None = 0.1,
        max_ellipsis_ratio: float | None = 0.1,
        max_bullet_lines: float | None = 0.9,
        max_ellipsis_lines: float | None = 0.3,
        min_alpha_words: float | None = 0.8,
        max_non_alpha_chars: float | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(field=field)
        self.max_hash_ratio = max_hash_ratio
        self.max_ellipsis_ratio = max_ellipsis_ratio
        self.max_bullet_lines = max_bullet_lines
        self.max_ellipsis_lines = max_ellipsis_lines
        self.min_alpha_words = min_alpha_words
        self.max_non_alpha_chars = max_non_alpha_chars
        for name in ("max_bullet_lines", "max_ellipsis_lines", "min_alpha_words", "max_non_alpha_chars"):
            _check_fraction(name, getattr(self, name))

    def judge(self, text: str, record: Record) -> Verdict:
        words = text.split()
        if not words:
            return self.keep()
        n = len(words)
        if self.max_hash_ratio is not None:
            r = text.count("#") / n
            if r > self.max_hash_ratio:
                return self.drop(f"hash symbols per word {r:.2f} > {self.max_hash_ratio:.2f}", r)
        if self.max_ellipsis_ratio is not None:
            r = (text.count("...") + text.count("…")) / n
            if r > self.max_ellipsis_ratio:
                return self.drop(f"ellipses per word {r:.2f} > {self.max_ellipsis_ratio:.2f}", r)
        lines = [x.strip() for x in text.splitlines() if x.strip()]
        if lines and self.max_bullet_lines is not None:
            r = sum(x.startswith(self._BULLETS) for x in lines) / len(lines)
            if r > self.max_bullet_lines:
                return self.drop(f"bullet lines {r:.2f} > {self.max_bullet_lines:.2f}", r)
        if lines and self.max_ellipsis_lines is not None:
            r = sum(x.endswith(("...", "…")) for x in lines) / len(lines)
            if r > self.max_ellipsis_lines:
                return self.drop(f"lines ending in an ellipsis {r:.2f} > {self.max_ellipsis_lines:.2f}", r)
        if self.min_alpha_words is not None:
            r = sum(any(c.isalpha() for c in w) for w in words) / n
            if r < self.min_alpha_words:
                return self.drop(f"words with a letter {r:.2f} < {self.min_alpha_words:.2f}", r)
        if self.max_non_alpha_chars is not None:
            chars = "".join(words)
            r = sum(not c.isalpha() for c in chars) / len(chars)
            if r > self.max_non_alpha_chars:
                return self.drop(f"non-alphabetic characters {r:.2f} > {self.max_non_alpha_chars:.2f}", r)
        return self.keep()


class RefusalFilter(TextFilter):
    """Drop texts containing a refusal or boilerplate phrase ("As an AI language model...").

    Phrases and text are compared after :func:`synthkit.filters.ngrams.normalize` (case,
    punctuation, whitespace), on whole words.

    Args:
        phrases: the phrases to look for (default :data:`REFUSAL_PHRASES`).
        extra_phrases: phrases added to ``phrases``.
        head_chars: only look at the first this many characters (``None``: everywhere).
    """

    name = "refusal"

    def __init__(
        self,
        *,
        phrases: Iterable[str] | None = None,
        extra_phrases: Iterable[str] = (),
        head_chars: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(field=field)
        if isinstance(extra_phrases, str):
            extra_phrases = [extra_phrases]
        raw = [*(REFUSAL_PHRASES if phrases is None else phrases), *extra_phrases]
        self.phrases = {f" {normalize(p)} ": p for p in raw if normalize(p)}
        self.head_chars = head_chars
        self._pattern = re.compile("|".join(re.escape(p) for p in sorted(self.phrases, key=len, reverse=True))) if self.phrases else None

    def judge(self, text: str, record: Record) -> Verdict:
        if self._pattern is None:
            return self.keep()
        if self.head_chars is not None:
            text = text[: self.head_chars]
        m = self._pattern.search(f" {normalize(text)} ")
        if m:
            return self.drop(f"refusal/boilerplate phrase {self.phrases[m.group(0)]!r}")
        return self.keep()


@functools.cache
def _langid() -> Any:
    """Return py3langid's identifier (loaded once per process: about 1.5 s)."""
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier
    except ImportError as exc:
        msg = "the language filter needs py3langid: pip install 'synthkit[lang]'"
        raise MissingDependencyError(msg) from exc
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


class LanguageFilter(TextFilter):
    """Keep texts in the given languages, detected with py3langid (its model ships in the package).

    Needs the extra ``synthkit[lang]`` (``pip install py3langid``).

    Args:
        languages: ISO 639-1 codes to keep, e.g. ``["en"]`` or ``"en,fr"``.
        min_confidence: a text whose top language has a lower probability is dropped as
            "uncertain" (0 keeps them when the top language is allowed).
        min_chars: texts shorter than this are kept without a check (too short to tell).
    """

    name = "language"

    def __init__(
        self,
        *,
        languages: Iterable[str] | str = ("en",),
        min_confidence: float = 0.0,
        min_chars: int = 20,
        field: str | None = None,
    ) -> None:
        super().__init__(field=field)
        if isinstance(languages, str):
            languages = [s.strip() for s in languages.split(",") if s.strip()]
        self.languages = frozenset(languages)
        if not self.languages:
            msg = "language filter: give at least one language code, e.g. languages='en'"
            raise ValueError(msg)
        _check_fraction("min_confidence", min_confidence)
        self.min_confidence = min_confidence
        self.min_chars = min_chars
        self._ident = _langid()

    def judge(self, text: str, record: Record) -> Verdict:
        if len(text.strip()) < self.min_chars:
            return self.keep()
        lang, prob = self._ident.classify(text)
        prob = float(prob)
        if lang not in self.languages:
            return self.drop(f"language {lang} (p={prob:.2f}) not in {','.join(sorted(self.languages))}", prob)
        if prob < self.min_confidence:
            return self.drop(f"language uncertain: {lang} p={prob:.2f} < {self.min_confidence:.2f}", prob)
        return self.keep()
