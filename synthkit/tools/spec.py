"""Tools as values: a :class:`Tool` (a JSON schema in the OpenAI ``tools`` format, and the function that runs it) and a :class:`ToolCall`.

A tool's wire form is OpenAI's::

    {"type": "function", "function": {"name": "calculator", "description": "...", "parameters": {JSON schema}}}

and a model's call of it is::

    {"id": "call_1", "type": "function", "function": {"name": "calculator", "arguments": "{\\"expression\\": \\"2+3\\"}"}}

``arguments`` is JSON *text*, as the model wrote it: it is parsed and checked against the
tool's schema by :func:`synthkit.tools.validate.check_call`, never trusted.

Example:
    >>> def add(a: int, b: int) -> int:
    ...     '''Add two integers.'''
    ...     return a + b
    >>> tuple(Tool.from_function(add).parameters.get("required"))
    ('a', 'b')
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from synthkit._frozen import freeze, thaw
from synthkit.errors import InputError

__all__ = ["Tool", "ToolCall", "tool", "tool_calls_of", "load_tools"]

_EMPTY = {"type": "object", "properties": {}}


def _check_name(_inst: Any, _attr: Any, value: str) -> None:
    if not value or not all(ch.isalnum() or ch in "_-" for ch in value) or len(value) > 64:
        msg = f"tool name {value!r} must be 1 to 64 letters, digits, '_' or '-' (OpenAI's rule for function names)"
        raise InputError(msg)


@attrs.frozen
class Tool:
    """One tool the model may call.

    Attributes:
        name: the function name the model calls.
        description: what the tool does (the model reads it; a simulated tool is played from it).
        parameters: the JSON schema of the arguments object.
        function: the Python function that runs the call (keyword arguments from the call),
            or ``None`` for a tool run by an executor (sandbox, simulated by a teacher).
    """

    name: str = attrs.field(validator=_check_name)
    description: str = ""
    parameters: Mapping[str, Any] = attrs.field(factory=lambda: freeze(_EMPTY), converter=freeze)
    function: Callable[..., Any] | None = attrs.field(default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        from jsonschema.exceptions import SchemaError
        from jsonschema.validators import validator_for

        schema = thaw(self.parameters)
        try:
            validator_for(schema).check_schema(schema)
        except SchemaError as exc:
            msg = f"tool {self.name!r}: its parameters are not a valid JSON schema: {exc.message}"
            raise InputError(msg) from None

    @classmethod
    def from_openai(cls, spec: Mapping[str, Any], *, function: Callable[..., Any] | None = None) -> Tool:
        """Read the OpenAI form (``{"type": "function", "function": {...}}``, or the inner object alone).

        Raises:
            InputError: the object is not a function tool; the message names what is missing.
        """
        if not isinstance(spec, Mapping):
            msg = f"a tool must be a JSON object in the OpenAI tools format, got {type(spec).__name__}"
            raise InputError(msg)
        if spec.get("type", "function") != "function":
            msg = f"tool type {spec.get('type')!r} is not supported; synthkit runs 'function' tools"
            raise InputError(msg)
        inner = spec.get("function", spec)
        if not isinstance(inner, Mapping) or not isinstance(inner.get("name"), str):
            msg = f"a tool needs function.name: {json.dumps(thaw(spec))[:200]}"
            raise InputError(msg)
        return cls(
            name=inner["name"],
            description=str(inner.get("description") or ""),
            parameters=inner.get("parameters") or _EMPTY,
            function=function,
        )

    @classmethod
    def from_function(cls, fn: Callable[..., Any], *, name: str | None = None, description: str | None = None) -> Tool:
        """Describe a Python function as a tool: its type hints give the schema, its docstring's first paragraph the description."""
        from synthkit.verify.schema import _type_schema  # the one mapping of Python types to JSON schema

        hints = typing.get_type_hints(fn)
        props: dict[str, Any] = {}
        required: list[str] = []
        for p in inspect.signature(fn).parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            props[p.name] = _type_schema(hints.get(p.name, Any))
            if p.default is p.empty:
                required.append(p.name)
        doc = inspect.getdoc(fn) or ""
        schema = {"type": "object", "properties": props, "required": required, "additionalProperties": False}
        return cls(name=name or fn.__name__, description=description if description is not None else doc.split("\n\n")[0], parameters=schema, function=fn)

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry (plain dicts)."""
        fn: dict[str, Any] = {"name": self.name, "description": self.description, "parameters": thaw(self.parameters)}
        return {"type": "function", "function": fn}

    def with_function(self, function: Callable[..., Any]) -> Tool:
        """A copy run by ``function``."""
        return attrs.evolve(self, function=function)


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None, description: str | None = None) -> Any:
    """Decorate a function to make it a :class:`Tool` (``@tool`` or ``@tool(name=...)``)."""
    if fn is None:
        return lambda f: Tool.from_function(f, name=name, description=description)
    return Tool.from_function(fn, name=name, description=description)


@attrs.frozen
class ToolCall:
    """One call the model made: its id, the tool's name and the arguments as the JSON text the model wrote."""

    id: str
    name: str
    arguments: str

    @classmethod
    def from_openai(cls, call: Mapping[str, Any], *, index: int = 0) -> ToolCall:
        """Read ``{"id", "type": "function", "function": {"name", "arguments"}}`` (a missing id becomes ``call_<index>``)."""
        fn = call.get("function") or {}
        args = fn.get("arguments", "")
        if not isinstance(args, str):  # some servers send an object
            args = json.dumps(thaw(args), ensure_ascii=False)
        return cls(id=str(call.get("id") or f"call_{index}"), name=str(fn.get("name") or ""), arguments=args)

    def to_openai(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


def tool_calls_of(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tool calls in an OpenAI response message (``tool_calls``, or a legacy ``function_call``), as plain dicts."""
    calls = message.get("tool_calls")
    if isinstance(calls, Sequence) and not isinstance(calls, str):
        return [ToolCall.from_openai(c, index=i).to_openai() for i, c in enumerate(calls) if isinstance(c, Mapping)]
    legacy = message.get("function_call")
    if isinstance(legacy, Mapping):
        return [ToolCall.from_openai({"function": legacy}).to_openai()]
    return []


def load_tools(source: str | Path | Sequence[Any]) -> tuple[Tool, ...]:
    """Read tools from a JSON file (a list in the OpenAI ``tools`` format) or a list of dicts and :class:`Tool` values.

    Raises:
        InputError: the file cannot be read, is not a JSON list, or holds a malformed tool;
            the message names the file and the entry.
    """
    where = "the tools list"
    items: Any = source
    if isinstance(source, (str, Path)):
        where = str(source)
        try:
            items = json.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            msg = f"cannot read the tools file {source}: {exc.strerror}"
            raise InputError(msg) from None
        except ValueError as exc:
            msg = f"the tools file {source} is not JSON: {exc}"
            raise InputError(msg) from None
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        msg = f"{where} must be a JSON list of tools in the OpenAI format, got {type(items).__name__}"
        raise InputError(msg)
    out = []
    for i, item in enumerate(items):
        if isinstance(item, Tool):
            out.append(item)
            continue
        try:
            out.append(Tool.from_openai(item))
        except InputError as exc:
            msg = f"{where}, entry {i}: {exc}"
            raise InputError(msg) from None
    names = [t.name for t in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        msg = f"{where} names the tools {dupes} twice; give each tool one entry"
        raise InputError(msg)
    return tuple(out)
