"""Checking a model's tool call against the tool's JSON schema: a :class:`~synthkit.Verdict` with the reason.

A call is valid when it names a known tool, its ``arguments`` are JSON text holding an
object, and that object matches the tool's ``parameters`` schema (``jsonschema``). The
reason of an invalid call says which of these failed, where, and what was expected.

Example:
    >>> from synthkit.tools.spec import Tool, ToolCall
    >>> calc = Tool("calculator", parameters={"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]})
    >>> check_call(ToolCall("c1", "calculator", '{"expression": 12}'), [calc]).reason
    "tool call c1 to 'calculator': at $.expression: 12 is not of type 'string'"
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from synthkit._frozen import thaw
from synthkit.records import Verdict
from synthkit.tools.spec import Tool, ToolCall

__all__ = ["check_call", "parse_arguments"]

NAME = "tool-call"


def _where(error: Any) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


def parse_arguments(call: ToolCall) -> dict[str, Any]:
    """The call's arguments as a dict.

    Raises:
        ValueError: the arguments are not JSON text holding an object.
    """
    text = call.arguments.strip() or "{}"
    try:
        value = json.loads(text)
    except ValueError as exc:
        msg = f"its arguments are not JSON ({exc.msg} at character {exc.pos}): {call.arguments[:120]!r}"
        raise ValueError(msg) from None
    if not isinstance(value, dict):
        msg = f"its arguments must be a JSON object, got {type(value).__name__}"
        raise ValueError(msg)
    return value


def check_call(call: ToolCall, tools: Sequence[Tool] | Mapping[str, Tool]) -> Verdict:
    """Return whether ``call`` is a valid call of one of ``tools``, with the reason (verdict name ``tool-call``)."""
    by_name = tools if isinstance(tools, Mapping) else {t.name: t for t in tools}
    head = f"tool call {call.id} to {call.name!r}"
    spec = by_name.get(call.name)
    if spec is None:
        known = ", ".join(sorted(by_name)) or "none"
        return Verdict(NAME, False, f"{head}: no such tool; the tools are {known}")
    try:
        args = parse_arguments(call)
    except ValueError as exc:
        return Verdict(NAME, False, f"{head}: {exc}")
    from jsonschema.validators import validator_for

    schema = thaw(spec.parameters)
    errors = sorted(validator_for(schema)(schema).iter_errors(args), key=lambda e: list(e.absolute_path))
    if errors:
        return Verdict(NAME, False, f"{head}: " + "; ".join(f"at {_where(e)}: {e.message}" for e in errors[:5]))
    return Verdict(NAME, True, f"{head} matches its schema")
