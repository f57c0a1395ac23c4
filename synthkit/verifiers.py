"""The built-in verifiers. Every verdict carries a reason.

=====================  ==================================================================
name                   passes a record when
=====================  ==================================================================
``math``               the response's final answer equals ``answer`` (:mod:`synthkit.mathcheck`)
``code``               the response's Python code passes ``tests`` in the sandbox (:mod:`synthkit.sandbox`)
``json-schema``        the response is JSON matching a schema (:mod:`synthkit.structured`)
``regex``              a field matches a regular expression
``judge``              an LLM judge scores the response at or above a threshold
``self-consistency``   at least ``q`` of ``k`` fresh samples agree with the final answer
``quote``              a document-QA record's quote occurs in its chunk (:mod:`synthkit.chunking`)
``all-of``/``any-of``  all / any of several verifiers pass
=====================  ==================================================================
"""

from __future__ import annotations

import ast
import collections
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import RecordError, TemplateError
from .interfaces import PromptTemplate, Teacher, Verifier
from .records import Record, Verdict

__all__ = [
    "MathVerifier",
    "CodeVerifier",
    "RegexVerifier",
    "JudgeVerifier",
    "SelfConsistencyVerifier",
    "AllOf",
    "AnyOf",
    "split_tests",
]


def _teacher(teacher: Teacher | str, options: Mapping[str, Any] | None) -> Teacher:
    if isinstance(teacher, str):
        from .plugins import get_teacher

        return get_teacher(teacher, **dict(options or {}))
    return teacher


def _template(template: PromptTemplate | str | None) -> PromptTemplate | None:
    if isinstance(template, str):
        from .plugins import get_template

        return get_template(template)
    return template


def _messages(template: PromptTemplate | None, record: Record) -> list[dict[str, Any]]:
    if template is not None:
        return template.render(record)
    if record.messages:
        return [dict(m) for m in record.messages if m.get("role") != "assistant"] or [dict(m) for m in record.messages]
    if record.prompt is not None:
        return [{"role": "user", "content": record.prompt}]
    msg = f"record {record.id} has neither 'prompt' nor 'messages'; give the verifier a template"
    raise TemplateError(msg)


# ----------------------------------------------------------------------------- math
class MathVerifier(Verifier):
    """Final-answer equivalence with the record's reference answer.

    Args:
        answer_field: the data field holding the reference answer.
        field: the field holding the response.
    """

    name = "math"

    def __init__(self, *, answer_field: str = "answer", field: str = "response") -> None:
        self.answer_field = answer_field
        self.field = field

    async def verify(self, record: Record) -> Verdict:
        from .mathcheck import equivalent

        gold = record.data.get(self.answer_field)
        if gold is None or gold == "":
            return Verdict(self.name, False, f"the record has no reference answer in {self.answer_field!r}")
        text = record.get(self.field)
        if not isinstance(text, str) or not text.strip():
            return Verdict(self.name, False, f"the record has no {self.field!r} to check")
        ok, reason = equivalent(gold, text)
        return Verdict(self.name, ok, reason, 1.0 if ok else 0.0)


# ----------------------------------------------------------------------------- code
def split_tests(tests: str | Sequence[str]) -> list[str]:
    """Return the tests as separate statements (a multi-line string is split at top-level statements)."""
    if not isinstance(tests, str):
        return [str(t) for t in tests]
    try:
        tree = ast.parse(tests)
    except SyntaxError:
        return [tests]
    parts = [ast.get_source_segment(tests, node) for node in tree.body]
    return [p for p in parts if p] or [tests]


class CodeVerifier(Verifier):
    """Runs the response's Python code against the record's tests in the sandbox.

    Args:
        tests_field: the data field with the tests: Python statements (usually ``assert``),
            a list of them or one string of several.
        wall: wall-clock seconds of each run (see :class:`~synthkit.sandbox.Limits`).
        cpu: CPU seconds per process of each run.
        memory_mb: memory limit of each run, in MB.
        processes: processes and threads at once in each run.
        allow_missing: isolation layers to run without (the default refuses to run when
            any is missing; see :data:`~synthkit.sandbox.LAYERS`).
        block: which fenced code block to take from the response: ``"last"``, ``"first"``, ``"all"``.
        site_packages: let the code import installed packages.
        max_concurrent: sandboxed runs at once (default: the number of CPUs).

    Raises:
        SandboxUnavailable: when built, if an isolation layer is missing and not allowed.
    """

    name = "code"

    def __init__(
        self,
        *,
        tests_field: str = "tests",
        wall: float = 10.0,
        cpu: int = 5,
        memory_mb: int = 1024,
        processes: int = 32,
        allow_missing: Sequence[str] = (),
        block: str = "last",
        site_packages: bool = False,
        max_concurrent: int | None = None,
    ) -> None:
        from .sandbox import Limits, Sandbox

        self.tests_field = tests_field
        self.block = block
        self.sandbox = Sandbox(
            Limits(wall=wall, cpu=cpu, memory=memory_mb * 2**20, processes=processes),
            allow_missing=allow_missing,
            site_packages=site_packages,
            max_concurrent=max_concurrent,
        )

    async def verify(self, record: Record) -> Verdict:
        from .sandbox import SandboxUnavailable, extract_code

        tests = record.data.get(self.tests_field)
        if not tests:
            return Verdict(self.name, False, f"the record has no tests in {self.tests_field!r} (Python assert statements)")
        if not record.response:
            return Verdict(self.name, False, "the record has no response to run")
        code = extract_code(record.response, block=self.block)
        try:
            result = await self.sandbox.run(code, split_tests(tests))
        except SandboxUnavailable as exc:
            raise RecordError(str(exc), kind="sandbox") from None
        score = 1 - result.tests_failed / result.tests_total if result.tests_total else 0.0
        return Verdict(self.name, result.passed, result.reason, score)

    async def aclose(self) -> None:
        self.sandbox.close()


