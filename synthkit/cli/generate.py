"""The ``generate`` and ``serve-test`` commands."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any
import click
from synthkit.cli import key_values


def _parse_params(items: tuple[str, ...]) -> dict[str, Any]:
    return key_values(items, option="--param", example="temperature=0.7")


def _template(name: str | None) -> Any:
    if name is None:
        return None
    if Path(name).is_file():
        from synthkit.templates.jinja import JinjaTemplate

        return JinjaTemplate.from_file(name)
    from synthkit.plugins import resolve

    return resolve("template", name)


def _count_lines(path: str) -> int:
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def build_teacher(
    teacher: str,
    *,
    model: str,
    base_url: str | None = None,
    api_key: str | None = None,
    concurrency: int = 32,
    rpm: float | None = None,
    tpm: float | None = None,
    budget: float | None = None,
    timeout: float = 120.0,
    max_attempts: int = 6,
    cache: str | None = None,
) -> Any:
    """Build a registered teacher with the ``generate`` options, wrapped in the cache if asked."""
    from synthkit.plugins import resolve

    options: dict[str, Any] = {
        "model": model,
        "concurrency": concurrency,
        "rpm": rpm,
        "tpm": tpm,
        "budget": budget,
        "timeout": timeout,
        "max_attempts": max_attempts,
    }
    if base_url is not None:
        options["base_url"] = base_url
    if api_key is not None:
        options["api_key"] = api_key
    t = resolve("teacher", teacher, **options)
    if cache:
        from synthkit.teachers.cache import CachedTeacher

        t = CachedTeacher(t, cache)
    return t


def _dry_run(input_path: str, teacher: Any, template: Any, params: dict[str, Any], n: int) -> dict[str, Any]:
    from synthkit.teachers.cost import estimate_tokens, price_of
    from synthkit.io.jsonl import iter_records
    from synthkit.generators.generate import Generate
    from synthkit.records import Record

    gen = Generate(teacher, template, params, n=n)
    cached = getattr(teacher, "cache", None)
    keys_of = getattr(teacher, "keys", None)
    records = requests = prompt_tokens = hits = 0
    per_completion = params.get("max_tokens") or params.get("max_completion_tokens")
    for rec in iter_records(input_path, on_bad_line="skip"):
        if not isinstance(rec, Record):
            continue
        records += 1
        messages = gen.messages(rec)
        if cached is not None and keys_of is not None:
            keys = keys_of(messages, params, n)
            found = len(cached.get_many(keys))
            hits += found
            if found == n:
                continue
        requests += 1
        prompt_tokens += estimate_tokens(messages)
    guess = int(per_completion) if per_completion else 256
    samples = records * n - hits
    completion_tokens = samples * guess
    price = price_of(teacher.model)
    cost = None if price is None else price.cost(prompt_tokens, completion_tokens)
    return {
        "records": records,
        "requests": requests,
        "cached_samples": hits,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "completion_tokens_per_sample": guess,
        "completion_tokens_assumed": not per_completion,
        "cost_usd": cost,
        "model": teacher.model,
    }


def _print_dry_run(est: dict[str, Any]) -> None:
    cost = "unknown (model not in litellm's price map)" if est["cost_usd"] is None else f"${est['cost_usd']:.4f}"
    basis = "assumed (set --param max_tokens=N for a bound)" if est["completion_tokens_assumed"] else "max_tokens"
    click.echo("dry run: nothing was sent")
    click.echo(f"  records:            {est['records']}")
    click.echo(f"  requests to send:   {est['requests']}" + (f" ({est['cached_samples']} samples cached)" if est["cached_samples"] else ""))
    click.echo(f"  prompt tokens:      ~{est['prompt_tokens']:,} (estimated, 4 chars a token)")
    click.echo(f"  completion tokens:  <= {est['completion_tokens']:,} ({est['completion_tokens_per_sample']} a sample, {basis})")
    click.echo(f"  cost for {est['model']}: {cost}")


async def _run(pipeline: Any, output: str, failures: str, progress: Any) -> Any:
    ticker = asyncio.create_task(progress.tick())
    try:
        return await pipeline.arun(sink=output, rejects=failures, progress=progress)
    finally:
        ticker.cancel()


def add_commands(cli: click.Group) -> None:
    """Add ``synthkit generate`` and ``synthkit serve-test``."""
    from synthkit.cli._engine import build_engine, engine_options

    @cli.command(name="generate")
    @click.argument("input_path", metavar="IN.jsonl", type=click.Path(exists=True, dir_okay=False))
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output JSONL.")
    @click.option("--teacher", default="openai", show_default=True, help="openai, litellm, or any registered teacher.")
    @click.option("--model", required=True, help="Model name (litellm: provider/model).")
    @click.option("--base-url", default=None, help="API root, e.g. http://127.0.0.1:8000/v1.")
    @click.option("--api-key", default=None, help="API key (default: $SYNTHKIT_API_KEY, then $OPENAI_API_KEY for openai).")
    @click.option("--template", default=None, help="Template name or file (default: the record's prompt/messages).")
    @click.option("--concurrency", default=32, show_default=True, type=click.IntRange(1), help="Most requests in flight.")
    @click.option("--rpm", default=None, type=click.FloatRange(min=0, min_open=True), help="Requests per minute.")
    @click.option("--tpm", default=None, type=click.FloatRange(min=0, min_open=True), help="Tokens per minute.")
    @click.option(
        "--cache", default=None, type=click.Path(dir_okay=False),
        help="SQLite response cache; re-runs resume from it [OUT.cache.sqlite].",
    )
    @click.option("--no-cache", is_flag=True, help="Keep no response cache (a crashed run then re-pays its requests).")
    @click.option("--failures", default=None, type=click.Path(dir_okay=False), help="JSONL of failed records [OUT.failures.jsonl].")
    @click.option("--budget", default=None, type=click.FloatRange(min=0), help="Stop before spending more than USD.")
    @click.option("--dry-run", is_flag=True, help="Estimate requests, tokens and cost; send nothing.")
    @click.option("-p", "--param", "params", multiple=True, help="Sampling parameter KEY=VALUE (repeatable).")
    @click.option("-n", "--samples", "n", default=1, show_default=True, type=click.IntRange(1), help="Samples per prompt.")
    @click.option("--timeout", default=120.0, show_default=True, type=float, help="Seconds per request.")
    @click.option("--max-attempts", default=6, show_default=True, type=click.IntRange(1), help="Attempts per request.")
    @click.option("--seed", default=0, show_default=True, type=int, help="Run seed (recorded in lineage).")
    @engine_options
    def generate_command(
        input_path: str,
        output: str,
        teacher: str,
        model: str,
        base_url: str | None,
        api_key: str | None,
        template: str | None,
        concurrency: int,
        rpm: float | None,
        tpm: float | None,
        cache: str | None,
        no_cache: bool,
        failures: str | None,
        budget: float | None,
        dry_run: bool,
        params: tuple[str, ...],
        n: int,
        timeout: float,
        max_attempts: int,
        seed: int,
        engine: str,
        engine_options: tuple[str, ...],
    ) -> None:
        """Ask a teacher model to answer every record of IN.jsonl; write OUT.jsonl.

        Each output line holds the input fields, `response` and lineage. Failed records
        go to the failures file with their error kind and attempts. Every response is
        cached as it arrives (OUT.cache.sqlite unless --cache names another file), so a
        re-run of the same command re-pays nothing already answered and gives the same output.
        Exit status: 0 done, 1 stopped by an error (such as a rejected key), 3 stopped by --budget.

        Example:

        \b
            synthkit generate prompts.jsonl -o answers.jsonl --model gpt-4o-mini --template cot -p temperature=0.7
        """
        from synthkit.errors import BudgetExceeded
        from synthkit.pipeline import Pipeline
        from synthkit.pipeline.progress import RunProgress

        if api_key is None and teacher != "openai":
            api_key = os.environ.get("SYNTHKIT_API_KEY") or None
        sampling = _parse_params(params)
        runner = None if dry_run else build_engine(engine, engine_options)
        if no_cache:
            cache = None
        elif cache is None:
            out_path = Path(output)
            cache = str(out_path.with_name(out_path.name.removesuffix(".jsonl") + ".cache.sqlite"))
        try:
            t = build_teacher(
                teacher,
                model=model,
                base_url=base_url,
                api_key=api_key,
                concurrency=concurrency,
                rpm=rpm,
                tpm=tpm,
                budget=None if dry_run else budget,
                timeout=timeout,
                max_attempts=max_attempts,
                cache=cache,
            )
        except BudgetExceeded as exc:
            raise click.UsageError(str(exc)) from None
        tmpl = _template(template)
        if dry_run:
            est = _dry_run(input_path, t, tmpl, sampling, n)
            _print_dry_run(est)
            if budget is not None and est["cost_usd"] is not None and est["cost_usd"] > budget:
                click.echo(f"  over the budget of ${budget:g}: the run would stop before finishing")
            getattr(t, "cache", None) and t.cache.close()
            return
        if failures is None:
            out = Path(output)
            failures = str(out.with_name(out.name.removesuffix(".jsonl") + ".failures.jsonl"))
        progress = RunProgress(getattr(t, "stats", None), total=_count_lines(input_path))
        pipeline = Pipeline(input_path, seed=seed, concurrency=concurrency).generate(t, template=tmpl, params=sampling, n=n)
        if runner.name == "local":
            summary = asyncio.run(_run(pipeline, output, failures, progress))
        else:
            summary = pipeline.run(sink=output, rejects=failures, progress=progress, engine=runner)
        click.echo(str(summary), err=True)
        stats = getattr(t, "stats", None)
        if stats is not None and stats.cost_usd is not None:
            click.echo(f"cost: ${stats.cost_usd:.6f} for {stats.ok} requests ({stats.tokens:,} tokens)", err=True)
        if summary.n_failed:
            click.echo(f"{summary.n_failed} failed records are in {failures}", err=True)
        if summary.stopped:
            click.echo(f"stopped: {summary.stopped}", err=True)
            sys.exit(3)

    @cli.command(name="serve-test")
    @click.option("--port", default=8000, show_default=True, type=int, help="Port on 127.0.0.1 (0: any free port).")
    @click.option("--latency", default=0.0, show_default=True, type=float, help="Seconds per request.")
    @click.option("--rpm", default=None, type=float, help="Requests per minute before answering 429.")
    @click.option("--tpm", default=None, type=float, help="Tokens per minute (prompt + max_tokens) before answering 429.")
    @click.option("--fault", "faults", multiple=True, help="NAME=RATE, e.g. 500=0.1 (repeatable).")
    @click.option("--api-key", default=None, help="Require this bearer key (401 otherwise).")
    def serve_test_command(
        port: int, latency: float, rpm: float | None, tpm: float | None, faults: tuple[str, ...], api_key: str | None
    ) -> None:
        """Serve a fake OpenAI-compatible API (deterministic echo replies) for tests and demos.

        It runs until interrupted; point a teacher at it with --base-url. Replies are
        "echo: <last user message>"; --rpm, --tpm and --fault make it answer as a loaded
        or failing server would (429 with Retry-After, 500, 503, timeouts...).

        Example:

        \b
            synthkit serve-test --port 8000 --latency 0.05 --rpm 600 --fault 500=0.1
        """
        from synthkit.testing import _parse_faults, serve

        serve(
            port=port,
            latency=latency,
            rpm=rpm,
            tpm=tpm,
            faults=_parse_faults(faults),
            api_key=api_key,
            ready=lambda url: click.echo(f"serving on {url}"),
        )
