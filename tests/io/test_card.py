"""Tests of `synthkit card`: the Hub front matter parses, every section reflects the records, counts add up, cells escape."""

from __future__ import annotations

import json
import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import synthkit as sk
from synthkit.io.card import CardInfo, collect, dataset_card, render_card, size_category
from synthkit.cli import cli, main
from synthkit.errors import InputError
from tests.strategies import records as record_strategy
from tests.strategies import text as text_strategy

# -- helpers -------------------------------------------------------------------------------

_CELL = re.compile(r"(?:\\.|[^|\\])+")
_UNESCAPE = re.compile(r"\\(.)|<br>")


def front_matter(card: str) -> dict:
    """Return the card's YAML front matter, parsed with PyYAML."""
    assert card.startswith("---\n")
    head, sep, _ = card[4:].partition("\n---\n")
    assert sep, "the front matter is not closed"
    return yaml.safe_load(head)


def section(card: str, title: str) -> str:
    """Return the text of the ``##``/``###`` section called ``title``, up to the next heading of any level."""
    m = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)", card, flags=re.MULTILINE | re.DOTALL)
    assert m, f"no section {title!r} in the card"
    return m.group(1)


def unescape(cell: str) -> str:
    """Undo the card's cell escaping: backslash escapes and ``<br>`` line breaks."""
    return _UNESCAPE.sub(lambda m: "\n" if m.group(0) == "<br>" else m.group(1), cell.strip()).strip()


def table(text: str) -> list[list[str]]:
    """Return the rows (header and separator left out) of the first Markdown table in ``text``, cells unescaped.

    A row is split the way GFM splits it: at every ``|`` not escaped by a backslash.
    """
    all_lines = text.split("\n")  # Markdown breaks lines at \n only
    start = next((i for i, ln in enumerate(all_lines) if ln.startswith("| ")), len(all_lines))
    lines = []
    for ln in all_lines[start:]:
        if not ln.startswith("| "):
            break
        lines.append(ln)
    assert len(lines) >= 2, f"no table in {text!r}"
    width = len(_CELL.findall(lines[0][1:-1]))
    rows = []
    for line in lines[2:]:
        assert line.endswith(" |"), line
        cells = [unescape(c) for c in _CELL.findall(line[1:-1])]
        assert len(cells) == width, f"row {line!r} has {len(cells)} cells, the header {width}"
        rows.append(cells)
    return rows


def number(cell: str) -> int:
    return int(cell.replace(",", ""))


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run_card(*args: str):
    return CliRunner().invoke(cli, ["card", *map(str, args)], catch_exceptions=False)


@pytest.fixture(scope="module")
def procedural_run(tmp_path_factory) -> dict[str, Path]:
    """A real pipeline run: the procedural teacher, the final-answer verifier and exact-dedup, kept and rejects written."""
    folder = tmp_path_factory.mktemp("run")
    teacher = sk.get_teacher("procedural", error_rate=0.15)
    summary = (
        sk.Pipeline(teacher.problems(300, seed=3), seed=3)
        .generate(teacher, template="cot")
        .verify("final-answer")
        .filter("exact-dedup")
        .run(sink=folder / "data.jsonl", rejects=folder / "rejects.jsonl")
    )
    assert summary.balanced and summary.n_dropped > 0
    (folder / "summary.json").write_text(json.dumps(summary.to_dict()))
    return {"data": folder / "data.jsonl", "rejects": folder / "rejects.jsonl", "summary": folder / "summary.json", "folder": folder}


# -- the card reflects a real run ----------------------------------------------------------


