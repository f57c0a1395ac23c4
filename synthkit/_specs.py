"""What each part was built from (kind, registered name, options), so a pipeline can be written down as a recipe.

:func:`synthkit.plugins.resolve` remembers every part it builds by name; the recipe writer
(:mod:`synthkit.recipes.describe`) reads it back. Parts are held weakly: remembering keeps nothing alive.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

import attrs

from synthkit._frozen import freeze, thaw

__all__ = ["Spec", "remember", "spec_of"]


@attrs.frozen
class Spec:
    """A part's recipe: its kind (``"teacher"``, ``"filter"``, a generator step...), its name and its options."""

    kind: str
    name: str
    options: Mapping[str, Any] = attrs.field(converter=freeze)

    def plain_options(self) -> dict[str, Any]:
        return thaw(self.options)


_SPECS: weakref.WeakKeyDictionary[Any, Spec] = weakref.WeakKeyDictionary()
#: Parts that cannot be weakly referenced (slotted values such as templates), held with their spec; few are ever built.
_HELD: dict[int, tuple[Any, Spec]] = {}


def remember(part: Any, kind: str, name: str, options: Mapping[str, Any]) -> Any:
    """Note that ``part`` is the ``kind`` named ``name`` built with ``options``; return ``part``.

    A part that cannot be weakly referenced is held for the life of the process (parts are built
    once a run, not once a record).
    """
    spec = Spec(kind, name, dict(options))
    try:
        _SPECS[part] = spec
    except TypeError:
        _HELD[id(part)] = (part, spec)
    return part


def spec_of(part: Any) -> Spec | None:
    """Return what ``part`` was built from, or ``None`` when it was not built by name."""
    try:
        return _SPECS.get(part)
    except TypeError:
        held = _HELD.get(id(part))
        return held[1] if held is not None and held[0] is part else None
