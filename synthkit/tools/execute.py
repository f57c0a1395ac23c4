"""Running tool calls: by the tool's Python function, or simulated by a teacher from the tool's description.

An executor turns one validated call into a :class:`ToolResult`, the text the model reads
in the ``tool`` message. A tool that raises does not fail the record: the error becomes
the result (``ok=False``), as a real tool's error would reach the model.

* :class:`PythonTools` runs each tool's ``function`` (sync functions in a worker thread,
  ``async`` ones awaited); registered tools (:func:`synthkit.plugins.get_tool`) carry theirs.
* :class:`SandboxTools` runs user code (a Python source defining one function per tool) in
  :class:`~synthkit.verify.sandbox.Sandbox`, a fresh isolated process per call, with its limits.
* :class:`SimulatedTools` asks a teacher to play the tool from its name, description and
  schema; its requests go through the teacher's cache like any other, and their usage is
  recorded in the trajectory's lineage.
"""

from __future__ import annotations

import abc
import asyncio
import inspect
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from synthkit._frozen import freeze, thaw
from synthkit.interfaces import Swap, Teacher, copy_with
from synthkit.tools.spec import Tool

__all__ = ["PythonTools", "SandboxTools", "SimulatedTools", "ToolExecutor", "ToolResult", "result_text"]


@attrs.frozen
class ToolResult:
    """What one tool call returned.

    Attributes:
        content: the text the model reads in the ``tool`` message.
        ok: ``False`` when the tool raised (``content`` then holds the error).
        usage: for a simulated tool, the teacher's usage (and ``teacher``, ``model``).
    """

    content: str
    ok: bool = True
    usage: Mapping[str, Any] | None = attrs.field(default=None, converter=attrs.converters.optional(freeze))


def result_text(value: Any) -> str:
    """A tool's return value as the text the model reads: a string as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(thaw(value), ensure_ascii=False, default=str)


class ToolExecutor(abc.ABC):
    """Runs validated tool calls.

    Attributes:
        name: recorded in the trajectory's lineage (``python``, ``simulated``...).
    """

    name: str = "executor"

    @abc.abstractmethod
    async def run(self, tool: Tool, arguments: Mapping[str, Any]) -> ToolResult:
        """Return the result of calling ``tool`` with ``arguments`` (already checked against its schema)."""

    def teachers(self) -> tuple[Teacher, ...]:
        """The teachers this executor asks (none by default)."""
        return ()

    def with_teachers(self, swap: Swap) -> ToolExecutor:
        """A copy asking ``teacher.with_teachers(swap)`` instead of each of its teachers."""
        return self

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release resources; called once when the run ends."""


class PythonTools(ToolExecutor):
    """Run each tool's Python ``function``; an exception becomes an error result the model reads."""

    name = "python"

    async def run(self, tool: Tool, arguments: Mapping[str, Any]) -> ToolResult:
        fn = tool.function
        if fn is None:
            return ToolResult(f"error: tool {tool.name!r} has no Python function here", ok=False)
        try:
            if inspect.iscoroutinefunction(fn):
                value = await fn(**arguments)
            else:
                value = await asyncio.to_thread(fn, **arguments)
        except Exception as exc:  # noqa: BLE001 - a tool's error is the model's to read
            return ToolResult(f"error: {type(exc).__name__}: {exc}", ok=False)
        return ToolResult(result_text(value))


_MARK = "@@synthkit-tool-result@@"


