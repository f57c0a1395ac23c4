"""The record model: one example with its content and its full lineage.

Records, lineage and verdicts are immutable values, and so is everything they hold:
``data``, ``messages``, ``params``, ``usage`` and ``attempts`` are deeply frozen (dicts
become read-only mappings, lists become tuples), so assigning into any part raises and a
copy never shares mutable state with its original. ``to_dict`` gives plain JSON-able
dicts and lists back, and the JSON of a record round-trips byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs
import orjson

from synthkit._frozen import FrozenDict, freeze, thaw
from synthkit.errors import InputError

__all__ = ["Verdict", "Lineage", "Record", "RESERVED_KEYS", "content_id"]

Origin = Literal["real", "synthetic"]

#: Top-level JSON keys that belong to the record itself, not to ``data``.
RESERVED_KEYS = frozenset({"id", "prompt", "messages", "response", "lineage"})


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_id(obj: Any) -> str:
    """Return a stable 16-hex-digit id for any JSON-able value."""
    return hashlib.sha256(_canonical(obj).encode()).hexdigest()[:16]


def _messages(value: Sequence[Mapping[str, Any]] | None) -> tuple[Mapping[str, Any], ...] | None:
    if value is None:
        return None
    out = []
    for i, m in enumerate(value):
        if not isinstance(m, Mapping) or "role" not in m or "content" not in m:
            msg = f"messages[{i}] must be an object with 'role' and 'content', got {m!r}"
            raise InputError(msg)
        out.append(freeze(m))
    return tuple(out)


def _check_data(_inst: Any, _attr: Any, value: Mapping[str, Any]) -> None:
    clash = RESERVED_KEYS.intersection(value)
    if clash:
        msg = f"data may not hold the reserved keys {sorted(clash)}; use the Record fields instead"
        raise InputError(msg)


@attrs.frozen
class Verdict:
    """The outcome of one verifier or filter on one record.

    Attributes:
        cost: for a verifier that asked a teacher (a judge), what its requests used:
            ``{"teacher", "model", "prompt_tokens", "completion_tokens", "cost_usd"}``; the
            pipeline moves it into the record's ``lineage.costs``.
    """

    name: str
    passed: bool
    reason: str = ""
    score: float | None = None
    cost: Mapping[str, Any] | None = attrs.field(default=None, converter=attrs.converters.optional(freeze))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "passed": self.passed, "reason": self.reason}
        if self.score is not None:
            d["score"] = self.score
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Verdict:
        return cls(name=d["name"], passed=bool(d["passed"]), reason=d.get("reason", ""), score=d.get("score"))


def _verdicts(value: Sequence[Verdict | Mapping[str, Any]]) -> tuple[Verdict, ...]:
    return tuple(v if isinstance(v, Verdict) else Verdict.from_dict(v) for v in value)


@attrs.frozen
class Lineage:
    """Where a record came from and what has been decided about it.

    Attributes:
        origin: ``"real"`` for human data, ``"synthetic"`` for model output.
        teacher: the teacher plugin name that produced the response.
        model: the teacher's model.
        template: the prompt template name.
        template_hash: content hash of the template source.
        params: the sampling parameters sent to the teacher.
        seed: the seed used for this record.
        parents: ids of the records this one was derived from.
        generation: 0 for real data, parent generation + 1 for model output.
        verdicts: one per verifier or filter that judged the record.
        finish_reason: the teacher's finish reason (``"stop"``, ``"length"``...).
        usage: token counts (and cost, when known) of the request.
        attempts: earlier attempts of a regenerated record, oldest first.
        commands: the command lines that made the record and its ancestors, oldest first
            (API keys left out); a dataset card's Reproduce section lists them.
        costs: the paid requests of the record's ancestors and of the verifiers that judged
            it (its own generation is ``usage`` and ``attempts``): ``{"request", "step",
            "teacher", "model", "prompt_tokens", "completion_tokens", "cost_usd"}``. Siblings
            share their parents' entries (same ``request`` id), so a sum over distinct ids
            counts each request once.
        turns: for a conversation made by several requests (a dialogue, a tool trajectory),
            who said each turn, oldest first: ``{"turn", "role", "teacher", "model",
            "template", "template_hash", "finish_reason", "usage"}`` for a model's turn,
            ``{"turn", "role": "tool", "name", "executor", "ok"}`` for a tool's; ``usage`` is then their sum.
    """

    origin: Origin = attrs.field(default="real", validator=attrs.validators.in_(("real", "synthetic")))
    teacher: str | None = None
    model: str | None = None
    template: str | None = None
    template_hash: str | None = None
    params: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=freeze)
    seed: int | None = None
    parents: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    generation: int = 0
    verdicts: tuple[Verdict, ...] = attrs.field(default=(), converter=_verdicts)
    finish_reason: str | None = None
    usage: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=freeze)
    attempts: tuple[Mapping[str, Any], ...] = attrs.field(default=(), converter=freeze)
    commands: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    costs: tuple[Mapping[str, Any], ...] = attrs.field(default=(), converter=freeze)
    turns: tuple[Mapping[str, Any], ...] = attrs.field(default=(), converter=freeze)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict of plain dicts and lists; empty and ``None`` fields are left out."""
        return thaw(self._json())

    def _json(self) -> dict[str, Any]:
        """The JSON form with frozen values inside (``json.dumps`` writes them as dicts and lists)."""
        d: dict[str, Any] = {}
        for name, v in zip(_LINEAGE_FIELDS, _LINEAGE_VALUES(self)):
            if v is None or (not v and (type(v) in _EMPTIES or isinstance(v, (tuple, Mapping)))):
                continue
            d[name] = [x.to_dict() for x in v] if name == "verdicts" else v
        d.setdefault("origin", self.origin)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Lineage:
        unknown = set(d).difference(_LINEAGE_FIELDS)
        if unknown:
            msg = f"unknown lineage keys {sorted(unknown)}; known keys are {sorted(_LINEAGE_FIELDS)}"
            raise InputError(msg)
        return cls(**d)


