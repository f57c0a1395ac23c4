"""The ``select``, ``pairs`` and ``chunk`` commands: rejection sampling, preference pairs, document chunks."""

from __future__ import annotations

from typing import Any

import click

from synthkit.cli import invocation, key_values


def _verifier_options(items: tuple[str, ...]) -> dict[str, Any]:
    opts = key_values(items, option="--option", example="answer_field=solution")
    return {k.replace("-", "_"): v for k, v in opts.items()}


def _keep(value: str) -> int | None:
    if value == "all":
        return None
    try:
        keep = int(value)
    except ValueError:
        keep = 0
    if keep < 1:
        msg = f"--keep takes a whole number from 1, or all; got {value!r}"
        raise click.BadParameter(msg, param_hint="--keep")
    return keep


def _max_failure_rate(f: Any) -> Any:
    return click.option(
        "--max-failure-rate", default=0.1, show_default=True, type=click.FloatRange(0, 1),
        help="Exit 4 when more than this share of the samples could not be verified.",
    )(f)


def _exit(summary: Any, max_failure_rate: float) -> None:
    import sys

    code = summary.exit_code(max_failure_rate)
    if code:
        click.echo(f"Error: {summary.n_failed} samples could not be verified ({summary.failure_rate:.0%} > --max-failure-rate {max_failure_rate:.0%})", err=True)
        sys.exit(code)


