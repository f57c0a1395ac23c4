"""The ``card`` command."""

from __future__ import annotations

import click


def add_commands(cli: click.Group) -> None:
    """Add ``synthkit card``."""

    @cli.command(name="card")
    @click.argument("input_path", metavar="IN.jsonl", type=click.Path(exists=True, dir_okay=False))
    @click.option("-o", "--output", default="README.md", show_default=True, type=click.Path(dir_okay=False), help="Where to write the card.")
    @click.option(
        "--rejects", "rejects", multiple=True, type=click.Path(exists=True, dir_okay=False),
        help="A rejects or failures file of the run (repeatable): gives true pass rates, drops per reason and their cost.",
    )
    @click.option("--reference", type=click.Path(exists=True, dir_okay=False), help="Real records (JSONL or Parquet): adds the collapse diagnostics.")
    @click.option("--field", default=None, help="The text field the diagnostics read. [default: text, else response, else prompt]")
    @click.option("--name", default=None, help="The card's title and pretty_name. [default: the input file's name]")
    @click.option("--description", default=None, help="A paragraph saying what the set is for, put under the title.")
    @click.option("--license", "license_", default=None, help="Hub license id: mit, apache-2.0, cc-by-4.0...")
    @click.option("--language", "languages", multiple=True, help="Language code, e.g. en (repeatable).")
    @click.option("--task-category", "task_categories", multiple=True, help="Hub task category, e.g. text-generation (repeatable).")
    @click.option("--tag", "tags", multiple=True, help="Another tag besides synthetic and synthkit (repeatable).")
    @click.option("--data-file", default=None, help="The data's path in the dataset repo, e.g. data/train.jsonl: adds configs/data_files.")
    @click.option("--split", default="train", show_default=True, help="The split --data-file holds.")
    @click.option("--seed", type=int, default=0, show_default=True, help="Seed of the diagnostics' samples.")
    def card_command(input_path, output, rejects, reference, field, name, description, license_, languages, task_categories, tags, data_file, split, seed):
        """Write a Hugging Face dataset card (README.md) summarising the lineage of IN.jsonl (or .parquet).

        YAML front matter for the Hub, then: teachers and models, templates with hashes,
        sampling parameters, checks with pass rates, drops per reason, the real/synthetic
        mix, collapse diagnostics (with --reference), and token and dollar cost. Without
        --rejects, pass rates cover kept records only and the card says so. The same
        inputs always give the same card.

        \b
        Example:
          synthkit card out.jsonl -o README.md --rejects rejects.jsonl --license mit --language en
        """
        from synthkit.io.card import CardInfo, write_card

        info = CardInfo(
            name=name,
            description=description,
            license=license_,
            language=languages,
            task_categories=task_categories,
            tags=tags,
            data_file=data_file,
            split=split,
        )
        path = write_card(input_path, output, rejects=rejects, reference=reference, field=field, seed=seed, info=info)
        click.echo(f"card written to {path}", err=True)
