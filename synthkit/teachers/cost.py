"""Token counts and dollars: prices from litellm's local price map, a budget, a meter.

Prices come from the price map that ships inside the ``litellm`` package
(``model_prices_and_context_window_backup.json``), read from disk without importing
litellm and never fetched from the network (``LITELLM_LOCAL_MODEL_COST_MAP=True`` is set
in case litellm itself is imported later). A model missing from the map has no price:
costs show as unknown and ``--budget`` refuses to start.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from synthkit.errors import BudgetExceeded

__all__ = ["CostEstimate", "CostMeter", "Price", "batch_price_of", "estimate_tokens", "price_map", "price_of", "spent"]

_PRICE_FILE = "model_prices_and_context_window_backup.json"


@attrs.frozen
class Price:
    """Dollars per token, for input (prompt) and output (completion)."""

    input: float
    output: float
    source: str = "litellm"

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return prompt_tokens * self.input + completion_tokens * self.output

    @classmethod
    def per_million(cls, input: float, output: float) -> Price:  # noqa: A002 - the price map's own words
        """A price given in dollars per million tokens (``--price-in``/``--price-out``), as providers list it."""
        return cls(input=input / 1e6, output=output / 1e6, source="given")


@functools.cache
def price_map() -> dict[str, Any]:
    """Return litellm's local price map (``{}`` if litellm is not installed)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return {}
    for folder in spec.submodule_search_locations:
        path = Path(folder) / _PRICE_FILE
        if path.is_file():
            with open(path, encoding="utf-8") as fh:
                return json.load(fh)
    import litellm  # the file moved: fall back to litellm's own loaded copy (local, by the env above)

    return dict(litellm.model_cost)


def price_of(model: str) -> Price | None:
    """Return the price of ``model`` (``"gpt-4o-mini"``, ``"openai/gpt-4o-mini"``...), or ``None``."""
    prices = price_map()
    candidates = [model]
    if "/" in model:
        candidates += [model.split("/", 1)[1], model.rsplit("/", 1)[1]]
    for name in candidates:
        entry = prices.get(name)
        if isinstance(entry, Mapping):
            pin, pout = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
            if isinstance(pin, (int, float)) and isinstance(pout, (int, float)):
                return Price(float(pin), float(pout))
    return None


def batch_price_of(model: str, realtime: Price | None = None) -> Price | None:
    """Return the batch-API price of ``model``: the price map's ``*_cost_per_token_batches``, else half of ``realtime``.

    Args:
        model: the model name.
        realtime: the real-time price in use (an explicit ``--price-in``/``--price-out`` one
            wins over the map, halved as OpenAI's and Anthropic's batch discounts are).
    """
    if realtime is not None and realtime.source == "given":
        return Price(realtime.input / 2, realtime.output / 2, source="given, batch (half)")
    prices = price_map()
    names = [model, *([model.split("/", 1)[1], model.rsplit("/", 1)[1]] if "/" in model else [])]
    for name in names:
        entry = prices.get(name)
        if isinstance(entry, Mapping):
            pin, pout = entry.get("input_cost_per_token_batches"), entry.get("output_cost_per_token_batches")
            if isinstance(pin, (int, float)) and isinstance(pout, (int, float)):
                return Price(float(pin), float(pout), source="litellm batches")
    if realtime is None:
        realtime = price_of(model)
    return None if realtime is None else Price(realtime.input / 2, realtime.output / 2, source=f"{realtime.source}, batch (half)")


def estimate_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """Estimate prompt tokens without a tokenizer: about 4 characters a token, plus framing."""
    chars = 0
    for m in messages:
        content = m.get("content", "")
        chars += len(content) if isinstance(content, str) else len(json.dumps(content))
    return chars // 4 + 4 * len(messages) + 3


@attrs.frozen
class CostEstimate:
    """What a generate step would send for a source, before anything is sent (``--dry-run``).

    Attributes:
        model: the teacher's model.
        records: records read.
        requests: requests still to send (records whose samples are all cached send none).
        cached_samples: samples already in the cache.
        prompt_tokens: estimated prompt tokens of the requests to send (4 characters a token).
        completion_tokens: completion tokens at most (``max_tokens`` a sample, or an assumed 256).
        completion_tokens_per_sample: the per-sample bound used.
        completion_tokens_assumed: ``True`` when no ``max_tokens`` bounds it.
        cost_usd: the dollars at the model's price, or ``None`` when the price is unknown.
    """

    model: str
    records: int
    requests: int
    cached_samples: int
    prompt_tokens: int
    completion_tokens: int
    completion_tokens_per_sample: int
    completion_tokens_assumed: bool
    cost_usd: float | None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        cost = "unknown (model not in litellm's price map)" if self.cost_usd is None else f"${self.cost_usd:.4f}"
        basis = "assumed (set --param max_tokens=N for a bound)" if self.completion_tokens_assumed else "max_tokens"
        cached = f" ({self.cached_samples} samples cached)" if self.cached_samples else ""
        return "\n".join(
            [
                "dry run: nothing was sent",
                f"  records:            {self.records}",
                f"  requests to send:   {self.requests}{cached}",
                f"  prompt tokens:      ~{self.prompt_tokens:,} (estimated, 4 chars a token)",
                f"  completion tokens:  <= {self.completion_tokens:,} ({self.completion_tokens_per_sample} a sample, {basis})",
                f"  cost for {self.model}: {cost}",
            ]
        )


