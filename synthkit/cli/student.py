"""The ``loop`` and ``student-study`` commands: a student in the loop, and the study of what it learns."""

from __future__ import annotations

import sys
from typing import Any

import click

from synthkit.cli import key_values


def _opts(items: tuple[str, ...], option: str, example: str) -> dict[str, Any]:
    return {k.replace("-", "_"): v for k, v in key_values(items, option=option, example=example).items()}


def _families(value: str | None) -> list[str]:
    from synthkit.students.study import DEFAULT_FAMILIES

    return [f.strip() for f in value.split(",") if f.strip()] if value else list(DEFAULT_FAMILIES)


def add_commands(cli: click.Group) -> None:
    """Add ``synthkit loop`` and ``synthkit student-study``."""

    @cli.command(name="loop")
    @click.argument("run_dir", metavar="RUN_DIR", type=click.Path(file_okay=False))
    @click.option("--student", default="tiny-transformer", show_default=True, help="Registered student (tiny-transformer, lookup...).")
    @click.option("-S", "--student-option", "student_options", multiple=True, help="Student option KEY=VALUE (repeatable).")
    @click.option("--families", default=None, help="Comma-separated procedural families, the slices [default: bases,linear-equations,lists,modular].")
    @click.option("--error-rate", type=click.FloatRange(0, 1), default=0.3, show_default=True, help="Share of problems the procedural teacher gets wrong.")
    @click.option("--rounds", type=click.IntRange(1), default=3, show_default=True, help="How many rounds (verified and unverified arms: one).")
    @click.option("--requests", type=click.IntRange(1), default=200, show_default=True, help="Teacher requests per round.")
    @click.option("--budget", type=click.IntRange(1), default=150, show_default=True, help="Student training budget per round (tiny-transformer: optimiser steps).")
    @click.option("--heldout", type=click.IntRange(1), default=200, show_default=True, help="Size of the fixed held-out set.")
    @click.option("--real", type=click.IntRange(0), default=200, show_default=True, help="Size of the real pool (error-free worked solutions).")
    @click.option("--real-fraction", type=click.FloatRange(0, 1), default=0.2, show_default=True, help="Share of real records in each round's training set.")
    @click.option("--verify/--no-verify", default=True, show_default=True, help="Keep only the responses final-answer passes.")
    @click.option("--steer", type=click.FloatRange(0, 1), default=1.0, show_default=True, help="0: uniform generation; 1: by the student's weakness.")
    @click.option("--data", type=click.Choice(["replace", "accumulate"]), default="replace", show_default=True, help="Train on this round's kept data, or on every round's so far.")
    @click.option("--recursive", is_flag=True, help="From round 1 the previous round's student is the teacher.")
    @click.option("--min-diversity", type=click.FloatRange(0), default=0.5, show_default=True, help="The collapse gate fires below this share of real data's distinct-2.")
    @click.option("--on-collapse", type=click.Choice(["warn", "raise-real", "stop"]), default="warn", show_default=True, help="What the collapse gate does: log a warning, add 0.2 to the real fraction, or stop (exit 3).")
    @click.option("--seed", type=int, default=0, show_default=True, help="Seeds generation, mixing and training.")
    def loop_command(run_dir, student, student_options, families, error_rate, rounds, requests, budget, heldout, real, real_fraction, verify, steer, data, recursive, min_diversity, on_collapse, seed):
        """Generate, verify, mix, train a student, measure it per slice, steer the next round to its weak slices.

        Every round's data, metrics and decisions go to RUN_DIR (``log.json``, ``round-NNN/``);
        running again on RUN_DIR resumes after the last finished round. Exits 3 when the
        collapse gate stops the run (``--on-collapse stop``).

        Example:

        \b
            synthkit loop run --student lookup --rounds 2 --requests 50
        """
        from synthkit.plugins import resolve
        from synthkit.students.loop import procedural_loop

        loop = procedural_loop(
            families=_families(families), error_rate=error_rate, heldout=heldout, real=real if real_fraction > 0 else 0, seed=seed,
            student=resolve("student", student, **_opts(student_options, "--student-option", "d_model=48")),
            rounds=rounds, requests=requests, budget=budget, real_fraction=real_fraction, verify=verify, steer=steer,
            data=data, recursive=recursive, min_diversity=min_diversity, on_collapse=on_collapse,
        )
        result = loop.run(run_dir)
        for r in result.rounds:
            slices = ", ".join(f"{k} {v:.2f}" for k, v in r.get("slices", {}).items())
            acc = f"accuracy {r['accuracy']:.3f} ({slices})" if "accuracy" in r else "not trained"
            click.echo(f"round {r['round']}: {r['teacher_requests']} requests, {r['kept']} kept, {acc}; {r['decision']}")
        click.echo(f"log written to {run_dir}/log.json", err=True)
        if result.stopped:
            click.echo(f"Error: the loop stopped at the collapse gate ({result.stopped}). Raise --min-diversity's margin or use --on-collapse raise-real.", err=True)
            sys.exit(3)

    @cli.command(name="student-study")
    @click.option("--json", "json_path", required=True, type=click.Path(dir_okay=False), help="Write the results (the arms, per seed, per round) here.")
    @click.option("-o", "--output-dir", "out_dir", default="student-study", show_default=True, type=click.Path(file_okay=False), help="Run folders of every arm and seed, and the plot.")
    @click.option("--seeds", type=click.IntRange(1), default=3, show_default=True, help="Seeds per arm (the spread is over these).")
    @click.option("--student", default="tiny-transformer", show_default=True, help="Registered student.")
    @click.option("-S", "--student-option", "student_options", multiple=True, help="Student option KEY=VALUE (repeatable) [default for tiny-transformer: d_model=48 layers=2 heads=2 batch_size=16 max_prompt=96].")
    @click.option("--families", default=None, help="Comma-separated procedural families [default: bases,linear-equations,lists,modular].")
    @click.option("--error-rate", type=click.FloatRange(0, 1), default=0.5, show_default=True, help="Share of problems the procedural teacher gets wrong.")
    @click.option("--requests", type=click.IntRange(1), default=1500, show_default=True, help="Teacher requests per round, equal in every arm.")
    @click.option("--budget", type=click.IntRange(1), default=700, show_default=True, help="Student training budget per round (tiny-transformer: optimiser steps).")
    @click.option("--rounds", type=click.IntRange(1), default=3, show_default=True, help="How many rounds (verified and unverified arms: one).")
    @click.option("--heldout", type=click.IntRange(1), default=400, show_default=True, help="Size of the fixed held-out set.")
    @click.option("--real", type=click.IntRange(1), default=400, show_default=True, help="Size of the real pool.")
    @click.option("--workers", type=click.IntRange(1), default=2, show_default=True, help="Processes running arms at once (one training thread each).")
    def student_study_command(json_path, out_dir, seeds, student, student_options, families, error_rate, requests, budget, rounds, heldout, real, workers):
        """Verified vs unverified data, steered vs uniform generation, and recursive training, measured on a student.

        The full study (``synthkit student-study --json R.json``: 3 seeds, tiny-transformer) takes
        about 6 minutes on 2 free cores (720 s of CPU in two processes); see docs/student.md.

        Example:

        \b
            synthkit student-study --json R.json -o study --student lookup --seeds 2 --requests 40 --rounds 2 --heldout 20 --real 40
        """
        from synthkit.students.study import plot_study, student_study, write_json

        result = student_study(
            out_dir, seeds=seeds, student=student, student_options=_opts(student_options, "--student-option", "d_model=48") or None,
            families=_families(families), error_rate=error_rate, requests=requests, budget=budget, rounds=rounds, heldout=heldout, real=real,
            workers=workers,
        )
        write_json(result, json_path)
        for arm, rows in result["summary"].items():
            accs = "  ".join(f"{r['accuracy']['mean']:.3f}±{r['accuracy']['sd']:.3f}" for r in rows)
            click.echo(f"{arm:<24} {accs}")
        for c in result["comparisons"]:
            click.echo(f"{c['arm']} - {c['against']} ({c['measure']}): {c['difference']:+.3f} ± {c['se']:.3f}, {c['verdict']}")
        try:
            path = plot_study(result, f"{out_dir}/student-study.png")
            click.echo(f"plot written to {path}", err=True)
        except Exception as exc:  # noqa: BLE001 - the figures are written; a missing matplotlib only skips the plot
            click.echo(f"no plot: {exc}", err=True)
        click.echo(f"results written to {json_path} in {result['seconds']}s", err=True)
        sys.stdout.flush()
