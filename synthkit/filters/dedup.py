"""Duplicate removal: exact (normalised text, 64-bit hash) and near (MinHash LSH).

Both are :class:`~synthkit.Filter` steps with an index that grows as records pass, so in a
pipeline a duplicate is dropped before any later (paid) step sees it. The first copy is kept;
every later copy is dropped with a reason naming the id of the kept copy.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from synthkit.errors import MissingDependencyError
from synthkit.filters.heuristics import read_text
from synthkit.interfaces import Filter
from synthkit.filters.ngrams import hash64, normalize
from synthkit.records import Record, Verdict

if TYPE_CHECKING:
    import numpy as np

__all__ = ["ExactDedup", "NearDedup", "BandIndex", "oph_signatures", "rensa_signatures", "ENGINES"]


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
    stateful = True  # the index grows as records pass: one place, input order

    def __init__(self, field: str | None = None) -> None:
        self.field = field
        self._seen: dict[int, str] = {}

    def __len__(self) -> int:
        """Return the number of distinct texts seen."""
        return len(self._seen)

    def check(self, record: Record) -> Verdict:
        """Keep the first record with a given normalised text; drop later copies naming the first."""
        text, error = read_text(record, self.field)
        if text is None:
            return Verdict(self.name, False, error)
        key = hash64(normalize(text))
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = record.id
            return Verdict(self.name, True)
        return Verdict(self.name, False, f"exact duplicate of {first}")

    def check_batch(self, records: Sequence[Record]) -> list[Verdict]:
        """Return one verdict per record, in order (same result as :meth:`check` one by one)."""
        return [self.check(r) for r in records]


# -- near duplicates: MinHash LSH ------------------------------------------------------

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
    sig = np.asarray(m.to_rows(), dtype=np.uint32).reshape(n_docs, num_perm)
    sig[np.diff(offsets) == 0] = _EMPTY
    return sig


ENGINES = {"numpy": oph_signatures, "rensa": rensa_signatures}
CONFIRM = ("minhash", "exact", "none")


class BandIndex:
    """LSH band keys of kept records: sorted numpy arrays plus a small dict of recent keys.

    About 12 bytes per key (a ``uint64`` key and an ``int32`` record number) once merged;
    the recent part (at most ``tail_size`` keys) is a dict, merged into the arrays when full.
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


