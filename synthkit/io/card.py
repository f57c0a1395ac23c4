"""Dataset cards: a Hugging Face ``README.md`` that summarises a set's lineage.

The card is built from the records themselves: the kept records (the dataset) and,
optionally, the rejects and failures files the pipeline wrote. Kept records carry only
passing verdicts, so true pass rates and drops per reason need the rejects; without them
the card says plainly that its pass rates cover kept records only.

Everything in the card is counted in one streaming pass over the files (the optional
collapse diagnostics hold the texts, as :func:`synthkit.diagnostics.metrics.diagnose` does). The
card is deterministic for the same inputs: tables are sorted and nothing in it depends
on the time or the machine, so it can be committed beside the data.

The YAML front matter is written with PyYAML from a mapping (never by string
interpolation) and every table cell is escaped, so names holding ``|``, newlines or
Markdown punctuation cannot break the page.
"""

from __future__ import annotations

import collections
import json
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from synthkit.errors import InputError
from synthkit.records import Record

if TYPE_CHECKING:
    from synthkit.diagnostics.metrics import Diagnosis, Embedder

__all__ = ["CardInfo", "LineageStats", "collect", "dataset_card", "render_card", "size_category", "write_card"]

#: The Hub's ``size_categories`` values, as (upper bound, label); the last one has no bound.
SIZE_CATEGORIES: tuple[tuple[float, str], ...] = (
    (1e3, "n<1K"),
    (1e4, "1K<n<10K"),
    (1e5, "10K<n<100K"),
    (1e6, "100K<n<1M"),
    (1e7, "1M<n<10M"),
    (1e8, "10M<n<100M"),
    (1e9, "100M<n<1B"),
    (1e10, "1B<n<10B"),
    (1e11, "10B<n<100B"),
    (1e12, "100B<n<1T"),
    (float("inf"), "n>1T"),
)


def size_category(n: int) -> str:
    """Return the Hub's ``size_categories`` label for ``n`` records (``"n<1K"``, ``"1K<n<10K"``...)."""
    for bound, label in SIZE_CATEGORIES:
        if n < bound:
            return label
    raise AssertionError("unreachable")  # pragma: no cover


# -- counting ---------------------------------------------------------------------------


