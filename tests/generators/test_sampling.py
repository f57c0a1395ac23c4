"""Best-of-n, rejection sampling and preference pairs: pass rates, keep-k, too easy / too hard, every sample accounted for."""

from __future__ import annotations

import asyncio
import collections
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import synthkit as sk
from synthkit.cli import cli
from synthkit.generators.generate import Generate
from synthkit.generators.pairs import pair
from synthkit.generators.sampling import BestOfN, select
from synthkit.io.interchange import write_records
from synthkit.records import Lineage, Record, Verdict

N = 6


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def invoke(*args: str):
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    """N samples of each of 30 procedural problems from `synthkit generate` with a teacher that errs 40% of the time."""
    d = tmp_path_factory.mktemp("samples")
    write_records(sk.get_teacher("procedural").problems(30, seed=7, families=["arithmetic", "word-problems", "linear-equations"]), d / "problems.jsonl")
    invoke(
        "generate", str(d / "problems.jsonl"), "-o", str(d / "samples.jsonl"), "--teacher", "procedural",
        "--teacher-option", "error_rate=0.4", "--teacher-option", "think=true", "-n", str(N), "--no-cache",
    )
    return d / "samples.jsonl"


def verify_all(rows: list[dict]) -> dict[str, bool]:
    """Each sample's verdict by the final-answer verifier, computed here independently of the command under test."""
    v = sk.get_verifier("final-answer")

    async def go():
        return {r["id"]: (await v.verify(Record.from_dict(r))).passed for r in rows}

    return asyncio.run(go())


def test_procedural_teacher_options_reach_it_from_the_cli(samples):
    """--teacher-option error_rate=0.4 and think=true: some samples are wrong, every sample carries reasoning."""
    rows = read_jsonl(samples)
    assert len(rows) == 30 * N
    passed = verify_all(rows)
    assert 0.35 * len(rows) < list(passed.values()).count(False) < 0.75 * len(rows)
    assert all(r["reasoning"] and r["response"].startswith("Final answer:") for r in rows)


def test_select_keeps_k_records_pass_rates_and_accounts_for_every_sample(samples, tmp_path):
    """select --keep 2: kept samples pass, at most 2 per prompt, pass rates match, kept + rejects == samples."""
    kept, rej, rates = tmp_path / "kept.jsonl", tmp_path / "rej.jsonl", tmp_path / "rates.jsonl"
    res = invoke("select", str(samples), "-o", str(kept), "--verifier", "final-answer", "--keep", "2",
                 "--too-easy", "1", "--too-hard", "0", "--rejects", str(rej), "--pass-rates", str(rates))
    rows, kept_rows, rej_rows, rate_rows = read_jsonl(samples), read_jsonl(kept), read_jsonl(rej), read_jsonl(rates)
    passed = verify_all(rows)
    assert sorted(r["id"] for r in kept_rows + rej_rows) == sorted(r["id"] for r in rows)  # each sample exactly once
    assert all(passed[r["id"]] for r in kept_rows)
    by_prompt = collections.defaultdict(list)
    for r in rows:
        by_prompt[r["lineage"]["parents"][0]].append(passed[r["id"]])
    assert {r["prompt_id"]: r["n_passed"] for r in rate_rows} == {p: sum(v) for p, v in by_prompt.items()}
    assert all(r["n_samples"] == N and r["pass_rate"] == r["n_passed"] / N for r in rate_rows)
    outcome = {r["prompt_id"]: r["outcome"] for r in rate_rows}
    per_prompt = collections.Counter(r["lineage"]["parents"][0] for r in kept_rows)
    for p, flags in by_prompt.items():
        if all(flags):
            assert outcome[p] == "too easy" and per_prompt[p] == 0
        elif not any(flags):
            assert outcome[p] == "too hard" and per_prompt[p] == 0
        else:
            assert outcome[p] == "kept" and per_prompt[p] == min(2, sum(flags))
    assert all(r["pass_rate"] == r["n_passed"] / N and r["n_samples"] == N for r in kept_rows)
    reasons = {r["reject"]["reason"].split(":")[0] for r in rej_rows}
    assert reasons <= {"failed final-answer", "passed, not kept", "too easy", "too hard (or a wrong reference)"}
    # a failing sample's reject carries its verdict
    failed = [r for r in rej_rows if r["reject"]["reason"].startswith("failed")]
    assert failed and all(r["lineage"]["verdicts"][-1]["passed"] is False for r in failed)
    assert f"{len(rows)} inputs -> {len(kept_rows)} kept, {len(rej_rows)} dropped, 0 failed" in res.output


