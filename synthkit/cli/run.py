"""The ``run`` command: a whole pipeline from a recipe file."""

from __future__ import annotations

import click


def add_commands(cli: click.Group) -> None:
    """Add ``synthkit run``."""
    from synthkit.cli._run import finish

    @cli.command(name="run")
    @click.argument("recipe", type=click.Path(dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Print the plan and the cost estimate; send nothing.")
    @click.option("--max-failure-rate", default=0.1, show_default=True, type=click.FloatRange(0, 1), help="Exit 4 when more than this share of the records failed.")
    def run_command(recipe: str, dry_run: bool, max_failure_rate: float) -> None:
        """Run the whole pipeline a recipe file describes: source, steps, mix, sink, rejects, engine, budget, then.

        Parts are named as on the other commands and their options are checked the same way;
        a mistake is reported as FILE:LINE:COLUMN with the fix, before anything runs. Relative
        paths in the recipe are relative to the current folder. Exit status as for generate:
        0 done, 1 an error, 3 stopped by the budget, 4 too many failed records, 130/143 interrupted.

        Example:

        \b
            synthkit run examples/quickstart.yaml --dry-run
            synthkit run examples/quickstart.yaml
        """
        from synthkit.pipeline.progress import RunProgress
        from synthkit.recipes.run import estimate_recipe, run_recipe

        if dry_run:
            estimate_recipe(recipe, echo=click.echo)
            return
        summary = run_recipe(recipe, progress=RunProgress(None), command=f"synthkit run {recipe}", echo=lambda text: click.echo(text, err=True))
        finish(summary, max_failure_rate=max_failure_rate)