def add_commands(cli: click.Group) -> None:
    """Add ``synthkit select``, ``synthkit pairs`` and ``synthkit chunk``."""

    @cli.command(name="select")
    @click.argument("input_path", metavar="SAMPLES.jsonl", type=click.Path(exists=True, dir_okay=False))
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The kept samples (.jsonl or .parquet).")
    @click.option("--verifier", "verifier_name", default=None, help="Registered verifier (math, final-answer, judge...); default: the verdicts the samples carry.")
    @click.option("-O", "--option", "options", multiple=True, help="Verifier option KEY=VALUE (repeatable).")
    @click.option("--keep", "keep", default="1", show_default=True, help="Passing samples kept per prompt (a number, or all).")
    @click.option("--by", type=click.Choice(["first", "score"]), default="first", show_default=True, help="Keep passing samples in sample order, or the highest verifier scores.")
    @click.option("--too-easy", type=click.FloatRange(0, 1), default=None, help="Drop prompts whose pass rate is at least this (1: every sample solved it).")
    @click.option("--too-hard", type=click.FloatRange(0, 1), default=None, help="Drop prompts whose pass rate is at most this (0: no sample solved it, or the reference is wrong).")
    @click.option("--rejects", default=None, type=click.Path(dir_okay=False), help="JSONL of every sample not kept, with its reason.")
    @click.option("--pass-rates", default=None, type=click.Path(dir_okay=False), help="JSONL of one line per prompt: n_samples, n_passed, pass_rate, outcome.")
    @_max_failure_rate
    def select_command(input_path: str, output: str, verifier_name: str | None, options: tuple[str, ...], keep: str, by: str,
                       too_easy: float | None, too_hard: float | None, rejects: str | None, pass_rates: str | None, max_failure_rate: float) -> None:
        """Rejection sampling: verify the samples of each prompt and keep the passing ones.

        SAMPLES.jsonl is `synthkit generate -n N` output: the samples of one prompt share
        their parent. Each is verified; --keep of the passing ones are kept (first in
        sample order, or the best by --by score) with the prompt's n_samples, n_passed and
        pass_rate; every other sample goes to --rejects with its reason (its verdict,
        "passed, not kept", or the prompt being too easy or too hard).

        Example:

        \b
            synthkit select samples.jsonl -o kept.jsonl --verifier final-answer --keep 1 --too-easy 1 --too-hard 0 --rejects rejected.jsonl --pass-rates rates.jsonl
        """
        from synthkit.generators.sampling import select_samples

        summary = select_samples(
            input_path, output, verifier=verifier_name, keep=_keep(keep), by=by, too_easy=too_easy, too_hard=too_hard,  # type: ignore[arg-type]
            rejects=rejects, pass_rates=pass_rates, verifier_options=_verifier_options(options), command=invocation(),
        )
        click.echo(str(summary), err=True)
        _exit(summary, max_failure_rate)

    @cli.command(name="pairs")
    @click.argument("input_path", metavar="SAMPLES.jsonl", type=click.Path(exists=True, dir_okay=False))
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The preference pairs (.jsonl or .parquet).")
    @click.option("--verifier", "verifier_name", default=None, help="Registered verifier (math, final-answer, judge...); default: the verdicts the samples carry.")
    @click.option("-O", "--option", "options", multiple=True, help="Verifier option KEY=VALUE (repeatable).")
    @click.option("--by", type=click.Choice(["verdict", "score"]), default="verdict", show_default=True, help="Chosen passed and rejected failed, or chosen scored highest and rejected lowest.")
    @click.option("--margin", type=click.FloatRange(min=0), default=0.0, show_default=True, help="Least score difference between chosen and rejected.")
    @click.option("--rejects", default=None, type=click.Path(dir_okay=False), help="JSONL of every sample not in a pair, with its reason.")
    @_max_failure_rate
    def pairs_command(input_path: str, output: str, verifier_name: str | None, options: tuple[str, ...], by: str, margin: float,
                      rejects: str | None, max_failure_rate: float) -> None:
        """Preference pairs: one chosen and one rejected sample per prompt.

        SAMPLES.jsonl is `synthkit generate -n N` output. The samples of each prompt are
        verified; a prompt with a passing and a failing sample gives one pair (chosen:
        the passing one, rejected: the failing one; with --by score the highest and lowest
        scored). Prompts without both kinds, ties and margins below --margin drop their
        samples, and the samples a pair does not use are dropped too: each goes to
        --rejects with its reason. Export the pairs with `synthkit export --format dpo`
        (or kto).

        Example:

        \b
            synthkit pairs samples.jsonl -o pairs.jsonl --verifier final-answer --rejects unpaired.jsonl
        """
        from synthkit.generators.pairs import make_pairs

        summary = make_pairs(
            input_path, output, verifier=verifier_name, by=by, margin=margin, rejects=rejects,  # type: ignore[arg-type]
            verifier_options=_verifier_options(options), command=invocation(),
        )
        click.echo(str(summary), err=True)
        _exit(summary.summary, max_failure_rate)

    @cli.command(name="chunk")
    @click.argument("paths", metavar="DOCS...", nargs=-1, required=True, type=click.Path(exists=True))
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True), help="JSONL of chunks, one seed record each.")
    @click.option("--size", default=1500, show_default=True, type=click.IntRange(1), help="Most characters per chunk (cut at sentence ends).")
    @click.option("--overlap", default=0, show_default=True, type=click.IntRange(0), help="Characters of whole sentences repeated from the previous chunk.")
    @click.option("--suffix", "suffixes", multiple=True, default=(".txt", ".md", ".rst"), show_default=True, help="File suffixes read from folders (repeatable).")
    def chunk_command(paths: tuple[str, ...], output: str, size: int, overlap: int, suffixes: tuple[str, ...]) -> None:
        """Cut text files (or folders of them) into chunks: one seed record per chunk, for the doc-qa template.

        Each line holds `chunk`, `source` and `chunk_index`. Generate questions with
        `--template doc-qa`, check their quotes with the `quote` verifier, and export
        question -> answer pairs with `--format doc-qa`.

        Example:

        \b
            synthkit chunk docs/ -o chunks.jsonl --size 1200
        """
        from synthkit.generators.chunking import chunk_documents
        from synthkit.io.interchange import write_records

        n = write_records(chunk_documents(list(paths), size=size, overlap=overlap, suffixes=tuple(suffixes)), output)
        click.echo(f"{n} chunks from {len(paths)} path(s) -> {output}", err=True)