class SandboxTools(ToolExecutor):
    """Run tools defined in user code inside the sandbox: one fresh, isolated process per call.

    The code defines a function per tool, named after it (``-`` read as ``_``); a tool the code
    does not define runs its Python ``function``, if it has one. The call's arguments reach the
    function as JSON; its return value comes back as JSON (text as it is). A call that raises,
    times out or breaks a limit is an error result naming why.

    Args:
        code: the Python source, or the path of a ``.py`` file.
        sandbox: the :class:`~synthkit.verify.sandbox.Sandbox` (default: one with its default limits).

    Raises:
        InputError: the code cannot be read or does not parse.
        SandboxUnavailable: the machine cannot isolate code (see the sandbox).
    """

    name = "sandbox"

    def __init__(self, code: str | Path, *, sandbox: Any = None) -> None:
        import ast

        from synthkit.errors import InputError

        source = str(code)
        if isinstance(code, Path) or (source.endswith(".py") and "\n" not in source):
            try:
                source = Path(code).read_text(encoding="utf-8")
            except OSError as exc:
                msg = f"cannot read the tools code {code}: {exc.strerror}"
                raise InputError(msg) from None
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            msg = f"the tools code does not parse: line {exc.lineno}: {exc.msg}"
            raise InputError(msg) from None
        self.code = source
        self.defined = frozenset(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
        if sandbox is None:
            from synthkit.verify.sandbox import Sandbox

            sandbox = Sandbox()
        self.sandbox = sandbox
        self._python = PythonTools()

    async def run(self, tool: Tool, arguments: Mapping[str, Any]) -> ToolResult:
        fn = tool.name.replace("-", "_")
        if fn not in self.defined:
            return await self._python.run(tool, arguments)
        args = json.dumps(thaw(arguments), ensure_ascii=False)
        test = f"import json as _json\n_out = {fn}(**_json.loads({args!r}))\nprint({_MARK!r} + (_out if isinstance(_out, str) else _json.dumps(_out)))"
        result = await self.sandbox.run(self.code, [test])
        if not result.passed:
            return ToolResult(f"error: {result.reason}", ok=False)
        lines = [ln for ln in result.stdout.splitlines() if ln.startswith(_MARK)]
        if not lines:
            return ToolResult("error: the tool printed no result (its output was cut short?)", ok=False)
        return ToolResult(lines[-1][len(_MARK) :])

    async def aclose(self) -> None:
        close = getattr(self.sandbox, "close", None)
        if callable(close):
            close()


SIMULATOR_SYSTEM = (
    "You are the tool {name!r}, not an assistant. {description}\n"
    "Its arguments follow this JSON schema:\n{schema}\n"
    "Reply with only the tool's output for the call you are given: no explanation, no code fence."
)


class SimulatedTools(ToolExecutor):
    """A teacher plays each tool from its description (for tools with no implementation at hand).

    Tools that have a Python ``function`` still run it unless ``simulate_all`` is set.

    Args:
        teacher: the teacher that plays the tools (wrap it in a cache to resume for free).
        params: sampling parameters (default temperature 0).
        simulate_all: simulate even the tools that have a function.
    """

    name = "simulated"

    def __init__(self, teacher: Teacher, *, params: Mapping[str, Any] | None = None, simulate_all: bool = False) -> None:
        self.teacher = teacher
        self.params = dict(params if params is not None else {"temperature": 0})
        self.simulate_all = simulate_all
        self._python = PythonTools()

    def messages(self, tool: Tool, arguments: Mapping[str, Any]) -> list[dict[str, str]]:
        """The request that asks the teacher to play ``tool``."""
        schema = json.dumps(thaw(tool.parameters), sort_keys=True)
        system = SIMULATOR_SYSTEM.format(name=tool.name, description=tool.description, schema=schema)
        return [{"role": "system", "content": system}, {"role": "user", "content": json.dumps(thaw(arguments), sort_keys=True, ensure_ascii=False)}]

    async def run(self, tool: Tool, arguments: Mapping[str, Any]) -> ToolResult:
        if tool.function is not None and not self.simulate_all:
            return await self._python.run(tool, arguments)
        c = (await self.teacher.complete(self.messages(tool, arguments), self.params, n=1))[0]
        usage = {"teacher": self.teacher.name, "model": c.model or self.teacher.model, **c.usage.to_dict()}
        return ToolResult(c.text, usage=usage)

    def teachers(self) -> tuple[Teacher, ...]:
        return self.teacher.teachers()

    def with_teachers(self, swap: Swap) -> SimulatedTools:
        return copy_with(self, teacher=self.teacher.with_teachers(swap))

    async def aclose(self) -> None:
        await self.teacher.aclose()
