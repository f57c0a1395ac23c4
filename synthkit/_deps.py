"""Optional dependencies: import one, or say which extra brings it."""

from __future__ import annotations

import importlib
from typing import Any

from synthkit.errors import MissingDependencyError

__all__ = ["require"]


def require(module: str, extra: str) -> Any:
    """Import and return ``module``.

    Raises:
        MissingDependencyError: it is not installed; the message names the extra to install.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        msg = f"this needs {module}, which is not installed; install it with `pip install 'synthkit[{extra}]'`"
        raise MissingDependencyError(msg) from None