class CostMeter:
    """Totals of one teacher's paid requests, and its budget.

    Args:
        model: the model, to look up its price.
        budget: the most dollars to spend (``None``: no limit).
        price: an explicit :class:`Price`, overriding the price map.

    A request reserves its worst-case cost before it is sent (prompt estimate plus
    ``max_tokens``, or the largest completion seen so far) and settles its real usage on
    arrival, so the budget is never overshot by requests in flight. When a reservation
    would pass the budget while other requests are in flight, :meth:`areserve` waits for
    them to settle (their real cost is usually far below the reservation) and tries again;
    only when nothing is in flight does it raise :class:`BudgetExceeded`. So a run whose
    true cost is under the budget finishes, and one over it stops at the budget. Async
    callers use :meth:`areserve` and :meth:`asettle`, which a meter shared between
    processes overrides (the ray engine's).
    """

    def __init__(self, model: str, *, budget: float | None = None, price: Price | None = None) -> None:
        self.model = model
        self.price = price if price is not None else price_of(model)
        self.budget = budget
        if budget is not None and self.price is None:
            msg = (
                f"no price is known for model {model!r} in litellm's local price map, so a budget of "
                f"${budget:g} cannot be enforced; give one (Python: price=Price.per_million(IN, OUT); CLI: "
                f"--price-in IN --price-out OUT, dollars per million tokens, 0 for a local model), or drop --budget"
            )
            raise BudgetExceeded(msg)
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.requests = 0
        self.spent = 0.0
        self.reserved = 0.0
        self.max_completion = 0
        self.batch_spent = 0.0  # the part of ``spent`` paid at batch prices (batch mode)
        self.batch_requests = 0
        self._settled: Any = None  # an asyncio.Event set when a request settles, for waiting reservations

    @property
    def cost_usd(self) -> float | None:
        return self.spent if self.price is not None else None

    def completion_guess(self, params: Mapping[str, Any]) -> int:
        """Completion tokens to assume for a request not yet answered."""
        limit = params.get("max_tokens") or params.get("max_completion_tokens")
        if limit:
            return int(limit)
        return max(self.max_completion, 256)

    def reserve(self, prompt_tokens: int, completion_tokens: int, *, price: Price | None = None) -> float:
        """Reserve the worst-case cost of a request; return the amount to :meth:`settle` later.

        ``price`` overrides the meter's own (batch mode charges the batch price).
        """
        price = price or self.price
        if price is None or self.budget is None:
            return 0.0
        amount = price.cost(prompt_tokens, completion_tokens)
        if self.spent + self.reserved + amount > self.budget:
            msg = (
                f"budget of ${self.budget:g} reached: ${self.spent:.4f} spent, ${self.reserved:.4f} in flight, "
                f"the next request may cost ${amount:.4f}; everything finished so far is kept (re-run with the "
                f"same --cache and a larger --budget to go on)"
            )
            raise BudgetExceeded(msg)
        self.reserved += amount
        return amount

    async def areserve(self, prompt_tokens: int, completion_tokens: int) -> float:
        """:meth:`reserve`, waiting while requests in flight may still free room under the budget.

        Raises:
            BudgetExceeded: the request does not fit even with nothing in flight.
        """
        import asyncio

        while True:
            try:
                return self.reserve(prompt_tokens, completion_tokens)
            except BudgetExceeded:
                if self.reserved <= 0:
                    raise
            if self._settled is None:
                self._settled = asyncio.Event()
            await self._settled.wait()

    async def asettle(self, reserved: float, prompt_tokens: int = 0, completion_tokens: int = 0) -> float | None:
        """:meth:`settle` for async callers (see :meth:`areserve`); wakes the requests waiting for room."""
        cost = self.settle(reserved, prompt_tokens, completion_tokens)
        event, self._settled = self._settled, None
        if event is not None:
            event.set()
        return cost

    def settle(
        self, reserved: float, prompt_tokens: int = 0, completion_tokens: int = 0, *, price: Price | None = None, batch: bool = False
    ) -> float | None:
        """Release a reservation and add the real usage; return the request's cost (``None`` if unknown).

        ``price`` overrides the meter's own; ``batch`` counts the request in :attr:`batch_spent` too.
        """
        price = price or self.price
        if batch and (prompt_tokens or completion_tokens):
            self.batch_requests += 1
        self.reserved = max(0.0, self.reserved - reserved)
        if prompt_tokens or completion_tokens:
            self.requests += 1
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        self.max_completion = max(self.max_completion, completion_tokens)
        if price is None:
            return None
        cost = price.cost(prompt_tokens, completion_tokens)
        self.spent += cost
        if batch:
            self.batch_spent += cost
        return cost


def spent(teacher: Any, completions: Sequence[Any]) -> dict[str, Any] | None:
    """What ``completions`` of ``teacher`` used, for a verdict's ``cost`` (``None`` when nothing was paid).

    Cached completions were paid for in an earlier run and count as they were recorded.
    """
    prompt = sum(c.usage.prompt_tokens for c in completions)
    completion = sum(c.usage.completion_tokens for c in completions)
    dollars = [c.usage.cost_usd for c in completions if c.usage.cost_usd is not None]
    if not (prompt or completion or dollars):
        return None
    model = next((c.model for c in completions if c.model), None) or teacher.model
    return {
        "teacher": teacher.name,
        "model": model,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "cost_usd": sum(dollars) if dollars else None,
    }
