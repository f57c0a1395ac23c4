"""The streaming pipeline: accounting, order, determinism, stopping, bad input."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthkit as sk
from synthkit.errors import AuthError, BudgetExceeded, InputError, RecordError


class ScriptedTeacher(sk.Teacher):
    """Answers with the upper-cased prompt; prompts name faults to raise."""

    name = "scripted"
    model = "scripted-1"

    def __init__(self, budget_after: int | None = None) -> None:
        self.calls = 0
        self.budget_after = budget_after

    async def complete(self, messages, params, *, n=1):
        self.calls += 1
        text = messages[-1]["content"]
        await asyncio.sleep(0.002 * (hash(text) % 3))
        if self.budget_after is not None and self.calls > self.budget_after:
            raise BudgetExceeded("budget of $0.01 reached")
        if "fail" in text:
            raise RecordError("server said 500", kind="http_500", attempts=3)
        if "crash" in text:
            raise ValueError("unexpected")
        if "auth" in text:
            raise AuthError("the API key was rejected (401)")
        return [sk.Completion(text=f"{text.upper()}#{i}", usage=sk.Usage(1, 2)) for i in range(n)]


class RejectContaining(sk.Filter):
    """Drops records whose response contains a marker."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.name = f"no-{marker}"

    def check(self, record):
        ok = self.marker.upper() not in (record.response or "")
        return sk.Verdict(self.name, ok, "" if ok else f"contains {self.marker}")


class LengthVerifier(sk.Verifier):
    """Passes responses of even length."""

    name = "even"

    async def verify(self, record):
        ok = len(record.response or "") % 2 == 0
        return sk.Verdict(self.name, ok, "even length" if ok else "odd length", score=float(ok))


prompts = st.lists(
    st.sampled_from(["a", "bb", "fail", "crash", "x", "yy", "zzz", "drop"]).map(lambda p: p + "!"), max_size=30
)


@settings(max_examples=40, deadline=None)
@given(prompts, st.integers(1, 3), st.integers(1, 8))
def test_every_input_is_kept_dropped_or_failed(ps, n, concurrency):
    """Conservation: inputs + fan-out = kept + dropped + failed, whatever the faults and concurrency."""
    recs = [sk.Record.create(prompt=p, id=str(i)) for i, p in enumerate(ps)]
    summary = (
        sk.Pipeline(recs, concurrency=concurrency)
        .generate(ScriptedTeacher(), n=n)
        .filter(RejectContaining("drop"))
        .verify(LengthVerifier())
        .run()
    )
    assert summary.inputs == len(ps)
    assert summary.balanced
    assert summary.n_failed == n * 0 + sum(p.startswith(("fail", "crash")) for p in ps)


def _run(tmp_path, concurrency, seed=0):
    recs = [sk.Record.create(prompt=f"p{i}", id=f"r{i}") for i in range(60)]
    out = tmp_path / f"out-{concurrency}-{seed}.jsonl"
    sk.Pipeline(recs, concurrency=concurrency, seed=seed).generate(ScriptedTeacher(), n=2).run(sink=out)
    return out.read_text()


def test_output_is_deterministic_whatever_the_concurrency(tmp_path):
    """The same seed gives byte-identical output at concurrency 1 and 32."""
    assert _run(tmp_path, 1) == _run(tmp_path, 32)


def test_seed_changes_lineage_seed(tmp_path):
    """Per-record seeds derive from the run seed."""
    a = json.loads(_run(tmp_path, 4, seed=1).splitlines()[0])
    b = json.loads(_run(tmp_path, 4, seed=2).splitlines()[0])
    assert a["lineage"]["seed"] != b["lineage"]["seed"]


def test_lineage_of_generated_records(tmp_path):
    """A generated record names its teacher, model, template and hash, parent and generation."""
    src = [sk.Record.create(prompt="two plus two", id="q1")]
    out = tmp_path / "o.jsonl"
    sk.Pipeline(src).generate(ScriptedTeacher(), template="cot", params={"temperature": 0.5}).run(sink=out)
    rec = sk.Record.from_json(out.read_text())
    lin = rec.lineage
    assert (lin.origin, lin.teacher, lin.model, lin.template) == ("synthetic", "scripted", "scripted-1", "cot")
    assert lin.template_hash == sk.get_template("cot").hash
    assert lin.params == {"temperature": 0.5} and lin.parents == ("q1",) and lin.generation == 1
    assert lin.usage == {"prompt_tokens": 1, "completion_tokens": 2}
    assert rec.prompt == "two plus two" and rec.response.startswith("TWO PLUS TWO")


