"""The ``code`` verifier: the response's Python code must pass the record's tests in the sandbox.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from synthkit.errors import RecordError
from synthkit.interfaces import Verifier
from synthkit.records import Record, Verdict


__all__ = [
    "split_tests",
    "CodeVerifier",
]


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
        wall: wall-clock seconds of each run (see :class:`~synthkit.verify.sandbox.Limits`).
        cpu: CPU seconds per process of each run.
        memory_mb: memory limit of each run, in MB.
        processes: processes and threads at once in each run.
        allow_missing: isolation layers to run without (the default refuses to run when
            any is missing; see :data:`~synthkit.verify.sandbox.LAYERS`).
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
        from synthkit.verify.sandbox import Limits, Sandbox

        self.tests_field = tests_field
        self.block = block
        self.sandbox = Sandbox(
            Limits(wall=wall, cpu=cpu, memory=memory_mb * 2**20, processes=processes),
            allow_missing=allow_missing,
            site_packages=site_packages,
            max_concurrent=max_concurrent,
        )

    async def verify(self, record: Record) -> Verdict:
        from synthkit.verify.sandbox import SandboxUnavailable, extract_code

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
