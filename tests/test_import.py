"""`import synthkit` stays light: heavy dependencies load only where they are used."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("litellm", "numpy", "matplotlib", "ray", "aiohttp", "sympy", "math_verify", "rensa", "jinja2")


def test_import_loads_no_heavy_module():
    """A fresh interpreter importing synthkit (and its public names) loads none of the heavy libraries."""
    code = f"import sys, synthkit; synthkit.Record; synthkit.Verdict; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_help_does_not_import_litellm():
    """`synthkit --help` lists commands without importing litellm."""
    code = "import sys\nfrom synthkit.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\nprint('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"


#: Modules of the first-party plugins that only building one of their parts may import.
PLUGIN_PARTS = (
    "synthkit_procedural.families",
    "synthkit_procedural.teacher",
    "synthkit_procedural.verifier",
    "synthkit_llamacpp.teacher",
    "synthkit_litellm.teacher",
    "synthkit_students.tiny",
    "synthkit_ray.engine",
    "synthkit.teachers.remote",
)


def test_a_command_loads_plugins_without_their_parts(tmp_path):
    """`synthkit dedup` loads every installed plugin but imports none of their parts' modules (start-up time)."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"prompt": "p", "response": "one two three four five"}\n{"prompt": "p", "response": "one two three four five"}\n')
    code = (
        "import sys\nfrom synthkit.cli import main\n"
        f"try:\n    main(['dedup', {str(src)!r}, '-o', {str(tmp_path / 'out.jsonl')!r}, '--near', '0.7'])\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "from synthkit.plugins import get_plugins\n"
        f"print(sorted(get_plugins().dists), [m for m in {PLUGIN_PARTS!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded, imported = out.strip().splitlines()[-1].split("] [")
    assert "procedural" in loaded and "litellm" in loaded  # the plugins did load
    assert imported == "]"
    assert (tmp_path / "out.jsonl").read_text().count("\n") == 1


def test_lazy_plugin_faces_still_export_their_parts():
    """The plugins' package faces import a part's module on first use of its name."""
    import synthkit_litellm
    import synthkit_procedural

    assert synthkit_procedural.ProceduralTeacher.__module__ == "synthkit_procedural.teacher"
    assert "arithmetic" in synthkit_procedural.FAMILIES
    assert synthkit_litellm.LiteLLMTeacher.__module__ == "synthkit_litellm.teacher"
    assert synthkit_litellm.mask_key("key k", "k") == "key ***"
