"""Trainer formats: OpenAI chat ``messages``, ShareGPT ``conversations``, Alpaca; and the export run.

Each exporter turns a record into one row of its format. The conversation comes from the
record's ``messages`` (or its ``prompt`` as one user turn) followed by its ``response`` as the
assistant turn. The system prompt is the record's leading system message; an exporter built
with ``system=`` uses that text for records that have none. A record a format cannot express
(no response, turns out of order...) raises :class:`~synthkit.errors.RecordError`; :func:`export`
counts it per reason and writes it to the rejects file, so nothing is lost silently.
"""

from __future__ import annotations

import collections
import contextlib
import time
from pathlib import Path
from typing import Any, ClassVar

import attrs

from synthkit.errors import InputError, RecordError
from synthkit.io.chat import openai_row, sharegpt_row, uses_tools
from synthkit.interfaces import Exporter
from synthkit.io.jsonl import BadLine, JsonlWriter, OnBadLine
from synthkit.records import Record
from synthkit.teachers.reasoning import REASONING_KEY, ReasoningStyle, assistant_text

__all__ = ["AlpacaExporter", "Conversation", "ExportSummary", "OpenAIExporter", "ShareGPTExporter", "conversation", "export"]

_ROLES = ("system", "user", "assistant")


@attrs.frozen
class Conversation:
    """A record's chat: the system prompt (or ``None``) and its turns as ``(role, text)`` pairs."""

    system: str | None
    turns: tuple[tuple[str, str], ...]


def _reject(record: Record, kind: str, what: str) -> RecordError:
    return RecordError(f"record {record.id}: {what}", kind=kind)


def conversation(record: Record, *, system: str | None = None, alternate: bool = True) -> Conversation:
    """Return ``record`` as a conversation that ends with an assistant turn.

    Args:
        record: the record; its ``messages`` (or ``prompt``), then its ``response``.
        system: the system prompt for a record without a system message.
        alternate: require turns to alternate user, assistant, user... from a user turn.

    Raises:
        RecordError: the record has no prompt, no response, a role other than system, user and
            assistant, a system message after the first turn, non-text content, or (with
            ``alternate``) turns out of order; ``kind`` names which.
    """
    if record.messages is not None:
        msgs = [(m.get("role"), m.get("content")) for m in record.messages]
    elif record.prompt is not None:
        msgs = [("user", record.prompt)]
    else:
        raise _reject(record, "no_prompt", "has neither 'prompt' nor 'messages'; add one")
    for role, content in msgs:
        if role not in _ROLES:
            raise _reject(record, "unsupported_role", f"has a message with role {role!r}; trainer formats take system, user and assistant")
        if not isinstance(content, str):
            raise _reject(record, "non_text_content", f"has {role} content that is not text ({type(content).__name__})")
    sys_prompt = system
    if msgs and msgs[0][0] == "system":
        sys_prompt = msgs[0][1]
        msgs = msgs[1:]
    if any(role == "system" for role, _ in msgs):
        raise _reject(record, "misplaced_system", "has a system message after the first turn; keep one system message, first")
    if record.response is not None:
        if msgs and msgs[-1][0] == "assistant":
            raise _reject(record, "response_after_assistant", "has a 'response' and messages that already end with an assistant turn; keep one")
        msgs.append(("assistant", record.response))
    if not msgs or msgs[-1][0] != "assistant":
        raise _reject(record, "no_response", "has no 'response' (and its messages do not end with an assistant turn); generate one first")
    if not any(role == "user" for role, _ in msgs):
        raise _reject(record, "no_prompt", "has no user turn")
    if alternate:
        for i, (role, _) in enumerate(msgs):
            want = "user" if i % 2 == 0 else "assistant"
            if role != want:
                raise _reject(record, "not_alternating", f"turn {i + 1} is {role}, expected {want}: this format needs user and assistant turns in alternation")
    return Conversation(system=sys_prompt, turns=tuple((str(r), str(c)) for r, c in msgs))


