"""Drop reasons group by their shape: quoted values, escaped quotes and apostrophes included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import synthkit as sk
from synthkit.pipeline import reason_key
from synthkit.records import Record

REPLIES = ["nope", "I can't say", 'he said "hi" and it\'s fine', "the model's answer\nis 'ok'", "students' work"]


def test_judge_replies_without_a_score_share_one_summary_line(openai_server, tmp_path):
    """A judge's no-score drops count on one line whatever the replies hold (apostrophes, both quotes, newlines)."""
    replies = {f"r{i}": text for i, text in enumerate(REPLIES)}
    openai_server.configure(reply=lambda m: next(v for k, v in replies.items() if f"<<{k}>>" in m[-1]["content"]))
    teacher = sk.get_teacher("openai", model="m", base_url=openai_server.url, api_key="k", max_attempts=1)
    rows = [Record.from_dict({"prompt": "Capital of France?", "response": f"<<{k}>>"}) for k in replies]
    judge = sk.get_verifier("judge", teacher=teacher)
    summary = sk.Pipeline(rows).verify(judge).run(sink=tmp_path / "k.jsonl", rejects=tmp_path / "r.jsonl")
    assert summary.n_dropped == len(REPLIES)
    assert list(summary.dropped.items()) == [(("judge", "the judge's reply has no score: #"), len(REPLIES))]


@given(st.text(max_size=60))
@settings(max_examples=200, deadline=None)
def test_any_quoted_value_is_masked_whole(value):
    """Whatever a repr-quoted value holds, the key is the same: the value is masked from quote to quote."""
    assert reason_key(f"the judge's reply has no score: {value!r}") == "the judge's reply has no score: #"