def test_pairs_chosen_verify_rejected_do_not_and_every_sample_is_accounted_for(samples, tmp_path):
    """synthkit pairs: one pair per prompt with both kinds; chosen passes, rejected fails; lineage names both."""
    out, rej = tmp_path / "pairs.jsonl", tmp_path / "unpaired.jsonl"
    res = invoke("pairs", str(samples), "-o", str(out), "--verifier", "final-answer", "--rejects", str(rej))
    rows, pairs, rej_rows = read_jsonl(samples), read_jsonl(out), read_jsonl(rej)
    passed = verify_all(rows)
    by_id = {r["id"]: r for r in rows}
    mixed = {p for p in {r["lineage"]["parents"][0] for r in rows}
             if len({passed[r["id"]] for r in rows if r["lineage"]["parents"][0] == p}) == 2}
    assert len(pairs) == len(mixed) > 0
    used = []
    for p in pairs:
        c, r = p["chosen"], p["rejected"]
        assert passed[c["id"]] and not passed[r["id"]]
        assert p["lineage"]["parents"] == [c["id"], r["id"]]
        assert by_id[c["id"]]["lineage"]["parents"][0] == by_id[r["id"]]["lineage"]["parents"][0] in mixed
        assert c["response"] == by_id[c["id"]]["response"] and c["reasoning"] == by_id[c["id"]]["reasoning"]
        assert p["prompt"] == by_id[c["id"]]["prompt"] and "reasoning" not in p
        assert p["lineage"]["commands"][-1].startswith("synthkit pairs ") and p["lineage"]["commands"][0].startswith("synthkit generate ")
        used += [c["id"], r["id"]]
    assert sorted(used + [r["id"] for r in rej_rows]) == sorted(by_id)  # each sample in a pair or in rejects, once
    assert all(r["reject"]["reason"] for r in rej_rows)
    assert f"{len(rows)} samples of 30 prompts -> {len(pairs)} pairs" in res.output


def _sample(i: int, passed: bool, score: float | None, parent: str = "p") -> Record:
    lin = Lineage(origin="synthetic", parents=(parent,), generation=1, verdicts=(Verdict("v", passed, "r", score),))
    return Record.create(prompt="q", response=f"a{i}", lineage=lin)


outcomes = st.lists(st.tuples(st.booleans(), st.one_of(st.none(), st.floats(0, 1))), min_size=1, max_size=10)


@given(outcomes=outcomes, keep=st.one_of(st.none(), st.integers(1, 4)), by=st.sampled_from(["first", "score"]),
       easy=st.one_of(st.none(), st.just(1.0)), hard=st.one_of(st.none(), st.just(0.0)))
def test_select_conserves_samples(outcomes, keep, by, easy, hard):
    """Every sample is kept or dropped with a reason, never both; kept ones pass; at most keep are kept."""
    group = [_sample(i, p, s) for i, (p, s) in enumerate(outcomes)]
    got = select(group, keep=keep, by=by, too_easy=easy, too_hard=hard)
    ids = [r.id for r in got.kept] + [r.id for r, _ in got.dropped]
    assert sorted(ids) == sorted(r.id for r in group)
    assert all(r.lineage.verdicts[-1].passed for r in got.kept)
    assert keep is None or len(got.kept) <= keep
    assert all(reason for _, reason in got.dropped)
    assert got.tally.n_passed == sum(p for p, _ in outcomes)


@given(outcomes=outcomes, by=st.sampled_from(["verdict", "score"]), margin=st.sampled_from([0.0, 0.5]))
def test_pair_conserves_samples_and_orders_chosen_over_rejected(outcomes, by, margin):
    """A pair uses two distinct samples, chosen over rejected by the margin; all others are dropped with a reason."""
    group = [_sample(i, p, s) for i, (p, s) in enumerate(outcomes)]
    made, dropped = pair(group, by=by, margin=margin)
    used = [] if made is None else [made.data["chosen"]["id"], made.data["rejected"]["id"]]
    assert sorted(used + [r.id for r, _ in dropped]) == sorted(r.id for r in group)
    assert all(reason for _, reason in dropped)
    if made is not None:
        c, r = made.data["chosen"], made.data["rejected"]
        assert c["score"] - r["score"] >= margin and c["id"] != r["id"]
        if by == "verdict":
            assert c["passed"] and not r["passed"]
        else:
            assert c["score"] > r["score"]


def test_ties_and_one_sided_prompts_are_dropped_with_reasons():
    """All passing, all failing, a score tie and a margin too small each say why no pair was made."""
    assert "no failing sample" in pair([_sample(0, True, None), _sample(1, True, None)])[1][0][1]
    assert "no passing sample" in pair([_sample(0, False, None), _sample(1, False, None)])[1][0][1]
    assert "tie" in pair([_sample(0, True, 0.5), _sample(1, False, 0.5)], by="score")[1][0][1]
    assert "margin too small" in pair([_sample(0, True, 0.6), _sample(1, False, 0.4)], margin=0.5)[1][0][1]