def test_front_matter_parses_with_pyyaml_and_huggingface_hub(procedural_run, tmp_path):
    """The front matter parses with PyYAML and DatasetCard, and holds the flags, the size category and the config."""
    from huggingface_hub import DatasetCard

    out = tmp_path / "README.md"
    res = run_card(
        procedural_run["data"], "-o", out, "--rejects", procedural_run["rejects"], "--license", "mit", "--language", "en",
        "--task-category", "question-answering", "--tag", "math", "--tag", "synthetic", "--data-file", "data/train.jsonl",
        "--name", "Procedural maths: worked solutions",
    )
    assert res.exit_code == 0, res.output
    card = out.read_text()
    meta = front_matter(card)
    expected = {
        "pretty_name": "Procedural maths: worked solutions",
        "license": "mit",
        "language": ["en"],
        "size_categories": ["n<1K"],
        "task_categories": ["question-answering"],
        "tags": ["synthetic", "synthkit", "math"],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train.jsonl"}]}],
    }
    assert meta == expected
    hub = DatasetCard(card)
    assert hub.data.to_dict() == expected
    assert hub.text.lstrip().startswith("# Procedural maths: worked solutions")
    assert "--name 'Procedural maths: worked solutions' --license mit" in section(card, "Reproduce")


def test_sections_reflect_the_run(procedural_run, tmp_path):
    """Teachers, templates with hashes, checks with pass rates, drops per reason, mix and cost match the run's files."""
    from synthkit.pipeline import reason_key

    out = tmp_path / "README.md"
    assert run_card(procedural_run["data"], "-o", out, "--rejects", procedural_run["rejects"]).exit_code == 0
    card = out.read_text()
    kept = read_jsonl(procedural_run["data"])
    rejects = read_jsonl(procedural_run["rejects"])
    summary = json.loads(procedural_run["summary"].read_text())

    assert f"This dataset holds {len(kept)} records: {len(kept)} synthetic" in card
    assert table(section(card, "Teachers and models")) == [["procedural", "procedural-v1", str(len(kept)), "100.0%"]]
    cot_hash = sk.get_template("cot").hash
    assert table(section(card, "Prompt templates")) == [["cot", f"`{cot_hash}`", str(len(kept))]]

    checks = {row[0]: row[1:] for row in table(section(card, "Verification and filtering"))}
    n_final = sum(1 for r in rejects if r["reject"]["step"] == "final-answer")
    n_dedup = sum(1 for r in rejects if r["reject"]["step"] == "exact-dedup")
    total = len(kept) + len(rejects)
    assert checks["final-answer"][:4] == ["verifier", str(total), str(total - n_final), str(n_final)]
    assert checks["exact-dedup"][:4] == ["filter", str(total - n_final), str(len(kept)), str(n_dedup)]
    assert checks["final-answer"][4] == f"{(total - n_final) / total:.1%}"
    assert f"{len(kept)} kept + {len(rejects)} dropped + 0 failed = {total} records" in card

    drops = {(s, r): number(n) for s, r, n in table(section(card, "Drops per reason"))}
    assert drops == {(d["step"], d["reason"]): d["count"] for d in summary["dropped"]}
    assert drops == Counter((r["reject"]["step"], reason_key(r["reject"]["reason"])) for r in rejects)

    assert table(section(card, "Real and synthetic mix")) == [["synthetic", str(len(kept)), "100.0%"], ["real", "0", "0.0%"]]
    (cost,) = table(section(card, "Cost"))
    everything = kept + rejects
    assert cost[:3] == ["procedural", "procedural-v1", str(total)]
    assert number(cost[3]) == sum(r["lineage"]["usage"]["prompt_tokens"] for r in everything)
    assert number(cost[4]) == sum(r["lineage"]["usage"]["completion_tokens"] for r in everything)
    assert cost[5] == "unknown"  # the procedural teacher records no price, and none is invented
    assert f"$ synthkit card data.jsonl -o {out} --rejects rejects.jsonl" in card  # the real -o
    assert "synthkit-procedural" in section(card, "Reproduce")


