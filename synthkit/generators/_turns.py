"""Shared by the generators that make one record from several requests (dialogues, tool trajectories)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthkit.interfaces import Completion, PromptTemplate, Teacher, Usage

__all__ = ["model_turn", "total_usage"]


def model_turn(index: int, role: str, teacher: Teacher, completion: Completion, template: PromptTemplate | None) -> dict[str, Any]:
    """The ``lineage.turns`` entry of one model request."""
    entry: dict[str, Any] = {
        "turn": index,
        "role": role,
        "teacher": teacher.name,
        "model": completion.model or teacher.model,
        "template": template.name if template is not None else None,
        "template_hash": template.hash if template is not None else None,
        "finish_reason": completion.finish_reason,
        "usage": completion.usage.to_dict(),
    }
    return {k: v for k, v in entry.items() if v is not None}


def total_usage(turns: list[Mapping[str, Any]]) -> Usage:
    """The sum of the turns' usage (the cost is ``None`` unless every paid turn knows it)."""
    prompt = completion = 0
    cost: float | None = 0.0
    for t in turns:
        u = t.get("usage")
        if not u:
            continue
        prompt += int(u.get("prompt_tokens", 0))
        completion += int(u.get("completion_tokens", 0))
        c = u.get("cost_usd")
        cost = None if (c is None or cost is None) else cost + float(c)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, cost_usd=cost)