def test_best_of_n_in_a_pipeline_keeps_k_and_drops_the_rest_with_verdicts(tmp_path):
    """BestOfN around Generate: inputs + expanded == kept + dropped; dropped samples are in rejects with reasons."""
    teacher = sk.get_teacher("procedural", error_rate=0.5)
    problems = list(teacher.problems(12, seed=2, families=["arithmetic"]))
    step = BestOfN(Generate(teacher, n=4), "final-answer", keep=1, too_easy=1.0)
    out, rej = tmp_path / "kept.jsonl", tmp_path / "rej.jsonl"
    summary = sk.Pipeline(problems).step(step).run(sink=out, rejects=rej)
    assert summary.balanced and summary.inputs == 12
    kept, rejects = read_jsonl(out), read_jsonl(rej)
    assert len(kept) + len(rejects) == 12 * 4
    assert all(r["lineage"]["verdicts"][-1]["passed"] for r in kept)
    assert len({r["lineage"]["parents"][0] for r in kept}) == len(kept)  # one per prompt
    assert all(0 < r["pass_rate"] < 1 for r in kept)


def test_generate_keep_runs_best_of_n_from_the_cli(tmp_path):
    """generate -n 4 --keep 1 --verifier final-answer writes only verified samples, one per solvable prompt."""
    write_records(sk.get_teacher("procedural").problems(10, seed=5, families=["arithmetic"]), tmp_path / "p.jsonl")
    out = tmp_path / "best.jsonl"
    invoke("generate", str(tmp_path / "p.jsonl"), "-o", str(out), "--teacher", "procedural", "--teacher-option", "error_rate=0.5",
           "-n", "4", "--keep", "1", "--verifier", "final-answer", "--no-cache", "--failures", str(tmp_path / "f.jsonl"))
    kept = read_jsonl(out)
    assert kept and all(passed for passed in verify_all(kept).values())
    assert len(kept) + len(read_jsonl(tmp_path / "f.jsonl")) == 40


def test_a_judges_scores_pick_the_best_k_and_the_score_pairs(openai_server, tmp_path):
    """select --by score keeps the judge's highest scored; pairs --by score takes highest over lowest, --margin apart."""
    import re

    def judge(messages):
        quality = re.findall(r"quality (\d+)", messages[-1]["content"])[-1]
        return f"Clear enough.\nScore: {quality}/10"

    openai_server.configure(reply=judge)
    scores = {"p1": [3, 9, 6, 8], "p2": [7, 7, 7, 7], "p3": [2, 4, 5, 1]}
    samples = [
        Record.create(prompt=f"task {p}", response=f"answer of quality {s}", lineage=Lineage(origin="synthetic", parents=(p,), generation=1))
        for p, ss in scores.items() for s in ss
    ]
    write_records(samples, tmp_path / "s.jsonl")
    judge_opts = ["--verifier", "judge", "-O", "teacher=openai", "-O", "threshold=5",
                  "-O", json.dumps({"model": "judge", "base_url": openai_server.url, "api_key": "k"}).join(["teacher_options=", ""])]
    invoke("select", str(tmp_path / "s.jsonl"), "-o", str(tmp_path / "kept.jsonl"), *judge_opts, "--keep", "2", "--by", "score")
    kept = read_jsonl(tmp_path / "kept.jsonl")
    assert [(r["lineage"]["parents"][0], r["lineage"]["verdicts"][-1]["score"]) for r in kept] == [
        ("p1", 9.0), ("p1", 8.0), ("p2", 7.0), ("p2", 7.0), ("p3", 5.0)
    ]
    invoke("pairs", str(tmp_path / "s.jsonl"), "-o", str(tmp_path / "pairs.jsonl"), *judge_opts, "--by", "score", "--margin", "2",
           "--rejects", str(tmp_path / "rej.jsonl"))
    pairs = read_jsonl(tmp_path / "pairs.jsonl")
    assert [(p["chosen"]["score"], p["rejected"]["score"], p["margin"]) for p in pairs] == [(9.0, 3.0, 6.0), (5.0, 1.0, 4.0)]
    reasons = {r["reject"]["reason"] for r in read_jsonl(tmp_path / "rej.jsonl") if r["lineage"]["parents"][0] == "p2"}
    assert reasons == {"tie: all 4 samples scored 7"}


@pytest.mark.parametrize("command", ["select", "pairs"])
def test_samples_the_verifier_cannot_check_fail_and_the_command_exits_4(samples, tmp_path, command):
    """Samples without a reference answer are failed (not dropped, not paired), written to rejects, and exit 4."""
    rows = [{k: v for k, v in r.items() if k != "answer"} for r in read_jsonl(samples)[:12]]
    src = tmp_path / "no-answer.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = CliRunner().invoke(cli, [command, str(src), "-o", str(tmp_path / "o.jsonl"), "--verifier", "final-answer", "--rejects", str(tmp_path / "r.jsonl")])
    assert res.exit_code == 4, res.output
    assert "12 samples could not be verified" in res.output
    rej = read_jsonl(tmp_path / "r.jsonl")
    assert len(rej) == 12 and {r["reject"]["kind"] for r in rej} == {"missing_answer"}
