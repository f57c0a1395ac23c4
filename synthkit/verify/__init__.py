"""Verifiers: math, code in the sandbox, JSON schema, regex, LLM judge, self-consistency, quotes, and their composition.

* :mod:`~synthkit.verify.code`: The ``code`` verifier: the response's Python code must pass the record's tests in the sandbox.
* :mod:`~synthkit.verify.compose`: Composition: ``all-of`` and ``any-of`` several verifiers.
* :mod:`~synthkit.verify.consistency`: The ``self-consistency`` verifier: fresh samples must agree with the final answer.
* :mod:`~synthkit.verify.judge`: The ``judge`` verifier: an LLM judge scores the response against a rubric.
* :mod:`~synthkit.verify.math`: The ``math`` verifier: final-answer equivalence, on top of math-verify and sympy.
* :mod:`~synthkit.verify.quote`: The ``quote`` verifier: a document-QA record's quote must occur in its chunk.
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
    "JudgeVerifier",
    "LAYERS",
    "Limits",
    "MathVerifier",
    "QuoteVerifier",
    "RegexVerifier",
    "RunResult",
    "Sandbox",
    "SandboxUnavailable",
    "Schema",
    "SchemaVerifier",
    "SelfConsistencyVerifier",
    "ToolResultVerifier",
    "equivalent",
    "extract_code",
    "final_answer",
    "find_json",
    "normalize_quote",
    "parse_answer",
    "parse_score",
    "probe_layers",
    "schema_of_attrs",
    "split_tests",
]

__getattr__, __dir__ = exports(
    __name__,
    {
        "AllOf": "compose",
        "AnyOf": "compose",
        "CodeVerifier": "code",
        "JudgeVerifier": "judge",
        "LAYERS": "sandbox",
        "Limits": "sandbox",
        "MathVerifier": "math",
        "QuoteVerifier": "quote",
        "RegexVerifier": "regex",
        "RunResult": "sandbox",
        "Sandbox": "sandbox",
        "SandboxUnavailable": "sandbox",
        "Schema": "schema",
        "SchemaVerifier": "schema",
        "ToolResultVerifier": "tool_result",
        "SelfConsistencyVerifier": "consistency",
        "equivalent": "math",
        "extract_code": "sandbox",
        "final_answer": "math",
        "find_json": "schema",
        "normalize_quote": "quote",
        "parse_answer": "math",
        "parse_score": "judge",
        "probe_layers": "sandbox",
        "schema_of_attrs": "schema",
        "split_tests": "code",
    },
    globals(),
)
