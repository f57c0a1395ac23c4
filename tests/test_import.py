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