@attrs.define
class _Cost:
    """Tokens and dollars of one (teacher, model)."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    priced: int = 0
    batch_requests: int = 0  # of ``requests``, those answered through a batch API
    batch_cost_usd: float = 0.0

    def add(self, usage: Mapping[str, Any], where: str) -> None:
        if not usage:
            return
        nums = {}
        for key in ("prompt_tokens", "completion_tokens", "cost_usd"):
            value = usage.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                msg = f"{where}: lineage.usage.{key} must be a number, got {value!r}; fix or remove it"
                raise InputError(msg)
            nums[key] = value
        self.requests += 1
        self.prompt_tokens += int(nums["prompt_tokens"] or 0)
        self.completion_tokens += int(nums["completion_tokens"] or 0)
        if nums["cost_usd"] is not None:
            self.cost_usd += float(nums["cost_usd"])
            self.priced += 1
        if usage.get("batch"):
            self.batch_requests += 1
            self.batch_cost_usd += float(nums["cost_usd"] or 0.0)

    def merge(self, other: _Cost) -> None:
        self.requests += other.requests
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd
        self.priced += other.priced
        self.batch_requests += other.batch_requests
        self.batch_cost_usd += other.batch_cost_usd


@attrs.define
class LineageStats:
    """What the card reports, counted from kept records and rejects.

    Attributes:
        kept: records in the dataset.
        rejected: lines of the rejects files (dropped and failed records).
        sources: the dataset file, then the rejects files, as given.
        fields: top-level JSON keys of kept records -> how many records have them.
        origins: kept records per ``lineage.origin``.
        generations: kept records per ``lineage.generation``.
        teachers: kept records per (teacher, model).
        templates: kept records per (template, template hash).
        params: kept records per sampling parameters (canonical JSON).
        finish_reasons: kept records per finish reason.
        passed: passing verdicts per check name, over kept and rejected records.
        failed_checks: failing verdicts per check name, over kept and rejected records.
        dropped: dropped records per (step, reason key), from the rejects.
        failed: failed records per (step, error kind), from the rejects.
        costs: tokens and dollars per (teacher, model): each record's own request (``usage``)
            and regenerated attempts, and once each the requests in the records'
            ``lineage.costs`` (their ancestors': self-instruct, evol-instruct...; and judges'),
            over kept and rejected records alike.
        commands: kept records per sequence of command lines that made them (``lineage.commands``).
    """

    kept: int = 0
    rejected: int = 0
    sources: list[str] = attrs.Factory(list)
    fields: collections.Counter[str] = attrs.Factory(collections.Counter)
    origins: collections.Counter[str] = attrs.Factory(collections.Counter)
    generations: collections.Counter[int] = attrs.Factory(collections.Counter)
    teachers: collections.Counter[tuple[str, str]] = attrs.Factory(collections.Counter)
    templates: collections.Counter[tuple[str, str]] = attrs.Factory(collections.Counter)
    params: collections.Counter[str] = attrs.Factory(collections.Counter)
    finish_reasons: collections.Counter[str] = attrs.Factory(collections.Counter)
    passed: collections.Counter[str] = attrs.Factory(collections.Counter)
    failed_checks: collections.Counter[str] = attrs.Factory(collections.Counter)
    dropped: collections.Counter[tuple[str, str]] = attrs.Factory(collections.Counter)
    failed: collections.Counter[tuple[str, str]] = attrs.Factory(collections.Counter)
    costs: dict[tuple[str, str], _Cost] = attrs.Factory(dict)
    commands: collections.Counter[tuple[str, ...]] = attrs.Factory(collections.Counter)
    step_costs: dict[str, _Cost] = attrs.Factory(dict)  # the same requests per step (a template's name, or "generate")
    _seen: set[Any] = attrs.Factory(set)

    @property
    def n_dropped(self) -> int:
        return sum(self.dropped.values())

    @property
    def n_failed(self) -> int:
        return sum(self.failed.values())

    @property
    def has_rejects(self) -> bool:
        return len(self.sources) > 1

    def add_kept(self, record: Record, where: str) -> None:
        """Count one record of the dataset (``where`` names it in errors)."""
        if "reject" in record.data:
            msg = (
                f"{where}: record {record.id} has a 'reject' object, so the file is a rejects file; "
                f"pass it with --rejects (rejects=) and give the kept records as the input"
            )
            raise InputError(msg)
        lin = record.lineage
        self.kept += 1
        self.fields.update(record.to_dict().keys())
        self.origins[lin.origin] += 1
        self.generations[lin.generation] += 1
        if lin.teacher is not None or lin.model is not None:
            self.teachers[(lin.teacher or "", lin.model or "")] += 1
        if lin.template is not None or lin.template_hash is not None:
            self.templates[(lin.template or "", lin.template_hash or "")] += 1
        if lin.origin == "synthetic" or lin.params:
            self.params[json.dumps(dict(lin.params), sort_keys=True, ensure_ascii=False)] += 1
        if lin.finish_reason is not None:
            self.finish_reasons[lin.finish_reason] += 1
        if lin.commands:
            self.commands[tuple(lin.commands)] += 1
        self._verdicts_and_cost(record, where)

    def add_reject(self, record: Record | None, reject: Mapping[str, Any], where: str) -> None:
        """Count one line of a rejects file: the record (``None`` for an unreadable input line) and its ``reject``."""
        from synthkit.pipeline import reason_key

        self.rejected += 1
        step = str(reject["step"])
        if reject.get("status") == "failed":
            self.failed[(step, str(reject.get("kind") or "error"))] += 1
        else:
            self.dropped[(step, reason_key(str(reject.get("reason") or "")))] += 1
        if record is not None:
            self._verdicts_and_cost(record, where)

    def _verdicts_and_cost(self, record: Record, where: str) -> None:
        lin = record.lineage
        for v in lin.verdicts:
            (self.passed if v.passed else self.failed_checks)[v.name] += 1
        for entry in lin.costs:  # ancestors' and judges' requests: once each, by id (siblings share them)
            request = entry.get("request")
            if request in self._seen:
                continue
            self._seen.add(request)
            key = (str(entry.get("teacher") or ""), str(entry.get("model") or ""))
            self.costs.setdefault(key, _Cost()).add(entry, f"{where} (record {record.id})")
            self.step_costs.setdefault(str(entry.get("step") or "generate"), _Cost()).add(entry, f"{where} (record {record.id})")
        turns = [t for t in lin.turns if isinstance(t, Mapping) and t.get("usage")]
        if turns:  # a dialogue or a trajectory: each request by the teacher and model that answered it
            step = self.step_costs.setdefault(lin.template or "generate", _Cost())
            for t in turns:
                key = (str(t.get("teacher") or ""), str(t.get("model") or ""))
                self.costs.setdefault(key, _Cost()).add(t["usage"], f"{where} (record {record.id})")
                step.add(t["usage"], f"{where} (record {record.id})")
            return
        if not lin.usage and not lin.attempts:
            return
        key = (lin.teacher or "", lin.model or "")
        cost = self.costs.get(key)
        if cost is None:
            cost = self.costs[key] = _Cost()
        where = f"{where} (record {record.id})"
        step = self.step_costs.setdefault(lin.template or "generate", _Cost())
        cost.add(lin.usage, where)
        step.add(lin.usage, where)
        for attempt in lin.attempts:
            usage = attempt.get("usage") if isinstance(attempt, Mapping) else None
            if isinstance(usage, Mapping):
                cost.add(usage, where)
                step.add(usage, where)

    def total_cost(self) -> _Cost:
        total = _Cost()
        for c in self.costs.values():
            total.merge(c)
        return total


def _iter_kept(path: str | Path) -> Iterator[Record]:
    from synthkit.io.interchange import read_records

    try:
        for item in read_records(path):
            assert isinstance(item, Record)  # on_bad_line="stop" raises instead
            yield item
    except InputError as exc:
        bad = getattr(exc, "bad", None)
        if bad is None:
            raise
        msg = f"{bad.message}. Fix the line: a card describes every record of the dataset"
        raise InputError(msg) from None


def _iter_rejects(path: str | Path) -> Iterator[tuple[Record | None, dict[str, Any], str]]:
    """Yield (record or ``None``, reject object, ``file:line``) per line of a rejects file."""
    try:
        fh = open(path, encoding="utf-8")  # noqa: SIM115
    except FileNotFoundError:
        msg = f"rejects file {path} does not exist; give the --rejects/--failures file the pipeline wrote"
        raise InputError(msg) from None
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                msg = f"{where}: {exc.msg}; fix the line or leave the file out"
                raise InputError(msg) from None
            reject = obj.pop("reject", None) if isinstance(obj, dict) else None
            if not isinstance(reject, dict) or not isinstance(reject.get("step"), str):
                msg = (
                    f"{where}: no 'reject' object with a 'step'; --rejects takes the rejects or failures files a "
                    f"pipeline writes (each line a record plus a 'reject' object), not kept records"
                )
                raise InputError(msg)
            if reject.get("status", "dropped") not in ("dropped", "failed"):
                msg = f"{where}: reject.status must be 'dropped' or 'failed', got {reject.get('status')!r}"
                raise InputError(msg)
            record = None
            if obj:
                try:
                    record = Record.from_dict(obj)
                except (InputError, TypeError, ValueError) as exc:
                    msg = f"{where}: {exc}"
                    raise InputError(msg) from None
            yield record, reject, where


def collect(source: str | Path, rejects: Iterable[str | Path] = ()) -> LineageStats:
    """Count the lineage of the records in ``source`` and of the lines of each ``rejects`` file.

    Args:
        source: the dataset: a JSONL or Parquet file of kept records.
        rejects: rejects and failures files (``generate --failures``, ``--rejects`` of
            filter, dedup, verify, or a pipeline's ``rejects=``).

    Raises:
        InputError: a file is missing or a line is malformed; the message names file and line.
    """
    stats = LineageStats(sources=[str(source), *(str(r) for r in rejects)])
    for record in _iter_kept(source):
        stats.add_kept(record, str(source))
    for path in stats.sources[1:]:
        for record, reject, where in _iter_rejects(path):
            stats.add_reject(record, reject, where)
    return stats


# -- Markdown ---------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#])")
_NEWLINES = re.compile(r"\r\n|\r|\n")
#: What YAML also reads as a line break (and folds to a space inside a quoted name).
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


def _text(value: object) -> str:
    """Escape ``value`` for Markdown prose: punctuation that formats is backslash-escaped, newlines become spaces."""
    return _MD_SPECIAL.sub(r"\\\1", _NEWLINES.sub(" ", str(value)))


def _cell(value: object) -> str:
    """Escape ``value`` for a table cell: like :func:`_text`, and newlines become ``<br>``."""
    return "<br>".join(_MD_SPECIAL.sub(r"\\\1", part) for part in _NEWLINES.split(str(value)))


def _code(value: object) -> str:
    """Return ``value`` as an inline code span that survives a table cell (``|`` escaped, newlines as spaces)."""
    text = _NEWLINES.sub(" ", str(value))
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


def _code_cell(value: object) -> str:
    """Return ``value`` as a code span for a table cell, or as escaped text when it holds a backslash.

    GFM splits a row at a ``|`` unless a backslash escapes it, even inside a code span, where a
    backslash is otherwise literal; text with backslashes is therefore written as escaped text.
    """
    text = str(value)
    return _cell(text) if "\\" in text else _code(text)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], align: str = "") -> str:
    """Return a Markdown table; cells must already be escaped. ``align`` holds ``l`` or ``r`` per column."""
    marks = ["---:" if (align[i:i + 1] == "r") else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _share(n: int, total: int) -> str:
    return f"{n / total:.1%}" if total else "–"


def _n(n: int) -> str:
    return f"{n:,}"


def _usd(x: float) -> str:
    return f"${x:,.2f}" if x >= 1 else f"${x:.6f}"


def _ranked(counter: Mapping[Any, int]) -> list[tuple[Any, int]]:
    """Items by count (largest first), ties by key, so tables are stable."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))


# -- the card ---------------------------------------------------------------------------


@attrs.frozen
class CardInfo:
    """What the card says about the dataset beyond its lineage: the Hub metadata.

    Attributes:
        name: the ``pretty_name`` and title (default: the data file's name).
        description: a paragraph saying what the set is for, put under the title.
        license: a Hub license id (``mit``, ``apache-2.0``, ``cc-by-4.0``...).
        language: language codes (``en``...).
        task_categories: Hub task categories (``text-generation``, ``question-answering``...).
        tags: more tags; ``synthetic`` and ``synthkit`` are always there.
        data_file: where the data sits in the dataset repository (``data/train.jsonl``),
            which adds a ``configs`` entry so the Hub's viewer and ``load_dataset`` find it.
        split: the split that file holds.
    """

    name: str | None = None
    description: str | None = None
    license: str | None = None
    language: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    task_categories: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    tags: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    data_file: str | None = None
    split: str = "train"


def _front_matter(stats: LineageStats, info: CardInfo, name: str) -> str:
    import yaml

    def line(value: str) -> str:
        return _LINE_BREAKS.sub(" ", value)

    def lines(values: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(line(v) for v in values))

    meta: dict[str, Any] = {"pretty_name": line(name)}
    if info.license:
        meta["license"] = line(info.license)
    if info.language:
        meta["language"] = lines(info.language)
    meta["size_categories"] = [size_category(stats.kept)]
    if info.task_categories:
        meta["task_categories"] = lines(info.task_categories)
    meta["tags"] = lines(["synthetic", "synthkit", *info.tags])
    if info.data_file:
        meta["configs"] = [{"config_name": "default", "data_files": [{"split": line(info.split), "path": line(info.data_file)}]}]
    body = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False, width=10_000)
    return f"---\n{body}---\n"