# ----------------------------------------------------------------------------- regex
class RegexVerifier(Verifier):
    """Passes when a field matches a regular expression.

    Args:
        pattern: the regular expression.
        field: the field to match (default the response).
        mode: ``"search"`` (anywhere), ``"fullmatch"`` (the whole text, stripped) or
            ``"none"`` (passes when the pattern does *not* occur).
        ignore_case: match case-insensitively.
    """

    name = "regex"

    def __init__(self, pattern: str, *, field: str = "response", mode: str = "search", ignore_case: bool = False) -> None:
        if mode not in ("search", "fullmatch", "none"):
            msg = f"mode must be 'search', 'fullmatch' or 'none', got {mode!r}"
            raise ValueError(msg)
        try:
            self.regex = re.compile(pattern, re.I if ignore_case else 0)
        except re.error as exc:
            msg = f"invalid regular expression {pattern!r}: {exc}"
            raise ValueError(msg) from None
        self.field = field
        self.mode = mode

    async def verify(self, record: Record) -> Verdict:
        text = record.get(self.field)
        if not isinstance(text, str):
            return Verdict(self.name, False, f"the record has no text field {self.field!r}")
        p = self.regex.pattern
        if self.mode == "fullmatch":
            ok = self.regex.fullmatch(text.strip()) is not None
            return Verdict(self.name, ok, f"{self.field} {'matches' if ok else 'does not match'} /{p}/ in full")
        m = self.regex.search(text)
        if self.mode == "none":
            if m is None:
                return Verdict(self.name, True, f"{self.field} has no match of /{p}/")
            return Verdict(self.name, False, f"{self.field} contains {m.group(0)[:80]!r}, a match of /{p}/")
        if m is None:
            return Verdict(self.name, False, f"{self.field} has no match of /{p}/")
        return Verdict(self.name, True, f"{self.field} contains {m.group(0)[:80]!r}, a match of /{p}/")


# ----------------------------------------------------------------------------- judge
class JudgeVerifier(Verifier):
    """An LLM judge scores the response with a rubric; passes at or above ``threshold``.

    Args:
        teacher: the judge model (object or registered name; ``teacher_options`` build it).
        threshold: the lowest passing score.
        rubric: the rubric text (default :data:`~synthkit.strategies.DEFAULT_RUBRIC`).
        scale: the top of the score scale.
        template: a template (object or name) instead of the built-in ``judge`` one.
        params: sampling parameters (default temperature 0).

    The verdict's score is the judge's score; its reason is the score and the judge's reasons.
    """

    name = "judge"

    def __init__(
        self,
        teacher: Teacher | str,
        *,
        threshold: float = 7,
        rubric: str | None = None,
        scale: int = 10,
        template: PromptTemplate | str | None = None,
        params: Mapping[str, Any] | None = None,
        teacher_options: Mapping[str, Any] | None = None,
    ) -> None:
        from .strategies import DEFAULT_RUBRIC, judge_template

        self.teacher = _teacher(teacher, teacher_options)
        self.threshold = threshold
        self.scale = scale
        self.template = _template(template) or judge_template(rubric=rubric or DEFAULT_RUBRIC, scale=scale)
        self.params = dict(params if params is not None else {"temperature": 0})

    async def verify(self, record: Record) -> Verdict:
        from .strategies import parse_score

        if record.response is None:
            return Verdict(self.name, False, "the record has no response to judge")
        messages = self.template.render(record)
        reply = (await self.teacher.complete(messages, self.params, n=1))[0].text
        score = parse_score(reply, scale=self.scale)
        reasons = " ".join(re.sub(r"(?im)^\W*score\W.*$", "", reply).split())[:400]
        if score is None:
            return Verdict(self.name, False, f"the judge's reply has no score: {reply[:200]!r}")
        ok = score >= self.threshold
        rel = ">=" if ok else "<"
        return Verdict(self.name, ok, f"judge score {score:g}/{self.scale} {rel} {self.threshold:g}: {reasons}", score)

    async def aclose(self) -> None:
        await self.teacher.aclose()