def test_a_parquet_dataset_gives_the_same_card(procedural_run, tmp_path):
    """The kept records written as Parquet give the same card as the JSONL file, but for the file name."""
    from synthkit.io.interchange import read_records, write_records

    parquet = tmp_path / "data.parquet"
    write_records(read_records(procedural_run["data"]), parquet)
    from_jsonl = dataset_card(procedural_run["data"], rejects=[procedural_run["rejects"]])
    from_parquet = dataset_card(parquet, rejects=[procedural_run["rejects"]])
    assert from_parquet == from_jsonl.replace("synthkit card data.jsonl", "synthkit card data.parquet")


def test_without_rejects_the_card_says_pass_rates_cover_kept_records_only(procedural_run, tmp_path):
    """Without --rejects every check shows 100% and the card says plainly why."""
    card = dataset_card(procedural_run["data"])
    text = section(card, "Verification and filtering")
    assert "**Pass rates cover kept records only.**" in text
    assert {row[-1] for row in table(text)} == {"100.0%"}
    assert "Drops per reason" not in card
    assert "kept records only" in section(card, "Cost")


def test_the_card_is_deterministic(procedural_run, tmp_path):
    """The same inputs give byte-identical cards; only the Reproduce section's -o names each card's own file."""
    a, b = tmp_path / "a.md", tmp_path / "b" / "README.md"
    for out in (a, b):
        assert run_card(procedural_run["data"], "-o", out, "--rejects", procedural_run["rejects"], "--license", "mit").exit_code == 0
    assert a.read_text().replace(str(a), "OUT") == b.read_text().replace(str(b), "OUT")
    again = tmp_path / "again.md"
    assert run_card(procedural_run["data"], "-o", a, "--rejects", procedural_run["rejects"], "--license", "mit").exit_code == 0
    assert run_card(procedural_run["data"], "-o", a, "--rejects", procedural_run["rejects"], "--license", "mit").exit_code == 0
    again.write_bytes(a.read_bytes())
    assert run_card(procedural_run["data"], "-o", a, "--rejects", procedural_run["rejects"], "--license", "mit").exit_code == 0
    assert a.read_bytes() == again.read_bytes()


