"""Reading a recipe's YAML with the line and column of every key and value (PyYAML's composed nodes)."""

from __future__ import annotations

import os
import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import attrs
import yaml

from synthkit.errors import RecipeError

__all__ = ["Doc", "Path_", "dump", "parse"]

#: Where a value sits in the document: keys and list indices from the top.
Path_ = tuple[Hashable, ...]

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")


@attrs.frozen
class Doc:
    """A parsed recipe: its plain values and, for each path, the 1-based (line, column) of the key and of the value."""

    file: str
    values: Any
    keys: dict[Path_, tuple[int, int]]
    spots: dict[Path_, tuple[int, int]]

    def where(self, path: Path_, *, key: bool = False) -> str:
        """Return ``file:line:column`` of the value at ``path`` (of its key with ``key=True``), or of its closest parent."""
        table = self.keys if key else self.spots
        p = tuple(path)
        while p:
            if p in table:
                line, col = table[p]
                return f"{self.file}:{line}:{col}"
            if key and p in self.spots:
                line, col = self.spots[p]
                return f"{self.file}:{line}:{col}"
            p = p[:-1]
        line, col = self.spots.get((), (1, 1))
        return f"{self.file}:{line}:{col}"

    def error(self, path: Path_, message: str, *, key: bool = False) -> RecipeError:
        """Return a :class:`RecipeError` saying ``message`` at ``path``."""
        return RecipeError(f"{self.where(path, key=key)}: {message}")


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _env(text: str, where: str) -> str:
    """Replace ``${NAME}`` and ``${NAME:-default}`` with the environment's values."""

    def sub(m: re.Match[str]) -> str:
        value = os.environ.get(m.group(1))
        if value is None:
            if m.group(2) is None:
                msg = f"{where}: the environment variable {m.group(1)} is not set; set it, or give a default: ${{{m.group(1)}:-VALUE}}"
                raise RecipeError(msg)
            return m.group(2)
        return value

    return _ENV.sub(sub, text)


def parse(text: str, file: str | Path) -> Doc:
    """Parse recipe ``text`` (read from ``file``) into a :class:`Doc`.

    Raises:
        RecipeError: the YAML is malformed, a key is repeated, or a ``${VAR}`` is unset; the message
            starts with ``file:line:column``.
    """
    file = str(file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        problem = exc.problem or exc.context or "malformed YAML"
        msg = f"{where}: {problem} (the recipe is not valid YAML; check the indentation and quoting there)"
        raise RecipeError(msg) from None
    keys: dict[Path_, tuple[int, int]] = {}
    spots: dict[Path_, tuple[int, int]] = {}
    constructor = yaml.SafeLoader("")

    def build(node: yaml.Node, path: Path_) -> Any:
        spots[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for knode, vnode in node.value:
                key = build(knode, (*path, "\0key"))
                if not isinstance(key, Hashable) or isinstance(key, (dict, list)):
                    line, col = _mark(knode)
                    msg = f"{file}:{line}:{col}: a key must be a plain name, got {type(key).__name__}"
                    raise RecipeError(msg)
                if key in out:
                    line, col = _mark(knode)
                    first = keys[(*path, key)]
                    msg = f"{file}:{line}:{col}: {key!r} is given twice (first at line {first[0]}); keep one"
                    raise RecipeError(msg)
                keys[(*path, key)] = _mark(knode)
                out[key] = build(vnode, (*path, key))
            spots.pop((*path, "\0key"), None)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*path, i)) for i, item in enumerate(node.value)]
        value = constructor.construct_object(node, deep=True)
        if isinstance(value, str) and "${" in value:
            line, col = _mark(node)
            value = _env(value, f"{file}:{line}:{col}")
        return value

    values = {} if root is None else build(root, ())
    spots.setdefault((), (1, 1))
    return Doc(file=file, values=values, keys=keys, spots=spots)


def dump(values: Any) -> str:
    """Return ``values`` as block-style YAML, keys in the order given."""
    return yaml.safe_dump(values, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
