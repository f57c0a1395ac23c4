"""The ``generate`` and ``serve-test`` commands."""

from __future__ import annotations

import os
from typing import Any
import click
from synthkit.cli import invocation, key_values


def _parse_params(items: tuple[str, ...]) -> dict[str, Any]:
    return key_values(items, option="--param", example="temperature=0.7")


def _count_lines(path: str) -> int:
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def _chain(primary: Any, name: str, specs: tuple[str, ...], options: dict[str, Any], resolve: Any) -> Any:
    """The failover chain of ``--fallback TEACHER:MODEL[@BASE_URL]`` items after the primary teacher."""
    from synthkit.teachers.failover import FailoverTeacher

    members = [primary]
    for spec in specs:
        kind, sep, rest = spec.partition(":")
        model, _, url = rest.partition("@")
        if not sep or not kind or not model:
            msg = f"--fallback {spec!r}: give TEACHER:MODEL, e.g. litellm:anthropic/claude-3-5-haiku-20241022 (add @BASE_URL for an OpenAI-compatible endpoint)"
            raise click.UsageError(msg)
        opts = {k: v for k, v in options.items() if k not in ("base_url", "api_key", "price")}
        opts["model"] = model
        if url:
            opts["base_url"] = url
        elif kind == name and "base_url" not in options and "api_key" in options:
            opts["api_key"] = options["api_key"]  # the same provider: the same key
        members.append(resolve("teacher", kind, **opts))
    return FailoverTeacher(members)


