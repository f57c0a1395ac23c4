"""Agent trajectories: the model calls tools, the tools answer, until a final answer or a step limit.

:class:`Trajectory` is a generator step. Each request sends the conversation so far with
``tools`` (the OpenAI format) and ``tool_choice``; a reply with tool calls has each call
checked against its tool's JSON schema (:func:`~synthkit.tools.validate.check_call`), run
by the executor, and answered with a ``tool`` message; a reply without tool calls is the
final answer. The kept record holds the conversation in ``messages`` (the assistant turns
with their ``tool_calls``, the ``tool`` results), the final answer in ``response`` (so any
verifier checks it: math, schema, judge, ``tool-result``), the tools offered in ``tools``,
and every request and tool run in ``lineage.turns``.

Every request goes through the teacher (and its cache, with ``cache=``): a re-run after a
crash is answered from the cache up to where it stopped and pays only the rest.

Outcomes other than a final answer are drops with the reason, written to the rejects file
with the trajectory so far: an invalid call (``tool-call`` verdict: unknown tool, arguments
that are not JSON, or do not match the schema), or the step limit.

Example:
    >>> traj = Trajectory(teacher, tools=[get_tool("calculator")], max_steps=4, cache="cache.sqlite")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from synthkit.errors import InputError
from synthkit.generators._turns import model_turn, total_usage
from synthkit.generators.generate import child_of
from synthkit.interfaces import Completion, Context, Drop, Generator, PromptTemplate, Swap, Teacher, copy_with
from synthkit.plugins import resolve
from synthkit.records import Record
from synthkit.teachers.params import check_params
from synthkit.templates.render import messages_for
from synthkit.tools.execute import PythonTools, ToolExecutor
from synthkit.tools.spec import Tool, ToolCall, load_tools
from synthkit.tools.validate import check_call, parse_arguments

__all__ = ["Trajectory"]

OnInvalid = Literal["drop", "feedback"]


class Trajectory(Generator):
    """Loop call -> result -> next call until the model answers without a tool call, or ``max_steps``.

    Args:
        teacher: a teacher object or registered name; it must return tool calls (``openai``, ``litellm``).
        tools: :class:`~synthkit.tools.Tool` values, registered tool names, OpenAI dicts, or a
            JSON file of them; ``None`` reads each record's ``tools`` field.
        template: renders the first messages (``None``: the record's messages or prompt).
        params: sampling parameters.
        executor: runs the calls (default :class:`~synthkit.tools.PythonTools`, each tool's function).
        max_steps: the most replies with tool calls; a model still calling tools after
            them is dropped with ``step limit``.
        tool_choice: sent as is (``"auto"``, ``"required"``, ``"none"`` or a named function).
        on_invalid: ``"drop"`` the record at an invalid call (its verdict and reason kept), or
            ``"feedback"``: answer the call with the error and let the model try again (a step).
        cache: a SQLite file caching every request (see :class:`~synthkit.teachers.cache.CachedTeacher`).
        name: the step's name (default ``trajectory:<teacher>``).
    """

    def __init__(
        self,
        teacher: Teacher | str,
        tools: Sequence[Tool | str | Mapping[str, Any]] | str | Path | None = None,
        template: PromptTemplate | str | None = None,
        params: Mapping[str, Any] | None = None,
        *,
        executor: ToolExecutor | None = None,
        max_steps: int = 8,
        tool_choice: Any = "auto",
        on_invalid: OnInvalid = "drop",
        cache: str | Path | None = None,
        name: str | None = None,
    ) -> None:
        self.teacher: Teacher = resolve("teacher", teacher)
        if cache is not None:
            from synthkit.teachers.cache import CachedTeacher

            self.teacher = CachedTeacher(self.teacher, cache)
        self.tools = None if tools is None else _tools(tools)
        self.template: PromptTemplate | None = None if template is None else resolve("template", template)
        self.params = check_params(params)
        for key in ("tools", "tool_choice"):
            if key in self.params:
                msg = f"give {key} to Trajectory({key}=...), not as a sampling parameter"
                raise InputError(msg)
        if max_steps < 1:
            msg = f"max_steps must be at least 1, got {max_steps}"
            raise InputError(msg)
        if on_invalid not in ("drop", "feedback"):
            msg = f"on_invalid must be 'drop' or 'feedback', got {on_invalid!r}"
            raise InputError(msg)
        self.executor = executor if executor is not None else PythonTools()
        self.max_steps = max_steps
        self.tool_choice = tool_choice
        self.on_invalid = on_invalid
        self.name = name or f"trajectory:{self.teacher.name}"

    def tools_for(self, record: Record) -> tuple[Tool, ...]:
        """The tools offered for ``record``: the step's, else the record's ``tools`` field.

        Raises:
            InputError: neither has tools.
        """
        if self.tools is not None:
            return self.tools
        spec = record.data.get("tools")
        if not spec:
            msg = f"record {record.id} has no 'tools' field and the step was given no tools; pass tools=... (CLI: --tools FILE)"
            raise InputError(msg)
        return _tools(spec)

    async def generate(self, record: Record, ctx: Context) -> Sequence[Record | Drop]:
        tools = self.tools_for(record)
        by_name = {t.name: t for t in tools}
        offered = [t.to_openai() for t in tools]
        params = {**self.params, "tools": offered, "tool_choice": self.tool_choice}
        conversation = messages_for(record, self.template)
        turns: list[dict[str, Any]] = []
        steps = 0
        while True:
            completion = (await self.teacher.complete(conversation, params, n=1))[0]
            turns.append(model_turn(len(turns), "assistant", self.teacher, completion, self.template))
            if not completion.tool_calls:
                return [self._child(record, ctx, conversation, completion, turns, offered, response=completion.text)]
            steps += 1
            calls = [ToolCall.from_openai(c, index=i) for i, c in enumerate(completion.tool_calls)]
            conversation.append({"role": "assistant", "content": completion.text or None, "tool_calls": [c.to_openai() for c in calls]})
            if steps > self.max_steps:
                child = self._child(record, ctx, conversation, completion, turns, offered)
                return [Drop(child, f"step limit: the model was still calling tools after {self.max_steps} steps")]
            for call in calls:
                verdict = check_call(call, by_name)
                if not verdict.passed:
                    if self.on_invalid == "drop":
                        child = self._child(record, ctx, conversation, completion, turns, offered).with_verdict(verdict)
                        return [Drop(child, f"invalid tool call: {verdict.reason}")]
                    content, ok, usage = f"error: {verdict.reason}", False, None
                else:
                    result = await self.executor.run(by_name[call.name], parse_arguments(call))
                    content, ok, usage = result.content, result.ok, result.usage
                conversation.append({"role": "tool", "tool_call_id": call.id, "name": call.name, "content": content})
                entry: dict[str, Any] = {"turn": len(turns), "role": "tool", "name": call.name, "executor": self.executor.name, "ok": ok}
                if usage:
                    u = dict(usage)
                    entry.update(teacher=u.pop("teacher", None), model=u.pop("model", None), usage=u)
                turns.append(entry)

    def _child(
        self,
        parent: Record,
        ctx: Context,
        conversation: list[dict[str, Any]],
        last: Completion,
        turns: list[dict[str, Any]],
        offered: list[dict[str, Any]],
        *,
        response: str | None = None,
    ) -> Record:
        usage = total_usage(turns)
        summed = Completion(text=response or "", finish_reason=last.finish_reason, usage=usage, model=last.model)
        child = child_of(
            parent,
            summed,
            teacher=self.teacher,
            template=self.template,
            params=self.params,
            ctx=ctx,
            step=self.name,
            key=[self.name, self.teacher.model, self.params, offered, len(turns)],
            messages=list(conversation),
            response=response,
            data={**parent.data, "tools": offered},
        )
        return child.evolve(lineage=attrs.evolve(child.lineage, turns=tuple(turns)))

    def teachers(self) -> tuple[Teacher, ...]:
        return (*self.teacher.teachers(), *self.executor.teachers())

    def with_teachers(self, swap: Swap) -> Trajectory:
        return copy_with(self, teacher=self.teacher.with_teachers(swap), executor=self.executor.with_teachers(swap))

    async def aclose(self) -> None:
        await self.teacher.aclose()
        await self.executor.aclose()


def _tools(spec: Any) -> tuple[Tool, ...]:
    if isinstance(spec, (str, Path)):
        return load_tools(spec)
    out = [resolve("tool", t) if isinstance(t, str) else t for t in spec]
    return load_tools(out)
