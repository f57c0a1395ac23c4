"""Immutable containers for values: a read-only dict, and deep freezing of JSON-like data.

``attrs.frozen`` stops assignment to a value's fields, not changes inside what they
hold; :func:`freeze` makes the contents immutable too (dicts become :class:`FrozenDict`,
lists become tuples) and :func:`thaw` turns them back into plain JSON-able dicts and
lists. :class:`FrozenDict` subclasses ``dict`` so ``json.dumps`` writes it as it is, and
it pickles (Ray ships records between processes). ``frozendict`` from PyPI does the same
but is pure Python here and builds about 6x slower, which a record per input line pays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

__all__ = ["FrozenDict", "freeze", "thaw"]


def _refuse(self: Any, *_args: Any, **_kwargs: Any) -> NoReturn:
    msg = f"{type(self).__name__} is immutable: build a new value instead (Record.evolve, attrs.evolve)"
    raise TypeError(msg)


class FrozenDict(dict):  # type: ignore[type-arg]
    """A ``dict`` that refuses every change; hashable when its values are."""

    __slots__ = ()

    __setitem__ = __delitem__ = __ior__ = _refuse  # type: ignore[assignment]
    clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


_ATOMS = frozenset((str, int, float, bool, type(None)))


def freeze(value: Any) -> Any:
    """Return ``value`` with every dict made a :class:`FrozenDict` and every list or tuple a tuple, all the way down."""
    t = type(value)
    if t in _ATOMS or t is FrozenDict:
        return value
    if t is dict or (t is not list and t is not tuple and isinstance(value, Mapping)):
        for v in value.values():
            if type(v) not in _ATOMS:
                return FrozenDict({k: freeze(v) for k, v in value.items()})
        return FrozenDict(value)  # the common case: flat, built in C
    if t is list or t is tuple:
        for v in value:
            if type(v) not in _ATOMS:
                return tuple(freeze(v) for v in value)
        return value if t is tuple else tuple(value)
    return value


def thaw(value: Any) -> Any:
    """Return a plain, mutable copy of a frozen value: dicts and lists all the way down."""
    t = type(value)
    if t in _ATOMS:
        return value
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if t is tuple or t is list:
        return [thaw(v) for v in value]
    return value