def test_rejects_file_has_reason_for_each(tmp_path):
    """Every dropped or failed record is written to the rejects file with its step and reason."""
    recs = [sk.Record.create(prompt=p, id=p) for p in ["ok", "fail", "drop", "crash"]]
    rej = tmp_path / "rej.jsonl"
    s = sk.Pipeline(recs).generate(ScriptedTeacher()).filter(RejectContaining("drop")).run(rejects=rej)
    lines = [json.loads(x) for x in rej.read_text().splitlines()]
    by = {x["prompt"]: x["reject"] for x in lines}
    assert by["fail"] == {"status": "failed", "step": "generate:scripted", "reason": "server said 500", "kind": "http_500", "attempts": 3}
    assert by["crash"]["kind"] == "ValueError"
    assert by["drop"]["status"] == "dropped" and by["drop"]["reason"] == "contains drop"
    assert s.kept == 1 and "dropped" in str(s)


def test_fatal_error_stops_at_once_and_keeps_done_work(tmp_path):
    """An AuthError stops the run; records finished before it stay in the sink."""
    recs = [sk.Record.create(prompt=f"p{i}", id=str(i)) for i in range(5)]
    recs += [sk.Record.create(prompt="auth", id="bad")]
    recs += [sk.Record.create(prompt=f"q{i}", id=f"q{i}") for i in range(200)]
    teacher = ScriptedTeacher()
    out = tmp_path / "o.jsonl"
    with pytest.raises(AuthError) as info:
        sk.Pipeline(recs, concurrency=1).generate(teacher).run(sink=out)
    assert len(out.read_text().splitlines()) == 5
    assert teacher.calls < 20
    assert info.value.summary.stopped


def test_budget_stops_cleanly(tmp_path):
    """BudgetExceeded ends the run without raising, says why, and keeps what was done."""
    recs = [sk.Record.create(prompt=f"p{i}", id=str(i)) for i in range(50)]
    out = tmp_path / "o.jsonl"
    s = sk.Pipeline(recs, concurrency=1).generate(ScriptedTeacher(budget_after=10)).run(sink=out)
    assert "budget" in s.stopped
    assert len(out.read_text().splitlines()) == s.kept == 10


def test_bad_line_policy(tmp_path):
    """A malformed line stops the run (naming file and line) or is counted as failed."""
    p = tmp_path / "in.jsonl"
    p.write_text('{"prompt": "a"}\n{nope\n{"prompt": "b"}\n')
    out = tmp_path / "o.jsonl"
    with pytest.raises(InputError, match=r"in\.jsonl:2"):
        sk.Pipeline(p).generate(ScriptedTeacher()).run(sink=out)
    assert len(out.read_text().splitlines()) == 1
    s = sk.Pipeline(p, on_bad_line="skip").generate(ScriptedTeacher()).run(sink=out)
    assert (s.inputs, s.kept, s.failed[("source", "bad_line")]) == (3, 2, 1)


def test_missing_template_field_fails_record_with_clear_reason(tmp_path):
    """A template field a record lacks fails that record, naming template, field and the fix."""
    tmpl = sk.JinjaTemplate.from_string("Answer {{ question }}", name="qa")
    recs = [sk.Record.create(prompt="no question here", id="r1"), sk.Record.create(data={"question": "why?"}, id="r2")]
    rej = tmp_path / "rej.jsonl"
    s = sk.Pipeline(recs).generate(ScriptedTeacher(), template=tmpl).run(rejects=rej)
    reason = json.loads(rej.read_text())["reject"]["reason"]
    assert s.kept == 1 and s.failed[("generate:scripted", "template")] == 1
    assert "template 'qa'" in reason and "'question' is undefined" in reason and "record r1" in reason


def test_record_without_prompt_uses_rendered_messages(tmp_path):
    """A record made only of data fields keeps the rendered messages as its prompt."""
    tmpl = sk.JinjaTemplate.from_string("Write about {{ topic }}", name="t")
    out = tmp_path / "o.jsonl"
    sk.Pipeline([sk.Record.create(data={"topic": "owls"})]).generate(ScriptedTeacher(), template=tmpl).run(sink=out)
    rec = sk.Record.from_json(out.read_text())
    assert rec.messages == ({"role": "user", "content": "Write about owls"},) and rec.data["topic"] == "owls"


