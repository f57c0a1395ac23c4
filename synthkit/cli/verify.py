"""The ``verify`` command."""

from __future__ import annotations

from typing import Any
import click
from synthkit.cli import invocation, key_values


def _options(items: tuple[str, ...]) -> dict[str, Any]:
    opts = key_values(items, option="--option", example="threshold=8 or pattern='^\\d+$'")
    return {k.replace("-", "_"): v for k, v in opts.items()}


def add_commands(cli: click.Group) -> None:
    """Add ``synthkit verify``."""
    from synthkit.cli._engine import build_engine, engine_options
    from synthkit.cli._run import finish, run_options

    @cli.command(name="verify")
    @click.argument("input_path", metavar="IN.jsonl", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True), help="JSONL of the records that pass.")
    @click.option("--verifier", "verifier_name", required=True, help="Registered verifier: math, code, json-schema, regex...")
    @click.option("--rejects", default=None, type=click.Path(dir_okay=False), help="JSONL of rejected records, each with its reason.")
    @click.option("-O", "--option", "options", multiple=True, help="Verifier option KEY=VALUE, value as JSON if it parses (repeatable).")
    @click.option("--concurrency", default=None, type=click.IntRange(1), help="Records verified at once [number of CPUs].")
    @click.option("--on-bad-line", type=click.Choice(["stop", "skip"]), default="stop", show_default=True,
                  help="At a malformed input line: stop with its line number, or skip it (counted as failed).")
    @engine_options
    @run_options
    def verify_command(input_path: str, output: str, verifier_name: str, rejects: str | None, options: tuple[str, ...],
                       concurrency: int | None, on_bad_line: str, engine: str, engine_options: tuple[str, ...],
                       max_failure_rate: float, grace: float) -> None:
        """Keep the records of IN.jsonl that pass a verifier.

        Each input line holds `response` and the fields its verifier needs (`answer` for
        math, `tests` as Python assert statements for code). Records that pass go to -o;
        with --rejects, every other record goes there with a `reject` object holding the reason.

        Example:

        \b
            synthkit verify answers.jsonl -o verified.jsonl --verifier math --rejects wrong.jsonl
        """
        import os

        from synthkit.pipeline import Pipeline
        from synthkit.plugins import resolve

        runner = build_engine(engine, engine_options)
        verifier = resolve("verifier", verifier_name, **_options(options))
        pipeline = Pipeline(input_path, concurrency=concurrency or os.cpu_count() or 1, on_bad_line=on_bad_line, grace=grace, command=invocation())
        summary = pipeline.verify(verifier).run(sink=output, rejects=rejects, engine=runner)
        finish(summary, max_failure_rate=max_failure_rate)