def _plugin_of(kind: str, name: str) -> tuple[str, str] | None:
    """Return (package, version) of the plugin that registered ``name`` as a ``kind``, if installed."""
    from synthkit.plugins import get_plugins

    plugins = get_plugins()
    reg = plugins.registries.get(kind)
    if reg is None:
        return None
    for entry in reg:
        if entry.name == name:
            return plugins.dists.get(entry.plugin)
    return None


def _check_kind(name: str) -> str:
    if _plugin_of("verifiers", name) is not None:
        return "verifier"
    if _plugin_of("filters", name) is not None:
        return "filter"
    return "check"


def _overview(stats: LineageStats, info: CardInfo, name: str) -> list[str]:
    out = [f"# {_text(name)}", ""]
    if info.description:
        out += [info.description.strip(), ""]
    syn = stats.origins.get("synthetic", 0)
    real = stats.origins.get("real", 0)
    what = f"This dataset holds {_n(stats.kept)} records: {_n(syn)} synthetic (written by a model) and {_n(real)} real."
    out += [
        what + " It was built with synthkit; this card was generated from "
        "the lineage every record carries (`synthkit card`), so each number below can be recomputed from the data.",
        "",
    ]
    if stats.fields:
        cols = ", ".join(_code(f) for f in sorted(stats.fields))
        out += [
            "## Dataset structure",
            "",
            (f"One JSON object per record with the fields {cols}. `lineage` says where the record came from: "
            "origin, teacher and model, template and its hash, sampling parameters, seed, parents, generation, "
            "the verdicts of every check it passed, finish reason and token usage."),
            "",
        ]
    return out


