"""Helpers for testing synthkit and its plugins (also a pytest plugin via ``pytest11``)."""

from __future__ import annotations

__all__: list[str] = []
