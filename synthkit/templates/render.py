"""The messages sent for a record: its template's rendering, else its own messages or prompt."""

from __future__ import annotations

from typing import Any

from synthkit.errors import TemplateError
from synthkit.interfaces import PromptTemplate
from synthkit.records import Record

__all__ = ["messages_for"]


def messages_for(record: Record, template: PromptTemplate | None = None, *, question_only: bool = False) -> list[dict[str, Any]]:
    """Return the chat messages to send for ``record``.

    Args:
        record: the record.
        template: renders the messages when given.
        question_only: leave out the record's assistant turns (a verifier re-asking the
            question must not show the answer being checked); used without a template.

    Raises:
        TemplateError: there is no template and the record has neither messages nor a prompt.
    """
    if template is not None:
        return template.render(record)
    if record.messages:
        messages = [dict(m) for m in record.messages]
        if question_only:
            return [m for m in messages if m.get("role") != "assistant"] or messages
        return messages
    if record.prompt is not None:
        return [{"role": "user", "content": record.prompt}]
    msg = f"record {record.id} has neither 'prompt' nor 'messages'; add one, or give a template that uses its fields"
    raise TemplateError(msg)
