"""Structured output: a JSON schema or an attrs class describes the response.

:class:`~synthkit.verify.schema.Schema` turns either into a JSON schema, finds the JSON
value in a reply (bare, or in a fenced block, or the first ``{...}``/``[...]`` in the
text) and validates it with ``jsonschema``. :class:`Structured` is a generator step: it asks the teacher for JSON
matching the schema and, when a reply does not match, asks again with the validation
error in the prompt, a bounded number of times (it is :class:`~synthkit.generators.regenerate.Regenerate`
with a schema check). Every attempt's raw text and error stay in ``lineage.attempts``;
a record that never matches fails with the last error and raw text in its reject line.

Example:
    >>> import attrs
    >>> from synthkit.verify.schema import Schema
    >>> @attrs.define
    ... class Person:
    ...     name: str
    ...     age: int
    >>> Schema.of(Person).check('{"name": "Ada", "age": "x"}')[1]
    "at $.age: 'x' is not of type 'integer'"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from synthkit.interfaces import Context, Drop, Generator, PromptTemplate, Swap, Teacher, copy_with
from synthkit.plugins import resolve
from synthkit.records import Record, content_id
from synthkit.templates.render import messages_for
from synthkit.verify.schema import Schema, SchemaVerifier, find_json


__all__ = [
    "Structured",
]


class _SchemaTemplate(PromptTemplate):
    """Wraps a template (or the record's prompt) and appends the schema instructions."""

    def __init__(self, inner: PromptTemplate | None, schema: Schema) -> None:
        self.inner = inner
        self.schema = schema
        self.name = f"{inner.name if inner else 'prompt'}+schema"

    @property
    def hash(self) -> str:
        return content_id([self.inner.hash if self.inner else None, dict(self.schema.json_schema)])

    def render(self, record: Record) -> list[dict[str, str]]:
        messages = messages_for(record, self.inner)
        last = dict(messages[-1])
        last["content"] = f"{last['content']}\n\n{self.schema.instructions()}"
        return [*messages[:-1], last]


class Structured(Generator):
    """Ask for JSON matching a schema; on a mismatch ask again with the error, ``attempts`` tries in all.

    Args:
        teacher: a teacher object or registered name.
        schema: a JSON-schema dict, a schema file path or an attrs class.
        template: a template (object or name) for the prompt; the schema instructions are
            appended to its last message. ``None`` uses the record's prompt or messages.
        params: sampling parameters.
        attempts: tries in all, at least 1 (as for :class:`~synthkit.generators.regenerate.Regenerate`).
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
        attempts: int = 3,
        parsed_field: str | None = "parsed",
        name: str | None = None,
    ) -> None:
        from synthkit.generators.generate import Generate
        from synthkit.generators.regenerate import Regenerate

        self.schema = Schema.of(schema)
        inner = None if template is None else resolve("template", template)
        gen = Generate(teacher, _SchemaTemplate(inner, self.schema), params)
        self.parsed_field = parsed_field
        self.regenerate = Regenerate(
            gen,
            SchemaVerifier(self.schema),
            attempts=attempts,
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

    def teachers(self) -> tuple[Teacher, ...]:
        return self.regenerate.teachers()

    def with_teachers(self, swap: Swap) -> Structured:
        return copy_with(self, regenerate=self.regenerate.with_teachers(swap))
