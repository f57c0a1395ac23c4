"""The built-in verifiers: code, regex, json-schema, judge, self-consistency, composition, and `synthkit verify`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import synthkit as sk
from synthkit.plugins import load_plugins
from synthkit.records import Record
from synthkit.verify.compose import AllOf, AnyOf
from synthkit.verify.code import CodeVerifier, split_tests
from synthkit.verify.judge import JudgeVerifier
from synthkit.verify.regex import RegexVerifier
from synthkit.verify.consistency import SelfConsistencyVerifier

GOOD_CODE = "Here you go:\n```python\ndef square(x):\n    return x * x\n```\n"
BAD_CODE = "```python\ndef square(x):\n    return x + x\n```"
TESTS = "assert square(2) == 4\nassert square(3) == 9\nassert square(-1) == 1"


def _openai(server):
    return sk.get_teacher("openai", model="judge-model", base_url=server.url, api_key="k", max_attempts=1)


def test_every_verifier_is_registered():
    """All built-in verifiers are registered by name with a summary."""
    reg = load_plugins(entry_points=False).registries["verifiers"]
    names = {"math", "code", "json-schema", "regex", "judge", "self-consistency", "quote", "all-of", "any-of"}
    assert names <= set(reg.names())
    assert all(reg.entry(n).summary for n in names)


@pytest.fixture(scope="module")
def code_verifier():
    """A code verifier with short limits."""
    return CodeVerifier(wall=4, cpu=2)


async def test_code_verifier_passes_and_fails_with_reasons(code_verifier):
    """Correct code passes all tests; wrong code fails naming the first failing test; the score is the share passed."""
    good = await code_verifier.verify(Record.create(response=GOOD_CODE, data={"tests": TESTS}))
    bad = await code_verifier.verify(Record.create(response=BAD_CODE, data={"tests": TESTS}))
    assert good.passed and good.reason == "3/3 tests passed" and good.score == 1.0
    assert not bad.passed
    assert bad.reason.startswith("2/3 tests failed; first: test 2 `assert square(3) == 9`")
    assert bad.score == pytest.approx(1 / 3)


async def test_code_verifier_without_tests_or_response(code_verifier):
    """A record without tests, or without a response, fails with a reason saying so."""
    assert "no tests in 'tests'" in (await code_verifier.verify(Record.create(response=GOOD_CODE))).reason
    assert "no response" in (await code_verifier.verify(Record.create(data={"tests": TESTS}))).reason


def test_split_tests_keeps_multiline_statements_whole():
    """A tests string is split at top-level statements, so a multi-line test stays one test."""
    src = "assert f(1) == 1\nfor i in range(3):\n    assert f(i) >= 0\n"
    assert split_tests(src) == ["assert f(1) == 1", "for i in range(3):\n    assert f(i) >= 0"]
    assert split_tests(["assert a", "assert b"]) == ["assert a", "assert b"]


async def test_regex_modes():
    """The regex verifier searches, matches in full, or forbids a pattern, and says what matched."""
    r = Record.create(response="The total is 42 units.")
    assert (await RegexVerifier(r"\d+").verify(r)).reason == "response contains '42', a match of /\\d+/"
    assert not (await RegexVerifier(r"\d+", mode="fullmatch").verify(r)).passed
    assert (await RegexVerifier(r"the total.*", mode="fullmatch", ignore_case=True).verify(r)).passed
    forbidden = await RegexVerifier(r"units", mode="none").verify(r)
    assert not forbidden.passed and "contains 'units'" in forbidden.reason
    with pytest.raises(ValueError, match="invalid regular expression"):
        RegexVerifier("(")


async def test_json_schema_verifier():
    """The json-schema verifier checks the response against the schema and names the failing path."""
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    v = sk.get_verifier("json-schema", schema=schema)
    assert (await v.verify(Record.create(response='{"n": 3}'))).passed
    bad = await v.verify(Record.create(response='```json\n{"n": "three"}\n```'))
    assert bad.reason == "response does not match the schema: at $.n: 'three' is not of type 'integer'"
    prose = await v.verify(Record.create(response="no json here"))
    assert "not JSON" in prose.reason
    per_record = sk.get_verifier("json-schema")
    assert (await per_record.verify(Record.create(response="[1]", data={"schema": {"type": "array"}}))).passed


async def test_all_of_and_any_of():
    """all-of stops at the first failure and reports it; any-of passes on the first pass and lists all failures otherwise."""
    r = Record.create(response="answer: 12", data={"answer": "12"})
    both = AllOf("math", RegexVerifier(r"answer"))
    assert (await both.verify(r)).passed
    fails = await AllOf(RegexVerifier(r"answer"), {"name": "regex", "pattern": "zzz"}).verify(r)
    assert not fails.passed and fails.reason == "regex: response has no match of /zzz/"
    one = await AnyOf(RegexVerifier("zzz"), "math").verify(r)
    assert one.passed and one.reason.startswith("math: final answer 12")
    none = await sk.get_verifier("any-of", verifiers=[{"name": "regex", "pattern": "zzz"}, {"name": "regex", "pattern": "yyy"}]).verify(r)
    assert not none.passed and none.reason == "none passed; regex: response has no match of /zzz/; regex: response has no match of /yyy/"


async def test_judge_against_the_local_server(openai_server):
    """The judge sends the rubric prompt, parses 'Score: n/10', and passes at the threshold."""

    def reply(messages):
        user = messages[-1]["content"]
        return "Correct and clear.\nScore: 9/10" if "Paris" in user else "Wrong city.\nScore: 2/10"

    openai_server.configure(reply=reply)
    judge = JudgeVerifier(_openai(openai_server), threshold=7)
    good = await judge.verify(Record.create(prompt="Capital of France?", response="Paris"))
    bad = await judge.verify(Record.create(prompt="Capital of France?", response="Lyon"))
    await judge.aclose()
    assert good.passed and good.score == 9 and good.reason == "judge score 9/10 >= 7: Correct and clear."
    assert not bad.passed and bad.reason == "judge score 2/10 < 7: Wrong city."
    sent = openai_server.requests[0].messages
    assert sent[0]["role"] == "system" and "Rubric" in sent[1]["content"] and "Score: <n>/10" in sent[1]["content"]


async def test_judge_without_a_score_fails(openai_server):
    """A judge reply without a score fails the record with the reply quoted."""
    openai_server.configure(reply=lambda m: "I cannot grade this.")
    judge = sk.get_verifier("judge", teacher=_openai(openai_server))
    v = await judge.verify(Record.create(prompt="q", response="a"))
    await judge.aclose()
    assert not v.passed and v.reason.startswith("the judge's reply has no score")


async def test_self_consistency_against_the_local_server(openai_server):
    """k samples are drawn in one request; the record passes when at least q agree with its final answer."""

    def reply(messages, body, index):
        return "Final answer: 1/2" if index < 4 else "Final answer: 0.3"

    openai_server.configure(reply=reply)
    sc = SelfConsistencyVerifier(_openai(openai_server), k=5, q=0.8)
    agreeing = await sc.verify(Record.create(prompt="half?", response="It is \\boxed{0.5}"))
    other = await sc.verify(Record.create(prompt="half?", response="Final answer: 0.3"))
    no_response = await sc.verify(Record.create(prompt="half?"))
    await sc.aclose()
    assert agreeing.passed and agreeing.score == pytest.approx(0.8)
    assert agreeing.reason == "4/5 samples agree with the response's final answer '0.5' (80% >= 80%)"
    assert not other.passed and other.reason.startswith("1/5 samples agree")
    assert no_response.passed and "the most common sampled answer '1/2'" in no_response.reason
    assert openai_server.requests[0].body["n"] == 5


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "synthkit", *args], capture_output=True, text=True, timeout=120)


def test_cli_verify_math(tmp_path):
    """`synthkit verify --verifier math` keeps right answers and writes every reject with its reason."""
    src = tmp_path / "in.jsonl"
    _write(
        src,
        [
            {"prompt": "1/4 + 1/4?", "response": "Final answer: 1/2", "answer": "0.5"},
            {"prompt": "1/3?", "response": "\\boxed{0.33}", "answer": "1/3"},
            {"prompt": "pair?", "response": "(2, 1)", "answer": "(1, 2)"},
        ],
    )
    proc = _cli("verify", str(src), "-o", str(tmp_path / "kept.jsonl"), "--verifier", "math", "--rejects", str(tmp_path / "rej.jsonl"))
    assert proc.returncode == 0, proc.stderr
    kept = [json.loads(x) for x in (tmp_path / "kept.jsonl").read_text().splitlines()]
    rejects = [json.loads(x) for x in (tmp_path / "rej.jsonl").read_text().splitlines()]
    assert [k["prompt"] for k in kept] == ["1/4 + 1/4?"]
    assert kept[0]["lineage"]["verdicts"][0]["passed"] is True
    assert [r["reject"]["reason"] for r in rejects] == [
        "expected 1/3, got 0.33: not equivalent",
        "expected (1, 2), got (2, 1): not equivalent",
    ]
    assert all(r["reject"]["status"] == "dropped" and r["reject"]["step"] == "math" for r in rejects)
    assert "3 inputs -> 1 kept, 2 dropped" in proc.stderr


def test_cli_verify_code_and_options(tmp_path):
    """`synthkit verify --verifier code` runs each response against its tests; -O passes verifier options."""
    src = tmp_path / "in.jsonl"
    _write(
        src,
        [
            {"response": GOOD_CODE, "tests": TESTS},
            {"response": BAD_CODE, "tests": ["assert square(3) == 9"]},
            {"response": "```python\nwhile True: pass\n```", "tests": ["assert True"]},
        ],
    )
    proc = _cli(
        "verify", str(src), "-o", str(tmp_path / "kept.jsonl"), "--verifier", "code",
        "--rejects", str(tmp_path / "rej.jsonl"), "-O", "cpu=1", "-O", "wall=15",
    )
    assert proc.returncode == 0, proc.stderr
    assert len((tmp_path / "kept.jsonl").read_text().splitlines()) == 1
    reasons = [json.loads(x)["reject"]["reason"] for x in (tmp_path / "rej.jsonl").read_text().splitlines()]
    assert reasons[0].startswith("1/1 tests failed; first: test 1 `assert square(3) == 9` raised AssertionError")
    assert reasons[1] == "CPU time limit of 1 s exceeded (killed by SIGXCPU)"


def test_cli_verify_unknown_verifier(tmp_path):
    """An unknown verifier name is an error naming the close match."""
    src = tmp_path / "in.jsonl"
    _write(src, [{"response": "1"}])
    proc = _cli("verify", str(src), "-o", str(tmp_path / "k.jsonl"), "--verifier", "maths")
    assert proc.returncode == 1
    assert "Did you mean 'math'?" in proc.stderr
