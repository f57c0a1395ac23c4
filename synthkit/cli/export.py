"""The ``export`` command."""

from __future__ import annotations

from pathlib import Path
import click




_SUFFIXES = (".jsonl", ".parquet", ".pq")


def add_commands(cli: click.Group) -> None:
    """Add ``synthkit export``."""

    @cli.command(name="export")
    @click.argument("source", type=click.Path(allow_dash=True))
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True), help="Output file, .jsonl or .parquet; the file format comes from the suffix.")
    @click.option("--format", "fmt", metavar="NAME", help="Write rows of a trainer format: openai, sharegpt, alpaca, dpo, kto (or any registered exporter). Without it, full synthkit records with lineage.")
    @click.option("--system", help="System prompt for records that have no system message (needs --format).")
    @click.option("--rejects", type=click.Path(dir_okay=False), help="JSONL file for records the format cannot express, each with a 'reject' object (reason).")
    @click.option("--on-bad-line", type=click.Choice(["stop", "skip"]), default="stop", show_default=True, help="Stop at a malformed input line or row, or skip it (counted as failed).")
    @click.option("--reasoning", type=click.Choice(["think", "field", "drop"]), default=None, help="How a trainer format writes the records' reasoning: think tags inside the assistant turn, a separate field (reasoning_content), or drop it [drop].")
    def export_command(source, output, fmt, system, rejects, on_bad_line, reasoning):
        """Convert SOURCE (JSONL or Parquet) to -o OUT: Parquet or JSONL by suffix, full records or a trainer format.

        Without --format, OUT holds full records with lineage (JSONL to Parquet and back is
        exact). With --format, each record becomes one row of that format; the system prompt
        comes from the record's first system message, else --system. Records the format
        cannot express (no response, turns out of order...) are skipped, counted per reason
        and written to --rejects.

        Preference data: `--format dpo` writes TRL's conversational preference rows
        (prompt, chosen, rejected, each a list of messages) from the pairs of `synthkit
        pairs`; `--format kto` the unpaired rows (prompt, completion, label), two per pair.
        Reasoning kept by `generate` goes into the assistant turn with `--reasoning think`,
        or beside it with `--reasoning field`.

        Examples:

        \b
            synthkit export answers.jsonl -o train.jsonl --format openai --system "You are a careful math tutor." --rejects rejects.jsonl
            synthkit export answers.jsonl -o answers.parquet
            synthkit export kept.jsonl -o sft.jsonl --format openai --reasoning think
            synthkit export pairs.jsonl -o dpo.jsonl --format dpo
        """
        from synthkit.io.exporters import export

        if Path(output).suffix.lower() not in _SUFFIXES:
            msg = f"cannot tell the file format of {output!r} from its suffix; name it .jsonl or .parquet"
            raise click.BadParameter(msg, param_hint="-o/--output")
        if system is not None and fmt is None:
            msg = "--system applies to a trainer format; add --format openai, sharegpt or alpaca"
            raise click.BadParameter(msg, param_hint="--system")
        if reasoning is not None and fmt is None:
            msg = "--reasoning applies to a trainer format; add --format openai, sharegpt, alpaca, dpo or kto"
            raise click.BadParameter(msg, param_hint="--reasoning")
        summary = export(source, output, format=fmt, system=system, rejects=rejects, on_bad_line=on_bad_line, reasoning=reasoning)
        click.echo(str(summary), err=True)