class NearDedup(Filter):
    """Drop records whose word n-gram set is close (Jaccard) to an earlier kept record's.

    MinHash LSH: each text's word ``ngram``-grams (of :func:`synthkit.filters.ngrams.words`) give a
    ``num_perm``-slot signature, cut into ``bands`` bands; records sharing a band are
    candidates, and a candidate is confirmed when its Jaccard similarity (estimated from
    the signatures, or exact) reaches ``threshold``. The index holds kept records only and
    grows as records pass, so in a pipeline a near-duplicate is dropped before later
    steps see it. The first record of a group is kept; a dropped record's reason names
    the kept record it duplicates and the similarity.

    A pair with Jaccard ``s`` becomes a candidate with probability ``1 - (1 - s**r)**b``
    (``b`` bands of ``r = num_perm / b`` rows): with the default 14 bands of 8, 0.56 at
    s = 0.7, 0.92 at 0.8, 0.99 at 0.85. For thresholds below 0.8 add bands (e.g. 28 of 4).

    Args:
        threshold: Jaccard similarity at or above which a record is a near-duplicate.
        field: the text field; ``None`` means ``text``, else ``response``, else ``prompt``.
        ngram: words per shingle.
        num_perm: signature length.
        bands: LSH bands; must divide ``num_perm``.
        confirm: ``"minhash"`` (estimated Jaccard from the signatures), ``"exact"`` (exact
            Jaccard of the gram sets; keeps each kept record's gram hashes, 8 bytes a gram)
            or ``"none"`` (a shared band is enough: fastest, least precise).
        engine: ``"rensa"`` (Rust R-MinHash, the default: more accurate at the same speed) or
            ``"numpy"`` (one-permutation hashing with densification, vectorised; no Rust needed).
        seed: seeds the hashes; results are deterministic for a given seed.

    Memory: about ``num_perm * 2 + bands * 12`` bytes per kept record once the band index
    is merged (a 16-bit-per-slot signature and the band keys; 400 bytes by default), plus
    its id, plus 8 bytes per gram with ``confirm="exact"``.
    """

    name = "near-dedup"
    stateful = True  # the index grows as records pass: one place, input order

    def __init__(
        self,
        threshold: float = 0.8,
        *,
        field: str | None = None,
        ngram: int = 5,
        num_perm: int = 112,
        bands: int = 14,
        confirm: str = "minhash",
        engine: str = "rensa",
        seed: int = 0,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            msg = f"near-dedup threshold must be in (0, 1], got {threshold}"
            raise ValueError(msg)
        if bands < 1 or num_perm % bands:
            msg = f"near-dedup bands ({bands}) must divide num_perm ({num_perm})"
            raise ValueError(msg)
        if confirm not in CONFIRM:
            msg = f"near-dedup confirm must be one of {', '.join(CONFIRM)}, got {confirm!r}"
            raise ValueError(msg)
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
        self.rows = num_perm // bands
        self.confirm = confirm
        self.engine = engine
        self.seed = seed
        self._sign = ENGINES[engine]
        self._need = int(np.ceil(self.threshold * num_perm - 1e-9))  # equal slots needed
        self._ids: list[str] = []
        self._blocks: list[np.ndarray] = []  # kept signatures, low 16 bits of each slot, _BLOCK rows a block
        self._sets: list[np.ndarray] = []
        self._index = BandIndex()
        self._keep = Verdict(self.name, True)
        mul = 0x9E3779B97F4A7C15
        self._band_mul = np.array([pow(mul, self.rows - 1 - j, 1 << 64) for j in range(self.rows)], np.uint64)
        self._band_salt = np.array([_seeded(seed, 100 + b) for b in range(bands)], np.uint64)

    def __len__(self) -> int:
        """Return the number of kept records in the index."""
        return len(self._ids)

    def _band_keys(self, sig: np.ndarray) -> np.ndarray:
        """Return a ``(n, bands)`` array of 64-bit band keys; the band number is mixed in, so one dict holds all bands."""
        import numpy as np

        from synthkit.filters.ngrams import mix64

        with np.errstate(over="ignore"):
            v = sig.reshape(len(sig), self.bands, self.rows).astype(np.uint64)
            acc = (v * self._band_mul).sum(axis=2, dtype=np.uint64) + self._band_salt
            return mix64(acc)

    def _store(self, rows: np.ndarray) -> None:
        """Append kept signatures (16 bits a slot: equal slots still estimate Jaccard, biased by < 2**-16)."""
        import numpy as np

        start, done = len(self._ids) - len(rows), 0
        while done < len(rows):
            b, r = divmod(start + done, _BLOCK)
            if b == len(self._blocks):
                self._blocks.append(np.empty((_BLOCK, self.num_perm), dtype=np.uint16))
            take = min(len(rows) - done, _BLOCK - r)
            self._blocks[b][r : r + take] = rows[done : done + take]  # keeps the low 16 bits
            done += take

    def _stored(self, numbers: list[int]) -> np.ndarray:
        import numpy as np

        return np.stack([self._blocks[i // _BLOCK][i % _BLOCK] for i in numbers])

    def _add(self, rid: str, sig: np.ndarray, keys: list[int], grams: np.ndarray | None) -> None:
        i = len(self._ids)
        self._ids.append(rid)
        self._store(sig[None, :])
        if grams is not None:
            self._sets.append(grams)
        self._index.add(keys, i)

    def check(self, record: Record) -> Verdict:
        """Judge one record (see :meth:`check_batch`)."""
        return self.check_batch([record])[0]

    def check_batch(self, records: Sequence[Record]) -> list[Verdict]:
        """Return one verdict per record, in order, as if checked one by one.

        Signatures and band keys of the whole batch are computed at once (numpy). Records
        sharing no band key with the index or with another record of the batch are kept
        in bulk; the others are judged one by one in order, so a record may duplicate one
        earlier in the same batch.
        """
        import numpy as np

        from synthkit.filters.ngrams import ngram_hash_batch

        if not records:
            return []
        read = [read_text(r, self.field) for r in records]
        texts = [t or "" for t, _ in read]
        grams, offsets = ngram_hash_batch(texts, self.ngram)
        sigs = self._sign(grams, offsets, self.num_perm, self.seed)
        keys_arr = self._band_keys(sigs)
        usable = np.array([t is not None for t, _ in read]) & (np.diff(offsets) > 0)
        # a record is "clear" when none of its band keys is in the index or repeats in the batch
        index = self._index
        klo, khi = index.locate(keys_arr)
        flat = keys_arr[usable].ravel()
        uniq, counts = np.unique(flat, return_counts=True)
        suspect_keys = set(uniq[counts > 1].tolist())
        suspect_keys.update(index.in_tail(uniq.tolist()))
        hit = (khi > klo).any(axis=1)
        if suspect_keys:
            hit |= np.isin(keys_arr, np.fromiter(suspect_keys, np.uint64, len(suspect_keys))).any(axis=1)
        exact = self.confirm == "exact"
        out: list[Verdict | None] = [None] * len(records)
        keep = self._keep
        clear = np.flatnonzero(usable & ~hit).tolist()
        if clear:  # kept in bulk: no key of theirs is anywhere else
            start = len(self._ids)
            self._ids.extend(records[j].id for j in clear)
            self._store(sigs[clear])
            if exact:
                self._sets.extend(np.unique(grams[offsets[j] : offsets[j + 1]]) for j in clear)
            ids = [i for i in range(start, start + len(clear)) for _ in range(self.bands)]  # one int object per record
            index.add_many(keys_arr[clear].ravel().tolist(), ids)
            for j in clear:
                out[j] = keep
        for j in range(len(records)):
            if out[j] is not None:
                continue
            if read[j][0] is None:
                out[j] = Verdict(self.name, False, read[j][1])
                continue
            lo, hi = offsets[j], offsets[j + 1]
            if lo == hi:
                out[j] = Verdict(self.name, True, "no words to compare")
                continue
            keys = keys_arr[j].tolist()
            gset = np.unique(grams[lo:hi]) if exact else None
            cands = index.candidates(keys, klo[j].tolist(), khi[j].tolist())
            best, best_sim = -1, -1.0
            if cands:
                order = sorted(cands)
                if self.confirm == "none":
                    best, best_sim = order[0], float("nan")
                elif exact:
                    for c in order:
                        sim = _jaccard(gset, self._sets[c])
                        if sim >= self.threshold - 1e-12 and sim > best_sim:
                            best, best_sim = c, sim
                else:
                    eq = (self._stored(order) == sigs[j].astype(np.uint16)).sum(axis=1)
                    k = int(np.argmax(eq))
                    if eq[k] >= self._need:
                        best, best_sim = order[k], eq[k] / self.num_perm
            if best < 0:
                self._add(records[j].id, sigs[j], keys, gset)
                out[j] = keep
            elif best_sim != best_sim:  # confirm="none"
                out[j] = Verdict(self.name, False, f"near-duplicate of {self._ids[best]} (shares an LSH band)")
            else:
                reason = f"near-duplicate of {self._ids[best]} (jaccard {best_sim:.2f})"
                out[j] = Verdict(self.name, False, reason, score=round(best_sim, 4))
        index.maybe_merge()
        return out  # type: ignore[return-value]


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    import numpy as np

    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)