# ----------------------------------------------------------------------------- self-consistency
class SelfConsistencyVerifier(Verifier):
    """Samples ``k`` fresh answers; passes when at least ``q`` of them agree with the final answer.

    The final answer compared is the record's response's (without a response, the most
    common sampled answer, so the check is that the problem has a stable answer).

    Args:
        teacher: the model sampled (object or registered name; ``teacher_options`` build it).
        k: samples drawn (one request with ``n=k``).
        q: the share of samples that must agree, from 0 to 1.
        template: a template for the sampling prompt; default the record's prompt or messages.
        params: sampling parameters (default temperature 0.8).
        compare: ``"math"`` (final-answer equivalence) or ``"exact"`` (the final answers as text,
            whitespace and case ignored).
    """

    name = "self-consistency"

    def __init__(
        self,
        teacher: Teacher | str,
        *,
        k: int = 5,
        q: float = 0.6,
        template: PromptTemplate | str | None = None,
        params: Mapping[str, Any] | None = None,
        compare: str = "math",
        teacher_options: Mapping[str, Any] | None = None,
    ) -> None:
        if k < 1 or not 0 < q <= 1:
            msg = f"self-consistency needs k >= 1 and 0 < q <= 1, got k={k}, q={q}"
            raise ValueError(msg)
        if compare not in ("math", "exact"):
            msg = f"compare must be 'math' or 'exact', got {compare!r}"
            raise ValueError(msg)
        self.teacher = _teacher(teacher, teacher_options)
        self.k = k
        self.q = q
        self.template = _template(template)
        self.params = dict(params if params is not None else {"temperature": 0.8})
        self.compare = compare

    def _same(self, reference: str, sample: str) -> bool:
        from .mathcheck import equivalent, final_answer

        if self.compare == "math":
            return equivalent(reference, sample)[0]
        a = final_answer(sample)
        return a is not None and " ".join(a.split()).casefold() == " ".join(reference.split()).casefold()

    async def verify(self, record: Record) -> Verdict:
        from .mathcheck import final_answer

        completions = await self.teacher.complete(_messages(self.template, record), self.params, n=self.k)
        samples = [c.text for c in completions]
        answers = [final_answer(s) for s in samples]
        if record.response is not None:
            reference = final_answer(record.response)
            if reference is None:
                return Verdict(self.name, False, "no final answer found in the response", 0.0)
            source = "the response's final answer"
        else:
            counts = collections.Counter(a for a in answers if a is not None)
            if not counts:
                return Verdict(self.name, False, f"none of the {self.k} samples has a final answer", 0.0)
            reference = counts.most_common(1)[0][0]
            source = "the most common sampled answer"
        agree = sum(self._same(reference, s) for s in samples)
        share = agree / len(samples) if samples else 0.0
        ok = share >= self.q
        rel = ">=" if ok else "<"
        return Verdict(
            self.name,
            ok,
            f"{agree}/{len(samples)} samples agree with {source} {reference!r} ({share:.0%} {rel} {self.q:.0%})",
            share,
        )

    async def aclose(self) -> None:
        await self.teacher.aclose()


# ----------------------------------------------------------------------------- composition
def _build(spec: Verifier | str | Mapping[str, Any]) -> Verifier:
    if isinstance(spec, Verifier):
        return spec
    from .plugins import get_verifier

    if isinstance(spec, str):
        return get_verifier(spec)
    if isinstance(spec, Mapping) and "name" in spec:
        options = {k: v for k, v in spec.items() if k != "name"}
        return get_verifier(spec["name"], **options)
    msg = f"a verifier is an object, a registered name, or {{'name': ..., **options}}; got {spec!r}"
    raise TypeError(msg)


class _Composite(Verifier):
    def __init__(self, *specs: Verifier | str | Mapping[str, Any], verifiers: Sequence[Any] = ()) -> None:
        all_specs = [*specs, *verifiers]
        if not all_specs:
            msg = f"{self.name} needs at least one verifier"
            raise ValueError(msg)
        self.verifiers = [_build(v) for v in all_specs]

    async def aclose(self) -> None:
        for v in self.verifiers:
            await v.aclose()


class AllOf(_Composite):
    """Passes when every verifier passes; runs them in order and stops at the first failure.

    Args:
        verifiers: verifier objects, registered names, or ``{"name": ..., **options}``
            (also accepted as the keyword ``verifiers=[...]``).
    """

    name = "all-of"

    async def verify(self, record: Record) -> Verdict:
        reasons = []
        for v in self.verifiers:
            verdict = await v.verify(record)
            if not verdict.passed:
                return Verdict(self.name, False, f"{v.name}: {verdict.reason}", verdict.score)
            reasons.append(f"{v.name}: {verdict.reason}")
        return Verdict(self.name, True, "; ".join(reasons))


class AnyOf(_Composite):
    """Passes when at least one verifier passes; runs them in order and stops at the first pass.

    Args:
        verifiers: as for :class:`AllOf`.
    """

    name = "any-of"

    async def verify(self, record: Record) -> Verdict:
        reasons = []
        for v in self.verifiers:
            verdict = await v.verify(record)
            if verdict.passed:
                return Verdict(self.name, True, f"{v.name}: {verdict.reason}", verdict.score)
            reasons.append(f"{v.name}: {verdict.reason}")
        return Verdict(self.name, False, "none passed; " + "; ".join(reasons))
