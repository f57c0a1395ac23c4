"""The ``dialogue`` and ``trajectory`` commands: multi-turn conversations and tool-using agent runs."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from synthkit.cli import invocation, key_values


def _teacher_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The options that build the teacher and run the requests (as ``generate`` has them)."""
    opts = [
        click.option("--teacher", default="openai", show_default=True, help="openai, litellm, or any registered teacher."),
        click.option("--model", required=True, help="The assistant's model (litellm: provider/model)."),
        click.option("--base-url", default=None, help="API root, e.g. http://127.0.0.1:8000/v1."),
        click.option("--api-key", default=None, help="API key (default: $SYNTHKIT_API_KEY, then $OPENAI_API_KEY for openai)."),
        click.option("--concurrency", default=16, show_default=True, type=click.IntRange(1), help="Most conversations in flight."),
        click.option("--rpm", default=None, type=click.FloatRange(min=0, min_open=True), help="Requests per minute."),
        click.option("--cache", default=None, type=click.Path(dir_okay=False), help="SQLite cache of every turn's request [OUT.cache.sqlite]."),
        click.option("--no-cache", is_flag=True, help="Keep no cache (a crashed run then re-pays its turns)."),
        click.option("--failures", default=None, type=click.Path(dir_okay=False), help="JSONL of dropped and failed records [OUT.failures.jsonl]."),
        click.option("--budget", default=None, type=click.FloatRange(min=0), help="Stop before spending more than USD."),
        click.option("-p", "--param", "params", multiple=True, help="Sampling parameter KEY=VALUE (repeatable)."),
        click.option("--timeout", default=120.0, show_default=True, type=float, help="Seconds per request."),
        click.option("--max-attempts", default=6, show_default=True, type=click.IntRange(1), help="Attempts per request."),
        click.option("--seed", default=0, show_default=True, type=int, help="Run seed (recorded in lineage)."),
        click.option("--on-bad-line", type=click.Choice(["stop", "skip"]), default="stop", show_default=True, help="At a malformed input line: stop, or skip it."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _teacher(teacher: str, model: str, kw: dict[str, Any]) -> Any:
    from synthkit.plugins import resolve

    api_key = kw["api_key"]
    if api_key is None and teacher != "openai":
        api_key = os.environ.get("SYNTHKIT_API_KEY") or None
    options: dict[str, Any] = {"model": model, "concurrency": kw["concurrency"], "rpm": kw["rpm"], "budget": kw["budget"], "timeout": kw["timeout"], "max_attempts": kw["max_attempts"]}
    options.update({k: v for k, v in (("base_url", kw["base_url"]), ("api_key", api_key)) if v is not None})
    return resolve("teacher", teacher, **options)


def _cache(output: str, kw: dict[str, Any]) -> str | None:
    from synthkit.io.paths import companion

    if kw["no_cache"]:
        return None
    return kw["cache"] or str(companion(output, "cache"))


def read_values(path: str, field: str) -> list[str]:
    """Read personas or goals from a file: a ``.txt`` with one a line, or JSON/JSONL of strings or objects with ``field``.

    Raises:
        click.BadParameter: the file cannot be read or an entry has no ``field``; the message names the file and the line.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise click.BadParameter(f"cannot read {p}: {exc.strerror}") from None
    if p.suffix not in (".json", ".jsonl"):
        return [line.strip() for line in text.splitlines() if line.strip()]
    try:
        items = json.loads(text) if p.suffix == ".json" else [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"{p} is not valid JSON: {exc}") from None
    out = []
    for i, item in enumerate(items if isinstance(items, list) else [items]):
        value = item.get(field) if isinstance(item, dict) else item
        if not isinstance(value, str):
            raise click.BadParameter(f"{p}, entry {i + 1}: expected a string or an object with a {field!r} text field")
        out.append(value)
    return out


def _run(input_path: str | None, source: Any, step: Any, output: str, kw: dict[str, Any]) -> None:
    from synthkit.cli._engine import build_engine
    from synthkit.cli._run import finish
    from synthkit.io.paths import companion
    from synthkit.pipeline import Pipeline
    from synthkit.pipeline.progress import RunProgress

    failures = kw["failures"] or str(companion(output, "failures"))
    progress = RunProgress(getattr(step.teachers()[0], "stats", None), total=None)
    pipeline = Pipeline(source, seed=kw["seed"], concurrency=kw["concurrency"], on_bad_line=kw["on_bad_line"], grace=kw["grace"], command=invocation())
    runner = build_engine(kw["engine"], kw["engine_options"])
    summary = pipeline.step(step).run(sink=output, rejects=failures, progress=progress, engine=runner)
    finish(summary, max_failure_rate=kw["max_failure_rate"], failures=failures)


def add_commands(cli: click.Group) -> None:
    """Add ``synthkit dialogue`` and ``synthkit trajectory``."""
    from synthkit.cli._engine import engine_options
    from synthkit.cli._run import run_options

    @cli.command(name="dialogue")
    @click.argument("input_path", metavar="[IN.jsonl]", required=False, type=click.Path(exists=True, dir_okay=False, allow_dash=True))
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output JSONL, one dialogue a line.")
    @click.option("--turns", default=4, show_default=True, type=click.IntRange(1), help="Assistant replies in a full dialogue.")
    @click.option("--personas", default=None, type=click.Path(exists=True, dir_okay=False), help="Personas of the simulated user (.txt one a line, or JSON/JSONL).")
    @click.option("--goals", default=None, type=click.Path(exists=True, dir_okay=False), help="Goals of the simulated user (likewise); crossed with the personas.")
    @click.option("--user-model", default=None, help="The simulated user's model (default: --model).")
    @click.option("--user-template", default=None, help="The simulated user's template name or file (default: simulated-user).")
    @click.option("--system", "system", default=None, help="The assistant's system prompt: a template name or file (default: the record's).")
    @click.option("--stop", "stop", multiple=True, help="A phrase that ends the dialogue when the user says it [goodbye] (repeatable).")
    @click.option("--check", default=None, help="A verifier run on every assistant reply; a failure drops the dialogue.")
    @click.option("--until", default=None, help="A verifier run on the dialogue after each reply; it ends when it passes.")
    @_teacher_options
    @engine_options
    @run_options
    def dialogue_command(input_path: str | None, output: str, turns: int, personas: str | None, goals: str | None, user_model: str | None,
                         user_template: str | None, system: str | None, stop: tuple[str, ...], check: str | None, until: str | None, **kw: Any) -> None:
        """Play multi-turn dialogues between a simulated user and the assistant; write OUT.jsonl.

        The simulated user gets each record's persona and goal (its `persona` and `goal`
        fields, or every combination of --personas and --goals, crossed with IN.jsonl when
        given) and talks with the assistant for --turns replies, or until it says a --stop
        phrase. A record with a prompt opens with it. Every turn's request is cached as it
        arrives, so a re-run after a crash or a kill re-pays no turn. Exit codes as for generate.

        Example:

        \b
            synthkit dialogue -o dialogues.jsonl --personas personas.txt --goals goals.txt --model gpt-4o-mini --turns 4
        """
        from synthkit.generators.dialogue import Dialogue, dialogue_seeds
        from synthkit.io.interchange import read_records

        if input_path is None and personas is None and goals is None:
            raise click.UsageError("give IN.jsonl, or --personas and/or --goals to make the seeds from")
        assistant = _teacher(kw["teacher"], kw["model"], kw)
        user = None if user_model is None else _teacher(kw["teacher"], user_model, kw)
        step = Dialogue(
            assistant, user, turns=turns, user_template=user_template, system=system, params=key_values(kw["params"], option="--param", example="temperature=0.7"),
            stop=stop or ("goodbye",), check=check, until=until, cache=_cache(output, kw),
        )
        records = None if input_path is None else read_records(input_path, on_bad_line=kw["on_bad_line"])
        pv = None if personas is None else read_values(personas, "persona")
        gv = None if goals is None else read_values(goals, "goal")
        source = input_path if (pv is None and gv is None) else dialogue_seeds(records, personas=pv, goals=gv)
        _run(input_path, source, step, output, kw)

    @cli.command(name="trajectory")
    @click.argument("input_path", metavar="IN.jsonl", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output JSONL, one trajectory a line.")
    @click.option("--tools", "tools_file", default=None, type=click.Path(exists=True, dir_okay=False), help="JSON list of tools in the OpenAI format (default: each record's tools).")
    @click.option("--tool", "tool_names", multiple=True, help="A registered tool by name, e.g. calculator (repeatable).")
    @click.option("--tools-code", default=None, type=click.Path(exists=True, dir_okay=False),
                  help="A Python file with a function per tool (named after it), run in the sandbox for each call.")
    @click.option("--simulate-tools", is_flag=True, help="A teacher plays the tools that have no Python function, from their descriptions.")
    @click.option("--simulator-model", default=None, help="The model that plays the tools (default: --model).")
    @click.option("--max-steps", default=8, show_default=True, type=click.IntRange(1), help="Most replies with tool calls before a record is dropped.")
    @click.option("--tool-choice", default="auto", show_default=True, help="auto, required, none, or a tool name.")
    @click.option("--on-invalid", type=click.Choice(["drop", "feedback"]), default="drop", show_default=True,
                  help="An invalid call drops the record, or goes back to the model as an error result.")
    @_teacher_options
    @engine_options
    @run_options
    def trajectory_command(input_path: str, output: str, tools_file: str | None, tool_names: tuple[str, ...], tools_code: str | None, simulate_tools: bool,
                           simulator_model: str | None, max_steps: int, tool_choice: str, on_invalid: str, **kw: Any) -> None:
        """Run a tool-using model on every record of IN.jsonl: call, result, next call, until a final answer; write OUT.jsonl.

        Each call is checked against its tool's JSON schema (an invalid one drops the record
        with the reason, or with --on-invalid feedback goes back to the model) and run by the
        tool's Python function (registered tools, --tool), by your code in the sandbox
        (--tools-code), or, with --simulate-tools, played by a teacher. A model still calling tools after --max-steps replies is dropped with
        "step limit". Verify the final answers with `synthkit verify` (math, tool-result,
        judge...). Every request is cached, so a re-run re-pays nothing. Exit codes as for generate.

        Example:

        \b
            synthkit trajectory problems.jsonl -o runs.jsonl --model gpt-4o-mini --tool calculator --max-steps 6
        """
        from synthkit.generators.trajectory import Trajectory
        from synthkit.plugins import resolve
        from synthkit.tools import SandboxTools, SimulatedTools, load_tools

        tools: list[Any] = [resolve("tool", n) for n in tool_names]
        if tools_file is not None:
            tools += load_tools(tools_file)
        choice: Any = tool_choice if tool_choice in ("auto", "required", "none") else {"type": "function", "function": {"name": tool_choice}}
        executor = None
        cache = _cache(output, kw)
        if tools_code is not None and simulate_tools:
            raise click.UsageError("give --tools-code or --simulate-tools, not both")
        if tools_code is not None:
            executor = SandboxTools(Path(tools_code))
        if simulate_tools:
            from synthkit.teachers.cache import CachedTeacher

            sim = _teacher(kw["teacher"], simulator_model or kw["model"], kw)
            executor = SimulatedTools(CachedTeacher(sim, cache) if cache else sim)
        step = Trajectory(
            _teacher(kw["teacher"], kw["model"], kw), tools=tools or None, params=key_values(kw["params"], option="--param", example="temperature=0.7"),
            executor=executor, max_steps=max_steps, tool_choice=choice, on_invalid=on_invalid, cache=cache,  # type: ignore[arg-type]
        )
        _run(input_path, input_path, step, output, kw)
