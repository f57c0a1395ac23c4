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


def remember(part: Any, kind: str, name: str, options: Mapping[str, Any]) -> Any:
    """Note that ``part`` is the ``kind`` named ``name`` built with ``options``; return ``part``.

    A part that cannot be weakly referenced, or whose options cannot be frozen, is not noted.
    """
    try:
        _SPECS[part] = Spec(kind, name, dict(options))
    except TypeError:
        pass
    return part


def spec_of(part: Any) -> Spec | None:
    """Return what ``part`` was built from, or ``None`` when it was not built by name."""
    try:
        return _SPECS.get(part)
    except TypeError:
        return None
