"""Shared fixtures for the core tests."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def fresh_plugins():
    """Give a test the process-wide plugins rebuilt from scratch, and rebuild them again afterwards."""
    from synthkit.plugins import get_plugins, reset_plugins

    reset_plugins()
    yield get_plugins()
    reset_plugins()
