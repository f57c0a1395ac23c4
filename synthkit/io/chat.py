"""Conversations with tool calls in trainer formats: OpenAI fine-tuning, ShareGPT as LLaMA-Factory reads it, TRL.

A tool trajectory record holds its conversation in ``messages`` (assistant turns with
``tool_calls``, ``tool`` turns with the results), the final answer in ``response`` and the
tools offered in ``tools``. :func:`tool_chat` reads and checks that structure once; each
format writes it its own way:

* **openai** (fine-tuning with tools): ``{"messages": [..., {"role": "assistant",
  "tool_calls": [{"id", "type": "function", "function": {"name", "arguments": "<JSON text>"}}]},
  {"role": "tool", "tool_call_id", "content"}, ...], "tools": [...]}``.
* **sharegpt** (LLaMA-Factory): ``{"conversations": [{"from": "human"}, {"from":
  "function_call", "value": '{"name": ..., "arguments": {...}}'}, {"from": "observation"},
  ..., {"from": "gpt"}], "tools": "<JSON text of the tools>"}``; parallel calls are one
  ``function_call`` turn holding a JSON list, and their results one ``observation`` turn
  holding a JSON list of the result texts.
* **trl** (conversational with tools, for ``tokenizer.apply_chat_template(messages, tools=...)``):
  ``{"messages": [..., {"role": "assistant", "tool_calls": [{"type": "function", "function":
  {"name", "arguments": {...}}}]}, {"role": "tool", "name", "content"}, ...], "tools": [...]}``,
  arguments as objects, as transformers' chat templates expect.

A record these formats cannot express raises :class:`~synthkit.errors.RecordError` with a
``kind``: ``orphan_tool_result`` (a result answering no call), ``unanswered_tool_call``,
``invalid_tool_arguments`` (not a JSON object), ``text_beside_tool_calls`` (ShareGPT's
``function_call`` turn holds calls only), and the kinds of :func:`~synthkit.io.exporters.conversation`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from synthkit._frozen import thaw
from synthkit.errors import RecordError
from synthkit.interfaces import Exporter
from synthkit.records import Record
from synthkit.tools.spec import ToolCall

__all__ = ["TRLExporter", "ToolChat", "openai_row", "sharegpt_row", "tool_chat", "trl_row", "uses_tools"]


def _reject(record: Record, kind: str, what: str) -> RecordError:
    return RecordError(f"record {record.id}: {what}", kind=kind)


def uses_tools(record: Record) -> bool:
    """Whether ``record`` is a tool conversation: it offers ``tools`` or has tool calls or results."""
    if record.data.get("tools"):
        return True
    return any(m.get("role") == "tool" or m.get("tool_calls") for m in record.messages or ())


@attrs.frozen
class ToolChat:
    """A checked tool conversation: system prompt, turns (plain dicts, assistant calls as :class:`ToolCall`), tools offered."""

    system: str | None
    turns: tuple[Mapping[str, Any], ...]
    tools: tuple[Mapping[str, Any], ...]


def tool_chat(record: Record, *, system: str | None = None) -> ToolChat:
    """Read ``record`` as a tool conversation ending in an assistant text turn.

    Raises:
        RecordError: the structure is broken; ``kind`` names how (see the module docstring).
    """
    msgs = [thaw(m) for m in record.messages] if record.messages is not None else []
    if record.messages is None:
        if record.prompt is None:
            raise _reject(record, "no_prompt", "has neither 'prompt' nor 'messages'; add one")
        msgs = [{"role": "user", "content": record.prompt}]
    sys_prompt = system
    if msgs and msgs[0].get("role") == "system":
        sys_prompt = msgs[0].get("content")
        msgs = msgs[1:]
    if record.response is not None:
        msgs.append({"role": "assistant", "content": record.response})
    turns: list[dict[str, Any]] = []
    pending: dict[str, ToolCall] = {}
    for i, m in enumerate(msgs):
        role = m.get("role")
        if role == "system":
            raise _reject(record, "misplaced_system", "has a system message after the first turn; keep one system message, first")
        if role not in ("user", "assistant", "tool"):
            raise _reject(record, "unsupported_role", f"has a message with role {role!r}; tool conversations take system, user, assistant and tool")
        if role == "tool":
            cid = m.get("tool_call_id")
            call = pending.pop(cid, None)
            if call is None:
                raise _reject(record, "orphan_tool_result", f"turn {i + 1} is a tool result answering no call of the assistant turn before it (tool_call_id {cid!r})")
            content = m.get("content")
            turns.append({"role": "tool", "tool_call_id": call.id, "name": call.name, "content": content if isinstance(content, str) else json.dumps(content)})
            continue
        if pending:
            raise _reject(record, "unanswered_tool_call", f"the tool calls {sorted(pending)} have no tool result before turn {i + 1}")
        content = m.get("content")
        if content is not None and not isinstance(content, str):
            raise _reject(record, "non_text_content", f"has {role} content that is not text ({type(content).__name__})")
        turn: dict[str, Any] = {"role": role, "content": content}
        if role == "assistant" and m.get("tool_calls"):
            calls = tuple(ToolCall.from_openai(c, index=k) for k, c in enumerate(m["tool_calls"]))
            turn["tool_calls"] = calls
            pending = {c.id: c for c in calls}
        elif content is None:
            raise _reject(record, "non_text_content", f"turn {i + 1} ({role}) has no content")
        turns.append(turn)
    if pending:
        raise _reject(record, "unanswered_tool_call", f"the tool calls {sorted(pending)} have no tool result")
    if not turns or turns[-1]["role"] != "assistant" or turns[-1].get("tool_calls"):
        raise _reject(record, "no_response", "does not end with an assistant answer; generate one first")
    if not any(t["role"] == "user" for t in turns):
        raise _reject(record, "no_prompt", "has no user turn")
    tools = tuple(thaw(t) for t in record.data.get("tools") or ())
    return ToolChat(system=sys_prompt, turns=tuple(turns), tools=tools)


def _arguments(record: Record, call: ToolCall) -> Any:
    try:
        value = json.loads(call.arguments or "{}")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise _reject(record, "invalid_tool_arguments", f"tool call {call.id} to {call.name!r} has arguments that are not a JSON object: {call.arguments[:80]!r}")
    return value


def openai_row(record: Record, *, system: str | None = None) -> dict[str, Any]:
    """The OpenAI fine-tuning row of a tool conversation (``messages`` and ``tools``)."""
    chat = tool_chat(record, system=system)
    msgs: list[dict[str, Any]] = [{"role": "system", "content": chat.system}] if chat.system is not None else []
    for t in chat.turns:
        if t["role"] == "tool":
            msgs.append({"role": "tool", "tool_call_id": t["tool_call_id"], "content": t["content"]})
        elif t.get("tool_calls"):
            msg: dict[str, Any] = {"role": "assistant", "tool_calls": [c.to_openai() for c in t["tool_calls"]]}
            if t["content"]:
                msg["content"] = t["content"]
            msgs.append(msg)
        else:
            msgs.append({"role": t["role"], "content": t["content"]})
    row: dict[str, Any] = {"messages": msgs}
    if chat.tools:
        row["tools"] = list(chat.tools)
    return row


def sharegpt_row(record: Record, *, system: str | None = None) -> dict[str, Any]:
    """The ShareGPT row LLaMA-Factory reads: ``function_call``/``observation`` turns and a ``tools`` JSON text."""
    chat = tool_chat(record, system=system)
    out: list[dict[str, str]] = [{"from": "system", "value": chat.system}] if chat.system is not None else []
    turns = list(chat.turns)
    i = 0
    while i < len(turns):
        t = turns[i]
        if t["role"] == "user":
            out.append({"from": "human", "value": t["content"]})
        elif t.get("tool_calls"):
            if t["content"]:
                raise _reject(record, "text_beside_tool_calls", "has an assistant turn with text beside its tool calls; ShareGPT's function_call turn holds the calls only")
            calls = [{"name": c.name, "arguments": _arguments(record, c)} for c in t["tool_calls"]]
            out.append({"from": "function_call", "value": json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)})
            results = []
            while i + 1 < len(turns) and turns[i + 1]["role"] == "tool":
                i += 1
                results.append(turns[i]["content"])
            out.append({"from": "observation", "value": results[0] if len(results) == 1 else json.dumps(results, ensure_ascii=False)})
        elif t["role"] == "assistant":
            out.append({"from": "gpt", "value": t["content"]})
        i += 1
    for k, turn in enumerate(x for x in out if x["from"] != "system"):
        want = ("human", "observation") if k % 2 == 0 else ("gpt", "function_call")
        if turn["from"] not in want:
            raise _reject(record, "not_alternating", f"turn {k + 1} is {turn['from']}, expected {' or '.join(want)}: LLaMA-Factory needs user/observation and assistant/function_call turns in alternation")
    row: dict[str, Any] = {"conversations": out}
    if chat.tools:
        row["tools"] = json.dumps(list(chat.tools), ensure_ascii=False)
    return row


def trl_row(record: Record, *, system: str | None = None) -> dict[str, Any]:
    """The TRL conversational row with tools: arguments as objects, ``tools`` as a list."""
    chat = tool_chat(record, system=system)
    msgs: list[dict[str, Any]] = [{"role": "system", "content": chat.system}] if chat.system is not None else []
    for t in chat.turns:
        if t["role"] == "tool":
            msgs.append({"role": "tool", "name": t["name"], "content": t["content"]})
        elif t.get("tool_calls"):
            calls = [{"type": "function", "function": {"name": c.name, "arguments": _arguments(record, c)}} for c in t["tool_calls"]]
            msgs.append({"role": "assistant", "content": t["content"] or "", "tool_calls": calls})
        else:
            msgs.append({"role": t["role"], "content": t["content"]})
    row: dict[str, Any] = {"messages": msgs}
    if chat.tools:
        row["tools"] = list(chat.tools)
    return row


class TRLExporter(Exporter):
    """TRL conversational rows: ``{"messages": [...]}``, with ``tools`` and tool turns for a tool conversation.

    A plain conversation gets role and content only; a tool conversation is
    :func:`trl_row`, ready for ``tokenizer.apply_chat_template(row["messages"], tools=row["tools"])``
    and TRL's ``SFTTrainer``.

    Args:
        system: the system prompt for records without a system message.
    """

    name = "trl"

    def __init__(self, system: str | None = None) -> None:
        self.system = system

    def convert(self, record: Record) -> dict[str, Any]:
        return trl_row(record, system=self.system)
