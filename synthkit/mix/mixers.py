"""Mixers: blend synthetic records with real ones in stated, reproducible proportions.

Every mixer takes its sources by name. The source ``"real"`` is human data; every other
source is model output, in mapping order, with ``"synthetic"`` (the pipeline's own output)
last, so the *i*-th of them is generation *i*. Records keep their lineage; a mixer only
fills in what a plain JSONL file could not say: a record from a model source gets
``origin="synthetic"`` and, when its generation is still 0, the generation of its source.

Proportions are by record count (``unit="records"``) or by whitespace tokens of the
example's text (``unit="tokens"``). The same seed gives the same mix.

Which mixers hold data in memory (they say so in their docstrings too):

* :class:`RatioMixer` and :class:`RealFloorMixer` hold the real source and stream the rest.
* :class:`AccumulateMixer` streams everything unless asked to shuffle, subsample or
  reweight.
* :class:`StratifiedMixer` and :class:`TailPreservingMixer` hold every source.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import attrs

from synthkit.errors import InputError
from synthkit.interfaces import Mixer, MixReport
from synthkit.records import Record

__all__ = [
    "REAL",
    "SYNTHETIC",
    "Unit",
    "AccumulateMixer",
    "RatioMixer",
    "RealFloorMixer",
    "StratifiedMixer",
    "TailPreservingMixer",
    "example_text",
    "count_tokens",
    "rarity_strata",
]

#: The name of the real (human) source.
REAL = "real"
#: The name of the pipeline's own output.
SYNTHETIC = "synthetic"

Unit = Literal["records", "tokens"]
Key = str | Callable[[Record], Hashable]


def natural_key(value: Any) -> tuple[tuple[int, Any], ...]:
    """Sort key that orders the numbers inside names as numbers: ``rarity-2`` before ``rarity-10``."""
    return tuple((0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", str(value)) if t)


def example_text(record: Record, field: str | None = None) -> str:
    """Return the whole text of a training example: ``field`` if named, else every content part.

    Without ``field`` this joins the prompt, the message contents, the response and a
    string ``text`` data field, so a token count covers the full example.
    """
    if field is not None:
        return record.text(field)
    parts = [record.prompt] if record.prompt is not None else []
    parts.extend(str(m.get("content", "")) for m in record.messages or ())
    if record.response is not None:
        parts.append(record.response)
    text = record.data.get("text")
    if isinstance(text, str):
        parts.append(text)
    return "\n".join(parts)


def count_tokens(record: Record, field: str | None = None) -> int:
    """Return the number of whitespace-separated tokens of :func:`example_text`."""
    return len(example_text(record, field).split())


def _check_fraction(name: str, value: float | None, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if value is None or not (0.0 <= float(value) <= 1.0) or math.isnan(float(value)):
        msg = f"{name} must be a number between 0 and 1, got {value!r}"
        raise InputError(msg)


def _check_unit(unit: str) -> None:
    if unit not in ("records", "tokens"):
        msg = f"unit must be 'records' or 'tokens', got {unit!r}"
        raise InputError(msg)


def _check_total(total: float | None) -> None:
    if total is not None and not total > 0:
        msg = f"total must be a positive number of records or tokens, got {total!r}"
        raise InputError(msg)


def _stamp(record: Record, origin: str, generation: int) -> Record:
    """Return ``record`` with origin and generation filled in for its source (unchanged if already set)."""
    lin = record.lineage
    if origin == REAL or lin.origin == "synthetic" and lin.generation > 0:
        return record
    changes: dict[str, Any] = {}
    if lin.origin != "synthetic":
        changes["origin"] = "synthetic"
    if lin.generation == 0:
        changes["generation"] = max(generation, 1)
    if not changes:
        return record
    return record.evolve(lineage=attrs.evolve(lin, **changes))


def _ordered(sources: Mapping[str, Iterable[Record]]) -> tuple[Iterable[Record] | None, list[tuple[str, int, Iterable[Record]]]]:
    """Split ``sources`` into the real one and the model ones with their generation (1, 2, ...)."""
    real = sources.get(REAL)
    names = [n for n in sources if n not in (REAL, SYNTHETIC)]
    if SYNTHETIC in sources:
        names.append(SYNTHETIC)
    return real, [(n, i, sources[n]) for i, n in enumerate(names, 1)]


def _stamped(name: str, generation: int, records: Iterable[Record]) -> Iterator[tuple[str, Record]]:
    for r in records:
        yield name, _stamp(r, "synthetic", generation)


def _stamp_all(name: str, generation: int, records: Iterable[Record]) -> Iterator[Record]:
    origin = REAL if name == REAL else "synthetic"
    for r in records:
        yield _stamp(r, origin, generation)


def _need_real(mixer: str, sources: Mapping[str, Iterable[Record]]) -> Iterable[Record]:
    real = sources.get(REAL)
    if real is None:
        msg = (
            f"mixer {mixer!r} needs a source named 'real' (the human data); got {sorted(sources)}. "
            f"Pass sources={{'real': 'real.jsonl'}} to Pipeline.mix, or --real on the command line"
        )
        raise InputError(msg)
    return real


class _Base(Mixer):
    """Shared options: unit of proportions, the text field for token counts, the last report."""

    name = "mixer"

    def __init__(self, *, unit: Unit = "records", field: str | None = None, tokens: Callable[[str], int] | None = None) -> None:
        _check_unit(unit)
        self.unit: Unit = unit
        self.field = field
        self._tokens = tokens
        self._asked: dict[str, float] = {}
        self._produced: dict[str, float] = {}

    def weight(self, record: Record) -> float:
        """Return what ``record`` counts for: 1, or its tokens when ``unit="tokens"``."""
        if self.unit == "records":
            return 1.0
        text = example_text(record, self.field)
        return float(self._tokens(text) if self._tokens is not None else len(text.split()))

    @property
    def report(self) -> MixReport:
        """What the last :meth:`mix` produced (so far) against what was asked."""
        return MixReport(asked=dict(self._asked), produced=dict(self._produced), unit=self.unit)


class RatioMixer(_Base):
    """A fixed share of real data: ``real_fraction`` of the output is real, the rest synthetic.

    The share is held exactly (to within one record) all along the stream. Without
    ``total``, every synthetic record is used and real records are added to match; when
    the real source runs out, the mix stops (unless ``repeat_real``), so the share never
    drifts. With ``total``, the output holds that many records (or tokens).

    Memory: holds the real source (to draw from it at random); streams the synthetic ones.

    Args:
        real_fraction: the share of real data, in [0, 1].
        total: the size of the output in ``unit``; ``None`` uses all synthetic data.
        unit: ``"records"`` or ``"tokens"`` (whitespace tokens of the example).
        field: the text field whose tokens count; default: the whole example.
        repeat_real: when real data runs out, draw it again (reshuffled) instead of stopping.
    """

    name = "ratio"

    def __init__(
        self,
        real_fraction: float = 0.2,
        *,
        total: float | None = None,
        unit: Unit = "records",
        field: str | None = None,
        repeat_real: bool = False,
        tokens: Callable[[str], int] | None = None,
    ) -> None:
        super().__init__(unit=unit, field=field, tokens=tokens)
        _check_fraction("real_fraction", real_fraction)
        _check_total(total)
        self.real_fraction = float(real_fraction)
        self.total = total
        self.repeat_real = repeat_real
        self._flush_real = False


    def mix(self, sources: Mapping[str, Iterable[Record]], *, seed: int = 0) -> Iterator[Record]:
        """Yield synthetic records in stream order with real ones interleaved at the asked share."""
        f = self.real_fraction
        floor = self._flush_real
        _, models = _ordered(sources)
        real = _Draw(_need_real(self.name, sources) if f > 0 or floor else (), self.weight, seed, repeat=self.repeat_real)
        self._asked = {REAL: f, SYNTHETIC: 1.0 - f}
        self._produced = produced = {REAL: 0.0, SYNTHETIC: 0.0}
        total = math.inf if self.total is None else float(self.total)
        syn_cap = (1.0 - f) * total
        done = 0.0  # weight emitted so far
        capped = False
        if f < 1.0:
            for _name, rec in itertools.chain.from_iterable(_stamped(n, g, it) for n, g, it in models):
                w = self.weight(rec)
                if produced[SYNTHETIC] + w / 2 > syn_cap:
                    capped = True
                    break
                target = min(f / (1.0 - f) * (produced[SYNTHETIC] + w), f * total)
                pending = real.take_until(produced[REAL], target)
                if pending is None:
                    break  # real data ran out: more synthetic would push the real share below the ask
                produced[SYNTHETIC] += w
                yield rec
                for r, rw in pending:
                    produced[REAL] += rw
                    yield r
                done = produced[SYNTHETIC] + produced[REAL]
        if floor or f >= 1.0:
            budget = total - done
        elif capped:
            budget = f * total - produced[REAL]  # the synthetic share is full: bring real up to its share of total
        else:
            budget = 0.0
        if budget > 0:
            for r, rw in real.drain(budget):
                produced[REAL] += rw
                yield r


class _Draw:
    """Draws records from a list in a seeded random order, by weight, rounding to the nearest record."""

    def __init__(self, records: Iterable[Record], weight: Callable[[Record], float], seed: int, *, repeat: bool = False) -> None:
        self.records = list(records)
        self.rng = random.Random(seed)
        self.rng.shuffle(self.records)
        self.weight = weight
        self.repeat = repeat
        self.pos = 0
        self._last_w = 1.0

    def peek(self) -> tuple[Record, float] | None:
        if self.pos >= len(self.records):
            if not self.repeat or not self.records:
                return None
            self.rng.shuffle(self.records)
            self.pos = 0
        r = self.records[self.pos]
        return r, self.weight(r)

    def take_until(self, have: float, target: float) -> list[tuple[Record, float]] | None:
        """Take records while that brings ``have`` closer to ``target``; ``None`` if they ran out first."""
        out: list[tuple[Record, float]] = []
        while True:
            nxt = self.peek()
            if nxt is None:
                if have + self._last_w / 2 <= target:
                    self.pos -= len(out)  # give them back: the caller stops here
                    return None
                return out
            r, w = nxt
            if have + w / 2 > target:
                return out
            self.pos += 1
            self._last_w = w
            have += w
            out.append((r, w))

    def drain(self, budget: float) -> Iterator[tuple[Record, float]]:
        """Yield the remaining records (once each) while they fit in ``budget``."""
        used = 0.0
        while self.pos < len(self.records):
            r = self.records[self.pos]
            w = self.weight(r)
            if used + w / 2 > budget:
                return
            self.pos += 1
            used += w
            yield r, w


class RealFloorMixer(RatioMixer):
    """Never less than ``real_fraction`` real data: all real data, synthetic up to the floor.

    Every real record is used. Synthetic records are used as long as the real share stays
    at or above the floor; past that, the remaining synthetic records are left out. With
    ``total``, synthetic data takes at most ``(1 - real_fraction) * total`` and real data
    fills the rest, so a short synthetic side means more real data, never less.

    Memory: holds the real source; streams the synthetic ones.

    Args:
        real_fraction: the least share of real data, in [0, 1].
        total: the size of the output in ``unit``; ``None`` uses all real data.
        unit: as for :class:`RatioMixer`.
        field: as for :class:`RatioMixer`.
    """

    name = "real-floor"

    def __init__(
        self,
        real_fraction: float = 0.2,
        *,
        total: float | None = None,
        unit: Unit = "records",
        field: str | None = None,
        tokens: Callable[[str], int] | None = None,
    ) -> None:
        super().__init__(real_fraction, total=total, unit=unit, field=field, tokens=tokens)
        self._flush_real = True


def _share(weights: Mapping[Any, float]) -> dict[Any, float]:
    total = sum(weights.values())
    return {k: (v / total if total else 0.0) for k, v in weights.items()}


class AccumulateMixer(_Base):
    """Keep the real data and every earlier generation, and add the new one (rather than replace).

    This is the remedy of Gerstgrasser et al. (2024): when each generation's data is added
    to what came before instead of replacing it, the test error stays bounded instead of
    growing with every generation. Sources come in order: ``"real"`` first, then the
    earlier generations (any other names, in mapping order, or ``previous``), then
    ``"synthetic"``, the newest.

    Memory: none by default (the sources are streamed one after the other). ``shuffle``,
    ``total`` and ``real_fraction`` hold every source in memory.

    Args:
        previous: earlier generations (iterables of records), oldest first; they come
            after any named sources other than ``"real"`` and ``"synthetic"``.
        real_fraction: if given, the least share of real data: when the accumulated
            synthetic data would push real data below it, real records are repeated
            (drawn again at random) to restore it. Nothing is ever dropped.
        total: subsample the accumulated data to this size, keeping every source's share.
        shuffle: emit the records in a seeded random order instead of source by source.
        unit: as for :class:`RatioMixer`.
        field: as for :class:`RatioMixer`.
    """

    name = "accumulate"

    def __init__(
        self,
        *,
        previous: Sequence[Iterable[Record]] = (),
        real_fraction: float | None = None,
        total: float | None = None,
        shuffle: bool = False,
        unit: Unit = "records",
        field: str | None = None,
        tokens: Callable[[str], int] | None = None,
    ) -> None:
        super().__init__(unit=unit, field=field, tokens=tokens)
        _check_fraction("real_fraction", real_fraction, optional=True)
        _check_total(total)
        self.previous = list(previous)
        self.real_fraction = None if real_fraction is None else float(real_fraction)
        self.total = total
        self.shuffle = shuffle

    def _sources(self, sources: Mapping[str, Iterable[Record]]) -> list[tuple[str, Iterable[Record]]]:
        named = dict(sources)
        newest = named.pop(SYNTHETIC, None)
        real = named.pop(REAL, None)
        ordered = list(named.items())
        for i, prev in enumerate(self.previous, 1):
            name = f"previous{i}"
            while name in sources:
                name += "_"
            ordered.append((name, prev))
        if newest is not None:
            ordered.append((SYNTHETIC, newest))
        return ([(REAL, real)] if real is not None else []) + ordered

    def mix(self, sources: Mapping[str, Iterable[Record]], *, seed: int = 0) -> Iterator[Record]:
        """Yield the real data and every generation (see the class docstring for the order)."""
        ordered = self._sources(sources)
        if self.real_fraction is not None and self.real_fraction > 0:
            _need_real(self.name, sources)
        self._asked = {}
        self._produced = produced = {name: 0.0 for name, _ in ordered}
        first = 0 if ordered and ordered[0][0] == REAL else 1
        stamped = [(name, _stamp_all(name, gen, it)) for gen, (name, it) in enumerate(ordered, first)]
        if self.real_fraction is None and self.total is None and not self.shuffle:
            # keep everything: what was asked is what the sources hold, known once they are read
            for name, it in stamped:
                for r in it:
                    produced[name] += 1.0 if self.unit == "records" else self.weight(r)
                    yield r
            self._asked = _share(produced)
            return
        rng = random.Random(seed)
        pools = {name: [(r, self.weight(r)) for r in it] for name, it in stamped}
        avail = {name: sum(w for _, w in pool) for name, pool in pools.items()}
        asked = _share(avail)
        f = self.real_fraction
        if f is not None and f > 0 and avail.get(REAL, 0.0) > 0:
            natural = asked.get(REAL, 0.0)
            syn = sum(v for k, v in avail.items() if k != REAL)
            extra = f / (1.0 - f) * syn - avail[REAL] if f < 1.0 else 0.0
            if extra > 0:
                base = list(pools[REAL])
                got = 0.0
                while True:
                    r, w = base[rng.randrange(len(base))]
                    if got + w / 2 > extra:
                        break
                    pools[REAL].append((r, w))
                    got += w
                avail[REAL] += got
            share_real = max(f, natural)
            syn_share = _share({k: v for k, v in avail.items() if k != REAL})
            asked = {REAL: share_real, **{k: v * (1.0 - share_real) for k, v in syn_share.items()}}
        out: list[tuple[str, Record, float]] = []
        grand = sum(avail.values())
        for name, pool in pools.items():
            if self.total is not None and grand > 0:
                quota = self.total * avail[name] / grand
                draw = _Draw((r for r, _ in pool), self.weight, rng.randrange(2**31))
                chosen = list(draw.drain(quota))
            else:
                chosen = pool
            out.extend((name, r, w) for r, w in chosen)
        if self.shuffle:
            rng.shuffle(out)
        self._asked = asked
        for name, r, w in out:
            produced[name] += w
            yield r


def _key_fn(key: Key) -> Callable[[Record], Hashable]:
    if callable(key):
        return key

    def get(record: Record) -> Hashable:
        value = record.get(key)
        if value is None:
            msg = f"record {record.id} has no field {key!r} to stratify on; give every record that field or choose another key"
            raise InputError(msg)
        return value if isinstance(value, Hashable) else repr(value)

    return get


def rarity_strata(
    records: Iterable[Record], *, buckets: int = 10, rarest: int = 3, field: str | None = None
) -> Callable[[Record], str]:
    """Return a key that puts a record in a rarity bucket of the real data's vocabulary.

    A record's rarity is the mean surprisal (``-log2 p``) of its ``rarest`` rarest words
    under the unigram distribution of ``records`` (add-half smoothing), counting only words
    the real data holds (a word it never uses says nothing about covering its tail). The
    bucket edges are the quantiles of the real records' rarity, so each bucket holds about
    ``1/buckets`` of the real data.
    Bucket ``"rarity-10/10"`` holds the records richest in rare words: the tail that
    recursive training loses first.
    """
    from synthkit.filters.ngrams import words

    if buckets < 1:
        msg = f"buckets must be at least 1, got {buckets}"
        raise InputError(msg)
    docs = [words(example_text(r, field)) for r in records]
    counts = Counter(w for d in docs for w in d)
    n = sum(counts.values())
    denom = n + 0.5 * (len(counts) + 1)

    def score(tokens: Sequence[str]) -> float:
        known = sorted(counts[t] for t in set(tokens) if t in counts)[:rarest]
        if not known:
            return 0.0
        return sum(-math.log2((c + 0.5) / denom) for c in known) / len(known)

    scores = sorted(score(d) for d in docs)
    edges = [scores[min(len(scores) - 1, (len(scores) * i) // buckets)] for i in range(1, buckets)] if scores else []

    def key(record: Record) -> str:
        s = score(words(example_text(record, field)))
        i = sum(1 for e in edges if s >= e)
        return f"rarity-{i + 1}/{buckets}"

    return key


@attrs.frozen
class StratumShare:
    """How one stratum fared in a stratified or tail-preserving mix (shares by the mixer's unit).

    Attributes:
        real: the stratum's share of the real source.
        synthetic: its share of the synthetic records used.
        asked: the share the mixer aimed for in the output.
        output: its share of the output.
    """

    real: float
    synthetic: float
    asked: float
    output: float


class _Strata(_Base):
    def __init__(self, *, key: Key | None, unit: Unit, field: str | None, tokens: Callable[[str], int] | None) -> None:
        super().__init__(unit=unit, field=field, tokens=tokens)
        self.key = key
        self.strata: dict[Hashable, StratumShare] = {}

    def _load(self, sources: Mapping[str, Iterable[Record]], need_real: bool) -> tuple[list[Record], list[Record]]:
        real_src, models = _ordered(sources)
        if need_real:
            real_src = _need_real(self.name, sources)
        real = list(real_src or ())
        syn = [r for _, r in itertools.chain.from_iterable(_stamped(n, g, it) for n, g, it in models)]
        return real, syn

    def _group(self, records: Sequence[Record], key: Callable[[Record], Hashable]) -> dict[Hashable, list[Record]]:
        groups: dict[Hashable, list[Record]] = defaultdict(list)
        for r in records:
            groups[key(r)].append(r)
        return groups

    def _finish(
        self,
        chosen: list[tuple[str, Hashable, Record, float]],
        real_w: Mapping[Hashable, float],
        syn_w: Mapping[Hashable, float],
        asked_strata: Mapping[Hashable, float],
        asked: dict[str, float],
        rng: random.Random,
    ) -> Iterator[Record]:
        rng.shuffle(chosen)
        out_w: Counter[Hashable] = Counter()
        for _, s, _, w in chosen:
            out_w[s] += w
        pr, ps, po = _share(real_w), _share(syn_w), _share(out_w)
        keys = sorted(set(pr) | set(ps) | set(asked_strata), key=natural_key)
        self.strata = {s: StratumShare(pr.get(s, 0.0), ps.get(s, 0.0), asked_strata.get(s, 0.0), po.get(s, 0.0)) for s in keys}
        self._asked = asked
        self._produced = produced = {REAL: 0.0, SYNTHETIC: 0.0}
        for role, _, r, w in chosen:
            produced[role] += w
            yield r


class StratifiedMixer(_Strata):
    """Hold each stratum (a field's value, e.g. a domain) at a set share, with a real fraction in each.

    Strata follow ``proportions`` or, by default, the real data's shares, so a synthetic set
    skewed towards a few strata is brought back to the real distribution. Inside every
    stratum, ``real_fraction`` of the weight is real; a stratum short of synthetic records
    is filled with real ones (and the other way round), so stratum shares come first.

    Memory: holds every source.

    Args:
        key: the field holding the stratum (``"domain"``), or a function of the record.
        real_fraction: the share of real data inside each stratum.
        proportions: the wanted share of each stratum; by default the real data's.
        total: the largest size of the output; by default all synthetic data over
            ``1 - real_fraction``. It shrinks when a stratum has too few records to hold its share.
        unit: as for :class:`RatioMixer`.
        field: as for :class:`RatioMixer`.
    """

    name = "stratified"

    def __init__(
        self,
        key: Key = "domain",
        *,
        real_fraction: float = 0.2,
        proportions: Mapping[Hashable, float] | None = None,
        total: float | None = None,
        unit: Unit = "records",
        field: str | None = None,
        tokens: Callable[[str], int] | None = None,
    ) -> None:
        super().__init__(key=key, unit=unit, field=field, tokens=tokens)
        _check_fraction("real_fraction", real_fraction)
        _check_total(total)
        if proportions is not None and (not proportions or any(v < 0 for v in proportions.values()) or not sum(proportions.values()) > 0):
            msg = f"proportions must map strata to non-negative shares with a positive sum, got {dict(proportions)!r}"
            raise InputError(msg)
        self.real_fraction = float(real_fraction)
        self.proportions = None if proportions is None else dict(proportions)
        self.total = total

    def mix(self, sources: Mapping[str, Iterable[Record]], *, seed: int = 0) -> Iterator[Record]:
        """Yield the stratified mix in a seeded random order."""
        f = self.real_fraction
        rng = random.Random(seed)
        real, syn = self._load(sources, need_real=f > 0 or self.proportions is None)
        key = _key_fn(self.key)
        rg, sg = self._group(real, key), self._group(syn, key)
        real_w = {s: sum(map(self.weight, rs)) for s, rs in rg.items()}
        syn_w = {s: sum(map(self.weight, rs)) for s, rs in sg.items()}
        target = _share(self.proportions) if self.proportions is not None else _share(real_w)
        total = self.total
        if total is None:
            total = sum(syn_w.values()) / (1.0 - f) if f < 1.0 else sum(real_w.values())
        # no stratum can give more than it has: shrink the total so every share holds
        for s, p in target.items():
            if p > 0:
                total = min(total, (real_w.get(s, 0.0) + syn_w.get(s, 0.0)) / p)
        chosen: list[tuple[str, Hashable, Record, float]] = []
        for s in sorted(target, key=natural_key):
            want = target[s] * total
            want_real, want_syn = f * want, (1.0 - f) * want
            rd = _Draw(rg.get(s, ()), self.weight, rng.randrange(2**31))
            sd = _Draw(sg.get(s, ()), self.weight, rng.randrange(2**31))
            got_syn = list(sd.drain(want_syn))
            short = want_syn - sum(w for _, w in got_syn)
            got_real = list(rd.drain(want_real + max(short, 0.0)))
            short_real = want_real + max(short, 0.0) - sum(w for _, w in got_real)
            if short_real > 0:
                got_syn += list(sd.drain(short_real))
            chosen += [(SYNTHETIC, s, r, w) for r, w in got_syn] + [(REAL, s, r, w) for r, w in got_real]
        yield from self._finish(chosen, real_w, syn_w, target, {REAL: f, SYNTHETIC: 1.0 - f}, rng)


class TailPreservingMixer(_Strata):
    """Spend the real budget where the synthetic data is thin: the rare strata of the real data.

    Synthetic data from a model loses the tails of the real distribution first. With a
    plain ratio, a rare stratum gets ``real_fraction`` of its real share back at best. This
    mixer gives each stratum the synthetic side under-covers the real records it needs to
    reach its real share of the output (as far as the real budget allows, scaled down
    together when it does not), then spreads what is left of the budget over all strata in
    proportion to the real data. Strata come from ``key``, or by default from
    :func:`rarity_strata` (buckets of the mean word rarity under the real data's unigram
    distribution).

    Memory: holds every source.

    Args:
        real_fraction: the share of real data in the output.
        key: the field holding the stratum, a function of the record, or ``None`` for
            rarity buckets.
        buckets: the number of rarity buckets when ``key`` is ``None``.
        total: the size of the output; by default all synthetic data over ``1 - real_fraction``,
            less if the real data is too short to make up ``real_fraction`` of it.
        unit: as for :class:`RatioMixer`.
        field: as for :class:`RatioMixer`.
    """

    name = "tail-preserving"

    def __init__(
        self,
        real_fraction: float = 0.2,
        *,
        key: Key | None = None,
        buckets: int = 10,
        total: float | None = None,
        unit: Unit = "records",
        field: str | None = None,
        tokens: Callable[[str], int] | None = None,
    ) -> None:
        super().__init__(key=key, unit=unit, field=field, tokens=tokens)
        _check_fraction("real_fraction", real_fraction)
        _check_total(total)
        self.real_fraction = float(real_fraction)
        self.buckets = buckets
        self.total = total

    def mix(self, sources: Mapping[str, Iterable[Record]], *, seed: int = 0) -> Iterator[Record]:
        """Yield the mix in a seeded random order; :attr:`strata` says how each stratum fared."""
        f = self.real_fraction
        rng = random.Random(seed)
        real, syn = self._load(sources, need_real=True)
        key = _key_fn(self.key) if self.key is not None else rarity_strata(real, buckets=self.buckets, field=self.field)
        rg = self._group(real, key)
        real_w = {s: sum(map(self.weight, rs)) for s, rs in rg.items()}
        syn_all = sum(map(self.weight, syn))
        real_all = sum(real_w.values())
        total = self.total
        if total is None:
            total = syn_all / (1.0 - f) if f < 1.0 else real_all
        if f > 0:
            total = min(total, real_all / f)  # as with the ratio mixer, scarce real data shrinks the mix
        syn_pick = list(_Draw(syn, self.weight, rng.randrange(2**31)).drain((1.0 - f) * total))
        chosen: list[tuple[str, Hashable, Record, float]] = [(SYNTHETIC, key(r), r, w) for r, w in syn_pick]
        syn_w: Counter[Hashable] = Counter()
        for _, s, _, w in chosen:
            syn_w[s] += w
        out_total = sum(syn_w.values()) + f * total
        p_real = _share(real_w)
        budget = f * total
        need = {s: max(0.0, p * out_total - syn_w.get(s, 0.0)) for s, p in p_real.items()}
        alloc = _allocate(budget, need, p_real, real_w)
        for s in sorted(alloc, key=natural_key):
            picked = _Draw(rg.get(s, ()), self.weight, rng.randrange(2**31)).drain(alloc[s])
            chosen += [(REAL, s, r, w) for r, w in picked]
        asked_strata = {s: (syn_w.get(s, 0.0) + alloc.get(s, 0.0)) / out_total if out_total else 0.0 for s in set(p_real) | set(syn_w)}
        yield from self._finish(chosen, real_w, syn_w, asked_strata, {REAL: f, SYNTHETIC: 1.0 - f}, rng)


def _allocate(budget: float, need: Mapping[Hashable, float], prior: Mapping[Hashable, float], avail: Mapping[Hashable, float]) -> dict[Hashable, float]:
    """Split ``budget`` over strata: first what each ``need``s, then the rest by ``prior``, within ``avail``."""
    want = sum(need.values())
    if want >= budget:
        alloc = {s: n * budget / want if want else 0.0 for s, n in need.items()}
    else:
        alloc = {s: need.get(s, 0.0) + (budget - want) * prior.get(s, 0.0) for s in set(need) | set(prior)}
    # strata with too few real records give their surplus to the others, by prior
    for _ in range(len(alloc) + 1):
        over = {s: a - avail.get(s, 0.0) for s, a in alloc.items() if a > avail.get(s, 0.0)}
        if not over:
            break
        spare = sum(over.values())
        for s in over:
            alloc[s] = avail.get(s, 0.0)
        room = {s: prior.get(s, 0.0) for s in alloc if alloc[s] < avail.get(s, 0.0)}
        if not room or not sum(room.values()):
            break
        z = sum(room.values())
        for s, p in room.items():
            alloc[s] += spare * p / z
    return alloc
