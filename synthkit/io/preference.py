"""Preference data for TRL: DPO's paired rows and KTO's unpaired rows, conversational.

* ``dpo``: ``{"prompt": [messages], "chosen": [assistant], "rejected": [assistant]}``, TRL's
  conversational preference format (DPO, ORPO, CPO, reward modelling), from a pair record
  of :mod:`synthkit.generators.pairs`.
* ``kto``: ``{"prompt": [messages], "completion": [assistant], "label": bool}``, TRL's
  unpaired preference format: a pair gives two rows (chosen ``True``, rejected ``False``);
  a verified sample gives one, labelled by its last verdict.

The prompt messages are the record's conversation (system prompt first, from the record or
``system=``); ``reasoning=`` writes each answer's reasoning as for SFT (see
:func:`~synthkit.teachers.reasoning.assistant_text`): ``"think"`` inside the assistant turn,
``"field"`` as the message's ``reasoning_content``, else left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthkit.errors import RecordError
from synthkit.interfaces import Exporter
from synthkit.io.exporters import conversation
from synthkit.records import Record
from synthkit.teachers.reasoning import REASONING_KEY, ReasoningStyle, assistant_text

__all__ = ["DPOExporter", "KTOExporter", "prompt_messages"]


def prompt_messages(record: Record, *, system: str | None = None) -> list[dict[str, str]]:
    """Return the record's prompt as chat messages (system first), checked as a trainer format checks a chat.

    Raises:
        RecordError: the record has no prompt, or its turns cannot form a chat (``kind`` says why).
    """
    conv = conversation(record.evolve(response=""), system=system, alternate=False)
    msgs = [{"role": "system", "content": conv.system}] if conv.system is not None else []
    msgs += [{"role": role, "content": text} for role, text in conv.turns[:-1]]
    return msgs


def _assistant(answer: str, reasoning: str | None, style: ReasoningStyle | None) -> list[dict[str, str]]:
    message = {"role": "assistant", "content": assistant_text(answer, reasoning, style)}
    if style == "field" and reasoning:
        message["reasoning_content"] = reasoning
    return [message]


def _side(record: Record, key: str) -> Mapping[str, Any]:
    side = record.data.get(key)
    if not isinstance(side, Mapping) or not isinstance(side.get("response"), str):
        msg = f"record {record.id} is not a preference pair: it has no {key!r} object with a 'response'; make pairs with `synthkit pairs` first"
        raise RecordError(msg, kind="not_a_pair")
    return side


class DPOExporter(Exporter):
    """TRL's conversational preference rows: ``prompt``, ``chosen`` and ``rejected``, each a list of messages.

    Args:
        system: the system prompt for records without a system message.
        reasoning: ``"think"``, ``"field"`` or ``None``/``"drop"`` (see the module docstring).
    """

    name = "dpo"

    def __init__(self, system: str | None = None, reasoning: ReasoningStyle | None = None) -> None:
        assistant_text("", None, reasoning)  # refuses an unknown style now, not at the first row
        self.system = system
        self.reasoning = reasoning

    def convert(self, record: Record) -> dict[str, Any]:
        chosen, rejected = _side(record, "chosen"), _side(record, "rejected")
        return {
            "prompt": prompt_messages(record, system=self.system),
            "chosen": _assistant(chosen["response"], chosen.get("reasoning"), self.reasoning),
            "rejected": _assistant(rejected["response"], rejected.get("reasoning"), self.reasoning),
        }


class KTOExporter(Exporter):
    """TRL's conversational unpaired preference rows: ``prompt``, ``completion`` (messages) and ``label``.

    Args:
        system: the system prompt for records without a system message.
        reasoning: ``"think"``, ``"field"`` or ``None``/``"drop"`` (see the module docstring).
    """

    name = "kto"

    def __init__(self, system: str | None = None, reasoning: ReasoningStyle | None = None) -> None:
        assistant_text("", None, reasoning)
        self.system = system
        self.reasoning = reasoning

    def rows(self, record: Record) -> list[dict[str, Any]]:
        prompt = prompt_messages(record, system=self.system)
        if "chosen" in record.data or "rejected" in record.data:
            sides = [(_side(record, "chosen"), True), (_side(record, "rejected"), False)]
            return [
                {"prompt": prompt, "completion": _assistant(s["response"], s.get("reasoning"), self.reasoning), "label": label}
                for s, label in sides
            ]
        if record.response is None:
            raise RecordError(f"record {record.id} has no 'response' to label; generate one first", kind="no_response")
        if not record.lineage.verdicts:
            msg = f"record {record.id} has no verdict to label it by; verify it first (synthkit verify ... --rejects) or make pairs"
            raise RecordError(msg, kind="no_verdict")
        label = record.lineage.verdicts[-1].passed
        completion = _assistant(record.response, record.data.get(REASONING_KEY), self.reasoning)
        return [{"prompt": prompt, "completion": completion, "label": label}]

    def convert(self, record: Record) -> dict[str, Any]:
        """Return the record's first row (a pair has two: use :meth:`rows`)."""
        return self.rows(record)[0]