def _making(stats: LineageStats) -> list[str]:
    out = ["## How it was made", ""]
    if not stats.teachers and not stats.templates:
        out += ["No record names a teacher or a template: the records are not model output made by synthkit.", ""]
        return out
    if stats.teachers:
        out += ["### Teachers and models", ""]
        rows = [
            [_cell(t or "–"), _cell(m or "–"), _n(n), _share(n, stats.kept)]
            for (t, m), n in _ranked(stats.teachers)
        ]
        out += [_table(["Teacher", "Model", "Records", "Share"], rows, "llrr"), ""]
    if stats.templates:
        out += ["### Prompt templates", "", "The hash is of the template's source, so an edited template shows as a new row.", ""]
        rows = [[_cell(t or "–"), _code_cell(h) or "–", _n(n)] for (t, h), n in _ranked(stats.templates)]
        out += [_table(["Template", "Hash", "Records"], rows, "llr"), ""]
    if stats.params:
        out += ["### Sampling parameters", ""]
        rows = [[_code_cell(p) if p != "{}" else "(the teacher's defaults)", _n(n)] for p, n in _ranked(stats.params)]
        out += [_table(["Parameters", "Records"], rows, "lr"), ""]
    if stats.finish_reasons:
        out += ["### Finish reasons", ""]
        rows = [[_cell(r), _n(n), _share(n, stats.kept)] for r, n in _ranked(stats.finish_reasons)]
        out += [_table(["Finish reason", "Records", "Share"], rows, "lrr"), ""]
    return out


