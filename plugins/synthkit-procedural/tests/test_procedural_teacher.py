"""The procedural teacher: its problem source and its worked solutions."""

from __future__ import annotations

import collections

import pytest
from synthkit import Completion, Record
from synthkit.errors import InputError, RecordError
from synthkit.plugins import load_plugins

from synthkit_procedural import FAMILIES, FinalAnswerVerifier, ProceduralTeacher, extract_final_answer


def user(text):
    """Return a one-message conversation."""
    return [{"role": "user", "content": text}]


def test_problems_are_deterministic_for_a_seed():
    """The same seed gives the same records, a longer run extends a shorter one, another seed differs."""
    teacher = ProceduralTeacher()
    first = list(teacher.problems(60, seed=3, difficulty=range(1, 6)))
    assert first == list(teacher.problems(60, seed=3, difficulty=range(1, 6)))
    assert first[:20] == list(teacher.problems(20, seed=3, difficulty=range(1, 6)))
    assert first != list(teacher.problems(60, seed=4, difficulty=range(1, 6)))


def test_problem_records_carry_answer_family_difficulty_and_lineage():
    """Each record has the problem as prompt, answer/family/difficulty as data, and synthetic lineage."""
    for record in ProceduralTeacher().problems(40, seed=1, difficulty=[2, 4]):
        assert set(record.data) == {"answer", "family", "difficulty"}
        assert record.data["family"] in FAMILIES and record.data["difficulty"] in (2, 4)
        assert isinstance(record.data["answer"], str) and record.prompt
        lin = record.lineage
        assert (lin.origin, lin.teacher, lin.model, lin.seed) == ("synthetic", "procedural", "procedural-v1", 1)
        assert Record.from_json(record.to_json()) == record


def test_problems_draw_from_every_family_and_only_the_chosen_ones():
    """By default all families appear; ``families=`` restricts the draw."""
    teacher = ProceduralTeacher()
    assert {r.data["family"] for r in teacher.problems(300)} == set(FAMILIES)
    chosen = {r.data["family"] for r in teacher.problems(100, families=["dates", "logic"])}
    assert chosen == {"dates", "logic"}
    assert {r.data["family"] for r in teacher.problems(10, families="modular")} == {"modular"}


def test_small_difficulty_and_many_problems_repeat_naturally():
    """At difficulty 1 a large set holds exact repeats, which share an id (dedup drops them)."""
    records = list(ProceduralTeacher().problems(2000, difficulty=1, families=["bases"]))
    ids = collections.Counter(r.id for r in records)
    assert len(ids) < len(records)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"difficulty": 0}, "difficulty must be 1 to 5"),
        ({"difficulty": [1, 6]}, "difficulty must be 1 to 5"),
        ({"difficulty": []}, "difficulty must be 1 to 5"),
        ({"families": ["date"]}, "Did you mean 'dates'"),
        ({"families": []}, "name at least one"),
    ],
)
def test_bad_problem_options_fail_at_once(options, match):
    """A bad difficulty or family name raises InputError when problems() is called, naming the fix."""
    with pytest.raises(InputError, match=match):
        ProceduralTeacher().problems(5, **options)


def test_error_rate_out_of_range_is_refused():
    """An error rate outside 0..1 raises InputError."""
    with pytest.raises(InputError, match="between 0 and 1"):
        ProceduralTeacher(error_rate=1.5)


async def test_complete_solves_every_problem_through_each_template():
    """Through plain and cot, every answer ends with 'Final answer: <the record's answer>'."""
    templates = load_plugins(entry_points=False).registries["templates"]
    teacher = ProceduralTeacher()
    for name in ("plain", "cot"):
        template = templates.get(name)
        for record in teacher.problems(200, seed=5, difficulty=range(1, 6)):
            (completion,) = await teacher.complete(template.render(record), {})
            assert isinstance(completion, Completion) and completion.finish_reason == "stop"
            assert completion.text.splitlines()[-1] == f"Final answer: {record.data['answer']}"
            assert len(completion.text.splitlines()) >= 2  # at least one step before the answer


async def test_usage_counts_whitespace_tokens():
    """Prompt tokens count words in every message; completion tokens count words of the text."""
    messages = [{"role": "system", "content": "Be brief."}, *user("Compute 3^5 mod 7.")]
    (completion,) = await ProceduralTeacher().complete(messages, {})
    assert completion.usage.prompt_tokens == 2 + 4
    assert completion.usage.completion_tokens == len(completion.text.split())
    assert completion.model == "procedural-v1"


async def test_unreadable_message_is_an_unparseable_record_error():
    """A message with no problem of the teacher's families fails the record with kind 'unparseable'."""
    with pytest.raises(RecordError, match="no problem it can solve") as info:
        await ProceduralTeacher().complete(user("Write a haiku about autumn."), {})
    assert info.value.kind == "unparseable"


async def test_n_samples_are_returned():
    """complete(n=k) returns k completions."""
    out = await ProceduralTeacher(error_rate=0.5).complete(user("Compute 3^5 mod 7."), {}, n=7)
    assert len(out) == 7


async def test_error_rate_gives_that_fraction_of_wrong_answers_and_the_verifier_catches_exactly_those():
    """About error_rate of answers are wrong; final-answer rejects exactly the ones that differ from the truth."""
    honest, sloppy, verifier = ProceduralTeacher(), ProceduralTeacher(error_rate=0.2, seed=11), FinalAnswerVerifier()
    wrong = 0
    records = list(honest.problems(600, seed=2, difficulty=range(1, 6)))
    for record in records:
        (right,) = await honest.complete(user(record.prompt), {})
        (maybe,) = await sloppy.complete(user(record.prompt), {})
        slipped = maybe.text != right.text
        wrong += slipped
        verdict = await verifier.verify(record.evolve(response=maybe.text))
        assert verdict.passed is not slipped, (record.prompt, maybe.text, verdict.reason)
        if slipped:  # the slip shows in the last step too, not only in the final line
            *steps, last_step, final = maybe.text.splitlines()
            assert steps == right.text.splitlines()[:-2]
            assert extract_final_answer(final) in last_step
    assert 0.15 <= wrong / len(records) <= 0.25


async def test_mistakes_are_deterministic_and_depend_on_seeds_and_sample():
    """Same teacher seed, params seed and sample give the same output; changing them changes which slip."""
    problems = [r.prompt for r in ProceduralTeacher().problems(100, seed=9, difficulty=3)]

    async def texts(teacher_seed, params):
        out = []
        for prompt in problems:
            out += [c.text for c in await ProceduralTeacher(0.3, seed=teacher_seed).complete(user(prompt), params, n=2)]
        return out

    base = await texts(0, {"seed": 1})
    assert base == await texts(0, {"seed": 1})
    assert base != await texts(1, {"seed": 1})
    assert base != await texts(0, {"seed": 2})
    assert base[0::2] != base[1::2]


async def test_error_rate_one_is_always_wrong_and_zero_never():
    """error_rate=1 gets every answer wrong; error_rate=0 none."""
    verifier = FinalAnswerVerifier()
    for rate, expected in ((0.0, True), (1.0, False)):
        teacher = ProceduralTeacher(error_rate=rate)
        for record in teacher.problems(50, seed=4, difficulty=range(1, 6)):
            (c,) = await teacher.complete(user(record.prompt), {})
            assert (await verifier.verify(record.evolve(response=c.text))).passed is expected
