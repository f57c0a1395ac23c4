"""Prompt templates on jinja2's sandboxed environment with ``StrictUndefined``.

A template renders a record into chat messages. The render context holds the record's
``id``, ``prompt``, ``messages`` and ``response``, every ``data`` key, and ``record``
itself. A field the record lacks is an error naming the template, the field, the record
and what it does have. The template's source is hashed into lineage.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from synthkit.errors import TemplateError
from synthkit.interfaces import PromptTemplate
from synthkit.records import Record

__all__ = ["JinjaTemplate", "load_folder"]

_SUFFIXES = (".j2", ".jinja", ".jinja2", ".txt", ".md")


@functools.cache
def _env() -> Any:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False, trim_blocks=True
    )


def _compile(name: str, part: str, source: str) -> Any:
    import jinja2

    try:
        return _env().from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        msg = f"template {name!r} ({part}) has a syntax error at line {exc.lineno}: {exc.message}"
        raise TemplateError(msg) from None


@attrs.frozen
class JinjaTemplate(PromptTemplate):
    """A prompt template with an optional system part and a user part.

    Attributes:
        name: the template's name (goes into lineage).
        user: jinja2 source of the user message.
        system: jinja2 source of the system message, if any.
        defaults: values available to the template when the record lacks them.
    """

    name: str
    user: str
    system: str | None = None
    defaults: Mapping[str, Any] = attrs.field(factory=dict, converter=dict)
    _compiled: tuple[Any, Any] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        sys_t = _compile(self.name, "system", self.system) if self.system is not None else None
        object.__setattr__(self, "_compiled", (sys_t, _compile(self.name, "user", self.user)))

    @classmethod
    def from_string(cls, source: str, *, name: str = "inline", system: str | None = None, **defaults: Any) -> JinjaTemplate:
        """Build a template from a string."""
        return cls(name=name, user=source, system=system, defaults=defaults)

    @classmethod
    def from_file(cls, path: str | Path, *, name: str | None = None) -> JinjaTemplate:
        """Build a template from a file.

        A file may hold a system part before a line ``---user---``; without that line
        the whole file is the user message.
        """
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            msg = f"cannot read template file {p}: {exc.strerror}"
            raise TemplateError(msg) from None
        system, sep, user = text.partition("\n---user---\n")
        if not sep:
            system, user = None, text
        return cls(name=name or p.stem, user=user.strip("\n"), system=system.strip("\n") if system else None)

    @property
    def hash(self) -> str:
        src = json.dumps([self.system, self.user, dict(sorted(self.defaults.items()))], default=str)
        return hashlib.sha256(src.encode()).hexdigest()[:16]

    def context(self, record: Record) -> dict[str, Any]:
        """Return the variables the template sees for ``record``."""
        ctx: dict[str, Any] = dict(self.defaults)
        ctx.update(record.data)
        for key in ("id", "prompt", "messages", "response"):
            value = getattr(record, key)
            if value is not None or key not in ctx:
                ctx[key] = value
        ctx["record"] = record
        return ctx

    def render(self, record: Record) -> list[dict[str, str]]:
        import jinja2

        ctx = self.context(record)
        sys_t, user_t = self._compiled
        try:
            out = []
            if sys_t is not None:
                out.append({"role": "system", "content": sys_t.render(ctx)})
            out.append({"role": "user", "content": user_t.render(ctx)})
        except jinja2.UndefinedError as exc:
            have = sorted(k for k, v in ctx.items() if v is not None and k != "record")
            msg = (
                f"template {self.name!r} cannot render record {record.id}: {exc.message}. "
                f"The record has: {', '.join(have)}. Add the field to the input, give the template a "
                f"default, or choose another template."
            )
            raise TemplateError(msg) from None
        except jinja2.exceptions.SecurityError as exc:
            msg = f"template {self.name!r} tried an unsafe operation: {exc}"
            raise TemplateError(msg) from None
        return out


def load_folder(path: str | Path) -> list[JinjaTemplate]:
    """Load every template file in a folder (``.j2``, ``.jinja``, ``.jinja2``, ``.txt``, ``.md``)."""
    folder = Path(path)
    if not folder.is_dir():
        msg = f"template folder {folder} does not exist or is not a folder"
        raise TemplateError(msg)
    return [JinjaTemplate.from_file(p) for p in sorted(folder.iterdir()) if p.suffix in _SUFFIXES]
