"""Duplicate removal: exact (normalised text, 64-bit hash) and near (MinHash LSH).

Both are :class:`~synthkit.Filter` steps with an index that grows as records pass, so in a
pipeline a duplicate is dropped before any later (paid) step sees it. The first copy is kept;
every later copy is dropped with a reason naming the id of the kept copy.

Both run in two phases, so an engine can spread them over processes and machines:

* :meth:`~ExactDedup.prepare` (and :meth:`NearDedup.prepare`) turns records into a batch of
  keys (a text hash; MinHash band keys, signatures and gram hashes). It depends on the records
  only, so it runs anywhere, in any order, in parallel.
* :meth:`~ExactDedup.decide` judges a prepared batch against an index, in input order. The
  index is one object in this process (what :meth:`check_batch` uses), or an index split into
  shards by key (:class:`ShardedExactIndex`, :class:`ShardedNearIndex`) over any transport that
  implements :class:`Shards` (:class:`LocalShards` here; Ray actors in ``synthkit-ray``). The
  verdicts are the same either way: keep the first in input order.

Near dedup chooses its LSH layout from the threshold (:func:`choose_bands`), so that a pair at
the threshold becomes a candidate with high probability, and confirms candidates with the exact
Jaccard similarity of the gram sets by default.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from synthkit.errors import MissingDependencyError
from synthkit.filters.heuristics import read_text
from synthkit.filters.ngrams import hash64, normalize
from synthkit.interfaces import Filter
from synthkit.records import Record, Verdict

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "CONFIRM",
    "ENGINES",
    "BandIndex",
    "BandTable",
    "ExactBatch",
    "ExactDedup",
    "ExactShard",
    "LocalShards",
    "NearBatch",
    "NearDedup",
    "NearShard",
    "ShardedExactIndex",
    "ShardedNearIndex",
    "Shards",
    "candidate_probability",
    "choose_bands",
    "oph_signatures",
    "rensa_signatures",
    "shard_of",
]


# -- shards: an index split by key, over any transport ---------------------------------


class Shards(Protocol):
    """The shards of an index, as an engine reaches them (in this process, Ray actors, ...).

    ``args[i]`` is the argument tuple for shard ``i``, or ``None`` to leave that shard out.
    Calls to one shard run in the order they were made, whichever method made them.
    """

    def __len__(self) -> int: ...

    def map(self, method: str, args: Sequence[tuple[Any, ...] | None]) -> list[Any]:
        """Call ``method`` on each shard given arguments, wait, and return the results in shard order (``None`` where left out)."""
        ...

    def tell(self, method: str, args: Sequence[tuple[Any, ...] | None]) -> None:
        """Call ``method`` on each shard given arguments without waiting (a later call sees its effect)."""
        ...


class LocalShards:
    """Shards that are plain objects in this process: the reference transport (and what tests use).

    Args:
        parts: one shard object per shard (:meth:`ExactDedup.shard`, :meth:`NearDedup.shard`).
    """

    def __init__(self, parts: Sequence[Any]) -> None:
        self.parts = list(parts)

    def __len__(self) -> int:
        return len(self.parts)

    def map(self, method: str, args: Sequence[tuple[Any, ...] | None]) -> list[Any]:
        return [None if a is None else getattr(p, method)(*a) for p, a in zip(self.parts, args)]

    def tell(self, method: str, args: Sequence[tuple[Any, ...] | None]) -> None:
        self.map(method, args)


_SHARD_SALT = 0x5EED5A17D0C0FFEE


def shard_of(keys: np.ndarray, shards: int) -> np.ndarray:
    """Return the shard (``0 .. shards-1``) of each 64-bit key: a remix of the key, so it is independent of the key's own bits."""
    import numpy as np

    from synthkit.filters.ngrams import mix64

    if shards == 1:
        return np.zeros(len(keys), dtype=np.int64)
    with np.errstate(over="ignore"):
        return (mix64(np.asarray(keys, dtype=np.uint64) ^ np.uint64(_SHARD_SALT)) % np.uint64(shards)).astype(np.int64)


def _split(shard: np.ndarray, shards: int) -> list[np.ndarray]:
    """Return, per shard, the positions (in order) of the items that belong to it."""
    import numpy as np

    order = np.argsort(shard, kind="stable")
    bounds = np.searchsorted(shard[order], np.arange(shards + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(shards)]


# -- exact duplicates ------------------------------------------------------------------


@attrs.frozen(eq=False)
class ExactBatch:
    """Records prepared for exact dedup: each record's id and normalised-text hash.

    Attributes:
        ids: the records' ids.
        keys: the xxh3-64 hash of each record's normalised text (``0`` where it has none).
        reasons: ``None`` for a record with text, else why it has none (it is dropped with that reason).
    """

    ids: tuple[str, ...]
    keys: tuple[int, ...]
    reasons: tuple[str | None, ...]

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: Sequence[int]) -> ExactBatch:
        """Return the batch of the records at ``rows`` (in that order), as if only they had been prepared."""
        return ExactBatch(tuple(self.ids[i] for i in rows), tuple(self.keys[i] for i in rows), tuple(self.reasons[i] for i in rows))


class ExactShard:
    """What one shard of an exact-dedup index holds: the first id of every text hash it has seen."""

    def __init__(self) -> None:
        self.seen: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.seen)

    def first(self, keys: Sequence[int], ids: Sequence[str]) -> list[str | None]:
        """For each key in order: ``None`` when it is new (the record is now its first), else the first record's id."""
        seen = self.seen
        out: list[str | None] = []
        for k, rid in zip(keys, ids):
            f = seen.get(k)
            if f is None:
                seen[k] = rid
            out.append(f)
        return out


class ShardedExactIndex:
    """An exact-dedup index split over shards by text hash; each shard sees its keys in input order."""

    def __init__(self, shards: Shards) -> None:
        self.shards = shards

    def first(self, keys: Sequence[int], ids: Sequence[str]) -> list[str | None]:
        """See :meth:`ExactShard.first`."""
        import numpy as np

        if not keys:
            return []
        n = len(self.shards)
        parts = _split(shard_of(np.array(keys, dtype=np.uint64), n), n)
        args = [([keys[j] for j in p.tolist()], [ids[j] for j in p.tolist()]) if p.size else None for p in parts]
        out: list[str | None] = [None] * len(keys)
        for p, res in zip(parts, self.shards.map("first", args)):
            if res is not None:
                for j, f in zip(p.tolist(), res):
                    out[j] = f
        return out


def _read_texts(records: Sequence[Record], field: str | None) -> tuple[tuple[str, ...], tuple[str | None, ...], list[str | None]]:
    """Return what a preparer keeps of ``records``: their ids, why each has no text (``None`` when it has one), and the texts (``None`` where missing)."""
    read = [read_text(r, field) for r in records]
    return tuple(r.id for r in records), tuple(None if t is not None else why for t, why in read), [t for t, _ in read]


def _exact_batch(ids: tuple[str, ...], reasons: tuple[str | None, ...], texts: list[str | None]) -> ExactBatch:
    """The :class:`ExactBatch` of texts (``None`` where a record has none)."""
    return ExactBatch(ids, tuple(0 if t is None else hash64(normalize(t)) for t in texts), reasons)


