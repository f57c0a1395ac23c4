"""The ``filter``, ``dedup`` and ``decontaminate`` commands."""

from __future__ import annotations

from typing import Any
import click

from synthkit.cli import invocation




def _parse_value(text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        low = text.lower()
        if low in ("none", "null", "off"):
            return None
        if low in ("true", "false"):
            return low == "true"
        return text


def _parse_sets(items: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        name, dot, option = key.partition(".")
        if not sep or not dot or not option:
            msg = f"--set takes FILTER.OPTION=VALUE, e.g. --set length.min_words=5 or --set repetition.max_dup_line_frac=0.5; got {item!r}"
            raise click.BadParameter(msg, param_hint="--set")
        out.setdefault(name.strip(), {})[option.strip().replace("-", "_")] = _parse_value(value.strip())
    return out


def _run(source: str, steps: list[Any], output: str, rejects: str | None, on_bad_line: str, engine: Any = "local") -> None:
    from synthkit.cli._run import finish
    from synthkit.pipeline import Pipeline

    max_failure_rate, grace = click.get_current_context().meta["synthkit.run"]
    pipe = Pipeline(source, on_bad_line=on_bad_line, grace=grace, command=invocation())  # type: ignore[arg-type]
    for step in steps:
        pipe = pipe.filter(step)
    summary = pipe.run(sink=output, rejects=rejects, engine=engine)
    finish(summary, max_failure_rate=max_failure_rate)


_common = [
    click.argument("source", type=click.Path(dir_okay=False, allow_dash=True)),
    click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True), help="JSONL file for kept records."),
    click.option("--rejects", type=click.Path(dir_okay=False), help="JSONL file for dropped records, each with a 'reject' object (step, reason)."),
    click.option("--field", default=None, help="The text field to judge (default: text, else response, else prompt)."),
    click.option("--on-bad-line", type=click.Choice(["stop", "skip"]), default="stop", show_default=True, help="Stop at a malformed input line, or skip it (counted as failed)."),
]


def _with_common(f: Any) -> Any:
    import functools

    from synthkit.cli._engine import engine_options
    from synthkit.cli._run import run_options

    @functools.wraps(f)
    def command(*args: Any, max_failure_rate: float, grace: float, **kwargs: Any) -> Any:
        click.get_current_context().meta["synthkit.run"] = (max_failure_rate, grace)
        return f(*args, **kwargs)

    for deco in reversed(_common):
        command = deco(command)
    return run_options(engine_options(command))


