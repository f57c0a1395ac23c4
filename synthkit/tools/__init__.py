"""Tools: JSON schemas in the OpenAI ``tools`` format, validation of calls, execution, built-in tools.

* :mod:`~synthkit.tools.builtin`: Built-in tools: ``calculator`` (arithmetic, evaluated on the syntax tree, never by ``eval``).
* :mod:`~synthkit.tools.execute`: Running tool calls: by the tool's Python function, or simulated by a teacher from the tool's description.
* :mod:`~synthkit.tools.spec`: Tools as values: a :class:`Tool` (a JSON schema in the OpenAI ``tools`` format, and the function that runs it) and a :class:`ToolCall`.
* :mod:`~synthkit.tools.validate`: Checking a model's tool call against the tool's JSON schema: a :class:`~synthkit.Verdict` with the reason.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "PythonTools",
    "SandboxTools",
    "SimulatedTools",
    "Tool",
    "ToolCall",
    "ToolExecutor",
    "ToolResult",
    "calculate",
    "calculator",
    "check_call",
    "load_tools",
    "parse_arguments",
    "result_text",
    "tool",
    "tool_calls_of",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "PythonTools": "execute",
        "SandboxTools": "execute",
        "SimulatedTools": "execute",
        "Tool": "spec",
        "ToolCall": "spec",
        "ToolExecutor": "execute",
        "ToolResult": "execute",
        "calculate": "builtin",
        "calculator": "builtin",
        "check_call": "validate",
        "load_tools": "spec",
        "parse_arguments": "validate",
        "result_text": "execute",
        "tool": "spec",
        "tool_calls_of": "spec",
    },
    globals(),
)
