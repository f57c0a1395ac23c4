"""One rate limit for a whole cluster: RPM and TPM buckets in a named Ray actor.

A remote teacher's :class:`~synthkit.teachers.ratelimit.RateLimiter` keeps its buckets in its own
process, so N generation actors would each send the full RPM. Before the pipeline is
shipped, the engine swaps each remote teacher's ``limiter`` for a :class:`SharedRateLimiter`:
its concurrency (AIMD) and ``Retry-After`` pauses stay per actor, but every request takes
its RPM and TPM permits from one async actor, ``synthkit-ratelimit-<run>-<n>``, which
holds the only buckets. Limits a server announces in ``x-ratelimit-limit-*`` are adopted
there too, once, for every actor. The teacher's cost meter and budget are shared the same
way, by a sibling actor (:mod:`synthkit_ray.budget`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthkit.teachers.ratelimit import RateLimiter, TokenBucket

__all__ = ["LimiterActor", "RemoteBucket", "SharedRateLimiter", "start_limiter"]


class LimiterActor:
    """The buckets of one teacher's limits (run as an async Ray actor; calls queue in order)."""

    def __init__(self, rpm: float | None, tpm: float | None) -> None:
        self.buckets: dict[str, TokenBucket | None] = {
            "rpm": TokenBucket(rpm) if rpm else None,
            "tpm": TokenBucket(tpm, capacity=max(1.0, tpm / 60)) if tpm else None,
        }
        self.granted = {"rpm": 0.0, "tpm": 0.0}

    async def acquire(self, kind: str, amount: float) -> float:
        """Take ``amount`` permits of ``kind`` (``"rpm"`` or ``"tpm"``), waiting as needed; return the seconds waited."""
        bucket = self.buckets[kind]
        self.granted[kind] += amount
        if bucket is None:
            return 0.0
        return await bucket.acquire(amount)

    def give_back(self, kind: str, amount: float) -> None:
        bucket = self.buckets[kind]
        if bucket is not None:
            bucket.give_back(amount)

    def adopt(self, kind: str, per_minute: float) -> None:
        """Use a limit a server announced (when the user gave none); a new bucket starts empty."""
        bucket = self.buckets[kind]
        capacity = max(1.0, per_minute / 60) if kind == "tpm" else None
        if bucket is None:
            bucket = self.buckets[kind] = TokenBucket(per_minute, capacity=capacity)
            bucket.empty()
        elif bucket.per_minute != per_minute:
            bucket.set_rate(per_minute, capacity)

    def stats(self) -> dict[str, Any]:
        """The limits in force and the permits granted so far."""
        limits = {k: (b.per_minute if b is not None else None) for k, b in self.buckets.items()}
        return {"limits": limits, "granted": dict(self.granted)}


class RemoteBucket:
    """A :class:`~synthkit.teachers.ratelimit.TokenBucket` look-alike whose tokens live in the limiter actor."""

    def __init__(self, handle: Any, kind: str, per_minute: float) -> None:
        self.handle = handle
        self.kind = kind
        self.per_minute = float(per_minute)

    async def acquire(self, amount: float = 1.0) -> float:
        return await self.handle.acquire.remote(self.kind, amount)

    def give_back(self, amount: float) -> None:
        self.handle.give_back.remote(self.kind, amount)

    def set_rate(self, per_minute: float, capacity: float | None = None) -> None:
        self.per_minute = float(per_minute)
        self.handle.adopt.remote(self.kind, per_minute)