def _checks(stats: LineageStats) -> list[str]:
    out = ["## Verification and filtering", ""]
    if stats.has_rejects:
        files = ", ".join(_code(Path(p).name) for p in stats.sources[1:])
        out += [
            (f"Counts cover the {_n(stats.kept)} kept records and the {_n(stats.rejected)} rejected ones in {files}: "
            f"{_n(stats.kept)} kept + {_n(stats.n_dropped)} dropped + {_n(stats.n_failed)} failed = "
            f"{_n(stats.kept + stats.rejected)} records."),
            "",
        ]
    else:
        out += [
            ("**Pass rates cover kept records only.** No rejects file was given, so the records the checks "
            "rejected are not counted and every rate below is 100% by construction. Run `synthkit card` with "
            "`--rejects` (the rejects and failures files of the run) for true pass rates and drops per reason."),
            "",
        ]
    names = sorted(set(stats.passed) | set(stats.failed_checks))
    if names:
        rows = []
        for name in names:
            p, f = stats.passed[name], stats.failed_checks[name]
            rows.append([_cell(name), _check_kind(name), _n(p + f), _n(p), _n(f), _share(p, p + f)])
        out += [_table(["Check", "Kind", "Checked", "Passed", "Rejected", "Pass rate"], rows, "llrrrr"), ""]
    else:
        out += ["No record carries a verdict: nothing was verified or filtered.", ""]
    if stats.dropped:
        out += ["### Drops per reason", "", "Numbers and quoted values in reasons are masked (`#`), so like reasons count together.", ""]
        rows = [[_cell(s), _cell(r or "(no reason given)"), _n(n)] for (s, r), n in _ranked(stats.dropped)]
        out += [_table(["Step", "Reason", "Records"], rows, "llr"), ""]
    if stats.failed:
        out += ["### Failures", "", "Records a step could not process (errors, not judgements).", ""]
        rows = [[_cell(s), _cell(k), _n(n)] for (s, k), n in _ranked(stats.failed)]
        out += [_table(["Step", "Error kind", "Records"], rows, "llr"), ""]
    return out


