"""Distributed dedup on Ray: index shards in actors, and one router actor per dedup filter that decides in input order.

A dedup filter that has a sharded index (``prepare``, ``decide``, ``shard``, ``sharded``, as
:class:`~synthkit.filters.dedup.ExactDedup` and :class:`~synthkit.filters.dedup.NearDedup` have)
runs in three parts:

* its ``prepare`` (normalising and hashing text; word n-grams, MinHash signatures, band keys)
  runs in the Ray tasks of the blocks, in parallel;
* its index lives in ``shards`` :class:`ShardActor` s, spread over the nodes: text hashes and
  band keys by key, kept records by number;
* its ``decide`` runs in one :class:`Router` actor that gets the prepared blocks in input order
  and asks the shards (one round of lookups a block, one of fetches when there are candidates,
  adds that do not wait). It holds no index of its own, so its memory stays flat, and the
  verdicts are those of the local engine: keep the first in input order.
"""

from __future__ import annotations

import pickle
import resource
from collections.abc import Sequence
from typing import Any

from synthkit.records import Verdict

__all__ = ["RayShards", "Router", "ShardActor", "peak_rss_mb"]


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ShardActor:
    """One shard of a dedup filter's index (the object the filter's ``shard(i, n)`` made), in a Ray actor."""

    def __init__(self, part: bytes) -> None:
        self.part = pickle.loads(part)

    def call(self, method: str, *args: Any) -> Any:
        """Call ``method`` of the shard object."""
        return getattr(self.part, method)(*args)

    def info(self) -> dict[str, Any]:
        """Return the shard's size and this process's peak memory."""
        return {"entries": len(self.part), "peak_rss_mb": round(peak_rss_mb(), 1)}


class RayShards:
    """:class:`~synthkit.filters.dedup.Shards` over Ray actors: calls to one actor from one caller run in order."""

    def __init__(self, handles: Sequence[Any]) -> None:
        self.handles = list(handles)
        self._told: list[Any] = []

    def __len__(self) -> int:
        return len(self.handles)

    def map(self, method: str, args: Sequence[tuple[Any, ...] | None]) -> list[Any]:
        import ray

        refs = {i: h.call.remote(method, *a) for i, (h, a) in enumerate(zip(self.handles, args)) if a is not None}
        values = dict(zip(refs, ray.get(list(refs.values())))) if refs else {}
        self.settle(block=False)
        return [values.get(i) for i in range(len(self.handles))]

    def tell(self, method: str, args: Sequence[tuple[Any, ...] | None]) -> None:
        self._told.extend(h.call.remote(method, *a) for h, a in zip(self.handles, args) if a is not None)
        if len(self._told) > 256:
            self.settle(block=True)

    def settle(self, *, block: bool) -> None:
        """Raise the error of any finished ``tell`` (a lost add would change what is kept); with ``block``, wait for all."""
        import ray

        if not self._told:
            return
        if block:
            ray.get(self._told)
            self._told = []
            return
        ready, self._told = ray.wait(self._told, num_returns=len(self._told), timeout=0)
        if ready:
            ray.get(ready)


class Router:
    """A dedup filter's ``decide``, in one Ray actor, over its index in shard actors.

    Args:
        filt: the pickled filter.
        handles: its shard actors, in shard order.
    """

    def __init__(self, filt: bytes, handles: Sequence[Any]) -> None:
        self.filt = pickle.loads(filt)
        self.shards = RayShards(handles)
        self.index = self.filt.sharded(self.shards)
        self.next = 0

    def decide(self, block: int, prepared: Any, *earlier: Any) -> list[Any] | None:
        """Judge block ``block`` (they must come in input order); return a verdict, or the exception its check raised, per record that reaches this filter.

        ``prepared`` covers the records the block had before the dedup filters prepared with
        this one; ``earlier`` are the verdicts of those that run before it, so only the records
        that survive them are judged, as locally.
        """
        if block != self.next:
            msg = (
                f"the ray engine gave {self.filt.name!r} block {block} when block {self.next} was due: out of input "
                f"order, so 'keep the first' would differ from the local engine. Report this with your Ray version"
            )
            raise RuntimeError(msg)
        self.next += 1
        if prepared is None:
            return None
        batch, failed, n = prepared
        alive = list(range(n))
        for verdicts in earlier:
            if verdicts is None:
                return None
            alive = [i for i, v in zip(alive, verdicts) if isinstance(v, Verdict) and v.passed]
        at = {i: k for k, i in enumerate(j for j in range(n) if j not in failed)}
        if len(alive) != n or failed:
            batch = batch.take([at[i] for i in alive if i not in failed])
        decided = iter(self.filt.decide(batch, self.index))
        return [failed[i] if i in failed else next(decided) for i in alive]

    def finish(self) -> dict[str, Any]:
        """Wait for the last adds; return this router's blocks and peak memory."""
        self.shards.settle(block=True)
        return {"blocks": self.next, "peak_rss_mb": round(peak_rss_mb(), 1)}
