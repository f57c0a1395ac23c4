"""A fake in-process teacher and the teacher conformance check, for plugin authors."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from synthkit.interfaces import Completion, Teacher, Usage
from synthkit.testing.server import Reply, _call_reply, count_tokens, echo_reply

__all__ = ["FakeTeacher", "check_teacher"]


class FakeTeacher(Teacher):
    """An in-process teacher for tests: deterministic replies, no network.

    Args:
        reply: a string, or ``reply(messages) -> str``, or ``reply(messages, params, index) -> str``;
            by default ``"echo: <last user message>"``.
        model: the model name it reports.
        fail: ``fail(messages) -> Exception | None``; a returned exception is raised.

    Attributes:
        calls: every ``(messages, params, n)`` it was called with.
    """

    name = "fake"

    def __init__(
        self,
        reply: str | Reply | None = None,
        *,
        model: str = "fake-model",
        fail: Callable[[Sequence[Mapping[str, Any]]], BaseException | None] | None = None,
    ) -> None:
        self.reply = reply
        self.model = model
        self.fail = fail
        self.calls: list[tuple[list[dict[str, Any]], dict[str, Any], int]] = []
        self.closed = False

    async def complete(self, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any], *, n: int = 1) -> list[Completion]:
        msgs = [dict(m) for m in messages]
        self.calls.append((msgs, dict(params), n))
        if self.fail is not None:
            exc = self.fail(msgs)
            if exc is not None:
                raise exc
        out = []
        prompt_tokens = sum(count_tokens(str(m.get("content", ""))) for m in msgs)
        for i in range(n):
            calls: list[Any] = []
            if self.reply is None:
                text = echo_reply(msgs, dict(params), i)
            elif isinstance(self.reply, str):
                text = self.reply
            else:  # text, or a message with tool calls (synthkit.testing.scripts)
                message = _call_reply(self.reply, msgs, dict(params), i)
                text, calls = message["content"] or "", message.get("tool_calls", [])
            usage = Usage(prompt_tokens=prompt_tokens if i == 0 else 0, completion_tokens=count_tokens(text))
            finish = "tool_calls" if calls else "stop"
            out.append(Completion(text=text, finish_reason=finish, usage=usage, model=self.model, tool_calls=calls))
        return out

    async def aclose(self) -> None:
        self.closed = True


async def check_teacher(teacher: Teacher, *, n: int = 2) -> None:
    """Check that ``teacher`` keeps the :class:`~synthkit.Teacher` contract.

    It asks for 1 and ``n`` completions of a short conversation and checks the types
    of what comes back (text, finish reason, usage), then closes the teacher.

    Raises:
        AssertionError: naming what is wrong.
    """
    assert isinstance(teacher, Teacher), f"{teacher!r} must subclass synthkit.Teacher"
    assert isinstance(teacher.name, str) and teacher.name, "a teacher needs a non-empty class attribute `name`"
    messages = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Say hello."}]
    try:
        for k in (1, n):
            out = await teacher.complete(messages, {"temperature": 0.0}, n=k)
            assert isinstance(out, list), f"complete() must return a list, got {type(out).__name__}"
            assert len(out) == k, f"complete(n={k}) returned {len(out)} completions"
            for c in out:
                assert isinstance(c, Completion), f"complete() must return Completion objects, got {type(c).__name__}"
                assert isinstance(c.text, str), "Completion.text must be a str"
                assert c.finish_reason is None or isinstance(c.finish_reason, str), "finish_reason must be a str or None"
                assert isinstance(c.usage, Usage), "Completion.usage must be a synthkit.Usage"
                assert c.usage.prompt_tokens >= 0 and c.usage.completion_tokens >= 0, "token counts must be >= 0"
    finally:
        await teacher.aclose()
