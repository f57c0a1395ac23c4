"""The ``view`` command: browse a run's records and rejects in a local web page."""

from __future__ import annotations

import sys

import click


def add_commands(cli: click.Group) -> None:
    """Add ``synthkit view``."""

    @cli.command(name="view")
    @click.argument("files", metavar="OUT.jsonl...", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
    @click.option("--rejects", "rejects", multiple=True, type=click.Path(exists=True, dir_okay=False), help="A rejects or failures file of the run (repeatable).")
    @click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port on 127.0.0.1 (0: any free port).")
    @click.option("--no-browser", is_flag=True, help="Do not open the page in a browser; only print its URL.")
    @click.option("--stratum-field", default="stratum", show_default=True, help="The record field holding the mixer stratum (a facet).")
    def view_command(files, rejects, port, no_browser, stratum_field):
        """Browse kept records and rejects together in a local web page, served on 127.0.0.1.

        A table with search and facets (status, step, reason, verdicts, teacher, model, template,
        generation, origin, stratum), pages of 50; each id opens the whole record (messages,
        response, reasoning, verdicts, regenerate attempts, costs, a preference pair side by
        side) and its lineage tree through its parents. Several OUT files view together (e.g.
        the generations of a run), so a parent in an earlier file is one click away. The first
        open builds an index beside the first file (OUT.view.sqlite); later opens reuse it
        until a file changes. Ctrl-C stops the server.

        Example:

        \b
            synthkit view out.jsonl --rejects rejects.jsonl --no-browser
        """
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

        from synthkit.view.app import view
        from synthkit.view.index import index_path

        bar = Progress("indexing", BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(), transient=True, console=Console(stderr=True))
        task = None

        def progress(done: int, total: int) -> None:
            nonlocal task
            if task is None:
                bar.start()
                task = bar.add_task("index", total=total)
            bar.update(task, completed=done)
            if done >= total:
                bar.stop()

        def ready(url: str) -> None:
            click.echo(f"index: {index_path(files[0])}", err=True)
            click.echo(f"serving on {url} (Ctrl-C to stop)")
            sys.stdout.flush()  # a pipe (a test, a supervisor) reads the URL at once

        view(files, rejects=rejects, port=port, open_browser=not no_browser, stratum_field=stratum_field, ready=ready, progress=progress)
