"""Verifiers: math, code in the sandbox, JSON schema, regex, LLM judge, self-consistency, quotes, and their composition.

* :mod:`~synthkit.verify.code`: The ``code`` verifier: the response's Python code must pass the record's tests in the sandbox.
* :mod:`~synthkit.verify.compose`: Composition: ``all-of`` and ``any-of`` several verifiers.
* :mod:`~synthkit.verify.consistency`: The ``self-consistency`` verifier: fresh samples must agree with the final answer.
* :mod:`~synthkit.verify.grader`: What the ``code`` verifier grades a solution on (visible, hidden and reference tests), and how the grader's report reads.
* :mod:`~synthkit.verify.judge`: The ``judge`` verifier: an LLM judge scores the response against a rubric.
* :mod:`~synthkit.verify.math`: The ``math`` verifier: final-answer equivalence, on top of math-verify and sympy.
* :mod:`~synthkit.verify.pairwise`: The ``pairwise-judge`` verifier: an LLM judge compares the response with a baseline, in both orders.
* :mod:`~synthkit.verify.quote`: The ``quote`` verifier: a document-QA record's quote must occur in its chunk.
* :mod:`~synthkit.verify.quoting`: Quoting untrusted text into a judge's prompt, so that instructions inside it stay content.
* :mod:`~synthkit.verify.regex`: The ``regex`` verifier: a field must match a regular expression.
* :mod:`~synthkit.verify.sandbox`: Run untrusted Python code against its tests in a sandbox.
* :mod:`~synthkit.verify.schema`: JSON schemas: a schema from a dict, a file or an attrs class; finding JSON in a reply; the ``json-schema`` verifier.
* :mod:`~synthkit.verify.tool_result`: The ``tool-result`` verifier: a trajectory's final answer is checked against what its tools returned.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = [
    "AllOf",
    "AnyOf",
    "CodeVerifier",
    "doc_qa_fields",
    "equivalent",
    "extract_code",
    "final_answer",
    "final_answers",
    "find_json",
    "JudgeVerifier",
    "LAYERS",
    "Limits",
    "MathVerifier",
    "normalize_quote",
    "PairwiseJudge",
    "parse_answer",
    "parse_score",
    "probe_layers",
    "quote",
    "quote_record",
    "QuoteVerifier",
    "Reference",
    "RegexVerifier",
    "RunResult",
    "Sandbox",
    "SandboxUnavailable",
    "Schema",
    "schema_of_attrs",
    "SchemaVerifier",
    "SelfConsistencyVerifier",
    "split_tests",
    "Suite",
    "SuiteError",
    "ToolResultVerifier",
    "without_quotes",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "AllOf": "compose",
        "AnyOf": "compose",
        "CodeVerifier": "code",
        "doc_qa_fields": "quote",
        "equivalent": "math",
        "extract_code": "sandbox",
        "final_answer": "math",
        "final_answers": "math",
        "find_json": "schema",
        "JudgeVerifier": "judge",
        "LAYERS": "sandbox",
        "Limits": "sandbox",
        "MathVerifier": "math",
        "normalize_quote": "quote",
        "PairwiseJudge": "pairwise",
        "parse_answer": "math",
        "parse_score": "judge",
        "probe_layers": "sandbox",
        "quote": "quoting",
        "quote_record": "quoting",
        "QuoteVerifier": "quote",
        "Reference": "grader",
        "RegexVerifier": "regex",
        "RunResult": "sandbox",
        "Sandbox": "sandbox",
        "SandboxUnavailable": "sandbox",
        "Schema": "schema",
        "schema_of_attrs": "schema",
        "SchemaVerifier": "schema",
        "SelfConsistencyVerifier": "consistency",
        "split_tests": "grader",
        "Suite": "grader",
        "SuiteError": "grader",
        "ToolResultVerifier": "tool_result",
        "without_quotes": "quoting",
    },
    globals(),
)