def add_commands(cli: click.Group) -> None:
    """Add ``synthkit generate`` and ``synthkit serve-test``."""
    from synthkit.cli._engine import build_engine, engine_options
    from synthkit.cli._run import finish, run_options

    @cli.command(name="generate")
    @click.argument("input_path", metavar="IN.jsonl", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True), help="Output JSONL.")
    @click.option("--teacher", default="openai", show_default=True, help="openai, litellm, or any registered teacher.")
    @click.option("--model", default=None, help="Model name (litellm: provider/model); a model-free teacher (procedural) needs none.")
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
    @click.option("--price-in", default=None, type=click.FloatRange(min=0), help="USD per million prompt tokens, for a model the price map does not know (0 for a local model).")
    @click.option("--price-out", default=None, type=click.FloatRange(min=0), help="USD per million completion tokens (with --price-in).")
    @click.option("--dry-run", is_flag=True, help="Estimate requests, tokens and cost; send nothing.")
    @click.option("-p", "--param", "params", multiple=True, help="Sampling parameter KEY=VALUE (repeatable).")
    @click.option("-n", "--samples", "n", default=1, show_default=True, type=click.IntRange(1), help="Samples per prompt.")
    @click.option("-T", "--teacher-option", "teacher_opts", multiple=True, metavar="KEY=VALUE", help="Teacher option, value as JSON if it parses (repeatable), e.g. error_rate=0.3 (procedural), n_ctx=4096 (llamacpp).")
    @click.option("--template-option", "template_opts", multiple=True, metavar="KEY=VALUE", help="Template option (repeatable), e.g. operator=deepen (evol-instruct), seeds=seeds.jsonl or num_tasks=8 (self-instruct).")
    @click.option("--keep", default=None, type=click.IntRange(1), help="Best-of-n: verify the -n samples of each prompt with --verifier and keep this many passing ones.")
    @click.option("--verifier", "verifier_name", default=None, help="The verifier of --keep (math, final-answer, judge...).")
    @click.option("--timeout", default=120.0, show_default=True, type=float, help="Seconds per request.")
    @click.option("--max-attempts", default=6, show_default=True, type=click.IntRange(1), help="Attempts per request.")
    @click.option("--seed", default=None, type=int, help="Run seed: recorded in lineage and sent as the sampling seed (unless -p seed=N). Default 0, not sent.")
    @click.option("--on-bad-line", type=click.Choice(["stop", "skip"]), default="stop", show_default=True,
                  help="At a malformed input line: stop with its line number, or skip it (counted as failed).")
    @click.option(
        "--batch", "batch", default=None, is_flag=False, flag_value="on", type=click.Choice(["on", "auto", "off"]),
        help="Send through the provider's batch API (half the price, answers within 24 h); --batch auto: only when enough requests wait together.",
    )
    @click.option(
        "--fallback", "fallbacks", multiple=True, metavar="TEACHER:MODEL[@BASE_URL]",
        help="A teacher to fail over to when the ones before are out (5xx storm, timeouts); repeatable, in order.",
    )
    @click.option("--batch-poll", default=30.0, show_default=True, type=click.FloatRange(min=0, min_open=True), help="Seconds between looks at a batch in flight.")
    @engine_options
    @run_options
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
        seed: int | None,
        engine: str,
        engine_options: tuple[str, ...],
        max_failure_rate: float,
        grace: float,
        price_in: float | None,
        price_out: float | None,
        on_bad_line: str,
        teacher_opts: tuple[str, ...] = (),
        template_opts: tuple[str, ...] = (),
        keep: int | None = None,
        verifier_name: str | None = None,
        batch: str | None = None,
        batch_poll: float = 30.0,
        fallbacks: tuple[str, ...] = (),
    ) -> None:
        """Ask a teacher model to answer every record of IN.jsonl; write OUT.jsonl.

        Each output line holds the input fields, `response` and lineage. Failed records
        go to the failures file with their error kind and attempts. Every response is
        cached as it arrives (OUT.cache.sqlite unless --cache names another file), so a
        re-run of the same command re-pays nothing already answered and gives the same output.
        Exit status: 0 done; 1 stopped by an error (a rejected key, the first records all
        failing the same way); 3 stopped by --budget; 4 more than --max-failure-rate of the
        records failed; 130/143 interrupted by SIGINT/SIGTERM (the requests in flight are
        let finish and kept; re-run the same command to resume).

        With -n N each prompt gets N samples, one output line each; a model's reasoning
        (a reasoning_content field, or a <think> block) goes under `reasoning` and
        `response` holds the answer alone. --keep K with --verifier keeps K passing samples
        per prompt (the others go to the failures file with their verdicts); `synthkit
        select` and `synthkit pairs` do the same on a samples file. --template self-instruct
        writes one record per new task (seeds: the input, or --template-option
        seeds=FILE); --template evol-instruct writes the rewritten prompt
        (--template-option operator=deepen).

        Examples:

        \b
            synthkit generate prompts.jsonl -o answers.jsonl --model gpt-4o-mini --template cot -p temperature=0.7
            synthkit generate problems.jsonl -o samples.jsonl --teacher procedural --teacher-option error_rate=0.3 -n 8
            synthkit generate prompts.jsonl -o harder.jsonl --model gpt-4o-mini --template evol-instruct --template-option operator=deepen
        """
        from synthkit.errors import BudgetExceeded, OptionError, SynthkitError
        from synthkit.generators.generate import Generate
        from synthkit.io.paths import companion
        from synthkit.pipeline import Pipeline
        from synthkit.pipeline.progress import RunProgress

        if api_key is None and teacher != "openai":
            api_key = os.environ.get("SYNTHKIT_API_KEY") or None
        sampling = _parse_params(params)
        if seed is not None:
            sampling.setdefault("seed", seed)  # --seed reaches the server, not only the lineage
        runner = None if dry_run else build_engine(engine, engine_options)
        if no_cache:
            cache = None
        elif cache is None:
            cache = str(companion(output, "cache"))
        options: dict[str, Any] = {
            "model": model,
            "concurrency": concurrency,
            "rpm": rpm,
            "tpm": tpm,
            "budget": None if dry_run else budget,
            "timeout": timeout,
            "max_attempts": max_attempts,
        }
        options.update({k: v for k, v in (("base_url", base_url), ("api_key", api_key)) if v is not None})
        if (price_in is None) != (price_out is None):
            raise click.UsageError("give --price-in and --price-out together (USD per million tokens)")
        if price_in is not None:
            from synthkit.teachers.cost import Price

            options["price"] = Price.per_million(price_in, price_out)
        from synthkit.cli._teacher import build_teacher, teacher_options, template_options
        from synthkit.generators.build import generator_for
        from synthkit.plugins import resolve

        if keep is not None and verifier_name is None:
            raise click.UsageError("--keep needs --verifier NAME: which samples pass")
        try:
            batching = {"on": True, "auto": "auto"}.get(batch or "off", False)
            if batching and engine != "local":
                raise click.UsageError(f"--batch runs on the local engine (its batches live in one cache file); drop --engine {engine}")
            asked = build_teacher(teacher, options, teacher_options(teacher_opts))
            if fallbacks:
                asked = _chain(asked, teacher, fallbacks, options, resolve)
            step = generator_for(
                asked, template, template_options=template_options(template_opts),
                params=sampling, n=n, cache=cache, seeds=None if input_path == "-" else input_path,
                batch=batching, batch_options={"poll_interval": batch_poll} if batching else None,
            )
        except BudgetExceeded as exc:
            raise click.UsageError(str(exc)) from None
        except OptionError:
            raise  # reported as every command reports a bad option
        except SynthkitError as exc:
            raise click.UsageError(str(exc)) from None
        if keep is not None:
            from synthkit.generators.sampling import BestOfN

            step = BestOfN(step, verifier_name, keep=keep)
        if dry_run and not isinstance(step, Generate):
            raise click.UsageError("--dry-run estimates plain generation only (no --keep, self-instruct or evol-instruct)")
        t = getattr(step, "teacher", None) or step.step.teacher
        if dry_run:
            est = step.estimate(input_path)
            click.echo(str(est))
            if budget is not None and est.cost_usd is not None and est.cost_usd > budget:
                click.echo(f"  over the budget of ${budget:g}: the run would stop before finishing")
            getattr(t, "cache", None) and t.cache.close()
            return
        if failures is None:
            failures = str(companion(output, "failures"))
        progress = RunProgress(getattr(t, "stats", None), total=None if input_path == "-" else _count_lines(input_path))
        pipeline = Pipeline(
            input_path, seed=seed or 0, concurrency=concurrency, on_bad_line=on_bad_line, grace=grace, command=invocation()  # type: ignore[arg-type]
        )
        summary = pipeline.step(step).run(sink=output, rejects=failures, progress=progress, engine=runner)
        finish(summary, max_failure_rate=max_failure_rate, failures=failures)

    @cli.command(name="serve-test")
    @click.option("--port", default=8000, show_default=True, type=int, help="Port on 127.0.0.1 (0: any free port).")
    @click.option("--latency", default=0.0, show_default=True, type=float, help="Seconds per request.")
    @click.option("--rpm", default=None, type=float, help="Requests per minute before answering 429.")
    @click.option("--burst", default=None, type=float, help="RPM bucket size (default: one second's worth).")
    @click.option("--tpm", default=None, type=float, help="Tokens per minute (prompt + max_tokens) before answering 429.")
    @click.option("--fault", "faults", multiple=True, help="NAME=RATE, e.g. 500=0.1 (repeatable).")
    @click.option("--api-key", default=None, help="Require this bearer key (401 otherwise).")
    @click.option("--seed", default=0, show_default=True, type=int, help="Seed of the injected faults.")
    def serve_test_command(
        port: int,
        latency: float,
        rpm: float | None,
        burst: float | None,
        tpm: float | None,
        faults: tuple[str, ...],
        api_key: str | None,
        seed: int,
    ) -> None:
        """Serve a fake OpenAI-compatible API (deterministic echo replies) for tests and demos.

        It runs until interrupted; point a teacher at it with --base-url. Replies are
        "echo: <last user message>"; --rpm, --tpm and --fault make it answer as a loaded
        or failing server would (429 with Retry-After, 500, 503, timeouts...).

        Example:

        \b
            synthkit serve-test --port 8000 --latency 0.05 --rpm 600 --fault 500=0.1
        """
        from synthkit.testing import parse_faults, serve

        serve(
            port=port,
            latency=latency,
            rpm=rpm,
            burst=burst,
            tpm=tpm,
            faults=parse_faults(faults),
            api_key=api_key,
            seed=seed,
            ready=lambda url: click.echo(f"serving on {url}"),
        )
