"""The llamacpp plugin without a model: registration, model lookup errors, response_format mapping."""

from __future__ import annotations

import pytest

from synthkit.errors import OptionError
from synthkit.plugins import load_plugins
from synthkit_llamacpp import BUNDLED_MODEL, model_file
from synthkit_llamacpp.teacher import _response_format


def test_registered_through_the_entry_point():
    """Installing the package registers the `llamacpp` teacher through the `synthkit` entry point."""
    entry = load_plugins().registries["teachers"].entry("llamacpp")
    assert entry.plugin == "llamacpp" and "llama.cpp" in entry.summary


def test_a_missing_model_file_names_the_fix(tmp_path):
    """A model path that does not exist is an OptionError naming the bundled model as the alternative."""
    with pytest.raises(OptionError, match=BUNDLED_MODEL):
        model_file(str(tmp_path / "nope.gguf"))


def test_response_format_maps_to_llama_cpp_form():
    """OpenAI's json_schema form becomes llama-cpp-python's json_object + schema; a bad form is refused."""
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert _response_format({"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}) == {"type": "json_object", "schema": schema}
    assert _response_format('{"type": "json_object"}') == {"type": "json_object"}
    with pytest.raises(OptionError, match="needs a schema"):
        _response_format({"type": "json_schema", "json_schema": {}})
    with pytest.raises(OptionError, match="response_format must be"):
        _response_format({"type": "xml"})


@pytest.mark.parametrize(("ci", "code", "says"), [("1", 1, "under CI the real-model tests must run"), ("", 0, "1 skipped")])
def test_without_llama_cpp_the_real_model_tests_skip_except_under_ci(ci, code, says):
    """With llama-cpp-python missing, a real-model test skips; under CI (CI set) it fails the run instead."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    target = Path(__file__).with_name("test_llamacpp_teacher.py")
    script = (
        "import sys; sys.modules['llama_cpp'] = None; import pytest; "  # None in sys.modules: the import fails
        f"sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', {str(target)!r}, '-k', 'registered_and_checks']))"
    )
    env = {k: v for k, v in os.environ.items() if k != "CI"} | ({"CI": ci} if ci else {})
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300, cwd=target.parents[1])
    assert res.returncode == code, res.stdout[-2000:]
    assert says in res.stdout