class ExactDedup(Filter):
    """Drop records whose normalised text was seen before.

    Text is normalised with :func:`synthkit.filters.ngrams.normalize` (case, Unicode form,
    punctuation, whitespace) and hashed to 64 bits (xxh3). The index keeps one hash and
    one id per distinct text, whatever the text's length.

    Args:
        field: the record field holding the text; ``None`` means ``text``, else
            ``response``, else ``prompt`` (see :meth:`Record.text`).

    Note:
        Two different texts collide with probability about ``n**2 / 2**65`` for ``n``
        distinct texts (about 3e-8 for a million).
    """

    name = "exact-dedup"
    batch_size = 4096  # hashing a batch at once: fewer, larger numpy calls
    stateful = True  # the index grows as records pass: one place, input order

    def __init__(self, field: str | None = None) -> None:
        self.field = field
        self._shard = ExactShard()
        self._keep = Verdict(self.name, True)

    @property
    def _seen(self) -> dict[int, str]:
        return self._shard.seen

    def __len__(self) -> int:
        """Return the number of distinct texts seen."""
        return len(self._shard)

    def check(self, record: Record) -> Verdict:
        """Keep the first record with a given normalised text; drop later copies naming the first."""
        return self.check_batch([record])[0]

    def check_batch(self, records: Sequence[Record]) -> list[Verdict]:
        """Return one verdict per record, in order (same result as :meth:`check` one by one)."""
        return self.decide(self.prepare(records))

    # -- the two phases ------------------------------------------------------------------

    def prepare(self, records: Sequence[Record]) -> ExactBatch:
        """Hash each record's normalised text; depends on the records only (run it anywhere, in parallel)."""
        return self.preparer(records)()

    def preparer(self, records: Sequence[Record]) -> Callable[[], ExactBatch]:
        """Return :meth:`prepare` of ``records`` as a call that holds only their ids and texts (it pickles small, to run in another process)."""
        return functools.partial(_exact_batch, *_read_texts(records, self.field))

    def decide(self, batch: ExactBatch, index: ExactShard | ShardedExactIndex | None = None) -> list[Verdict]:
        """Judge a prepared batch in order against ``index`` (default: this filter's own), adding its new texts.

        Batches must reach the index in input order; within a batch, a record may duplicate an
        earlier one of the same batch.
        """
        index = self._shard if index is None else index
        live = [j for j, why in enumerate(batch.reasons) if why is None]
        firsts = index.first([batch.keys[j] for j in live], [batch.ids[j] for j in live])
        out: list[Verdict] = [Verdict(self.name, False, why) if why is not None else self._keep for why in batch.reasons]
        for j, first in zip(live, firsts):
            if first is not None:
                out[j] = Verdict(self.name, False, f"exact duplicate of {first}")
        return out

    def shard(self, shard: int = 0, shards: int = 1) -> ExactShard:
        """Return an empty shard of this filter's index (``shard`` of ``shards``)."""
        return ExactShard()

    def sharded(self, shards: Shards) -> ShardedExactIndex:
        """Return the index over ``shards`` (each made by :meth:`shard`), for :meth:`decide`."""
        return ShardedExactIndex(shards)


# -- near duplicates: choosing the LSH layout --------------------------------------------

#: (false positive, false negative) weights of :func:`choose_bands`: candidates are confirmed, so a
#: false positive costs one comparison while a false negative is a duplicate kept.
BAND_WEIGHTS = (0.02, 0.98)


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Return the probability that two texts of Jaccard ``similarity`` share a band: ``1 - (1 - s**rows)**bands``."""
    return 1.0 - (1.0 - similarity**rows) ** bands


@functools.cache
def choose_bands(threshold: float, num_perm: int, weights: tuple[float, float] = BAND_WEIGHTS) -> tuple[int, int]:
    """Return the ``(bands, rows)`` with ``bands * rows <= num_perm`` that minimise the weighted LSH error at ``threshold``.

    As datasketch's ``MinHashLSH`` chooses its parameters: the false-positive area is the
    candidate probability integrated over similarities ``[0, threshold]``, the false-negative
    area one minus it over ``[threshold, 1]``; the error is ``weights[0] * fp + weights[1] * fn``,
    and the first minimum in the order (bands, then rows, ascending) wins. The integrands are
    polynomials of degree ``bands * rows``, integrated exactly by Gauss-Legendre quadrature.

    With the default weights (false negatives count 49 times more: a candidate is confirmed, so a
    false positive costs a comparison while a false negative keeps a duplicate), a pair at the
    threshold becomes a candidate with probability 0.94 to 0.99 for thresholds 0.4 to 0.98 at
    112 permutations (0.98 at 0.7, with 22 bands of 5 rows).
    """
    import numpy as np

    if not 0.0 < threshold <= 1.0:
        msg = f"threshold must be in (0, 1], got {threshold}"
        raise ValueError(msg)
    if num_perm < 1:
        msg = f"num_perm must be at least 1, got {num_perm}"
        raise ValueError(msg)
    pairs = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    bands = np.array([p[0] for p in pairs], dtype=float)[:, None]
    rows = np.array([p[1] for p in pairs], dtype=float)[:, None]
    x, w = np.polynomial.legendre.leggauss(num_perm // 2 + 2)

    def area(f: Any, a: float, b: float) -> np.ndarray:
        s = (b - a) / 2 * x + (a + b) / 2
        return (b - a) / 2 * (f(s[None, :]) * w[None, :]).sum(axis=1)

    fp = area(lambda s: 1.0 - (1.0 - s**rows) ** bands, 0.0, threshold)
    fn = area(lambda s: (1.0 - s**rows) ** bands, threshold, 1.0)
    error = weights[0] * fp + weights[1] * fn
    return pairs[int(np.argmin(error))]


def _binomial_tail(n: int, p: float, k: int) -> float:
    """Return P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    return min(1.0, sum(math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq) for i in range(k, n + 1)))


# -- near duplicates: MinHash ----------------------------------------------------------

_EMPTY = 0xFFFFFFFF
_BLOCK = 4096  # kept signatures per storage block
_DENSIFY_TRIES = 48


def _seeded(seed: int, salt: int) -> int:
    return hash64(f"synthkit-minhash:{seed}:{salt}")


