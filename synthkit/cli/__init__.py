"""The ``synthkit`` command line. Commands come from plugins through ``register_commands``."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from synthkit.errors import Interrupted, SynthkitError

__all__ = ["cli", "invocation", "key_values", "main"]

#: Parameters left out of the recorded command line: a key is a secret; the others change where the output
#: goes, where or how fast the work runs, or what counts as success, never the records themselves.
_UNRECORDED = frozenset(
    {"api_key", "output", "rejects", "failures", "pass_rates", "cache", "no_cache", "engine", "engine_options", "grace", "max_failure_rate", "concurrency"}
)


class _Group(click.Group):
    """Loads plugin commands on first use, so ``synthkit`` imports nothing it does not need."""

    _loaded = False

    def _load(self) -> None:
        if not self._loaded:
            _Group._loaded = True
            from synthkit.plugins import get_plugins

            get_plugins().call("register_commands", cli=self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._load()
        return super().get_command(ctx, name)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="synthkit")
def cli() -> None:
    """synthkit: build verified, deduplicated, well-mixed synthetic training data.

    Generate data with a teacher model, keep what a verifier accepts, filter junk and
    duplicates, mix it with real data and check it for collapse. Every command reads and
    writes JSONL (one record a line) or Parquet, and accounts for every input. Commands, teachers,
    verifiers, filters and mixers come from plugins: `synthkit plugins` lists them.
    `synthkit COMMAND --help` describes a command, with an example.

    Example workflow:

    \b
        synthkit generate prompts.jsonl -o answers.jsonl --model gpt-4o-mini --template cot
        synthkit verify answers.jsonl -o verified.jsonl --verifier math --rejects wrong.jsonl
        synthkit filter verified.jsonl -o clean.jsonl --rejects junk.jsonl
        synthkit dedup clean.jsonl -o unique.jsonl --exact --near 0.8
        synthkit mix --real real.jsonl --synthetic unique.jsonl -o train.jsonl --real-fraction 0.2
        synthkit report train.jsonl --reference real.jsonl -o report.html --fail-on-collapse
        synthkit export train.jsonl -o train.openai.jsonl --format openai
        synthkit card train.jsonl -o README.md --rejects wrong.jsonl --rejects junk.jsonl
    """


def key_values(items: tuple[str, ...], *, option: str, example: str) -> dict[str, Any]:
    """Parse repeated ``KEY=VALUE`` options; a value is read as JSON when it parses, else kept as text.

    Raises:
        click.BadParameter: an item has no ``=`` or no key; the message shows ``example``.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            msg = f"{option} takes KEY=VALUE (e.g. {example}), got {item!r}"
            raise click.BadParameter(msg)
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def invocation() -> str | None:
    """The running command as a canonical command line (``synthkit generate IN --model M ...``), or ``None``.

    Built from the command's parameters, not from ``sys.argv``: arguments, then the
    options that differ from their defaults, in the command's order. What makes the records
    is kept; the API key and the options that only say where output goes or how the work
    runs (``-o``, ``--rejects``, ``--cache``, ``--engine``, ``--concurrency``...) are left
    out, so two runs that make the same records record the same command.
    """
    import shlex

    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.command is None:
        return None
    words = ["synthkit", ctx.info_name or ctx.command.name or ""]
    options: list[str] = []
    for param in ctx.command.params:
        name = param.name or ""
        value = ctx.params.get(name)
        if name in _UNRECORDED or value is None or value == param.default or value == ():
            continue
        if isinstance(param, click.Argument):
            words += [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
            continue
        flag = max(param.opts, key=len)
        if getattr(param, "is_flag", False):
            if value:
                options.append(flag)
            continue
        for v in value if isinstance(value, (list, tuple)) else [value]:
            options += [flag, str(v)]
    return shlex.join(words + options)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a synthkit error prints its message (no traceback) and exits with its code (1 unless it says)."""
    try:
        code = cli.main(args=argv, prog_name="synthkit", standalone_mode=False)
        if isinstance(code, int) and code:  # a command's ctx.exit(n)
            sys.exit(code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except SynthkitError as exc:
        summary = getattr(exc, "summary", None)
        if summary is not None:  # the error is printed once, below, not also as the summary's last line
            lines = str(summary).splitlines()
            click.echo("\n".join(line for line in lines if line != f"  stopped early: {exc}"), err=True)
        code = getattr(exc, "exit_code", 1)
        if isinstance(exc, Interrupted):
            click.echo(f"{exc}; re-run the same command to resume (answered requests are cached)", err=True)
        else:
            click.echo(f"Error: {exc}", err=True)
        sys.exit(code)