def _mix(stats: LineageStats) -> list[str]:
    out = ["## Real and synthetic mix", ""]
    if not stats.kept:
        return [*out, "The dataset is empty.", ""]
    origins = collections.Counter({"synthetic": 0, "real": 0, **stats.origins})
    rows = [[_cell(o), _n(n), _share(n, stats.kept)] for o, n in _ranked(origins)]
    out += [_table(["Origin", "Records", "Share"], rows, "lrr"), ""]
    out += ["Generation 0 is real data; a model's output is one generation past its parent.", ""]
    rows = [[str(g), _n(n), _share(n, stats.kept)] for g, n in sorted(stats.generations.items())]
    out += [_table(["Generation", "Records", "Share"], rows, "rrr"), ""]
    return out


def _diagnostics(diag: Diagnosis | None, reference: str | None, note: str | None) -> list[str]:
    from synthkit.diagnostics.metrics import format_value

    out = ["## Diagnostics", ""]
    if note is not None:
        return [*out, note, ""]
    if diag is None:
        return [
            *out,
            ("Not computed. Run `synthkit card` with `--reference REAL.jsonl` (real records of the kind the set "
            "stands in for) to compare the synthetic records with real text of the same size, metric by metric."),
            "",
        ]
    s = diag.sizes
    out += [
        (f"The {_n(s['synthetic_records'])} synthetic records ({_n(s['synthetic_tokens'])} words) compared with "
        f"{_n(s['reference_records'])} real records of {_code(Path(reference or '').name)} ({_n(s['reference_tokens'])} words), "
        f"on equal-size samples of {_n(s['sample_tokens'])} words (`synthkit report` draws the same comparison as a page)."),
        "",
    ]
    if diag.warnings:
        out += [f"**Collapse warnings: {len(diag.warnings)}.**", ""]
        out += [f"- **{_text(m.title)}**: {_text(m.verdict)}" for m in diag.warnings]
        out.append("")
    elif all(m.status == "skipped" for m in diag.metrics):
        out += ["Nothing could be judged: there is too little text (see each metric).", ""]
    else:
        out += ["No collapse warnings: the synthetic records are as diverse as real text of the same size on every metric measured.", ""]
    rows = [
        [_cell(m.title), {"ok": "ok", "warn": "**warning**", "skipped": "skipped"}[m.status], format_value(m.synthetic), format_value(m.real), _cell(m.threshold), _cell(m.verdict)]
        for m in diag.metrics
    ]
    out += [_table(["Metric", "Status", "Synthetic", "Real", "Threshold", "Verdict"], rows, "llrrll"), ""]
    return out


