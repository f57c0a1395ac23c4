"""JSON schemas: a schema from a dict, a file or an attrs class; finding JSON in a reply; the ``json-schema`` verifier.
"""

from __future__ import annotations

import json
import re
import sys
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
import attrs
from synthkit.errors import InputError
from synthkit.interfaces import Verifier
from synthkit.records import Record, Verdict


__all__ = [
    "find_json",
    "schema_of_attrs",
    "Schema",
    "SchemaVerifier",
]


_FENCED = re.compile(r"```(?:json|JSON)?[ \t]*\n(.*?)```", re.S)


def find_json(text: str) -> Any:
    """Return the JSON value in ``text``: the whole text, a fenced block, or the first object/array.

    Raises:
        ValueError: no JSON value could be read; the message says why.
    """
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except ValueError as exc:
        first_error = exc
    for block in _FENCED.findall(text):
        try:
            return json.loads(block)
        except ValueError:
            continue
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch in "{[":
            try:
                return decoder.raw_decode(text, i)[0]
            except ValueError:
                continue
    msg = f"the reply is not JSON ({first_error})"
    raise ValueError(msg)


def _type_schema(tp: Any) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return {}
    if tp is type(None):
        return {"type": "null"}
    if origin is typing.Union or (sys.version_info >= (3, 10) and origin is types.UnionType):
        return {"anyOf": [_type_schema(a) for a in args]}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if tp is str:
        return {"type": "string"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if attrs.has(tp):
        return schema_of_attrs(tp)
    if origin in (list, tuple, set, frozenset, Sequence, typing.List) or tp in (list, tuple):  # noqa: UP006
        if origin is tuple and args and args[-1] is not Ellipsis:
            return {"type": "array", "prefixItems": [_type_schema(a) for a in args], "minItems": len(args), "maxItems": len(args)}
        return {"type": "array", "items": _type_schema(args[0]) if args else {}}
    if origin in (dict, Mapping) or tp is dict:
        return {"type": "object", "additionalProperties": _type_schema(args[1]) if len(args) == 2 else {}}
    msg = f"cannot describe the type {tp!r} as a JSON schema; use str, int, float, bool, list, dict, Literal, attrs classes"
    raise TypeError(msg)


def schema_of_attrs(cls: type) -> dict[str, Any]:
    """Return the JSON schema of an attrs class (fields without a default are required)."""
    hints = typing.get_type_hints(cls)
    props, required = {}, []
    for field in attrs.fields(cls):
        props[field.name] = _type_schema(hints.get(field.name, Any))
        if field.default is attrs.NOTHING:
            required.append(field.name)
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _build(cls: Any, value: Any) -> Any:
    """Build an attrs instance (nested ones too) from validated JSON."""
    if attrs.has(cls) and isinstance(value, Mapping):
        hints = typing.get_type_hints(cls)
        return cls(**{k: _build(hints.get(k, Any), v) for k, v in value.items()})
    origin, args = typing.get_origin(cls), typing.get_args(cls)
    if origin is list and args and isinstance(value, list):
        return [_build(args[0], v) for v in value]
    return value


def _error_text(error: Any) -> str:
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"at {where}: {error.message}"


@attrs.frozen
class Schema:
    """A JSON schema, and the attrs class it came from if any.

    Build one with :meth:`of` from a JSON-schema dict, a path to a ``.json`` schema file,
    or an attrs class.
    """

    json_schema: Mapping[str, Any]
    cls: type | None = None

    @classmethod
    def of(cls, spec: Schema | Mapping[str, Any] | type | str | Path) -> Schema:
        """Return the :class:`Schema` for a dict, a schema file path, or an attrs class."""
        if isinstance(spec, Schema):
            return spec
        if isinstance(spec, type) and attrs.has(spec):
            return cls(schema_of_attrs(spec), spec)
        if isinstance(spec, (str, Path)):
            try:
                spec = json.loads(Path(spec).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                msg = f"cannot read the JSON schema file {spec}: {exc}"
                raise InputError(msg) from None
        if not isinstance(spec, Mapping):
            msg = f"a schema must be a JSON-schema dict, a schema file or an attrs class, got {type(spec).__name__}"
            raise TypeError(msg)
        from jsonschema.validators import validator_for

        validator_for(spec).check_schema(spec)
        return cls(dict(spec))

    def validator(self) -> Any:
        from jsonschema.validators import validator_for

        return validator_for(self.json_schema)(self.json_schema)

    def check(self, text: str) -> tuple[Any, str | None]:
        """Return ``(value, None)`` if ``text`` holds JSON matching the schema, else ``(None, error)``."""
        try:
            value = find_json(text)
        except ValueError as exc:
            return None, str(exc)
        errors = sorted(self.validator().iter_errors(value), key=lambda e: list(e.absolute_path))
        if errors:
            return None, "; ".join(_error_text(e) for e in errors[:5])
        return value, None

    def load(self, text: str) -> Any:
        """Return the validated value (an instance of the attrs class, if there is one).

        Raises:
            InputError: the text is not JSON matching the schema.
        """
        value, error = self.check(text)
        if error is not None:
            msg = f"response does not match the schema: {error}"
            raise InputError(msg)
        return _build(self.cls, value) if self.cls is not None else value

    def instructions(self) -> str:
        """The sentence appended to the prompt, asking for JSON that matches the schema."""
        return (
            "Reply with only a JSON value (no prose, no code fence) that matches this JSON schema:\n"
            + json.dumps(self.json_schema, indent=1, sort_keys=True)
        )


class SchemaVerifier(Verifier):
    """Passes a record whose ``response`` is JSON matching a schema (the ``json-schema`` verifier).

    Args:
        schema: a JSON-schema dict, a schema file path or an attrs class; without one, the
            record's ``schema`` field is used.
        field: the field holding the JSON text.
    """

    name = "json-schema"

    def __init__(self, schema: Any = None, *, field: str = "response") -> None:
        self.schema = Schema.of(schema) if schema is not None else None
        self.field = field

    async def verify(self, record: Record) -> Verdict:
        schema = self.schema
        if schema is None:
            spec = record.data.get("schema")
            if spec is None:
                return Verdict(self.name, False, "no schema: pass schema=... or give the record a 'schema' field")
            schema = Schema.of(spec)
        text = record.get(self.field)
        if not isinstance(text, str):
            return Verdict(self.name, False, f"the record has no text field {self.field!r}")
        _, error = schema.check(text)
        if error is not None:
            return Verdict(self.name, False, f"response does not match the schema: {error}")
        return Verdict(self.name, True, "response matches the schema")
