"""The built-in verifiers."""

from __future__ import annotations

from synthkit.hookspecs import Register, hookimpl
from synthkit.plugins import lazy


@hookimpl
def register_verifiers(register: Register) -> None:
    """Register math, code, json-schema, regex, judge, pairwise-judge, self-consistency, quote, all-of and any-of."""
    register(
        "math",
        lazy("synthkit.verify.math", "MathVerifier"),
        summary="final-answer equivalence with data['answer'] (math-verify/sympy)",
    )
    register(
        "code",
        lazy("synthkit.verify.code", "CodeVerifier"),
        summary="runs the response's Python against data['tests'] in the sandbox",
    )
    register(
        "json-schema",
        lazy("synthkit.verify.schema", "SchemaVerifier"),
        summary="the response is JSON matching schema= (or the record's 'schema')",
    )
    register(
        "regex",
        lazy("synthkit.verify.regex", "RegexVerifier"),
        summary="a field matches pattern= (search, fullmatch, or none)",
    )
    register(
        "judge",
        lazy("synthkit.verify.judge", "JudgeVerifier"),
        summary="an LLM judge's rubric score reaches threshold=",
    )
    register(
        "pairwise-judge",
        lazy("synthkit.verify.pairwise", "PairwiseJudge"),
        summary="an LLM judge prefers the response to data['baseline'] in both orders",
    )
    register(
        "self-consistency",
        lazy("synthkit.verify.consistency", "SelfConsistencyVerifier"),
        summary="at least q of k fresh samples agree with the final answer",
    )
    register(
        "quote",
        lazy("synthkit.verify.quote", "QuoteVerifier"),
        summary="a document-QA answer's quote occurs in its chunk",
    )
    register(
        "all-of",
        lazy("synthkit.verify.compose", "AllOf"),
        summary="every listed verifier passes",
    )
    register(
        "any-of",
        lazy("synthkit.verify.compose", "AnyOf"),
        summary="at least one listed verifier passes",
    )
    register(
        "tool-result",
        lazy("synthkit.verify.tool_result", "ToolResultVerifier"),
        summary="a tool trajectory's final answer agrees with its tool results",
    )
