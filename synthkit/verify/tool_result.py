"""The ``tool-result`` verifier: a trajectory's final answer is checked against what its tools returned.

By default the final answer must state the last tool result (equivalent as a math answer:
``The total is 1,200.`` states ``1200``), the check for a calculator-style trajectory. A
custom ``check(response, results)`` gets the final answer and the tool results (dicts with
``name``, ``arguments`` and ``content``, oldest first) and returns ``True``/``False``, or a
failure reason as text, or a :class:`~synthkit.Verdict`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from synthkit.interfaces import Verifier
from synthkit.records import Record, Verdict

__all__ = ["ToolResultVerifier", "tool_results"]


def tool_results(record: Record) -> list[dict[str, Any]]:
    """The tool results of a trajectory record, oldest first: ``{"name", "arguments", "content"}``."""
    calls: dict[str, dict[str, Any]] = {}
    out = []
    for m in record.messages or ():
        if m.get("role") == "assistant":
            for c in m.get("tool_calls") or ():
                fn = c.get("function") or {}
                try:
                    args = json.loads(fn.get("arguments") or "{}")
                except ValueError:
                    args = fn.get("arguments")
                calls[c.get("id")] = {"name": fn.get("name"), "arguments": args}
        elif m.get("role") == "tool":
            call = calls.get(m.get("tool_call_id"), {"name": m.get("name"), "arguments": None})
            out.append({**call, "content": m.get("content")})
    return out


class ToolResultVerifier(Verifier):
    """Passes a trajectory whose final answer agrees with its tool results.

    Args:
        check: ``check(response, results) -> bool | str | Verdict``; default: the response
            states the last tool result (math equivalence).
    """

    name = "tool-result"

    def __init__(self, check: Callable[[str, list[dict[str, Any]]], Any] | None = None) -> None:
        self.check = check

    async def verify(self, record: Record) -> Verdict:
        results = tool_results(record)
        response = record.response
        if not response:
            return Verdict(self.name, False, "the record has no final answer to check")
        if not results:
            return Verdict(self.name, False, "the record has no tool results to check the answer against")
        if self.check is None:
            from synthkit.verify.math import equivalent

            last = str(results[-1]["content"])
            ok, why = equivalent(last, response)
            reason = f"the answer states the last tool result {last!r}" if ok else f"the answer does not state the last tool result {last!r}: {why}"
            return Verdict(self.name, ok, reason, 1.0 if ok else 0.0)
        out = self.check(response, results)
        if isinstance(out, Verdict):
            return out
        if isinstance(out, str):
            return Verdict(self.name, False, out, 0.0)
        ok = bool(out)
        return Verdict(self.name, ok, "the custom check passed" if ok else "the custom check failed", 1.0 if ok else 0.0)
