"""One budget for a whole cluster: a teacher's cost meter in a named Ray actor.

A remote teacher's :class:`~synthkit.teachers.cost.CostMeter` keeps its totals in its own process,
so N generation actors would each spend the full ``--budget``. Before the pipeline is
shipped, the engine swaps each remote teacher's ``cost`` for a :class:`SharedCostMeter`:
every request reserves its worst-case cost in, and settles its real cost with, one actor,
``synthkit-budget-<run>-<n>``, which holds the only spent and reserved totals. So spent
plus reserved over the whole cluster never passes the budget. Once the actor has refused a
request it refuses every later one, so all actors stop as the local engine does. The cost
of each request is still computed where it was made, from the same price, and recorded in
that record's lineage. At the end of the run the driver copies the actor's totals back
into the teacher's own meter and counters (:func:`take_totals`).
"""

from __future__ import annotations

from typing import Any

from synthkit.teachers.cost import CostMeter, Price
from synthkit.errors import BudgetExceeded
from synthkit.teachers.remote import TeacherStats

__all__ = ["MeterActor", "SharedCostMeter", "start_meter", "take_totals"]

#: The meter fields that travel between the driver and the actor.
TOTALS = ("spent", "prompt_tokens", "completion_tokens", "requests", "max_completion")


class MeterActor:
    """The totals of one teacher's paid requests and its budget (a Ray actor taking one call at a time).

    Args:
        meter: the teacher's meter as the run starts (its spend so far counts against the budget).
    """

    def __init__(self, meter: CostMeter) -> None:
        self.meter = meter
        self.meter.reserved = 0.0
        self.refused: str | None = None

    def reserve(self, prompt_tokens: int, completion_tokens: int) -> tuple[float, str | None]:
        """Reserve a request's worst-case cost; return ``(amount, None)``, or ``(0.0, why)`` once the budget is reached."""
        if self.refused is None:
            try:
                return self.meter.reserve(prompt_tokens, completion_tokens), None
            except BudgetExceeded as exc:
                self.refused = str(exc)
        return 0.0, self.refused

    def settle(self, reserved: float, prompt_tokens: int, completion_tokens: int) -> int:
        """Release a reservation and add the real usage; return the largest completion seen in the cluster."""
        self.meter.settle(reserved, prompt_tokens, completion_tokens)
        return self.meter.max_completion

    def totals(self) -> dict[str, Any]:
        """The meter's totals, and what is still reserved by requests in flight."""
        return {**{k: getattr(self.meter, k) for k in TOTALS}, "reserved": self.meter.reserved}


class SharedCostMeter(CostMeter):
    """A :class:`~synthkit.teachers.cost.CostMeter` whose spent and reserved totals are the named actor's.

    Args:
        actor: the name of the :class:`MeterActor` (looked up lazily in each process).
        namespace: the Ray namespace the actor lives in.
        model: the teacher's model.
        budget: the most dollars the whole run may spend (``None``: no limit).
        price: the model's price (as the teacher's own meter has it).

    Its own counters hold what this process spent. It pickles as its settings, so it
    travels to Ray workers inside the teacher it meters.
    """

    def __init__(self, actor: str, namespace: str, model: str, *, budget: float | None, price: Price | None) -> None:
        super().__init__(model, budget=budget, price=price)
        self.actor = actor
        self.namespace = namespace
        self._handle: Any = None

    @classmethod
    def like(cls, meter: CostMeter, actor: str, namespace: str) -> SharedCostMeter:
        """Return a shared meter with the model, budget and price of ``meter`` (a teacher's own)."""
        return cls(actor, namespace, meter.model, budget=meter.budget, price=meter.price)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.actor, self.namespace, self.model, self.budget, self.price))

    @property
    def handle(self) -> Any:
        if self._handle is None:
            import ray

            self._handle = ray.get_actor(self.actor, namespace=self.namespace)
        return self._handle

    def _limited(self) -> bool:
        return self.price is not None and self.budget is not None

    def _granted(self, answer: tuple[float, str | None]) -> float:
        amount, refused = answer
        if refused is not None:
            raise BudgetExceeded(refused)
        return amount

    async def areserve(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Reserve in the shared actor without blocking this process's event loop."""
        if not self._limited():
            return 0.0
        return self._granted(await self.handle.reserve.remote(prompt_tokens, completion_tokens))

    async def asettle(self, reserved: float, prompt_tokens: int = 0, completion_tokens: int = 0) -> float | None:
        """Settle in the shared actor; count the request here too and return its cost."""
        largest = await self.handle.settle.remote(reserved, prompt_tokens, completion_tokens)
        return self._count(largest, prompt_tokens, completion_tokens)

    def reserve(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Reserve in the shared actor, waiting for its answer (async callers use :meth:`areserve`)."""
        if not self._limited():
            return 0.0
        import ray

        return self._granted(ray.get(self.handle.reserve.remote(prompt_tokens, completion_tokens)))

    def settle(self, reserved: float, prompt_tokens: int = 0, completion_tokens: int = 0) -> float | None:
        """Settle in the shared actor, waiting for its answer (async callers use :meth:`asettle`)."""
        import ray

        largest = ray.get(self.handle.settle.remote(reserved, prompt_tokens, completion_tokens))
        return self._count(largest, prompt_tokens, completion_tokens)

    def _count(self, largest: int, prompt_tokens: int, completion_tokens: int) -> float | None:
        """Count a settled request in this process's own totals; return its cost."""
        cost = CostMeter.settle(self, 0.0, prompt_tokens, completion_tokens)
        self.max_completion = max(self.max_completion, largest)
        return cost


def _rebuild(actor: str, namespace: str, model: str, budget: float | None, price: Price | None) -> SharedCostMeter:
    return SharedCostMeter(actor, namespace, model, budget=budget, price=price)


def start_meter(name: str, namespace: str, meter: CostMeter) -> Any:
    """Start the named :class:`MeterActor` holding a copy of ``meter``; return its handle."""
    import ray

    remote = ray.remote(num_cpus=0, max_restarts=0)(MeterActor)
    return remote.options(name=name, namespace=namespace, lifetime=None).remote(meter)


def take_totals(meter: CostMeter, stats: TeacherStats | None, totals: dict[str, Any]) -> None:
    """Make a teacher's own ``meter`` hold the run's totals and add the run's requests, tokens and cost to ``stats``."""
    before = {k: getattr(meter, k) for k in TOTALS}
    for key in TOTALS:
        setattr(meter, key, totals[key])
    if stats is None:
        return
    stats.ok += meter.requests - before["requests"]
    stats.prompt_tokens += meter.prompt_tokens - before["prompt_tokens"]
    stats.completion_tokens += meter.completion_tokens - before["completion_tokens"]
    if meter.price is not None:
        stats.cost_usd = meter.spent
