"""Structured output: a JSON schema or an attrs class describes the response.

:class:`Schema` turns either into a JSON schema, finds the JSON value in a reply (bare,
or in a fenced block, or the first ``{...}``/``[...]`` in the text) and validates it with
``jsonschema``. :class:`Structured` is a generator step: it asks the teacher for JSON
matching the schema and, when a reply does not match, asks again with the validation
error in the prompt, a bounded number of times (it is :class:`~synthkit.regenerate.Regenerate`
with a schema check). Every attempt's raw text and error stay in ``lineage.attempts``;
a record that never matches fails with the last error and raw text in its reject line.

Example:
    >>> import attrs
    >>> @attrs.define
    ... class Person:
    ...     name: str
    ...     age: int
    >>> Schema.of(Person).check('{"name": "Ada", "age": "x"}')[1]
    "at $.age: 'x' is not of type 'integer'"
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

from .errors import InputError
from .interfaces import Context, Generator, PromptTemplate, Teacher, Verifier
from .pipeline import Drop
from .records import Record, Verdict

__all__ = ["Schema", "SchemaVerifier", "Structured", "find_json", "schema_of_attrs"]

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


class _SchemaTemplate(PromptTemplate):
    """Wraps a template (or the record's prompt) and appends the schema instructions."""

    def __init__(self, inner: PromptTemplate | None, schema: Schema) -> None:
        self.inner = inner
        self.schema = schema
        self.name = f"{inner.name if inner else 'prompt'}+schema"

    @property
    def hash(self) -> str:
        from .records import content_id

        return content_id([self.inner.hash if self.inner else None, dict(self.schema.json_schema)])

    def render(self, record: Record) -> list[dict[str, str]]:
        if self.inner is not None:
            messages = self.inner.render(record)
        elif record.messages:
            messages = [dict(m) for m in record.messages]
        elif record.prompt is not None:
            messages = [{"role": "user", "content": record.prompt}]
        else:
            from .errors import TemplateError

            msg = f"record {record.id} has neither 'prompt' nor 'messages'; give a template"
            raise TemplateError(msg)
        last = dict(messages[-1])
        last["content"] = f"{last['content']}\n\n{self.schema.instructions()}"
        return [*messages[:-1], last]


class Structured(Generator):
    """Ask for JSON matching a schema; on a mismatch ask again with the error, up to ``retries`` times.

    Args:
        teacher: a teacher object or registered name.
        schema: a JSON-schema dict, a schema file path or an attrs class.
        template: a template (object or name) for the prompt; the schema instructions are
            appended to its last message. ``None`` uses the record's prompt or messages.
        params: sampling parameters.
        retries: extra attempts after the first (the whole loop is bounded by ``retries + 1``).
        parsed_field: the data field that receives the parsed JSON value (``None``: none).

    The kept record's ``response`` is the raw JSON text; ``lineage.attempts`` holds every
    rejected attempt with its validation error.
    """

    def __init__(
        self,
        teacher: Teacher | str,
        schema: Any,
        template: PromptTemplate | str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        retries: int = 2,
        parsed_field: str | None = "parsed",
        name: str | None = None,
    ) -> None:
        from .pipeline import Generate
        from .plugins import get_template
        from .regenerate import Regenerate

        self.schema = Schema.of(schema)
        inner = get_template(template) if isinstance(template, str) else template
        gen = Generate(teacher, _SchemaTemplate(inner, self.schema), params)
        self.parsed_field = parsed_field
        self.regenerate = Regenerate(
            gen,
            SchemaVerifier(self.schema),
            attempts=retries + 1,
            feedback=(
                "Your reply was rejected: {reason}\n"
                "Reply again with only the corrected JSON value, matching the schema."
            ),
        )
        self.name = name or f"structured:{gen.teacher.name}"

    async def generate(self, record: Record, ctx: Context) -> Sequence[Record | Drop]:
        out: list[Record | Drop] = []
        for child in await self.regenerate.generate(record, ctx):
            if isinstance(child, Drop):  # still invalid after the last retry: the raw text goes to rejects
                out.append(child)
                continue
            if self.parsed_field is not None and child.response is not None:
                child = child.evolve(data={**child.data, self.parsed_field: find_json(child.response)})
            out.append(child)
        return out

    async def aclose(self) -> None:
        await self.regenerate.aclose()