class OpenAIExporter(Exporter):
    """OpenAI chat fine-tuning rows: ``{"messages": [{"role", "content"}, ...]}``, system message first.

    Only ``role`` and ``content`` are kept on each message; consecutive turns of one role are allowed.

    Args:
        system: the system prompt for records without a system message.
        reasoning: how the record's ``reasoning`` is written: ``"think"`` inside the assistant
            turn, ``"field"`` as its ``reasoning_content`` (what reasoning models' chat templates read),
            ``None``/``"drop"`` left out.
    """

    name = "openai"

    def __init__(self, system: str | None = None, reasoning: ReasoningStyle | None = None) -> None:
        assistant_text("", None, reasoning)  # an unknown style is refused here
        self.system = system
        self.reasoning = reasoning

    def convert(self, record: Record) -> dict[str, Any]:
        if uses_tools(record):  # tool_calls and tool messages, and the tools offered (synthkit.io.chat)
            return openai_row(record, system=self.system)
        conv = conversation(_reasoned(record, self.reasoning), system=self.system, alternate=False)
        msgs = [{"role": "system", "content": conv.system}] if conv.system is not None else []
        msgs += [{"role": role, "content": text} for role, text in conv.turns]
        if self.reasoning == "field" and record.data.get(REASONING_KEY):
            msgs[-1]["reasoning_content"] = record.data[REASONING_KEY]
        return {"messages": msgs}


class ShareGPTExporter(Exporter):
    """ShareGPT rows: ``{"conversations": [{"from": "system"|"human"|"gpt", "value": ...}, ...]}``.

    The system prompt is the first entry, ``{"from": "system"}``, which LLaMA-Factory's
    sharegpt reader takes as the system prompt (and TRL's ``maybe_convert_to_chatml`` turns
    into a ``system`` message). Turns alternate human, gpt.

    Args:
        system: the system prompt for records without a system message.
        reasoning: ``"think"`` inside the gpt turn, ``"field"`` as a ``reasoning`` column, ``None``/``"drop"`` left out.
    """

    name = "sharegpt"
    _FROM: ClassVar[dict[str, str]] = {"user": "human", "assistant": "gpt"}

    def __init__(self, system: str | None = None, reasoning: ReasoningStyle | None = None) -> None:
        assistant_text("", None, reasoning)
        self.system = system
        self.reasoning = reasoning

    def convert(self, record: Record) -> dict[str, Any]:
        if uses_tools(record):  # function_call and observation turns, and a tools field (synthkit.io.chat)
            return sharegpt_row(record, system=self.system)
        conv = conversation(_reasoned(record, self.reasoning), system=self.system)
        turns = [{"from": "system", "value": conv.system}] if conv.system is not None else []
        turns += [{"from": self._FROM[role], "value": text} for role, text in conv.turns]
        return _with_field({"conversations": turns}, record, self.reasoning)


class AlpacaExporter(Exporter):
    """Alpaca rows: ``instruction`` (last user turn), ``input`` (``""``), ``output`` (the response).

    As in LLaMA-Factory's alpaca format, ``system`` holds the system prompt (when there is
    one) and ``history`` the earlier ``[instruction, response]`` pairs (when there are any).

    Args:
        system: the system prompt for records without a system message.
        reasoning: ``"think"`` inside ``output``, ``"field"`` as a ``reasoning`` column, ``None``/``"drop"`` left out.
    """

    name = "alpaca"

    def __init__(self, system: str | None = None, reasoning: ReasoningStyle | None = None) -> None:
        assistant_text("", None, reasoning)
        self.system = system
        self.reasoning = reasoning

    def convert(self, record: Record) -> dict[str, Any]:
        conv = conversation(_reasoned(record, self.reasoning), system=self.system)
        texts = [text for _, text in conv.turns]
        row: dict[str, Any] = {"instruction": texts[-2], "input": "", "output": texts[-1]}
        if conv.system is not None:
            row["system"] = conv.system
        if len(texts) > 2:
            row["history"] = [[texts[i], texts[i + 1]] for i in range(0, len(texts) - 2, 2)]
        return _with_field(row, record, self.reasoning)


def _reasoned(record: Record, style: ReasoningStyle | None) -> Record:
    """The record with its reasoning in think tags before the response, for ``style="think"``."""
    reasoning = record.data.get(REASONING_KEY)
    if style != "think" or not reasoning or record.response is None:
        return record
    return record.evolve(response=assistant_text(record.response, reasoning, style))


def _with_field(row: dict[str, Any], record: Record, style: ReasoningStyle | None) -> dict[str, Any]:
    if style == "field" and record.data.get(REASONING_KEY):
        row["reasoning"] = record.data[REASONING_KEY]
    return row