def test_memory_is_bounded_by_queues():
    """A long lazy source is consumed as the sink drains: the source never runs far ahead."""
    produced = 0
    seen_gap = 0

    class Counting(sk.Filter):
        name = "count"

        def __init__(self):
            self.n = 0

        def check(self, record):
            nonlocal seen_gap
            self.n += 1
            seen_gap = max(seen_gap, produced - self.n)
            return sk.Verdict(self.name, True)

    def source():
        nonlocal produced
        for i in range(20_000):
            produced += 1
            yield sk.Record(id=str(i), prompt="x")

    s = sk.Pipeline(source(), queue_size=64).filter(Counting()).run()
    assert s.kept == 20_000
    assert seen_gap < 1_000


def test_async_source_and_arun():
    """An async iterable source works with arun inside a running loop."""

    async def gen():
        for i in range(5):
            yield sk.Record(id=str(i), prompt=f"p{i}")

    async def main():
        return await sk.Pipeline(gen()).generate(ScriptedTeacher()).arun()

    assert asyncio.run(main()).kept == 5


def test_bad_step_type_is_rejected():
    """Adding something that is not a step is a TypeError naming the type."""
    with pytest.raises(TypeError, match="Generator, Filter or Verifier"):
        sk.Pipeline([]).step(object())


def test_generate_with_cache_resumes_without_repaying(openai_server, tmp_path):
    """A pipeline with `cache=` re-run over the same input sends no request again and writes the same output."""
    recs = [sk.Record.create(prompt=f"question {i}", id=str(i)) for i in range(20)]
    db = tmp_path / "responses.sqlite"

    def run(out):
        teacher = sk.get_teacher("openai", model="m", base_url=openai_server.url, api_key="sk-test")
        return sk.Pipeline(recs, concurrency=8).generate(teacher, cache=db).run(sink=out)

    run(tmp_path / "a.jsonl")
    assert openai_server.request_count == 20
    run(tmp_path / "b.jsonl")
    assert openai_server.request_count == 20
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()


def test_a_filter_raising_on_one_record_fails_only_that_record():
    """When a batch check raises, records are checked one by one and only the one that raises fails."""

    class Picky(sk.Filter):
        name = "picky"

        def check(self, record):
            if record.prompt == "boom":
                raise ValueError("cannot read this one")
            return sk.Verdict(self.name, True)

    recs = [sk.Record.create(prompt=p, id=str(i)) for i, p in enumerate(["a", "boom", "b", "c"])]
    s = sk.Pipeline(recs).filter(Picky()).run()
    assert s.kept == 3 and s.failed == {("picky", "ValueError"): 1}


def test_consecutive_filters_see_survivors_in_order_and_record_each_verdict():
    """Each filter sees only what the filters before it kept, in input order; kept records carry every verdict."""
    seen: dict[str, list[str]] = {"a": [], "b": []}

    class Log(sk.Filter):
        def __init__(self, name, drop):
            self.name, self.drop = name, drop

        def check(self, record):
            seen[self.name].append(record.id)
            ok = record.id not in self.drop
            return sk.Verdict(self.name, ok, "" if ok else f"{self.name} said no")

    recs = [sk.Record.create(prompt="x", id=str(i)) for i in range(6)]
    out = []

    class Sink(sk.Filter):
        name = "sink"

        def check(self, record):
            out.append(record)
            return sk.Verdict(self.name, True)

    s = sk.Pipeline(recs).filter(Log("a", {"1", "4"})).filter(Log("b", {"2"})).filter(Sink()).run()
    assert seen == {"a": ["0", "1", "2", "3", "4", "5"], "b": ["0", "2", "3", "5"]}
    assert s.dropped == {("a", "a said no"): 2, ("b", "b said no"): 1} and s.kept == 3
    assert [[v.name for v in r.lineage.verdicts] for r in out] == [["a", "b"]] * 3


async def test_run_inside_a_loop_says_to_await_arun():
    """Calling run() from async code is a clear error pointing to arun()."""
    from synthkit.errors import SynthkitError

    with pytest.raises(SynthkitError, match="await pipeline.arun"):
        sk.Pipeline([]).run()


def test_a_source_yielding_non_records_is_named_and_done_work_is_kept(tmp_path):
    """A source that yields a dict stops with an error saying to wrap it; records before it are written and counted."""
    out = tmp_path / "o.jsonl"

    def source():
        yield sk.Record.create(prompt="a", id="1")
        yield {"prompt": "b"}

    with pytest.raises(InputError, match="wrap dicts with Record.from_dict") as info:
        sk.Pipeline(source()).generate(ScriptedTeacher()).run(sink=out)
    assert len(out.read_text().splitlines()) == 1
    assert info.value.summary.inputs == 1 and info.value.summary.balanced