_LINEAGE_FIELDS = tuple(a.name for a in attrs.fields(Lineage))
_LINEAGE_VALUES = operator.attrgetter(*_LINEAGE_FIELDS)  # all the fields' values at once, in their order
_EMPTIES = frozenset((tuple, FrozenDict))  # the types of the fields left out of the JSON when empty (checked first: cheap)
_NO_LINEAGE = Lineage()  # a record read from plain JSON shares this one (a frozen value)


@attrs.frozen
class Record:
    """One training example.

    Content is ``prompt`` or chat ``messages``, plus ``response`` and a free ``data``
    mapping for task fields (``answer``, ``tests``, ``text``...). In JSON, ``data`` keys
    sit at the top level beside ``id``, ``prompt``, ``messages``, ``response`` and
    ``lineage``, so plain JSONL such as ``{"prompt": ...}`` or ``{"text": ...}`` reads as is.
    """

    id: str
    prompt: str | None = None
    messages: tuple[Mapping[str, Any], ...] | None = attrs.field(default=None, converter=_messages)
    response: str | None = None
    data: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=freeze, validator=_check_data)
    lineage: Lineage = attrs.field(factory=Lineage)

    @classmethod
    def create(
        cls,
        *,
        prompt: str | None = None,
        messages: Sequence[Mapping[str, Any]] | None = None,
        response: str | None = None,
        data: Mapping[str, Any] | None = None,
        lineage: Lineage | None = None,
        id: str | None = None,  # noqa: A002
    ) -> Record:
        """Build a record; without an ``id``, one is derived from the content."""
        data = data or {}
        msgs = messages
        if id is None:
            id = content_id({"prompt": prompt, "messages": msgs, "response": response, "data": data})  # noqa: A001
        return cls(id=id, prompt=prompt, messages=msgs, response=response, data=data, lineage=lineage or _NO_LINEAGE)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Record:
        """Read a record from its JSON form (or from any plain JSON object)."""
        if type(d) is not dict and not isinstance(d, Mapping):
            msg = f"a record must be a JSON object, got {type(d).__name__}"
            raise InputError(msg)
        data = {k: v for k, v in d.items() if k not in RESERVED_KEYS}
        rid = d.get("id")
        if cls is Record and type(rid) is str and len(data) + 1 == len(d):  # the common case: plain fields and an id
            return _plain(rid, data)
        lineage = d.get("lineage")
        if lineage is not None and not isinstance(lineage, Mapping):
            msg = f"'lineage' must be an object, got {type(lineage).__name__}"
            raise InputError(msg)
        for key in ("prompt", "response"):
            if d.get(key) is not None and not isinstance(d[key], str):
                msg = f"'{key}' must be a string, got {type(d[key]).__name__}"
                raise InputError(msg)
        return cls.create(
            id=None if rid is None else str(rid),
            prompt=d.get("prompt"),
            messages=d.get("messages"),
            response=d.get("response"),
            data=data,
            lineage=Lineage.from_dict(lineage) if lineage else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: ``id``, content, ``data`` keys flattened, ``lineage`` (plain dicts and lists)."""
        return thaw(self._json())

    def _json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id}
        if self.prompt is not None:
            d["prompt"] = self.prompt
        if self.messages is not None:
            d["messages"] = self.messages
        if self.response is not None:
            d["response"] = self.response
        d.update(self.data)
        d["lineage"] = self.lineage._json()
        return d

    def to_json(self) -> str:
        """Return one JSONL line (without the newline); keys keep a stable order."""
        return encode_line(self._json())

    @classmethod
    def from_json(cls, line: str) -> Record:
        return cls.from_dict(json.loads(line))

    def get(self, field: str, default: Any = None) -> Any:
        """Return a content field (``prompt``, ``response``...) or a ``data`` field."""
        if field in ("id", "prompt", "messages", "response"):
            value = getattr(self, field)
            return default if value is None else value
        return self.data.get(field, default)

    def text(self, field: str | None = None) -> str:
        """Return the text a filter looks at: ``field`` if named, else ``text``, else ``response``.

        Raises:
            InputError: the named field is missing or not a string.
        """
        if field is None:
            value = self.data.get("text")
            if value is None:
                value = self.response
            if value is None:
                value = self.prompt
        else:
            value = self.get(field)
        if not isinstance(value, str):
            which = field or "text, response or prompt"
            msg = f"record {self.id} has no string field {which!r}; name the field holding the text (--field)"
            raise InputError(msg)
        return value

    def user_content(self) -> str:
        """Return the prompt, or the content of the last user message."""
        if self.prompt is not None:
            return self.prompt
        for m in reversed(self.messages or ()):
            if m.get("role") == "user":
                return str(m.get("content", ""))
        return ""

    def with_verdict(self, verdict: Verdict) -> Record:
        """Return a copy with ``verdict`` appended to the lineage.

        This runs once per record per filter, so it copies the already-validated fields
        directly instead of through ``attrs.evolve``'s converters.
        """
        if not isinstance(verdict, Verdict):
            msg = f"a verdict must be a Verdict, got {type(verdict).__name__}"
            raise TypeError(msg)
        lin = _copy(self.lineage, "verdicts", (*self.lineage.verdicts, verdict))
        if verdict.cost:
            entry = freeze({"request": content_id([self.id, verdict.name, len(lin.verdicts)]), "step": verdict.name, **verdict.cost})
            lin = _copy(lin, "costs", (*lin.costs, entry))
        return _copy(self, "lineage", lin)

    def with_command(self, command: str | None) -> Record:
        """Return a copy with ``command`` appended to ``lineage.commands``, unless it is already the last one (or ``None``).

        This runs once per kept record, so, as :meth:`with_verdict`, it skips the converters.
        """
        commands = self.lineage.commands
        if command is None or (commands and commands[-1] == command):
            return self
        return _copy(self, "lineage", _copy(self.lineage, "commands", (*commands, str(command))))

    def evolve(self, **changes: Any) -> Record:
        """Return a copy with ``changes`` applied (``attrs.evolve``)."""
        return attrs.evolve(self, **changes)


def _plain(rid: str, data: dict[str, Any]) -> Record:
    """A record of only an ``id`` and ``data`` (no reserved key but ``id``), built without running the converters.

    What ``Record(id=rid, data=data)`` builds, at a third of the cost; :meth:`Record.from_dict`
    reads most input lines this way.
    """
    new = _NEW(Record)
    _SET_ID(new, rid)
    _SET_PROMPT(new, None)
    _SET_MESSAGES(new, None)
    _SET_RESPONSE(new, None)
    _SET_DATA(new, freeze(data))
    _SET_LINEAGE(new, _NO_LINEAGE)
    return new


_NEW = object.__new__
_SET_ID, _SET_PROMPT, _SET_MESSAGES, _SET_RESPONSE, _SET_DATA, _SET_LINEAGE = (
    Record.__dict__[a.name].__set__ for a in attrs.fields(Record)
)

_STD_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_line(obj: Any) -> str:
    """Return ``obj`` as one compact JSON line (no newline): what ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))`` writes.

    orjson writes it, about four times as fast; where orjson could write other bytes, the
    standard library writes it: orjson refuses (a lone surrogate, an integer beyond 64 bits),
    or the line holds ``null`` (orjson writes NaN and infinities as ``null``, the standard
    library as ``NaN`` and ``Infinity``) or a float under ``1e-4`` (``0.00001`` and ``1e-7``
    where the standard library writes ``1e-05`` and ``1e-07``). Of the values the standard
    library refuses, orjson writes UUIDs and plain enums (as their string and value).
    """
    try:
        out = orjson.dumps(obj, option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)
    except TypeError:
        return _STD_ENCODE(obj)
    if b"null" in out or b"0.0000" in out or (b"e-" in out and _SHORT_EXPONENT.search(out)):
        return _STD_ENCODE(obj)
    return out.decode()


_SHORT_EXPONENT = re.compile(rb"\de-\d(?!\d)")  # orjson's 1e-7; the standard library writes 1e-07


_COPIERS: dict[tuple[type, str], Any] = {}


def _copier(cls: type, field: str) -> Any:
    """Build ``copy(inst, value)`` for ``cls``: a new instance with ``field`` set to ``value``, the others shared.

    The function is generated once per class and field, with each slot's own setter, which
    is about twice as fast as a loop over the field names.
    """
    names = [a.name for a in attrs.fields(cls)]
    ns: dict[str, Any] = {"_new": object.__new__, "cls": cls}
    body = ["def copy(inst, value):", "    new = _new(cls)"]
    for i, name in enumerate(names):
        slot = next(c.__dict__[name] for c in cls.__mro__ if name in c.__dict__)  # the slot's member descriptor
        ns[f"set{i}"] = slot.__set__
        body.append(f"    set{i}(new, value)" if name == field else f"    set{i}(new, inst.{name})")
    body.append("    return new")
    exec("\n".join(body), ns)  # noqa: S102 - code built from the class's own attribute names
    return ns["copy"]


def _copy(inst: Any, field: str, value: Any) -> Any:
    """Return a copy of a frozen attrs value with one field replaced, skipping converters."""
    key = (type(inst), field)
    copy = _COPIERS.get(key)
    if copy is None:
        copy = _COPIERS[key] = _copier(*key)
    return copy(inst, value)