def _cost(stats: LineageStats) -> list[str]:
    out = ["## Cost", ""]
    costs = {key: c for key, c in stats.costs.items() if c.requests}
    if not costs:
        return [*out, "No record carries token usage, so the cost is unknown.", ""]

    def money(c: _Cost) -> str:
        if not c.priced:
            return "unknown"
        if c.priced < c.requests:
            return f"at least {_usd(c.cost_usd)} ({_n(c.requests - c.priced)} requests unpriced)"
        return _usd(c.cost_usd)

    scope = "kept and rejected records" if stats.has_rejects else "kept records only (give `--rejects` to add the rejected ones, which were paid for too)"
    out += [
        (f"Token usage and cost as recorded in lineage, over {scope}, including earlier attempts of regenerated "
        "records. A cost is unknown where no price was recorded; none is guessed."),
        "",
    ]
    rows = [
        [_cell(t or "–"), _cell(m or "–"), _n(c.requests), _n(c.prompt_tokens), _n(c.completion_tokens), money(c)]
        for (t, m), c in sorted(costs.items())
    ]
    total = stats.total_cost()
    if len(rows) > 1:
        rows.append(["**total**", "", _n(total.requests), _n(total.prompt_tokens), _n(total.completion_tokens), money(total)])
    out += [_table(["Teacher", "Model", "Requests", "Prompt tokens", "Completion tokens", "Cost (USD)"], rows, "llrrrr"), ""]
    out += _per_kept(stats, total)
    return out


def _per_kept(stats: LineageStats, total: _Cost) -> list[str]:
    """Dollars per kept record, real-time and batch apart, in all and per step."""
    if not stats.kept or not total.priced:
        return []

    def per(c: _Cost) -> list[str]:
        realtime = c.cost_usd - c.batch_cost_usd
        return [_usd(realtime), _usd(c.batch_cost_usd), _usd(c.cost_usd / stats.kept)]

    line = (
        f"Per kept record: {_usd(total.cost_usd / stats.kept)} over {_n(stats.kept)} kept records "
        f"(real-time {_usd((total.cost_usd - total.batch_cost_usd) / stats.kept)}, batch {_usd(total.batch_cost_usd / stats.kept)}; "
        f"{_n(total.batch_requests)} of {_n(total.requests)} requests went through a batch API at its batch price)."
    )
    rows = [[_cell(step), _n(c.requests), *per(c)] for step, c in sorted(stats.step_costs.items()) if c.requests]
    return [line, "", _table(["Step", "Requests", "Real-time (USD)", "Batch (USD)", "Per kept record (USD)"], rows, "lrrrr"), ""]


def _made_with(stats: LineageStats) -> list[str]:
    """The commands that made the data, as the records' lineage keeps them (most records' sequence first)."""
    if not stats.commands:
        return []
    (top, n), *others = stats.commands.most_common()
    share = "every record" if not others else f"{n} of the {stats.kept} records"
    lines = "\n".join("$ " + c for c in top)
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", lines)), default=0) + 1)
    out = [
        f"The data was made with these commands ({share}; kept in each record's `lineage.commands`, without output "
        "paths, engine and concurrency flags, which do not change the records):",
        "",
        f"{fence}console",
        lines,
        fence,
        "",
    ]
    if others:
        out += [f"{len(others)} other command sequences made the other {stats.kept - n} records.", ""]
    return out


def _reproduce(stats: LineageStats, info: CardInfo, name: str, reference: str | None, output: str = "README.md") -> list[str]:
    from synthkit.plugins import _version

    out = ["## Reproduce", "", *_made_with(stats)]
    parts: list[str] = [f"synthkit {_version('synthkit')}"]
    used: dict[tuple[str, str], list[str]] = {}
    checks = set(stats.passed) | set(stats.failed_checks)
    for kind, parts_used in (("teachers", {t for t, _ in stats.teachers if t}), ("verifiers", checks), ("filters", checks)):
        for part in sorted(parts_used):
            dist = _plugin_of(kind, part)
            if dist is not None and dist[0] != "synthkit":
                used.setdefault(dist, []).append(f"{kind[:-1]} {part}")
    parts += [f"{pkg} {ver} ({', '.join(what)})" for (pkg, ver), what in sorted(used.items())]
    out += [
        "Built with " + "; ".join(_text(p) for p in parts) + ". Every record's lineage holds its seed, template hash "
        "and sampling parameters, so a run with the same inputs and seed makes the same records. This card was made with:",
        "",
    ]
    cmd = ["synthkit", "card", Path(stats.sources[0]).name, "-o", output]
    for r in stats.sources[1:]:
        cmd += ["--rejects", Path(r).name]
    if reference:
        cmd += ["--reference", Path(reference).name]
    for flag, value in (("--name", info.name and name), ("--license", info.license), ("--data-file", info.data_file)):
        if value:
            cmd += [flag, value]
    if info.data_file and info.split != "train":
        cmd += ["--split", info.split]
    for flag, values in (("--language", info.language), ("--task-category", info.task_categories), ("--tag", info.tags)):
        for value in values:
            cmd += [flag, value]
    if info.description:
        cmd += ["--description", info.description]
    line = "$ " + shlex.join(cmd)
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", line)), default=0) + 1)
    out += [f"{fence}console", line, fence, ""]
    return out


