"""The ``mix``, ``report`` and ``collapse-study`` commands."""

from __future__ import annotations

import sys
import click


def _read(path, on_bad_line):
    from synthkit.io.jsonl import BadLine, iter_records

    for r in iter_records(path, on_bad_line=on_bad_line):
        if isinstance(r, BadLine):
            click.echo(f"skipped {r.message}", err=True)
            continue
        yield r


def add_commands(cli: click.Group) -> None:
    """Add ``synthkit mix``, ``synthkit report`` and ``synthkit collapse-study``."""

    @cli.command(name="mix")
    @click.option("--real", "real_path", type=click.Path(dir_okay=False), help="Real (human) records, JSONL.")
    @click.option(
        "--synthetic",
        "synthetic_paths",
        multiple=True,
        required=True,
        type=click.Path(dir_okay=False),
        help="Synthetic records, JSONL. Repeat it for several generations, oldest first (for accumulate).",
    )
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Where to write the mix (JSONL).")
    @click.option("--real-fraction", type=float, default=None, help="Share of real data (a floor for real-floor and accumulate). [default: the mixer's, 0.2]")
    @click.option("--strategy", default="ratio", show_default=True, help="A registered mixer: ratio, real-floor, accumulate, stratified, tail-preserving.")
    @click.option("--by", "unit", type=click.Choice(["records", "tokens"]), default="records", show_default=True, help="Count proportions in records or in tokens.")
    @click.option("--total", type=float, default=None, help="Size of the output (records or tokens).")
    @click.option("--key", default=None, help="stratified, tail-preserving: the field holding each record's stratum.")
    @click.option("--field", default=None, help="The text field whose tokens count with --by tokens. [default: the whole example]")
    @click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampling and order of the mix.")
    @click.option("--on-bad-line", type=click.Choice(["stop", "skip"]), default="stop", show_default=True, help="Stop at a malformed input line, or skip it.")
    def mix_command(real_path, synthetic_paths, output, real_fraction, strategy, unit, total, key, field, seed, on_bad_line):
        """Blend synthetic records with real ones in a stated, reproducible proportion.

        Records keep their lineage; records from a --synthetic file are marked
        origin "synthetic" with the file's generation (1 for the first file, ...)
        unless their lineage already says so.

        Example:

        \b
            synthkit mix --real real.jsonl --synthetic gen.jsonl -o train.jsonl --real-fraction 0.2
        """
        from synthkit.io.jsonl import JsonlWriter
        from synthkit.plugins import resolve

        options = {"unit": unit} if unit != "records" else {}  # third-party mixers need not know about units
        for name, value in (("real_fraction", real_fraction), ("total", total), ("key", key), ("field", field)):
            if value is not None:
                options[name] = value
        mixer = resolve("mixer", strategy, **options)
        sources = {}
        if real_path is not None:
            sources["real"] = _read(real_path, on_bad_line)
        *older, newest = synthetic_paths
        for i, path in enumerate(older, 1):
            sources[f"gen{i}"] = _read(path, on_bad_line)
        sources["synthetic"] = _read(newest, on_bad_line)
        with JsonlWriter(output) as out:
            for record in mixer.mix(sources, seed=seed):
                out.write(record)
        click.echo(f"wrote {out.count} records to {output}", err=True)
        click.echo(str(mixer.report), err=True)
        for stratum, share in getattr(mixer, "strata", {}).items():
            click.echo(
                f"  {stratum}: real {share.real:.1%}, synthetic {share.synthetic:.1%}, asked {share.asked:.1%}, output {share.output:.1%}",
                err=True,
            )

    @cli.command(name="report")
    @click.argument("synthetic", type=click.Path(exists=True, dir_okay=False))
    @click.option("--reference", required=True, type=click.Path(exists=True, dir_okay=False), help="Real records to compare with (JSONL).")
    @click.option("-o", "--output", default="report.html", show_default=True, type=click.Path(dir_okay=False), help="The HTML page to write.")
    @click.option("--field", default=None, help="The field holding the text. [default: text, else response, else prompt]")
    @click.option("--fail-on-collapse", is_flag=True, help="Exit with status 3 when any collapse warning fires.")
    @click.option("--seed", type=int, default=0, show_default=True, help="Seed of the equal-size samples.")
    @click.option("--on-bad-line", type=click.Choice(["stop", "skip"]), default="stop", show_default=True, help="Stop at a malformed input line, or skip it.")
    def report_command(synthetic, reference, output, field, fail_on_collapse, seed, on_bad_line):
        """Compare a synthetic set with real data and write a self-contained HTML report.

        Prints one line per metric; warnings go to the terminal too. With
        --fail-on-collapse the exit status is 3 when any collapse warning fires.

        Example:

        \b
            synthkit report gen.jsonl --reference real.jsonl -o report.html --fail-on-collapse
        """
        from synthkit.diagnostics.metrics import diagnose
        from synthkit.diagnostics.report import write_report

        diag = diagnose(_read(synthetic, on_bad_line), _read(reference, on_bad_line), field=field, seed=seed)
        write_report(diag, output, title=f"Collapse report: {synthetic}", synthetic_name=synthetic, reference_name=reference)
        for m in diag.metrics:
            mark = {"ok": "ok  ", "warn": "WARN", "skipped": "skip"}[m.status]
            click.echo(f"{mark} {m.title}: {m.verdict}", err=m.status == "warn")
        click.echo(f"report written to {output}", err=True)
        if diag.warnings:
            click.echo(f"{len(diag.warnings)} collapse warning(s): {', '.join(m.key for m in diag.warnings)}", err=True)
        if fail_on_collapse and diag.collapsed:
            sys.exit(3)  # not ctx.exit: click returns that code instead of exiting outside standalone mode

    @cli.command(name="collapse-study")
    @click.option("-o", "--output-dir", "out_dir", default="collapse-study", show_default=True, type=click.Path(file_okay=False), help="Folder for the plots.")
    @click.option("--json", "json_path", default=None, type=click.Path(dir_okay=False), help="Write the per-generation results here.")
    @click.option("--seed", type=int, default=0, show_default=True, help="Seed of the study's runs.")
    @click.option("--quick", is_flag=True, help="A smaller run (fewer seeds and generations) for a smoke test.")
    def collapse_study_command(out_dir, json_path, seed, quick):
        """Reproduce model collapse and its remedies with synthkit's own mixers (under a minute on 2 cores).

        A Gaussian refitted generation after generation (Shumailov et al. 2024) and a
        small n-gram language model retrained on its own samples of pydoc_data.topics,
        each under replace, accumulate and a fixed real fraction (mix).

        Example:

        \b
            synthkit collapse-study --quick -o collapse-plots --json results.json
        """
        from synthkit.diagnostics.collapse import run_study

        result = run_study(out_dir, json_path=json_path, seed=seed, quick=quick, log=lambda s: click.echo(s, err=True))
        click.echo(result.summary())
        if json_path:
            click.echo(f"results written to {json_path}", err=True)
        click.echo(f"plots written to {out_dir}", err=True)
        sys.stdout.flush()
