"""Sampling parameters: the well-known ones are checked and converted before anything is sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthkit.errors import OptionError

__all__ = ["SAMPLING", "check_params"]

#: Well-known sampling parameters and their types; others are sent as given.
SAMPLING: dict[str, type] = {
    "temperature": float,
    "top_p": float,
    "top_k": int,
    "min_p": float,
    "max_tokens": int,
    "max_completion_tokens": int,
    "seed": int,
    "presence_penalty": float,
    "frequency_penalty": float,
    "repetition_penalty": float,
    "logprobs": bool,
    "top_logprobs": int,
}

_REFUSED = {
    "n": "ask for samples with n= (Python) or -n (CLI), which also works with servers that ignore n",
    "stream": "synthkit reads whole responses; remove the stream parameter",
}


def check_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return ``params`` with the well-known sampling parameters converted to their types.

    Raises:
        OptionError: a value of the wrong type (``temperature=hot``), a negative token
            limit, or a parameter synthkit sets itself (``n``, ``stream``).
    """
    from synthkit.plugins import convert_option

    out = dict(params or {})
    for key, value in out.items():
        if key in _REFUSED:
            msg = f"sampling parameter {key!r} is not passed through: {_REFUSED[key]}"
            raise OptionError(msg)
        kind = SAMPLING.get(key)
        if kind is not None:
            out[key] = convert_option(value, kind | None, f"sampling parameter {key!r}")
    for key in ("max_tokens", "max_completion_tokens"):
        if out.get(key) is not None and out[key] < 1:
            msg = f"sampling parameter {key!r} must be at least 1, got {out[key]}"
            raise OptionError(msg)
    if "stop" in out and not (isinstance(out["stop"], str) or (isinstance(out["stop"], (list, tuple)) and all(isinstance(x, str) for x in out["stop"]))):
        msg = f"sampling parameter 'stop' takes text or a list of texts, got {out['stop']!r}"
        raise OptionError(msg)
    return out
