"""Scripted replies for :class:`~synthkit.testing.FakeOpenAIServer`: tool calls, trajectories, simulated users.

A reply script may return a message instead of text: ``{"content": ..., "tool_calls": [...]}``
(build calls with :func:`tool_call`). The scripts here are stateless: what they answer
depends only on the request, so a re-run (from a cache or not) gets the same answers.

* :func:`trajectory_script` answers the k-th request of a tool trajectory with its k-th step.
* :func:`simulated_user` plays the user of a dialogue: its k-th turn is the k-th line.
* :func:`by_model` routes requests to scripts by the ``model`` they ask for.

The server also checks the tool protocol of every request as OpenAI does
(:func:`check_tool_protocol`): a ``tool`` message must answer a call of the assistant turn
before it, every call must be answered before the conversation goes on, and ``tools``
must be function tools with a name; otherwise it answers 400 with the reason.

Example:
    >>> script = trajectory_script(tool_call("calculator", {"expression": "2+3"}), "The answer is 5.")
    >>> first = script([{"role": "user", "content": "2+3?"}], {}, 0).get("tool_calls")
    >>> first.pop().get("function").get("name")
    'calculator'
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["as_message", "by_model", "call_script", "check_tool_protocol", "simulated_user", "steps_taken", "tool_call", "trajectory_script"]

Step = Any  # str | Mapping | Sequence[Mapping] | Callable[[list[dict]], ...]


def tool_call(name: str, arguments: Mapping[str, Any] | str, *, id: str | None = None) -> dict[str, Any]:  # noqa: A002
    """One tool call in the OpenAI wire format; ``arguments`` given as a dict are written as JSON text."""
    args = arguments if isinstance(arguments, str) else json.dumps(dict(arguments), sort_keys=True)
    return {"id": id or f"call_{name}", "type": "function", "function": {"name": name, "arguments": args}}


def steps_taken(messages: Sequence[Mapping[str, Any]]) -> int:
    """How many assistant turns follow the last user message (the step a trajectory is at)."""
    n = 0
    for m in reversed(messages):
        if m.get("role") == "user":
            break
        if m.get("role") == "assistant":
            n += 1
    return n


def _resolve(step: Step, messages: list[dict[str, Any]]) -> Any:
    if callable(step):
        step = step(messages)
    if isinstance(step, str):
        return step
    if isinstance(step, Mapping) and "function" in step:
        step = [step]
    if isinstance(step, Sequence) and not isinstance(step, (str, bytes)):
        calls = []
        for i, c in enumerate(step):
            call = dict(c)
            call.setdefault("id", f"call_{len(messages)}_{i}")
            calls.append(call)
        return {"content": None, "tool_calls": calls}
    return step


def trajectory_script(*steps: Step, after: Step = "I am done.") -> Callable[..., Any]:
    """A reply script that plays a tool-using model: request k of a trajectory gets ``steps[k]``.

    Args:
        steps: each a final answer (text), one :func:`tool_call`, a list of them (parallel
            calls), or a callable ``step(messages)`` returning one of these (to answer from
            the tool results in ``messages``).
        after: what requests past the last step get.

    Call ids are made unique within the conversation (``call_<position>_<i>``) unless given.
    """

    def reply(messages: list[dict[str, Any]], body: Mapping[str, Any], index: int) -> Any:
        k = steps_taken(messages)
        return _resolve(steps[k] if k < len(steps) else after, messages)

    return reply


def simulated_user(lines: Sequence[str], *, goodbye: str = "Thanks, that is all. Goodbye!") -> Callable[..., Any]:
    """A reply script that plays a dialogue's simulated user: its k-th turn is ``lines[k]``, then ``goodbye``.

    The simulated user's requests carry its own earlier turns as ``assistant`` messages, so
    the turn it is at is their count; a line may use ``{persona}``-free plain text only.
    """

    def reply(messages: list[dict[str, Any]], body: Mapping[str, Any], index: int) -> str:
        k = sum(1 for m in messages if m.get("role") == "assistant")
        return lines[k] if k < len(lines) else goodbye

    return reply


def by_model(routes: Mapping[str, Callable[..., Any]], default: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """A reply script that answers each request with the script of the model it names (``default`` for others).

    A model with no script and no ``default`` is answered 400, naming the models scripted.
    """

    def reply(messages: list[dict[str, Any]], body: Mapping[str, Any], index: int) -> Any:
        model = str(body.get("model"))
        script = routes.get(model, default)
        if script is None:
            msg = f"no script for model {model!r}; scripted models: {', '.join(sorted(routes))}"
            raise KeyError(msg)
        return call_script(script, messages, dict(body), index)

    return reply


def call_script(reply: Callable[..., Any], messages: list[dict[str, Any]], body: dict[str, Any], index: int) -> Any:
    """Call a reply script as ``reply(messages, body, index)``, or ``reply(messages)`` if it takes one argument."""
    try:
        nparams = len(inspect.signature(reply).parameters)
    except (TypeError, ValueError):  # builtins
        nparams = 1
    return reply(messages, body, index) if nparams >= 3 else reply(messages)


def as_message(out: Any) -> dict[str, Any]:
    """A reply script's answer as an assistant message: text becomes its content; a message keeps its fields.

    A message may carry ``tool_calls`` and a reasoning model's fields (``reasoning_content``, ``reasoning``...).
    """
    if isinstance(out, str):
        return {"role": "assistant", "content": out}
    if not isinstance(out, Mapping):
        msg = f"the server's reply script must return a str or a message dict, got {type(out).__name__}"
        raise TypeError(msg)
    message: dict[str, Any] = {k: v for k, v in out.items() if k not in ("role", "tool_calls")}
    message = {"role": "assistant", **message, "content": out.get("content")}
    calls = out.get("tool_calls")
    if calls:
        message["tool_calls"] = [dict(c) for c in calls]
    return message


def check_tool_protocol(body: Mapping[str, Any]) -> None:
    """Check a request's tools and tool messages as OpenAI does.

    Raises:
        ValueError: the request breaks the protocol; the message says where.
    """
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            msg = "'tools' must be a list"
            raise ValueError(msg)
        for i, t in enumerate(tools):
            fn = t.get("function") if isinstance(t, Mapping) else None
            if not isinstance(t, Mapping) or t.get("type") != "function" or not isinstance(fn, Mapping) or not fn.get("name"):
                msg = f"tools[{i}] must be {{'type': 'function', 'function': {{'name': ...}}}}"
                raise ValueError(msg)
    pending: set[str] = set()
    for i, m in enumerate(body.get("messages") or []):
        role = m.get("role")
        if role == "tool":
            cid = m.get("tool_call_id")
            if cid not in pending:
                msg = f"messages[{i}]: a 'tool' message must answer a tool call of the assistant turn before it (tool_call_id {cid!r})"
                raise ValueError(msg)
            pending.discard(cid)
            continue
        if pending:
            msg = f"messages[{i}]: the tool calls {sorted(pending)} were not answered by 'tool' messages"
            raise ValueError(msg)
        if role == "assistant" and m.get("tool_calls"):
            for call in m["tool_calls"]:
                if not isinstance(call.get("function", {}).get("arguments"), str):
                    msg = f"messages[{i}]: tool call arguments must be a JSON string"
                    raise ValueError(msg)
            pending = {c.get("id") for c in m["tool_calls"]}