def test_cost_and_failures_from_the_fake_openai_server(openai_server, tmp_path, monkeypatch):
    """Through `synthkit generate` on the local server: tokens and dollars add up over kept and failed records; failures are tabled."""
    monkeypatch.setenv("SYNTHKIT_RETRY_NO_WAIT", "1")
    openai_server.configure(fault_script=lambda m: "404" if m[-1]["content"].endswith("7") else None)
    src = write_jsonl(tmp_path / "in.jsonl", [{"prompt": f"question {i}"} for i in range(20)])
    gen, failures = tmp_path / "gen.jsonl", tmp_path / "gen.failures.jsonl"
    args = [str(src), "-o", str(gen), "--model", "gpt-4o-mini", "--base-url", openai_server.url, "--api-key", "k", "-p", "temperature=0.7"]
    res = CliRunner().invoke(cli, ["generate", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    kept = read_jsonl(gen)
    assert len(kept) == 18 and len(read_jsonl(failures)) == 2
    spent = sum(r["lineage"]["usage"]["cost_usd"] for r in kept)
    assert spent > 0

    out = tmp_path / "README.md"
    assert run_card(gen, "-o", out, "--rejects", failures).exit_code == 0
    card = out.read_text()
    assert table(section(card, "Teachers and models")) == [["openai", "gpt-4o-mini", "18", "100.0%"]]
    assert table(section(card, "Sampling parameters")) == [['`{"temperature": 0.7}`', "18"]]
    assert table(section(card, "Failures")) == [["generate:openai", "http_404", "2"]]
    assert "18 kept + 0 dropped + 2 failed = 20 records" in card
    (cost,) = table(section(card, "Cost"))
    assert cost[:5] == ["openai", "gpt-4o-mini", "18", str(sum(r["lineage"]["usage"]["prompt_tokens"] for r in kept)),
                        str(sum(r["lineage"]["usage"]["completion_tokens"] for r in kept))]
    assert cost[5] == f"${spent:.6f}"


def test_unpriced_and_partly_priced_costs_are_never_invented(tmp_path):
    """No recorded cost shows 'unknown'; some missing shows a lower bound with the count; earlier attempts are paid too."""
    def rec(i: int, model: str, usage: dict, attempts: tuple = ()) -> dict:
        lineage = {"origin": "synthetic", "teacher": "openai", "model": model, "generation": 1, "usage": usage, "attempts": list(attempts)}
        return sk.Record.create(prompt=f"p{i}", response="r", lineage=sk.Lineage.from_dict(lineage)).to_dict()

    rows = [
        rec(0, "local-model", {"prompt_tokens": 10, "completion_tokens": 5}),
        rec(1, "gpt-4o-mini", {"prompt_tokens": 10, "completion_tokens": 5, "cost_usd": 0.25}),
        rec(2, "gpt-4o-mini", {"prompt_tokens": 10, "completion_tokens": 5},
            attempts=[{"attempt": 1, "response": "x", "usage": {"prompt_tokens": 7, "completion_tokens": 3, "cost_usd": 0.5}}]),
    ]
    card = dataset_card(write_jsonl(tmp_path / "d.jsonl", rows))
    costs = {(t, m): c for t, m, *c in table(section(card, "Cost"))}
    assert costs[("openai", "local-model")] == ["1", "10", "5", "unknown"]
    assert costs[("openai", "gpt-4o-mini")] == ["3", "27", "13", "at least $0.750000 (1 requests unpriced)"]
    assert costs[("**total**", "")] == ["4", "37", "18", "at least $0.750000 (2 requests unpriced)"]


def test_diagnostics_table_and_collapse_warnings(tmp_path):
    """--reference puts every metric of synthkit.diagnostics.metrics in the card, with the collapse warnings it fires."""
    from synthkit.diagnostics.metrics import diagnose
    from tests.diagnostics.test_diagnostics import corpora, hashing_embedder

    c = corpora()
    lineage = {"origin": "synthetic", "generation": 1, "teacher": "t", "model": "m"}
    data = write_jsonl(tmp_path / "data.jsonl", [{"text": t, "lineage": lineage} for t in c["collapsed"]] + [{"text": t} for t in c["healthy"][:50]])
    real = write_jsonl(tmp_path / "real.jsonl", [{"text": t} for t in c["reference"]])
    card = dataset_card(data, reference=real, embed=hashing_embedder)
    expected = diagnose([t for t in c["collapsed"]], c["reference"], embed=hashing_embedder)
    text = section(card, "Diagnostics")
    rows = table(text)
    assert [r[0] for r in rows] == [m.title for m in expected.metrics]
    assert [r[1] for r in rows] == [{"ok": "ok", "warn": "**warning**", "skipped": "skipped"}[m.status] for m in expected.metrics]
    assert expected.warnings and f"**Collapse warnings: {len(expected.warnings)}.**" in text
    for m in expected.warnings:
        assert f"- **{m.title}**" in text
    assert f"The {len(c['collapsed']):,} synthetic records" in text
    assert "--reference real.jsonl" in section(card, "Reproduce")


def test_diagnostics_note_when_nothing_is_synthetic(tmp_path):
    """A set of real records only gets a plain note instead of diagnostics."""
    data = write_jsonl(tmp_path / "data.jsonl", [{"text": f"real text {i}"} for i in range(5)])
    card = dataset_card(data, reference=data)
    assert "holds no synthetic records" in section(card, "Diagnostics")
    assert "Teachers and models" not in card and "No record names a teacher" in card


# -- escaping and bad input ----------------------------------------------------------------


def test_cells_with_pipes_newlines_and_markup_escape(tmp_path):
    """Names holding |, newlines, backticks and HTML stay inside their cell and read back exactly."""
    teacher, model, template = "te|ach\ner", "m`o<b>d</b>", "t*p_l|"
    lineage = {"origin": "synthetic", "teacher": teacher, "model": model, "template": template, "template_hash": "ab|c`d",
               "params": {"stop": ["|", "a\\|b"]}, "verdicts": [{"name": "che|ck\nname", "passed": True}], "generation": 1,
               "usage": {"prompt_tokens": 1, "completion_tokens": 2}}
    data = write_jsonl(tmp_path / "d.jsonl", [{"prompt": "p", "lineage": lineage}])
    rejects = write_jsonl(tmp_path / "r.jsonl", [{"reject": {"status": "dropped", "step": "st|ep", "reason": "bad\n| row |"}}])
    card = dataset_card(data, rejects=[rejects], info=CardInfo(name="A | B\n# not a heading"))
    assert table(section(card, "Teachers and models")) == [[teacher, model, "1", "100.0%"]]
    assert table(section(card, "Prompt templates")) == [[template, "``ab|c`d``", "1"]]
    assert table(section(card, "Sampling parameters"))[0][0] == json.dumps({"stop": ["|", "a\\|b"]}, sort_keys=True)
    assert table(section(card, "Verification and filtering"))[0][0] == "che|ck\nname"
    assert table(section(card, "Drops per reason")) == [["st|ep", "bad\n| row |", "1"]]
    assert front_matter(card)["pretty_name"] == "A | B # not a heading"
    assert "\n# not a heading" not in card and card.count("\n# ") == 1
    assert "--name 'A | B # not a heading'" in section(card, "Reproduce")


def test_bad_kept_line_names_file_and_line(tmp_path):
    """A malformed line of the input stops the card with file:line, and an existing card is left as it was."""
    data = tmp_path / "data.jsonl"
    data.write_text('{"prompt": "a"}\n{"prompt": "b"}\n{"prompt": \n')
    out = tmp_path / "README.md"
    out.write_text("the old card")
    with pytest.raises(InputError, match=re.escape(f"{data}:3:")):
        sk.write_card(data, out)
    assert out.read_text() == "the old card"


def test_bad_rejects_lines_name_file_and_line(tmp_path, capsys):
    """A rejects line without a reject object, or with a bad status or JSON, is an error naming file:line and the fix."""
    data = write_jsonl(tmp_path / "data.jsonl", [{"prompt": "a"}])
    cases = [
        ([{"reject": {"step": "s"}}, {"prompt": "kept by mistake"}], ":2: no 'reject' object", "not kept records"),
        ([{"reject": {"step": "s", "status": "maybe"}}], ":1: reject.status must be", "'dropped' or 'failed'"),
    ]
    for rows, where, fix in cases:
        rej = write_jsonl(tmp_path / "rej.jsonl", rows)
        with pytest.raises(InputError, match=re.escape(where)) as info:
            collect(data, [rej])
        assert str(rej) in str(info.value) and fix in str(info.value)
    (tmp_path / "rej.jsonl").write_text('{"reject": {"step": "s"}}\n\n{oops\n')
    with pytest.raises(SystemExit) as exit_info:
        main(["card", str(data), "-o", str(tmp_path / "c.md"), "--rejects", str(tmp_path / "rej.jsonl")])
    assert exit_info.value.code == 1
    assert f"{tmp_path / 'rej.jsonl'}:3:" in capsys.readouterr().err
    assert not (tmp_path / "c.md").exists()


def test_a_rejects_file_given_as_the_input_is_named(procedural_run):
    """Passing the rejects file as IN.jsonl is caught, with the fix (use --rejects)."""
    with pytest.raises(InputError, match="pass it with --rejects"):
        collect(procedural_run["rejects"])


def test_help_has_an_example():
    """`synthkit card --help` documents every flag and shows an Example line that runs as written."""
    res = CliRunner().invoke(cli, ["card", "--help"])
    assert res.exit_code == 0
    example = re.search(r"^\s*Example:\n\s+(synthkit card .+)$", res.output, flags=re.MULTILINE)
    assert example and "--rejects" in example.group(1)
    for flag in ("--rejects", "--reference", "--license", "--language", "--task-category", "--tag", "--data-file", "--split", "--name"):
        assert flag in res.output
    assert "card" in CliRunner().invoke(cli, ["--help"]).output


@pytest.mark.parametrize(("n", "label"), [(0, "n<1K"), (999, "n<1K"), (1000, "1K<n<10K"), (99_999, "10K<n<100K"), (10**6, "1M<n<10M")])
def test_size_category(n, label):
    """size_categories follows the Hub's bands."""
    assert size_category(n) == label


# -- property ------------------------------------------------------------------------------

rejects_strategy = st.lists(
    st.tuples(
        st.none() | record_strategy,
        st.sampled_from(["dropped", "failed"]),
        st.text(min_size=1, max_size=12),
        text_strategy,
    ),
    max_size=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kept=st.lists(record_strategy.filter(lambda r: "reject" not in r.data), max_size=8), rejected=rejects_strategy, name=text_strategy)
def test_counts_in_the_card_add_up(kept, rejected, name):
    """For any records and rejects, the YAML parses and every table's counts add up to the records given."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data.jsonl"
        data.write_text("".join(r.to_json() + "\n" for r in kept))
        rej = Path(folder) / "rejects.jsonl"
        lines = []
        for record, status, step, reason in rejected:
            row = record.to_dict() if record is not None else {}
            row["reject"] = {"status": status, "step": step, "reason": reason, "kind": reason}
            lines.append(json.dumps(row) + "\n")
        rej.write_text("".join(lines))
        stats = collect(data, [rej])
        card = render_card(stats, CardInfo(name=name or None))
    meta = front_matter(card)
    assert meta["pretty_name"] == (re.sub(r"\r\n|[\r\n\x85\u2028\u2029]", " ", name) if name else "data")
    assert meta["size_categories"] == [size_category(len(kept))]
    n_dropped = sum(1 for _, status, _, _ in rejected if status == "dropped")
    n_failed = len(rejected) - n_dropped
    assert f"{len(kept)} kept + {n_dropped} dropped + {n_failed} failed = {len(kept) + len(rejected)} records" in card

    everyone = [*kept, *(r for r, *_ in rejected if r is not None)]
    verdicts = [v for r in everyone for v in r.lineage.verdicts]
    if verdicts:
        rows = table(section(card, "Verification and filtering"))
        assert {r[0] for r in rows} == {re.sub(r"\r\n|\r", "\n", v.name).strip() for v in verdicts}
        for _, _, checked, passed, failed, _ in rows:
            assert number(checked) == number(passed) + number(failed)
        assert sum(number(r[3]) for r in rows) == sum(v.passed for v in verdicts)
        assert sum(number(r[4]) for r in rows) == sum(not v.passed for v in verdicts)
    if n_dropped:
        assert sum(number(r[2]) for r in table(section(card, "Drops per reason"))) == n_dropped
    if n_failed:
        assert sum(number(r[2]) for r in table(section(card, "Failures"))) == n_failed
    if kept:
        assert sum(number(r[1]) for r in table(section(card, "Real and synthetic mix"))) == len(kept)
    made = [r for r in kept if r.lineage.teacher is not None or r.lineage.model is not None]
    if made:
        assert sum(number(r[2]) for r in table(section(card, "Teachers and models"))) == len(made)
    paid = [r for r in everyone if r.lineage.usage]
    if paid:
        rows = table(section(card, "Cost"))
        rows = [r for r in rows if r[0] != "**total**"]
        assert sum(number(r[2]) for r in rows) == len(paid)
        assert sum(number(r[3]) for r in rows) == sum(int(r.lineage.usage.get("prompt_tokens", 0)) for r in paid)