class SharedRateLimiter(RateLimiter):
    """A :class:`~synthkit.teachers.ratelimit.RateLimiter` whose RPM/TPM buckets are the named actor's.

    Args:
        actor: the name of the :class:`LimiterActor` (looked up lazily in each process).
        namespace: the Ray namespace the actor lives in.
        concurrency: the most requests in flight in this process (AIMD ceiling).
        rpm: requests per minute for the whole cluster (``None``: adopt the server's).
        tpm: tokens per minute for the whole cluster (likewise).
        max_pause: the longest ``Retry-After`` pause, in seconds.
        adopt_server_limits: adopt ``x-ratelimit-limit-*`` when ``rpm``/``tpm`` are not given.

    It pickles as its settings, so it travels to Ray workers inside the teacher it limits.
    """

    def __init__(
        self,
        actor: str,
        namespace: str,
        *,
        concurrency: int = 64,
        rpm: float | None = None,
        tpm: float | None = None,
        max_pause: float = 60.0,
        adopt_server_limits: bool = True,
    ) -> None:
        super().__init__(concurrency=concurrency, rpm=rpm, tpm=tpm, max_pause=max_pause, adopt_server_limits=adopt_server_limits)
        self.actor = actor
        self.namespace = namespace
        self._settings = (concurrency, rpm, tpm, max_pause, adopt_server_limits)
        self._handle: Any = None
        self.rpm = self._remote("rpm", rpm) if rpm else None  # type: ignore[assignment]
        self.tpm = self._remote("tpm", tpm) if tpm else None  # type: ignore[assignment]

    @classmethod
    def like(cls, limiter: RateLimiter, actor: str, namespace: str) -> SharedRateLimiter:
        """Return a shared limiter with the settings of ``limiter`` (a teacher's own)."""
        return cls(
            actor,
            namespace,
            concurrency=limiter.concurrency.maximum,
            rpm=limiter.rpm.per_minute if limiter._user_rpm and limiter.rpm is not None else None,
            tpm=limiter.tpm.per_minute if limiter._user_tpm and limiter.tpm is not None else None,
            max_pause=limiter.max_pause,
            adopt_server_limits=limiter.adopt,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        concurrency, rpm, tpm, max_pause, adopt = self._settings
        return (_rebuild, (self.actor, self.namespace, concurrency, rpm, tpm, max_pause, adopt))

    @property
    def handle(self) -> Any:
        if self._handle is None:
            import ray

            self._handle = ray.get_actor(self.actor, namespace=self.namespace)
        return self._handle

    def _remote(self, kind: str, per_minute: float) -> RemoteBucket:
        return RemoteBucket(_LazyHandle(self), kind, per_minute)

    def observe_headers(self, headers: Mapping[str, Any]) -> None:
        """Adopt announced limits in the shared actor; pause this process at zero remaining."""
        for kind, header in (("rpm", "x-ratelimit-limit-requests"), ("tpm", "x-ratelimit-limit-tokens")):
            user = self._user_rpm if kind == "rpm" else self._user_tpm
            value = headers.get(header)
            if not value or not self.adopt or user:
                continue
            try:
                per_minute = float(value)
            except ValueError:
                continue
            bucket = getattr(self, kind)
            if per_minute > 0 and (bucket is None or bucket.per_minute != per_minute):
                if bucket is None:
                    setattr(self, kind, self._remote(kind, per_minute))
                self.handle.adopt.remote(kind, per_minute)
                getattr(self, kind).per_minute = per_minute
        # the pause at zero remaining stays per process: the base class does it without adopting again
        adopt, self.adopt = self.adopt, False
        try:
            super().observe_headers(headers)
        finally:
            self.adopt = adopt


class _LazyHandle:
    """Resolves the limiter actor on first use (in the worker, not when pickled)."""

    def __init__(self, owner: SharedRateLimiter) -> None:
        self.owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.owner.handle, name)


def _rebuild(actor: str, namespace: str, concurrency: int, rpm: float | None, tpm: float | None, max_pause: float, adopt: bool) -> SharedRateLimiter:
    return SharedRateLimiter(actor, namespace, concurrency=concurrency, rpm=rpm, tpm=tpm, max_pause=max_pause, adopt_server_limits=adopt)


def start_limiter(name: str, namespace: str, limiter: RateLimiter) -> Any:
    """Start the named :class:`LimiterActor` for ``limiter``'s user-given RPM/TPM; return its handle."""
    import ray

    rpm = limiter.rpm.per_minute if limiter._user_rpm and limiter.rpm is not None else None
    tpm = limiter.tpm.per_minute if limiter._user_tpm and limiter.tpm is not None else None
    remote = ray.remote(num_cpus=0, max_restarts=0)(LimiterActor)
    return remote.options(name=name, namespace=namespace, lifetime=None, max_concurrency=1000).remote(rpm, tpm)