def render_card(
    stats: LineageStats,
    info: CardInfo | None = None,
    *,
    diagnosis: Diagnosis | None = None,
    reference: str | None = None,
    diagnostics_note: str | None = None,
    output: str = "README.md",
) -> str:
    """Return the dataset card (YAML front matter, then Markdown) for ``stats``.

    Args:
        stats: the counts from :func:`collect`.
        info: the Hub metadata and description.
        diagnosis: collapse diagnostics from :func:`synthkit.diagnostics.metrics.diagnose`.
        reference: the reference file the diagnosis used (named in the card).
        diagnostics_note: said instead of the diagnostics when they could not be computed.
        output: the card's file name, as its Reproduce section's command writes it.
    """
    info = info or CardInfo()
    default = Path(stats.sources[0]).stem if stats.sources else "Synthetic dataset"
    name = _LINE_BREAKS.sub(" ", info.name or default)
    lines = _overview(stats, info, name)
    lines += _making(stats)
    lines += _checks(stats)
    lines += _mix(stats)
    lines += _diagnostics(diagnosis, reference, diagnostics_note)
    lines += _cost(stats)
    lines += _reproduce(stats, info, name, reference, output)
    return _front_matter(stats, info, name) + "\n" + "\n".join(lines).rstrip() + "\n"


def dataset_card(
    source: str | Path,
    *,
    rejects: Iterable[str | Path] = (),
    reference: str | Path | None = None,
    field: str | None = None,
    seed: int = 0,
    embed: Embedder | None = None,
    info: CardInfo | None = None,
    output: str = "README.md",
) -> str:
    """Return a Hugging Face dataset card for the records in ``source``.

    Args:
        source: the dataset, a JSONL or Parquet file of records with lineage.
        rejects: the run's rejects and failures files, for true pass rates, drops per
            reason and the cost of rejected records.
        reference: real records (JSONL or Parquet) to run the collapse diagnostics against; the
            synthetic records of ``source`` are compared with them.
        field: the text field the diagnostics read (default: text, else response, else prompt).
        seed: seed of the diagnostics' samples.
        embed: texts -> vectors for the embedding-coverage metric (default: see
            :func:`synthkit.diagnostics.metrics.diagnose`).
        info: the Hub metadata (name, license, language...).
        output: the card's file, as the Reproduce section names it.

    Raises:
        InputError: a file is missing or malformed; the message names file and line.
    """
    stats = collect(source, rejects)
    diagnosis = None
    note = None
    if reference is not None:
        from synthkit.diagnostics.metrics import diagnose

        synthetic = [r for r in _iter_kept(source) if r.lineage.origin == "synthetic"]
        if not synthetic:
            note = f"Not computed: {_code(Path(source).name)} holds no synthetic records to compare with the reference."
        else:
            ref = list(_iter_kept(reference))
            diagnosis = diagnose(synthetic, ref, field=field, seed=seed, embed=embed)
    return render_card(
        stats, info, diagnosis=diagnosis, reference=None if reference is None else str(reference), diagnostics_note=note, output=output
    )


def write_card(source: str | Path, path: str | Path = "README.md", **options: Any) -> Path:
    """Write :func:`dataset_card` for ``source`` to ``path`` (its folder is created) and return the path.

    The card is built in full before the file is opened, so an error leaves an existing card untouched.
    """
    path = Path(path)
    text = dataset_card(source, **{"output": str(path), **options})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
