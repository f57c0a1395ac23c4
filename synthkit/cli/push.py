"""The ``push`` command: data and its dataset card to the Hugging Face Hub."""

from __future__ import annotations

import click


def add_commands(cli: click.Group) -> None:
    """Add ``synthkit push``."""

    @cli.command(name="push")
    @click.argument("data", metavar="OUT.jsonl", type=click.Path(exists=True, dir_okay=False))
    @click.option("--repo", required=True, help="The dataset repository, user/name (created when missing).")
    @click.option("--rejects", "rejects", multiple=True, type=click.Path(exists=True, dir_okay=False), help="A rejects or failures file of the run, for the card's pass rates (repeatable).")
    @click.option("--private", is_flag=True, help="Create the repository private.")
    @click.option("--split", default="train", show_default=True, help="The split the data is (data/SPLIT.jsonl).")
    @click.option("--name", default=None, help="The card's title. [default: the data file's name]")
    @click.option("--description", default=None, help="A paragraph for the card saying what the set is for.")
    @click.option("--license", "license_", default=None, help="Hub license id: mit, apache-2.0, cc-by-4.0...")
    @click.option("--language", "languages", multiple=True, help="Language code, e.g. en (repeatable).")
    @click.option("--tag", "tags", multiple=True, help="Another tag besides synthetic and synthkit (repeatable).")
    @click.option("--message", default=None, help="The commit message. [default: synthkit push OUT.jsonl]")
    def push_command(data, repo, rejects, private, split, name, description, license_, languages, tags, message):
        """Push OUT.jsonl (or .parquet) and its dataset card to a Hugging Face Hub dataset repository.

        The data goes to data/SPLIT.jsonl and the card (as `synthkit card` writes it) to README.md.
        The Hub is $HF_ENDPOINT (default huggingface.co); the token is the usual one ($HF_TOKEN,
        or the file `hf auth login` wrote) and is never printed.

        Example:

        \b
            synthkit push out.jsonl --repo me/math-cot --rejects rejects.jsonl --license mit
        """
        from synthkit.io.hub import push

        result = push(
            data, repo, rejects=rejects, private=private, split=split, name=name, description=description,
            license=license_, language=languages, tags=tags, message=message,
        )
        click.echo(f"pushed {', '.join(result.files)} to {result.repo_url}")
        click.echo(f"commit: {result.commit_url}")