def oph_signatures(grams: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """Return MinHash signatures by one-permutation hashing with optimal densification.

    Each gram is hashed once; its high bits pick one of ``num_perm`` bins and its low 32
    bits are the value; a bin keeps its minimum. Empty bins borrow the value of a bin
    chosen by a seeded hash of (bin, attempt), the same for every text (Shrivastava 2017,
    "Optimal densification for fast and accurate minwise hashing"), so the share of equal
    slots of two signatures estimates the Jaccard similarity of their gram sets.

    Args:
        grams: flat ``uint64`` gram hashes (see :func:`synthkit.filters.ngrams.ngram_hash_batch`).
        offsets: ``offsets[i]:offsets[i+1]`` are the grams of text ``i``.
        num_perm: signature length.
        seed: changes every hash.

    Returns:
        A ``(texts, num_perm)`` ``uint32`` array; a text with no grams has all slots ``2**32-1``.
    """
    import numpy as np

    from synthkit.filters.ngrams import mix64

    k = num_perm
    n_docs = len(offsets) - 1
    counts = np.diff(offsets)
    doc = np.repeat(np.arange(n_docs, dtype=np.int64), counts)
    with np.errstate(over="ignore"):
        h = mix64(grams ^ np.uint64(_seeded(seed, 0)))
        bins = (((h >> np.uint64(32)) * np.uint64(k)) >> np.uint64(32)).astype(np.int64)
    vals = (h & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    np.minimum(vals, np.uint32(_EMPTY - 1), out=vals)  # keep 2**32-1 as the "empty" mark
    sig = np.full(n_docs * k, _EMPTY, dtype=np.uint32)
    np.minimum.at(sig, doc * k + bins, vals)
    sig = sig.reshape(n_docs, k)
    filled = sig != _EMPTY
    rows, cols = np.nonzero(~filled & (counts > 0)[:, None])
    if rows.size:
        src = _densify_table(k, seed)
        out_vals = np.full(rows.size, _EMPTY, dtype=np.uint32)
        todo = np.arange(rows.size)
        for t in range(src.shape[0]):
            cand = src[t, cols[todo]]
            ok = filled[rows[todo], cand]
            hit = todo[ok]
            out_vals[hit] = sig[rows[hit], src[t, cols[hit]]]
            todo = todo[~ok]
            if todo.size == 0:
                break
        if todo.size:  # rare (texts with very few grams): take the next filled bin clockwise
            for i in todo.tolist():
                r, c = rows[i], cols[i]
                ring = np.roll(filled[r], -c)
                out_vals[i] = sig[r, (c + int(np.argmax(ring))) % k]
        sig[rows, cols] = out_vals
    return sig


@functools.cache
def _densify_table(k: int, seed: int) -> np.ndarray:
    import numpy as np

    from synthkit.filters.ngrams import mix64

    t = np.arange(_DENSIFY_TRIES, dtype=np.uint64)[:, None]
    j = np.arange(k, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        h = mix64((t << np.uint64(32)) ^ j ^ np.uint64(_seeded(seed, 1)))
    return (((h >> np.uint64(32)) * np.uint64(k)) >> np.uint64(32)).astype(np.int64)


def rensa_signatures(grams: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """Return R-MinHash signatures computed by rensa (Rust), as a ``(texts, num_perm)`` ``uint32`` array."""
    import numpy as np

    try:
        import rensa
    except ImportError as exc:  # pragma: no cover - rensa is a core dependency
        msg = "near-dedup engine 'rensa' needs the rensa package: pip install rensa (or use engine='numpy')"
        raise MissingDependencyError(msg) from exc
    n_docs = len(offsets) - 1
    if n_docs == 0:
        return np.zeros((0, num_perm), np.uint32)
    m = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
        grams, offsets.astype(np.uint64), num_perm=num_perm, seed=seed & 0xFFFFFFFFFFFFFFFF
    )
    rows = m.to_rows()  # lists of ints: the only way out of rensa's matrix; fromiter reads them fastest
    sig = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.uint32, count=n_docs * num_perm).reshape(n_docs, num_perm)
    sig[np.diff(offsets) == 0] = _EMPTY
    return sig


ENGINES = {"numpy": oph_signatures, "rensa": rensa_signatures}
CONFIRM = ("minhash", "exact", "none")


# -- near duplicates: band-key indexes -------------------------------------------------


def _expand_ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (which range, position) for every position of the ranges ``[lo[i], hi[i])``."""
    import numpy as np

    n = hi - lo
    which = np.repeat(np.arange(len(lo), dtype=np.int64), n)
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(n)[:-1])), n)
    return which, starts + np.arange(int(n.sum()), dtype=np.int64)


class BandIndex:
    """LSH band keys of kept records: sorted numpy arrays plus a small dict of recent keys.

    About 12 bytes per key (a ``uint64`` key and an ``int32`` record number) once merged;
    the recent part (at most ``tail_size`` keys) is a dict, merged into the arrays when full.
    Lookups are binary searches, so they slow down once the arrays outgrow the CPU caches;
    :class:`BandTable` is the default index of :class:`NearDedup`. Both have :meth:`lookup`
    and :meth:`insert`.
    """

    def __init__(self, tail_size: int = 1 << 18) -> None:
        import numpy as np

        self.keys = np.zeros(0, dtype=np.uint64)
        self.vals = np.zeros(0, dtype=np.int32)
        self.tail: dict[int, int | list[int]] = {}
        self.tail_size = tail_size
        self._tail_n = 0

    def __len__(self) -> int:
        return int(self.keys.size) + self._tail_n

    def locate(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the ranges ``[lo, hi)`` of each key in the merged arrays (empty when absent)."""
        import numpy as np

        return np.searchsorted(self.keys, keys, side="left"), np.searchsorted(self.keys, keys, side="right")

    def in_tail(self, keys: list[int]) -> set[int]:
        """Return the keys present in the recent part."""
        return set(filter(self.tail.__contains__, keys))

    def candidates(self, keys: list[int], lo: list[int], hi: list[int]) -> set[int]:
        """Return the record numbers sharing any of ``keys`` (with their merged ranges ``lo``, ``hi``)."""
        found: set[int] = set()
        for a, b in zip(lo, hi):
            if b > a:
                found.update(self.vals[a:b].tolist())
        tail = self.tail
        for k in keys:
            v = tail.get(k)
            if v is None:
                continue
            if isinstance(v, list):
                found.update(v)
            else:
                found.add(v)
        return found

    def add(self, keys: list[int], record: int) -> None:
        """Add one record's keys."""
        tail = self.tail
        for k in keys:
            old = tail.setdefault(k, record)
            if old is record or old == record:
                continue
            if isinstance(old, list):
                old.append(record)
            else:
                tail[k] = [old, record]
        self._tail_n += len(keys)

    def add_many(self, keys: list[int], records: list[int]) -> None:
        """Add keys known to be new (in neither part, each once), with their record numbers."""
        self.tail.update(zip(keys, records))
        self._tail_n += len(keys)

    def maybe_merge(self) -> None:
        """Merge the recent part into the sorted arrays once it holds ``tail_size`` keys."""
        if self._tail_n < self.tail_size:
            return
        import numpy as np

        ks: list[int] = []
        vs: list[int] = []
        for k, v in self.tail.items():
            if isinstance(v, list):
                ks.extend([k] * len(v))
                vs.extend(v)
            else:
                ks.append(k)
                vs.append(v)
        k_arr = np.array(ks, dtype=np.uint64)
        v_arr = np.array(vs, dtype=np.int32)
        order = np.argsort(k_arr, kind="stable")
        k_arr, v_arr = k_arr[order], v_arr[order]
        at = np.searchsorted(self.keys, k_arr, side="right")
        self.keys = np.insert(self.keys, at, k_arr)
        self.vals = np.insert(self.vals, at, v_arr)
        self.tail = {}
        self._tail_n = 0

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(positions, numbers)``: for each stored (key, number) pair whose key is ``keys[position]``."""
        import numpy as np

        keys = np.asarray(keys, dtype=np.uint64)
        lo, hi = self.locate(keys)
        which, at = _expand_ranges(lo, hi)
        pos, nums = [which], [self.vals[at].astype(np.int64)]
        if self.tail:
            tp: list[int] = []
            tn: list[int] = []
            for i, k in enumerate(keys.tolist()):
                v = self.tail.get(k)
                if v is None:
                    continue
                for x in v if isinstance(v, list) else (v,):
                    tp.append(i)
                    tn.append(x)
            pos.append(np.array(tp, dtype=np.int64))
            nums.append(np.array(tn, dtype=np.int64))
        return np.concatenate(pos), np.concatenate(nums)

    def insert(self, keys: np.ndarray, numbers: np.ndarray) -> None:
        """Add ``(key, number)`` pairs (a key may already be present, or repeat)."""
        import numpy as np

        for k, v in zip(np.asarray(keys).tolist(), np.asarray(numbers).tolist()):
            self.add([k], v)
        self.maybe_merge()


class BandTable:
    """LSH band keys of kept records in an open-addressing hash table: the default index of :class:`NearDedup`.

    Linear probing over numpy arrays, at most ``max_load`` full (it doubles when it would pass
    that), so a lookup costs a few array reads whatever the size, where a binary search over
    sorted keys makes about 25, most of them cache misses, at 40 million keys. Lookups and
    inserts are vectorised over the batch; growing moves the pairs in slot order, a chunk at a
    time, so it needs the old and the new table but little else.

    Memory: 12 bytes a slot (a ``uint64`` key and a ``uint32`` record number, widened to
    ``int64`` past 2**32 - 1); at ``max_load=0.7``, 17 to 34 bytes a key (about 24 on average).
    """

    def __init__(self, capacity: int = 1 << 12, *, max_load: float = 0.7, grow_chunk: int = 1 << 20) -> None:
        import numpy as np

        if not 0.1 <= max_load <= 0.9:
            msg = f"BandTable max_load must be in [0.1, 0.9], got {max_load}"
            raise ValueError(msg)
        bits = max(4, (capacity - 1).bit_length())
        self.max_load = max_load
        self.grow_chunk = grow_chunk  # old slots moved at a time when the table grows
        self._bits = bits
        self._keys = np.zeros(1 << bits, dtype=np.uint64)
        self._vals = np.zeros(1 << bits, dtype=np.uint32)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def capacity(self) -> int:
        """Slots in the table."""
        return 1 << self._bits

    @property
    def nbytes(self) -> int:
        """Bytes the table's arrays take."""
        return int(self._keys.nbytes + self._vals.nbytes)

    @staticmethod
    def _nonzero(keys: np.ndarray) -> np.ndarray:
        import numpy as np

        keys = np.asarray(keys, dtype=np.uint64)
        return np.where(keys == 0, np.uint64(1), keys)  # 0 marks an empty slot; key 0 shares key 1's entries

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(positions, numbers)``: for each stored (key, number) pair whose key is ``keys[position]``."""
        import numpy as np

        q = self._nonzero(keys)
        pos: list[np.ndarray] = []
        nums: list[np.ndarray] = []
        if self._n and q.size:
            mask = np.int64(self.capacity - 1)
            slot = (q >> np.uint64(64 - self._bits)).astype(np.int64)
            active = np.arange(q.size)
            tk, tv = self._keys, self._vals
            while active.size:
                k = tk[slot]
                hit = k == q[active]
                if hit.any():
                    pos.append(active[hit])
                    nums.append(tv[slot[hit]].astype(np.int64))
                go = k != 0
                active, slot = active[go], (slot[go] + 1) & mask
        if not pos:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(pos), np.concatenate(nums)

    def insert(self, keys: np.ndarray, numbers: np.ndarray) -> None:
        """Add ``(key, number)`` pairs (a key may already be present, or repeat)."""
        import numpy as np

        q = self._nonzero(keys)
        v = np.asarray(numbers, dtype=np.int64)
        if not q.size:
            return
        if v.size and int(v.max()) > 0xFFFFFFFF and self._vals.dtype != np.int64:
            self._vals = self._vals.astype(np.int64)
        if self._n + q.size > self.max_load * self.capacity:
            self._grow(self._n + q.size)
        self._place(q, v)
        self._n += q.size

    def _grow(self, need: int) -> None:
        """Move every pair into a table at least twice as large, a chunk of old slots at a time."""
        import numpy as np

        chunk = self.grow_chunk
        old_k, old_v = self._keys, self._vals
        bits = self._bits + 1
        while need > self.max_load * (1 << bits):
            bits += 1
        self._bits = bits
        cap = 1 << bits
        self._keys = np.zeros(cap, dtype=np.uint64)
        self._vals = np.zeros(cap, dtype=old_v.dtype)
        shift = np.uint64(64 - bits)
        late_k: list[np.ndarray] = []
        late_v: list[np.ndarray] = []
        nxt = 0  # the first slot after the last pair placed
        for a in range(0, old_k.size, chunk):
            ck = old_k[a : a + chunk]
            used = np.flatnonzero(ck)
            if not used.size:
                continue
            k, v = ck[used], old_v[a : a + chunk][used]
            home = (k >> shift).astype(np.int64)
            order = np.argsort(home, kind="stable")  # slot order is nearly home order: cheap
            k, v, home = k[order], v[order], home[order]
            late = home < nxt  # pushed past a chunk's end in the old table, or wrapped: placed by probing below
            if late.any():
                late_k.append(k[late])
                late_v.append(v[late])
                k, v, home = k[~late], v[~late], home[~late]
            if not k.size:
                continue
            i = np.arange(k.size, dtype=np.int64)
            # each pair at its home slot, or just after the pair before it
            at = np.maximum.accumulate(np.concatenate(([nxt], home - i)))[1:] + i
            inside = at < cap
            self._keys[at[inside]] = k[inside]
            self._vals[at[inside]] = v[inside]
            nxt = int(at[inside][-1]) + 1 if inside.any() else nxt
            if not inside.all():
                late_k.append(k[~inside])
                late_v.append(v[~inside])
        del old_k, old_v
        if late_k:
            self._place(np.concatenate(late_k), np.concatenate(late_v).astype(np.int64))

    def _place(self, q: np.ndarray, v: np.ndarray) -> None:
        """Write the pairs into free slots, each at its home slot or the first free one after it."""
        import numpy as np

        mask = np.int64(self.capacity - 1)
        tk, tv = self._keys, self._vals
        slot = (q >> np.uint64(64 - self._bits)).astype(np.int64)
        todo = np.arange(q.size)
        while todo.size:
            s = slot[todo]
            free = np.flatnonzero(tk[s] == 0)
            if free.size:
                cs, cand = s[free], todo[free]
                tv[cs] = cand  # several may want one slot: the one whose mark stays there takes it
                won = free[tv[cs] == cand]
                tk[s[won]] = q[todo[won]]
                tv[s[won]] = v[todo[won]]
                left = np.ones(todo.size, dtype=bool)
                left[won] = False
                todo = todo[left]
            slot[todo] = (slot[todo] + 1) & mask


@attrs.frozen(eq=False)
class NearBatch:
    """Records prepared for near dedup (see :meth:`NearDedup.prepare`).

    Attributes:
        ids: the records' ids.
        reasons: ``None`` for a record with text, else why it has none.
        counts: word n-grams per record (a record with text but none passes, "no words to compare").
        keys: ``(records, bands)`` ``uint64`` band keys.
        sig16: ``(records, num_perm)`` low 16 bits of each signature slot (``confirm="minhash"``), else ``None``.
        grams: each record's gram hashes (low 32 bits), flat (``confirm="exact"``), else ``None``.
        gram_offsets: ``gram_offsets[i]:gram_offsets[i+1]`` are record ``i``'s grams.
        set_keys: a 64-bit hash of each record's set of grams (``confirm="exact"``), else ``None``:
            records with the same set have the same key, so a copy of a kept record is found
            with one lookup (and confirmed by comparing the grams).
        repeated: ``(records, bands)``: whether another record of the batch has that band key
            (the batch's own candidates).
    """

    ids: tuple[str, ...]
    reasons: tuple[str | None, ...]
    counts: Any
    keys: Any
    sig16: Any = None
    grams: Any = None
    gram_offsets: Any = None
    set_keys: Any = None
    repeated: Any = None

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: Sequence[int]) -> NearBatch:
        """Return the batch of the records at ``rows`` (in that order), as if only they had been prepared."""
        import numpy as np

        idx = np.asarray(rows, dtype=np.int64)
        g = go = None
        if self.grams is not None:
            lo, hi = self.gram_offsets[idx], self.gram_offsets[idx + 1]
            _, at = _expand_ranges(lo, hi)
            g = self.grams[at]
            go = np.concatenate(([0], np.cumsum(hi - lo))).astype(np.int64)
        return NearBatch(
            ids=tuple(self.ids[i] for i in idx.tolist()),
            reasons=tuple(self.reasons[i] for i in idx.tolist()),
            counts=np.asarray(self.counts)[idx],
            keys=self.keys[idx],
            sig16=None if self.sig16 is None else self.sig16[idx],
            grams=g,
            gram_offsets=go,
            set_keys=None if self.set_keys is None else self.set_keys[idx],
            repeated=None if self.repeated is None else self.repeated[idx],  # of the whole batch: may mark more, never fewer
        )


class NearShard:
    """What one shard of a near-dedup index holds (with one shard, the whole index of one filter).

    Band keys are sharded by key (:func:`shard_of`); kept records by number: shard ``s`` of
    ``n`` stores the records numbered ``s, s+n, s+2n, ...`` (their id, and the signature's low
    16 bits for ``confirm="minhash"`` or the gram hashes for ``confirm="exact"``).
    """

    def __init__(self, num_perm: int, confirm: str, shard: int = 0, shards: int = 1) -> None:
        self.num_perm = num_perm
        self.confirm = confirm
        self.shard = shard
        self.shards = shards
        self.index: BandTable | BandIndex = BandTable()
        self.sets: BandTable | None = BandTable() if confirm == "exact" and shards == 1 else None  # gram-set key -> kept record
        self.ids: list[str] = []
        self._sig_blocks: list[np.ndarray] = []
        self._gram_chunks: list[tuple[np.ndarray, np.ndarray]] = []  # (flat grams, offsets) per store call
        self._gram_first: list[int] = []  # first local slot of each chunk

    def __len__(self) -> int:
        """Return the number of kept records stored here."""
        return len(self.ids)

    @property
    def size(self) -> int:
        """The number of kept records in the index (with one shard): the next record's number."""
        return len(self.ids)

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(positions, numbers)`` of the kept records holding each key (see :meth:`BandTable.lookup`)."""
        return self.index.lookup(keys)

    def add_keys(self, keys: np.ndarray, numbers: np.ndarray) -> None:
        """Index band keys of kept records."""
        self.index.insert(keys, numbers)

    def store(self, numbers: np.ndarray, ids: Sequence[str], sig16: np.ndarray | None, grams: np.ndarray | None, gram_offsets: np.ndarray | None) -> None:
        """Store kept records numbered ``numbers`` (this shard's, the next ones, in order)."""
        import numpy as np

        numbers = np.asarray(numbers, dtype=np.int64)
        if not numbers.size:
            return
        slots = numbers // self.shards
        if int(slots[0]) != len(self.ids) or not np.array_equal(slots, np.arange(len(self.ids), len(self.ids) + slots.size)):
            msg = f"near-dedup shard {self.shard} got records {numbers[:3].tolist()}... out of order (expected slot {len(self.ids)})"
            raise RuntimeError(msg)
        start = len(self.ids)
        self.ids.extend(ids)
        if sig16 is not None:
            done = 0
            while done < len(sig16):
                b, r = divmod(start + done, _BLOCK)
                if b == len(self._sig_blocks):
                    self._sig_blocks.append(np.empty((_BLOCK, self.num_perm), dtype=np.uint16))
                take = min(len(sig16) - done, _BLOCK - r)
                self._sig_blocks[b][r : r + take] = sig16[done : done + take]
                done += take
        if grams is not None:
            self._gram_first.append(start)
            self._gram_chunks.append((grams, np.asarray(gram_offsets, dtype=np.int64)))

    def add_part(self, keys: np.ndarray | None, owners: np.ndarray | None, stored: tuple[Any, ...] | None) -> None:
        """Take this shard's part of a batch's kept records: band keys with their records' numbers, and the records it stores (:meth:`store`'s arguments)."""
        if keys is not None and len(keys):
            self.add_keys(keys, owners)
        if stored is not None:
            self.store(*stored)

    def add(
        self, numbers: np.ndarray, keys: np.ndarray, ids: Sequence[str], sig16: np.ndarray | None, grams: np.ndarray | None, gram_offsets: np.ndarray | None, set_keys: np.ndarray | None = None
    ) -> None:
        """Add kept records (with one shard): their ``(records, bands)`` band keys, gram-set keys and what :meth:`store` keeps."""
        import numpy as np

        numbers = np.asarray(numbers, dtype=np.int64)
        keys = np.asarray(keys, dtype=np.uint64)
        self.add_keys(keys.ravel(), np.repeat(numbers, keys.shape[1] if keys.ndim == 2 else 1))
        if self.sets is not None and set_keys is not None:
            self.sets.insert(set_keys, numbers)
        self.store(numbers, ids, sig16, grams, gram_offsets)

    def fetch(self, numbers: np.ndarray) -> tuple[np.ndarray | None, list[str], list[np.ndarray] | None]:
        """Return what is stored for the kept records ``numbers`` (all of this shard): signatures (low 16 bits) or gram sets, and ids."""
        import numpy as np

        slots = (np.asarray(numbers, dtype=np.int64) // self.shards).tolist()
        ids = [self.ids[s] for s in slots]
        sig = None
        if self._sig_blocks:
            sig = np.stack([self._sig_blocks[s // _BLOCK][s % _BLOCK] for s in slots]) if slots else np.zeros((0, self.num_perm), np.uint16)
        grams = None
        if self._gram_chunks:
            grams = []
            for s in slots:
                c = bisect.bisect_right(self._gram_first, s) - 1
                flat, off = self._gram_chunks[c]
                i = s - self._gram_first[c]
                grams.append(flat[off[i] : off[i + 1]])
        return sig, ids, grams


class ShardedNearIndex:
    """A near-dedup index split over shards: band keys by key, kept records by number.

    It has the interface :meth:`NearDedup.decide` uses (:attr:`size`, :meth:`lookup`,
    :meth:`fetch`, :meth:`add`); a batch costs one round of lookups and, when it has candidates,
    one round of fetches; adds do not wait. The decisions stay in the caller, in input order.
    """

    def __init__(self, shards: Shards) -> None:
        self.shards = shards
        self.size = 0

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        n = len(self.shards)
        keys = np.asarray(keys, dtype=np.uint64)
        parts = _split(shard_of(keys, n), n)
        res = self.shards.map("lookup", [(keys[p],) if p.size else None for p in parts])
        pos = [p[r[0]] for p, r in zip(parts, res) if r is not None]
        nums = [r[1] for r in res if r is not None]
        if not pos:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(pos), np.concatenate(nums)

    def fetch(self, numbers: np.ndarray) -> tuple[np.ndarray | None, list[str], list[np.ndarray] | None]:
        import numpy as np

        n = len(self.shards)
        numbers = np.asarray(numbers, dtype=np.int64)
        parts = _split(numbers % n, n)
        res = self.shards.map("fetch", [(numbers[p],) if p.size else None for p in parts])
        ids: list[str] = [""] * numbers.size
        sig = None
        grams: list[np.ndarray] | None = None
        for p, r in zip(parts, res):
            if r is None:
                continue
            s, i, g = r
            at = p.tolist()
            for j, x in zip(at, i):
                ids[j] = x
            if s is not None:
                if sig is None:
                    sig = np.zeros((numbers.size, s.shape[1]), dtype=np.uint16)
                sig[p] = s
            if g is not None:
                if grams is None:
                    grams = [np.zeros(0, np.uint32)] * numbers.size
                for j, x in zip(at, g):
                    grams[j] = x
        return sig, ids, grams

    def add(
        self, numbers: np.ndarray, keys: np.ndarray, ids: Sequence[str], sig16: np.ndarray | None, grams: np.ndarray | None, gram_offsets: np.ndarray | None, set_keys: np.ndarray | None = None
    ) -> None:
        """Add kept records to their shards (gram-set keys are not kept: a sharded index finds copies by their bands)."""
        import numpy as np

        n = len(self.shards)
        numbers = np.asarray(numbers, dtype=np.int64)
        if not numbers.size:
            return
        flat = np.asarray(keys, dtype=np.uint64).ravel()
        owner = np.repeat(numbers, keys.shape[1])
        kparts = _split(shard_of(flat, n), n)
        args: list[tuple[Any, ...] | None] = []
        for kp, p in zip(kparts, _split(numbers % n, n)):
            stored = None
            if p.size:
                g = go = None
                if grams is not None:
                    lo, hi = gram_offsets[p], gram_offsets[p + 1]
                    _, at = _expand_ranges(lo, hi)
                    g = grams[at]
                    go = np.concatenate(([0], np.cumsum(hi - lo)))
                stored = (numbers[p], [ids[j] for j in p.tolist()], None if sig16 is None else sig16[p], g, go)
            args.append((flat[kp], owner[kp], stored) if kp.size or stored is not None else None)
        self.shards.tell("add_part", args)  # one call a shard: its keys and the records it stores
        self.size += int(numbers.size)


@attrs.frozen(eq=False)
class _NearHasher:
    """What :meth:`NearDedup.prepare` computes from texts alone (a small value: it pickles in microseconds)."""

    ngram: int
    num_perm: int
    bands: int
    rows: int
    confirm: str
    engine: str
    seed: int
    band_mul: Any = attrs.field(init=False)
    band_salt: Any = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        import numpy as np

        mul = 0x9E3779B97F4A7C15
        object.__setattr__(self, "band_mul", np.array([pow(mul, self.rows - 1 - j, 1 << 64) for j in range(self.rows)], np.uint64))
        object.__setattr__(self, "band_salt", np.array([_seeded(self.seed, 100 + b) for b in range(self.bands)], np.uint64))

    def band_keys(self, sig: np.ndarray) -> np.ndarray:
        """Return a ``(n, bands)`` array of 64-bit band keys; the band number is mixed in, so one index holds all bands."""
        import numpy as np

        from synthkit.filters.ngrams import mix64

        with np.errstate(over="ignore"):
            v = sig[:, : self.bands * self.rows].reshape(len(sig), self.bands, self.rows).astype(np.uint64)
            acc = (v * self.band_mul).sum(axis=2, dtype=np.uint64) + self.band_salt
            return mix64(acc)

    def __call__(self, ids: tuple[str, ...], reasons: tuple[str | None, ...], texts: list[str | None]) -> NearBatch:
        import numpy as np

        from synthkit.filters.ngrams import ngram_hash_batch

        grams, offsets = ngram_hash_batch([t or "" for t in texts], self.ngram)
        counts = np.diff(offsets)
        sig16 = None
        if texts:
            sigs = ENGINES[self.engine](grams, offsets, self.num_perm, self.seed)
            keys = self.band_keys(sigs)
            if self.confirm == "minhash":
                sig16 = sigs.astype(np.uint16)  # the low 16 bits: equal slots still estimate Jaccard (bias < 2**-16)
        else:
            keys = np.zeros((0, self.bands), np.uint64)
        g = go = sets = None
        if self.confirm == "exact":
            g, go = _gram_sets(grams, counts)
            sets = _set_keys(g, counts)
        usable = np.array([why is None for why in reasons], dtype=bool) & (counts > 0)
        return NearBatch(ids=ids, reasons=reasons, counts=counts, keys=keys, sig16=sig16, grams=g, gram_offsets=go, set_keys=sets, repeated=_repeated(keys, usable))


def _set_keys(grams: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return a 64-bit key per text of its (32-bit) gram hashes, whatever their order: the sum of their mixed hashes, mixed with their number.

    Copies have the same key; so does nothing else but by chance (a key found is confirmed
    by the grams). A text that repeats a gram a different number of times than a copy of its
    set gets another key: it is found by its bands instead.
    """
    import numpy as np

    from synthkit.filters.ngrams import mix64

    total = np.zeros(counts.size, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = mix64(grams.astype(np.uint64) ^ np.uint64(_SET_SALT))
        full = counts > 0
        if full.any():
            starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
            total[full] = np.add.reduceat(h, starts[full])
        return mix64(total ^ (counts.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)))


_SET_SALT = 0x5E75E75E75E75E7


def _repeated(keys: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Return ``(records, bands)``: whether a band key of a usable record is also held by another usable record of the batch."""
    import numpy as np

    out = np.zeros(keys.shape, dtype=bool)
    flat = keys[usable].ravel()
    srt = np.sort(flat)
    twice = srt[1:][srt[1:] == srt[:-1]]
    if twice.size:
        out[usable] = np.isin(flat, twice).reshape(-1, keys.shape[1])
    return out


class NearDedup(Filter):
    """Drop records whose word n-gram set is close (Jaccard) to an earlier kept record's.

    MinHash LSH: each text's word ``ngram``-grams (of :func:`synthkit.filters.ngrams.words`) give a
    ``num_perm``-slot signature, cut into ``bands`` bands of ``rows`` slots; records sharing a
    band are candidates, and a candidate is confirmed when its Jaccard similarity (exact, or
    estimated from the signatures) reaches ``threshold``. The index holds kept records only and
    grows as records pass, so in a pipeline a near-duplicate is dropped before later steps see
    it. The first record of a group is kept; a dropped record's reason names the kept record it
    duplicates (the most similar, the earliest on a tie) and the similarity.

    A pair with Jaccard ``s`` becomes a candidate with probability ``1 - (1 - s**rows)**bands``.
    By default bands and rows are chosen from the threshold (:func:`choose_bands`), so that a pair
    at the threshold is a candidate with probability about 0.98 (22 bands of 5 at 0.7; 16 of 7 at
    0.8): :attr:`expected_recall` says what to expect, :meth:`describe` says it in words.

    Args:
        threshold: Jaccard similarity at or above which a record is a near-duplicate.
        field: the text field; ``None`` means ``text``, else ``response``, else ``prompt``.
        ngram: words per shingle.
        num_perm: signature length.
        bands: LSH bands (default: chosen from ``threshold`` and ``num_perm``).
        rows: slots per band (default: chosen with the bands, or ``num_perm // bands``
            when ``bands`` is given, which must then divide ``num_perm``).
        confirm: ``"exact"`` (the default: exact Jaccard of the gram sets; keeps each kept record's
            distinct gram hashes, 4 bytes a gram), ``"minhash"`` (estimated from the signatures:
            leaner, but a pair just above the threshold is missed about half the time, since the
            estimate's error is about ±0.04) or ``"none"`` (a shared band is enough: fastest, least precise).
        engine: the MinHash implementation: ``"numpy"`` (one-permutation hashing with optimal
            densification, vectorised: 3 µs a 1 KB text) or ``"rensa"`` (Rust R-MinHash: estimates
            about 25% closer to the true Jaccard, but 7 µs a text, most of it turning rensa's rows
            into an array). Default: ``"numpy"`` when candidates are confirmed exactly or not at all
            (the signatures only propose candidates), ``"rensa"`` with ``confirm="minhash"`` (the
            estimates decide).
        seed: seeds the hashes; results are deterministic for a given seed.

    Memory per kept record: about 20 bytes per band key (:class:`BandTable`), its id, plus 4 bytes
    per distinct gram with ``confirm="exact"`` or ``num_perm * 2`` bytes with ``confirm="minhash"``.
    """

    name = "near-dedup"
    batch_size = 4096  # records a batch: near-dedup costs about a fifth less a record than at 256 (fewer, larger numpy calls)
    stateful = True  # the index grows as records pass: one place, input order

    def __init__(
        self,
        threshold: float = 0.8,
        *,
        field: str | None = None,
        ngram: int = 5,
        num_perm: int = 112,
        bands: int | None = None,
        rows: int | None = None,
        confirm: str = "exact",
        engine: str | None = None,
        seed: int = 0,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            msg = f"near-dedup threshold must be in (0, 1], got {threshold}"
            raise ValueError(msg)
        if num_perm < 1:
            msg = f"near-dedup num_perm must be at least 1, got {num_perm}"
            raise ValueError(msg)
        if bands is None and rows is None:
            bands, rows = choose_bands(float(threshold), num_perm)
            self.chosen = True
        else:
            self.chosen = False
            if bands is None or bands < 1:
                msg = f"near-dedup bands must be at least 1 when rows is given, got {bands}"
                raise ValueError(msg)
            if rows is None:
                if num_perm % bands:
                    msg = f"near-dedup bands ({bands}) must divide num_perm ({num_perm}), or give rows too"
                    raise ValueError(msg)
                rows = num_perm // bands
            if rows < 1 or bands * rows > num_perm:
                msg = f"near-dedup bands x rows ({bands} x {rows}) must be at most num_perm ({num_perm})"
                raise ValueError(msg)
        if confirm not in CONFIRM:
            msg = f"near-dedup confirm must be one of {', '.join(CONFIRM)}, got {confirm!r}"
            raise ValueError(msg)
        if engine is None:
            engine = "rensa" if confirm == "minhash" else "numpy"
        if engine not in ENGINES:
            msg = f"near-dedup engine must be one of {', '.join(ENGINES)}, got {engine!r}"
            raise ValueError(msg)
        if ngram < 1:
            msg = f"near-dedup ngram must be at least 1, got {ngram}"
            raise ValueError(msg)
        import numpy as np

        self.threshold = float(threshold)
        self.field = field
        self.ngram = ngram
        self.num_perm = num_perm
        self.bands = bands
        self.rows = rows
        self.confirm = confirm
        self.engine = engine
        self.seed = seed
        self._need = int(np.ceil(self.threshold * num_perm - 1e-9))  # equal slots needed
        self._shard = self.shard()
        self._keep = Verdict(self.name, True)
        self._hasher = _NearHasher(ngram, num_perm, bands, rows, confirm, engine, seed)

    @property
    def _index(self) -> BandTable | BandIndex:
        """The band-key index of this filter's own (local) index."""
        return self._shard.index

    @_index.setter
    def _index(self, value: BandTable | BandIndex) -> None:
        self._shard.index = value

    def __len__(self) -> int:
        """Return the number of kept records in the index."""
        return len(self._shard)

    @property
    def expected_recall(self) -> float:
        """The probability that a pair at exactly the threshold is dropped.

        A shared band (:func:`candidate_probability`), times, for ``confirm="minhash"``, the
        probability that the signatures' estimate reaches the threshold (binomial; pairs further
        above the threshold fare better).
        """
        p = candidate_probability(self.threshold, self.bands, self.rows)
        if self.confirm == "minhash":
            p *= _binomial_tail(self.num_perm, self.threshold, self._need)
        return p

    def describe(self) -> str:
        """Say in a line how candidates are found and confirmed, and the recall to expect at the threshold."""
        how = f"chosen for threshold {self.threshold:g}" if self.chosen else "as given"
        confirm = {"exact": "exact Jaccard", "minhash": "Jaccard estimated from the signatures", "none": "no confirmation"}[self.confirm]
        return (
            f"near-dedup: {self.num_perm} permutations ({self.engine} MinHash), {self.bands} bands of {self.rows} rows ({how}), "
            f"candidates confirmed by {confirm}; a pair at Jaccard {self.threshold:.2f} is found with probability "
            f"{self.expected_recall:.3f}"
        )

    def check(self, record: Record) -> Verdict:
        """Judge one record (see :meth:`check_batch`)."""
        return self.check_batch([record])[0]

    def check_batch(self, records: Sequence[Record]) -> list[Verdict]:
        """Return one verdict per record, in order, as if checked one by one.

        Signatures and band keys of the whole batch are computed at once (numpy); a record
        may duplicate one earlier in the same batch. The verdicts do not depend on how the
        records are cut into batches.
        """
        return self.decide(self.prepare(records))

    # -- the two phases ------------------------------------------------------------------

    def prepare(self, records: Sequence[Record]) -> NearBatch:
        """Compute n-gram hashes, signatures and band keys; depends on the records only (run it anywhere, in parallel)."""
        return self.preparer(records)()

    def preparer(self, records: Sequence[Record]) -> Callable[[], NearBatch]:
        """Return :meth:`prepare` of ``records`` as a call that holds only their ids and texts (it pickles small, to run in another process)."""
        return functools.partial(self._hasher, *_read_texts(records, self.field))

    def decide(self, batch: NearBatch, index: NearShard | ShardedNearIndex | None = None) -> list[Verdict]:
        """Judge a prepared batch in order against ``index`` (default: this filter's own), adding the records it keeps.

        Batches must reach the index in input order. A record is dropped when an earlier kept
        record (of an earlier batch, or of this one) shares a band key with it and is confirmed;
        it names the most similar such record, the earliest on a tie. Kept records are numbered
        in input order.
        """
        import numpy as np

        index = self._shard if index is None else index
        n = len(batch)
        out: list[Verdict] = [self._keep] * n
        usable = np.array([why is None for why in batch.reasons], dtype=bool) & (np.asarray(batch.counts) > 0)
        for j in np.flatnonzero(~usable).tolist():
            why = batch.reasons[j]
            out[j] = Verdict(self.name, False, why) if why is not None else Verdict(self.name, True, "no words to compare")
        u = self._copies(batch, index, np.flatnonzero(usable), out)
        if not u.size:
            return out
        nb = self.bands
        keys = batch.keys[u]
        pos, nums = index.lookup(keys.ravel())
        hit_rec = pos // nb
        suspect = np.zeros(u.size, dtype=bool)
        suspect[hit_rec] = True
        repeated = batch.repeated[u]  # keys another record of the batch holds
        suspect |= repeated.any(axis=1)
        kept = ~suspect
        if suspect.any():
            self._judge(batch, index, u, keys, repeated, suspect, kept, hit_rec, nums, out)
        kept_rows = u[kept]
        if kept_rows.size:
            numbers = np.arange(index.size, index.size + kept_rows.size, dtype=np.int64)
            g = go = None
            if batch.grams is not None:
                lo, hi = batch.gram_offsets[kept_rows], batch.gram_offsets[kept_rows + 1]
                _, at = _expand_ranges(lo, hi)
                g = batch.grams[at]
                go = np.concatenate(([0], np.cumsum(hi - lo)))
            sig = None if batch.sig16 is None else batch.sig16[kept_rows]
            sets = None if batch.set_keys is None else batch.set_keys[kept_rows]
            index.add(numbers, keys[kept], [batch.ids[j] for j in kept_rows.tolist()], sig, g, go, sets)
        return out

    def _copies(self, batch: NearBatch, index: Any, u: np.ndarray, out: list[Verdict]) -> np.ndarray:
        """Drop the rows ``u`` whose gram set is a kept record's, found by set key and confirmed by the grams; return the rows left.

        What judging them would give (Jaccard 1 with the one kept record of that set, which
        shares every band with them), at one lookup a record; an index without set keys
        (sharded) leaves every row to judging.
        """
        import numpy as np

        sets = getattr(index, "sets", None)
        if batch.set_keys is None or sets is None or not len(sets) or not u.size:
            return u
        pos, nums = sets.lookup(batch.set_keys[u])
        if not pos.size:
            return u
        order = np.lexsort((nums, pos))
        pos, nums = pos[order], nums[order]
        first = np.concatenate(([True], pos[1:] != pos[:-1]))  # one kept record a row (the earliest, should two keys collide)
        pos, nums = pos[first], nums[first]
        _, ids, grams = index.fetch(nums)
        g, go = batch.grams, batch.gram_offsets
        copy = np.zeros(u.size, dtype=bool)
        for p, cid, kept in zip(pos.tolist(), ids, grams):
            j = int(u[p])
            q = g[go[j] : go[j + 1]]
            if (kept.size == q.size and kept.tobytes() == q.tobytes()) or set(kept.tolist()) == set(q.tolist()):
                out[j] = Verdict(self.name, False, f"near-duplicate of {cid} (jaccard 1.00)", score=1.0)
                copy[p] = True
        return u[~copy]

    def _judge(self, batch: NearBatch, index: Any, u: np.ndarray, keys: np.ndarray, repeated: np.ndarray, suspect: np.ndarray, kept: np.ndarray, hit_rec: np.ndarray, nums: np.ndarray, out: list[Verdict]) -> None:
        """Judge the suspects of a batch one by one, in order; mark those kept in ``kept``."""
        import numpy as np

        # earlier kept records (of earlier batches) of each suspect, in number order
        order = np.lexsort((nums, hit_rec))
        hr, hn = hit_rec[order], nums[order]
        first = np.searchsorted(hr, np.arange(u.size + 1))
        wanted = np.unique(hn)
        sig16 = ids = gsets = None
        if wanted.size:
            sig16, ids, gsets = index.fetch(wanted)
        row_of = {x: i for i, x in enumerate(wanted.tolist())}
        by_key: dict[int, list[int]] = {}  # repeated key -> kept suspects of this batch holding it, in order
        exact = self.confirm == "exact"
        go = batch.gram_offsets
        sets: dict[tuple[str, int], set[int]] = {}  # gram sets of candidates, made once a batch
        for i in np.flatnonzero(suspect).tolist():
            j = int(u[i])
            prior = list(dict.fromkeys(hn[first[i] : first[i + 1]].tolist()))
            rep_keys = keys[i][repeated[i]].tolist()
            mine: list[int] = []
            for k in rep_keys:
                for r in by_key.get(k, ()):
                    if r not in mine:
                        mine.append(r)
            mine.sort()
            best_id, best_sim = None, -1.0
            if self.confirm == "none":
                if prior:
                    best_id = ids[row_of[prior[0]]]
                elif mine:
                    best_id = batch.ids[int(u[mine[0]])]
                best_sim = float("nan")
            elif exact:
                q = batch.grams[go[j] : go[j + 1]]
                qb, mine_set = q.tobytes(), None
                cands = [(ids[row_of[c]], ("p", row_of[c]), gsets[row_of[c]]) for c in prior]
                cands += [(batch.ids[int(u[r])], ("b", int(u[r])), batch.grams[go[u[r]] : go[u[r] + 1]]) for r in mine]
                for cid, key, arr in cands:
                    if arr.size == q.size and arr.tobytes() == qb:
                        sim = 1.0  # the same grams in the same order: the same set
                    else:
                        if mine_set is None:
                            mine_set = set(q.tolist())
                        cs = sets.get(key)
                        if cs is None:
                            cs = sets[key] = set(arr.tolist())
                        sim = _jaccard(mine_set, cs)
                    if sim >= self.threshold - 1e-12 and sim > best_sim:
                        best_id, best_sim = cid, sim
                        if sim == 1.0:
                            break  # nothing can beat it, and on a tie the first wins
            else:
                rows = [sig16[row_of[c]] for c in prior] + [batch.sig16[int(u[r])] for r in mine]
                if rows:
                    eq = (np.stack(rows) == batch.sig16[j]).sum(axis=1)
                    k = int(np.argmax(eq))
                    if eq[k] >= self._need:
                        best_sim = eq[k] / self.num_perm
                        best_id = ids[row_of[prior[k]]] if k < len(prior) else batch.ids[int(u[mine[k - len(prior)]])]
            if best_id is None:
                kept[i] = True
                for k in rep_keys:
                    by_key.setdefault(k, []).append(i)
            elif best_sim != best_sim:  # confirm="none"
                out[j] = Verdict(self.name, False, f"near-duplicate of {best_id} (shares an LSH band)")
            else:
                out[j] = Verdict(self.name, False, f"near-duplicate of {best_id} (jaccard {best_sim:.2f})", score=round(float(best_sim), 4))

    def shard(self, shard: int = 0, shards: int = 1) -> NearShard:
        """Return an empty shard of this filter's index (``shard`` of ``shards``)."""
        return NearShard(self.num_perm, self.confirm, shard, shards)

    def sharded(self, shards: Shards) -> ShardedNearIndex:
        """Return the index over ``shards`` (each made by :meth:`shard`), for :meth:`decide`."""
        return ShardedNearIndex(shards)


def _gram_sets(grams: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each text's gram hashes (low 32 bits), flat, with offsets; repeats stay (sets are taken when compared)."""
    import numpy as np

    return (grams & np.uint64(0xFFFFFFFF)).astype(np.uint32), np.concatenate(([0], np.cumsum(counts))).astype(np.int64)


def _jaccard(a: set[int], b: np.ndarray | set[int]) -> float:
    """Jaccard similarity of the gram set ``a`` and the gram hashes ``b`` (an array may repeat some)."""
    if not isinstance(b, set):
        b = set(b.tolist())
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)