@attrs.define
class ExportSummary:
    """Counts of an export: ``inputs == exported + skipped + failed``.

    Attributes:
        inputs: records read (bad lines included).
        exported: rows written.
        skipped: per reason (the :class:`RecordError` kind), records the format cannot express.
        failed: per kind, input lines or rows that could not be read (``--on-bad-line skip``).
        format: the exporter name, or ``None`` for full synthkit records.
    """

    format: str | None = None
    inputs: int = 0
    exported: int = 0
    skipped: collections.Counter[str] = attrs.Factory(collections.Counter)
    failed: collections.Counter[str] = attrs.Factory(collections.Counter)
    elapsed: float = 0.0
    rows: int = 0  # rows written: more than ``exported`` when a format unpairs records (kto)

    @property
    def balanced(self) -> bool:
        return self.inputs == self.exported + sum(self.skipped.values()) + sum(self.failed.values())

    def __str__(self) -> str:
        what = f"{self.format} rows" if self.format else "records"
        head = (
            f"{self.inputs} inputs -> {self.exported} exported ({what}), {sum(self.skipped.values())} skipped, "
            f"{sum(self.failed.values())} failed ({self.elapsed:.1f} s)"
        )
        if self.rows != self.exported:
            head += f"; {self.rows} rows written"
        from synthkit.pipeline.summary import count_table

        rows = [("skipped", k, n) for k, n in self.skipped.most_common()] + [("failed", k, n) for k, n in self.failed.most_common()]
        return "\n".join([head, *count_table(rows)])


def export(
    source: Any,
    output: str | Path,
    *,
    format: str | Exporter | None = None,
    system: str | None = None,
    rejects: str | Path | None = None,
    on_bad_line: OnBadLine = "stop",
    reasoning: ReasoningStyle | None = None,
) -> ExportSummary:
    """Stream ``source`` into ``output`` (``.jsonl`` or ``.parquet``), as full records or rows of a trainer format.

    Args:
        source: anything :func:`~synthkit.io.interchange.read_records` reads (JSONL, Parquet, a Dataset...).
        output: the file; Parquet for ``.parquet``/``.pq``, JSONL otherwise.
        format: an exporter name (``"openai"``, ``"sharegpt"``, ``"alpaca"``...) or an
            :class:`~synthkit.Exporter`; ``None`` writes full records with lineage.
        system: the system prompt for records without one (needs ``format``).
        rejects: JSONL file for records the format cannot express (and unreadable lines),
            each with a ``reject`` object naming the reason.
        on_bad_line: ``"stop"`` at an unreadable input line or row, or ``"skip"`` it (counted as failed).
        reasoning: how a trainer format writes the records' reasoning: ``"think"`` tags inside
            the assistant turn, ``"field"`` a separate field, ``"drop"`` (the default) leaves it out.
    """
    from synthkit.io.interchange import check_source, open_writer, read_records
    from synthkit.pipeline import Outcome

    check_source(source)

    exporter: Exporter | None
    if isinstance(format, str):
        from synthkit.plugins import resolve

        options = {"system": system} if reasoning is None else {"system": system, "reasoning": reasoning}
        exporter = resolve("exporter", format, **options)
    else:
        exporter = format
        if exporter is None and system is not None:
            msg = "a system prompt only applies to a trainer format; give format= (CLI: --format openai|sharegpt|alpaca)"
            raise InputError(msg)
    step = f"export:{exporter.name}" if exporter is not None else "export"
    summary = ExportSummary(format=exporter.name if exporter is not None else None)
    started = time.monotonic()
    with open_writer(output) as out, (JsonlWriter(rejects) if rejects is not None else contextlib.nullcontext()) as rej:
        try:
            for item in read_records(source, on_bad_line=on_bad_line):
                summary.inputs += 1
                if isinstance(item, BadLine):
                    summary.failed["bad_line"] += 1
                    if rej is not None:
                        rej.write(Outcome("failed", "source", item.message, None, kind="bad_line").to_dict())
                    continue
                if exporter is None:
                    out.write(item)
                    summary.exported += 1
                    summary.rows += 1
                    continue
                try:
                    rows = exporter.rows(item)
                except RecordError as exc:
                    summary.skipped[exc.kind] += 1
                    if rej is not None:
                        rej.write(Outcome("dropped", step, str(exc), item, kind=exc.kind).to_dict())
                    continue
                for row in rows:
                    out.write(row)
                summary.exported += 1
                summary.rows += len(rows)
        except InputError as exc:
            summary.elapsed = time.monotonic() - started
            exc.summary = summary  # type: ignore[attr-defined]
            raise
    summary.elapsed = time.monotonic() - started
    return summary