def add_commands(cli: click.Group) -> None:
    """Add ``synthkit filter``, ``synthkit dedup`` and ``synthkit decontaminate``."""
    from synthkit.cli._engine import build_engine
    from synthkit.filters.heuristics import DEFAULT_FILTERS

    @cli.command(name="filter")
    @_with_common
    @click.option("--filters", "names", default=",".join(DEFAULT_FILTERS), show_default=True, help="Comma-separated filters to run, in order (any registered filter name).")
    @click.option("--add", "extra", multiple=True, help="Run this registered filter too, after the others (repeatable), e.g. --add symbols.")
    @click.option("--set", "sets", multiple=True, metavar="FILTER.OPTION=VALUE", help="Set a filter option, e.g. --set repetition.max_dup_line_frac=0.5 (repeatable; JSON values).")
    @click.option("--min-words", type=int, help="Shortcut for --set length.min_words=N.")
    @click.option("--max-words", type=int, help="Shortcut for --set length.max_words=N.")
    @click.option("--min-chars", type=int, help="Shortcut for --set length.min_chars=N.")
    @click.option("--max-chars", type=int, help="Shortcut for --set length.max_chars=N.")
    @click.option("--language", help="Keep only these languages (e.g. en or en,fr): adds the language filter (needs synthkit[lang]).")
    def filter_command(source, output, rejects, field, on_bad_line, engine, engine_options, names, extra, sets, min_words, max_words, min_chars, max_chars, language):
        """Run heuristic filters over SOURCE (JSONL); write kept records to -o, drops (with reasons) to --rejects.

        The default set drops empty and truncated responses, texts outside the length bounds,
        repetitive texts (Gopher rules) and refusals.

        Example:

        \b
            synthkit filter gen.jsonl -o clean.jsonl --rejects rejected.jsonl --min-words 5 --add symbols
        """
        from synthkit.plugins import resolve

        runner = build_engine(engine, engine_options)
        order = [n.strip() for n in names.split(",") if n.strip()] + list(extra)
        options = _parse_sets(sets)
        for key, value in (("min_words", min_words), ("max_words", max_words), ("min_chars", min_chars), ("max_chars", max_chars)):
            if value is not None:
                options.setdefault("length", {})[key] = value
        if language:
            options.setdefault("language", {})["languages"] = language
        order += [name for name in options if name not in order]  # a filter given options runs
        steps = []
        for name in order:
            opts = dict(options.get(name, {}))
            if field is not None:
                opts.setdefault("field", field)
            steps.append(resolve("filter", name, **opts))
        _run(source, steps, output, rejects, on_bad_line, runner)

    @cli.command(name="dedup")
    @_with_common
    @click.option("--exact", is_flag=True, help="Drop exact duplicates of normalised text (the default when --near is not given).")
    @click.option("--near", type=click.FloatRange(0.0, 1.0, min_open=True), metavar="THRESHOLD", help="Drop near-duplicates with word 5-gram Jaccard similarity >= THRESHOLD (MinHash LSH).")
    @click.option("--bands", type=click.IntRange(min=1), default=None, help="LSH bands, of --num-perm / BANDS rows (default: chosen from THRESHOLD and --num-perm so that a pair at the threshold is found with probability about 0.98; the choice is printed).")
    @click.option("--num-perm", type=int, default=112, show_default=True, help="MinHash signature length.")
    @click.option("--ngram", type=int, default=5, show_default=True, help="Words per shingle.")
    @click.option("--confirm", type=click.Choice(["exact", "minhash", "none"]), default="exact", show_default=True, help="How candidate pairs are confirmed: exact Jaccard of the gram sets, Jaccard estimated from the signatures (leaner; misses about half the pairs just above THRESHOLD), or not at all.")
    @click.option("--minhash", type=click.Choice(["rensa", "numpy"]), default=None, help="MinHash implementation (default: numpy, or rensa with --confirm minhash, whose estimates it makes closer).")
    @click.option("--semantic", type=click.FloatRange(-1.0, 1.0), metavar="COSINE", help="Also drop records whose MiniLM embedding has cosine >= COSINE with a kept one (needs synthkit[semantic]).")
    def dedup_command(source, output, rejects, field, on_bad_line, engine, engine_options, exact, near, bands, num_perm, ngram, confirm, minhash, semantic):
        """Drop duplicate records of SOURCE (JSONL), keeping the first; reasons name the kept record.

        --exact drops repeats of the normalised text (the default), --near drops near-duplicates
        (MinHash LSH on word shingles), --semantic drops records whose embeddings are too close.

        Example:

        \b
            synthkit dedup gen.jsonl -o unique.jsonl --exact --near 0.8 --rejects dups.jsonl
        """
        from synthkit.plugins import resolve

        if engine in ("rensa", "numpy"):
            msg = f"--engine chooses what runs the pipeline (local, ray); the MinHash implementation is --minhash {engine}"
            raise click.BadParameter(msg, param_hint="--engine")
        runner = build_engine(engine, engine_options)
        steps = []
        if exact or (near is None and semantic is None):
            steps.append(resolve("filter", "exact-dedup", field=field))
        if near is not None:
            try:
                near_step = resolve("filter", "near-dedup", threshold=near, field=field, bands=bands, num_perm=num_perm, ngram=ngram, confirm=confirm, engine=minhash)
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="--bands/--num-perm") from None
            click.echo(near_step.describe(), err=True)
            steps.append(near_step)
        if semantic is not None:
            steps.append(resolve("filter", "semantic-dedup", threshold=semantic, field=field))
        _run(source, steps, output, rejects, on_bad_line, runner)

    @cli.command(name="decontaminate")
    @_with_common
    @click.argument("more_against", nargs=-1, metavar="", type=click.Path(exists=True, dir_okay=False))
    @click.option("--against", "against", multiple=True, required=True, type=click.Path(exists=True, dir_okay=False), help="Eval files (JSONL, or .txt with one item per line); several may follow one --against.")
    @click.option("--ngram", type=int, default=13, show_default=True, help="Words per n-gram.")
    @click.option("--min-matches", type=int, default=1, show_default=True, help="Shared n-grams with one eval item needed to drop a record.")
    @click.option("--eval-fields", help="Comma-separated eval record fields to index (default: text, prompt, question, answer, ...).")
    def decontaminate_command(source, output, rejects, field, on_bad_line, engine, engine_options, more_against, against, ngram, min_matches, eval_fields):
        """Drop records of SOURCE sharing word 13-grams with eval items; reasons name the set, item and span.

        Eval files are JSONL (their text fields are indexed) or .txt with one item a line.

        Example:

        \b
            synthkit decontaminate gen.jsonl --against gsm8k_test.jsonl math_test.jsonl -o clean.jsonl
        """
        from synthkit.plugins import resolve

        against = (*against, *more_against)  # `--against A B`: click leaves B as an extra argument
        runner = build_engine(engine, engine_options)
        step = resolve("filter", "decontaminate", against=list(against), n=ngram, field=field, min_matches=min_matches, eval_fields=eval_fields)
        click.echo(f"indexed {len(step)} n-grams of {step.n_items} texts from {', '.join(step.sets)}", err=True)
        _run(source, [step], output, rejects, on_bad_line, runner)
