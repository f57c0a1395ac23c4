"""Reasoning traces: a model's reasoning, kept apart from its answer.

Models return their reasoning in one of two shapes:

* **a separate field** of the assistant message: ``reasoning_content`` (DeepSeek, vLLM,
  SGLang, and litellm's normalised field for every provider it supports), ``reasoning``
  (OpenRouter, newer vLLM), ``thinking`` (Ollama), or litellm's ``thinking_blocks``
  (Anthropic: a list of ``{"type": "thinking", "thinking": ...}``);
* **think tags in the text**: ``<think>...</think>`` (or ``<thinking>``) before the answer.
  A reply that starts inside the block (its template opened ``<think>`` in the prompt, as
  DeepSeek-R1's does) and only closes it counts too.

:func:`split_reasoning` and :func:`message_reasoning` return ``(reasoning, answer)``; a
record keeps the reasoning under ``data["reasoning"]`` (the JSON key ``reasoning``) and the
answer alone as its ``response``, so verifiers check the answer, never the trace.
:func:`assistant_text` puts them back together for an exporter, in the shape a trainer reads.

Examples:
    >>> split_reasoning("<think>2+2 is 4.</think>\\nFinal answer: 4")
    ('2+2 is 4.', 'Final answer: 4')
    >>> split_reasoning("2+2 is 4.</think>Final answer: 4")
    ('2+2 is 4.', 'Final answer: 4')
    >>> split_reasoning("Final answer: 4")
    (None, 'Final answer: 4')
    >>> assistant_text("Final answer: 4", "2+2 is 4.", "think")
    '<think>\\n2+2 is 4.\\n</think>\\n\\nFinal answer: 4'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from synthkit.errors import OptionError

__all__ = [
    "REASONING_FIELDS",
    "REASONING_KEY",
    "ReasoningStyle",
    "assistant_text",
    "completion_reasoning",
    "message_reasoning",
    "split_reasoning",
    "with_reasoning",
]

#: Fields of an assistant message that hold reasoning, in the order they are read.
REASONING_FIELDS = ("reasoning_content", "reasoning", "thinking")

#: The ``data`` key (top-level JSON key) under which a record keeps its reasoning.
REASONING_KEY = "reasoning"

#: How an exporter writes reasoning: ``"think"`` tags inside the assistant turn, a separate
#: ``"field"`` (``reasoning_content`` on the assistant message, or a ``reasoning`` column), or ``"drop"``.
ReasoningStyle = Literal["think", "field", "drop"]

_BLOCK = re.compile(r"^\s*<(think|thinking)>(.*?)</\1>\s*", re.DOTALL | re.IGNORECASE)
_CLOSE_ONLY = re.compile(r"^(?!\s*<(?:think|thinking)>)(.*?)</(think|thinking)>\s*", re.DOTALL | re.IGNORECASE)


def split_reasoning(text: str) -> tuple[str | None, str]:
    """Return ``(reasoning, answer)`` of a text that may begin with a think block.

    Several leading blocks are joined with a blank line. A text without a block returns
    ``(None, text)``; a block with nothing in it gives ``""`` as the reasoning.
    """
    parts: list[str] = []
    rest = text
    m = _CLOSE_ONLY.match(rest)
    if m is not None and "<" + m.group(2).lower() + ">" not in m.group(1).lower():
        parts.append(m.group(1).strip())
        rest = rest[m.end() :]
    while (m := _BLOCK.match(rest)) is not None:
        parts.append(m.group(2).strip())
        rest = rest[m.end() :]
    if not parts:
        return None, text
    return "\n\n".join(p for p in parts if p), rest.strip()


def _text_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):  # litellm's thinking_blocks and kin
        texts = [b.get("thinking") or b.get("text") for b in value if isinstance(b, Mapping)]
        joined = "\n\n".join(t for t in texts if isinstance(t, str) and t)
        return joined or None
    return None


def message_reasoning(message: Mapping[str, Any]) -> tuple[str | None, str]:
    """Return ``(reasoning, answer)`` of an assistant message from any server shape.

    The reasoning is the first of :data:`REASONING_FIELDS` (then ``thinking_blocks``) that
    holds text, joined with any think block at the start of ``content``; the answer is
    ``content`` without that block. Non-text content is written as JSON, as the clients do.
    """
    import json

    content = message.get("content")
    text = content if isinstance(content, str) else ("" if content is None else json.dumps(content))
    field = None
    for key in (*REASONING_FIELDS, "thinking_blocks"):
        field = _text_of(message.get(key))
        if field:
            break
    inline, answer = split_reasoning(text)
    if field and inline:
        return f"{field.strip()}\n\n{inline}", answer
    if field:  # the answer after a separated trace starts at its first word (litellm leaves the newline after </think>)
        return field.strip(), answer.lstrip()
    return inline, answer


def assistant_text(answer: str, reasoning: str | None, style: ReasoningStyle | None) -> str:
    """Return the assistant turn's text for an exporter: the answer, with the reasoning in think tags for ``"think"``.

    Raises:
        OptionError: an unknown style.
    """
    if style not in (None, "think", "field", "drop"):
        msg = f"unknown reasoning style {style!r}; use think (tags inside the assistant turn), field (a separate field) or drop"
        raise OptionError(msg)
    if style == "think" and reasoning:
        return f"<think>\n{reasoning}\n</think>\n\n{answer}"
    return answer


def completion_reasoning(completion: Any) -> tuple[str | None, str]:
    """Return ``(reasoning, answer)`` of a teacher's :class:`~synthkit.Completion`.

    Its ``reasoning`` field (filled by teachers that read a reasoning field) joined with a
    think block left at the start of its ``text`` (a teacher that returns plain text, an
    older cache entry); the same completion always gives the same split.
    """
    inline, answer = split_reasoning(completion.text)
    field = completion.reasoning
    if field and inline:
        return f"{field}\n\n{inline}", answer
    return (field if field is not None else inline), answer


def with_reasoning(data: Mapping[str, Any], reasoning: str | None) -> dict[str, Any]:
    """Return a sample's ``data``: its parent's, with ``reasoning`` set to this sample's (or left out)."""
    out = {k: v for k, v in data.items() if k != REASONING_KEY}
    if reasoning is not None:
        out[REASONING_KEY] = reasoning
    return out
