"""Persona and attribute grids: seed records for combinations of attribute values.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from synthkit.records import Record


__all__ = [
    "attribute_grid",
]


def attribute_grid(
    attributes: Mapping[str, Sequence[Any]], *, sample: int | None = None, seed: int = 0
) -> Iterator[Record]:
    """Yield one seed record per combination of attribute values, for coverage.

    Args:
        attributes: attribute name to its values, e.g. ``{"topic": [...], "persona": [...],
            "difficulty": [...], "format": [...]}``.
        sample: yield a seeded sample of this many distinct combinations instead of all
            of them (the product is never built in memory).
        seed: the sample's seed.

    Examples:
        >>> [r.data for r in attribute_grid({"topic": ["sets", "limits"], "difficulty": ["easy"]})]
        [{'topic': 'sets', 'difficulty': 'easy'}, {'topic': 'limits', 'difficulty': 'easy'}]
    """
    keys = list(attributes)
    values = [list(attributes[k]) for k in keys]
    for k, v in zip(keys, values):
        if not v:
            msg = f"attribute {k!r} has no values"
            raise ValueError(msg)
    total = math.prod(len(v) for v in values)
    if sample is None:
        for combo in itertools.product(*values):
            yield Record.create(data=dict(zip(keys, combo)))
        return
    rng = random.Random(seed)
    for index in sorted(rng.sample(range(total), min(sample, total))):
        combo = []
        for v in reversed(values):
            index, r = divmod(index, len(v))
            combo.append(v[r])
        yield Record.create(data=dict(zip(keys, reversed(combo))))
