"""What every command that runs records shares: the stop and failure options, and the ending (summary, exit code)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

__all__ = ["EXIT_CODES", "finish", "run_options"]

#: The documented exit codes of the commands that run records.
EXIT_CODES = {
    0: "done",
    1: "stopped by an error (a rejected key, the first records all failing the same way, bad input)",
    3: "stopped by --budget (what was paid for is kept; re-run with a larger budget to go on)",
    4: "finished, but more than --max-failure-rate of the records failed",
    130: "interrupted by SIGINT (Ctrl-C): in-flight requests drained, re-run to resume",
    143: "interrupted by SIGTERM: in-flight requests drained, re-run to resume",
}


def run_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--max-failure-rate`` and ``--grace`` to a command that runs records."""
    f = click.option(
        "--grace",
        default=30.0,
        show_default=True,
        type=click.FloatRange(min=0),
        help="Seconds the requests in flight get to finish after a stop (budget, Ctrl-C, SIGTERM, error); what arrives is kept.",
    )(f)
    return click.option(
        "--max-failure-rate",
        default=0.1,
        show_default=True,
        type=click.FloatRange(0, 1),
        help="Exit 4 when more than this share of the records failed.",
    )(f)


def finish(summary: Any, *, max_failure_rate: float, failures: str | None = None) -> None:
    """Print the summary and leave with the run's exit code (see :data:`EXIT_CODES`)."""
    click.echo(str(summary), err=True)
    if summary.n_failed and failures:
        click.echo(f"{summary.n_failed} failed records are in {failures}", err=True)
    code = summary.exit_code(max_failure_rate)
    if code == 4:
        click.echo(
            f"Error: {summary.n_failed} of {summary.kept + summary.n_dropped + summary.n_failed} records failed "
            f"({summary.failure_rate:.0%} > --max-failure-rate {max_failure_rate:.0%})",
            err=True,
        )
    if code:
        sys.exit(code)
