"""The ``code`` verifier: the response's Python code must pass the record's tests in the sandbox.

The record's tests, hidden tests and reference solution (see :mod:`synthkit.verify.grader`
for the fields) run in the sandbox's grader process, apart from the solution's; the
verdict is ``tampered: ...`` when the solution interfered with its grading.
"""

from __future__ import annotations

from collections.abc import Sequence

from synthkit.errors import RecordError
from synthkit.interfaces import Verifier
from synthkit.records import Record, Verdict
from synthkit.verify.grader import Suite, SuiteError, split_tests

__all__ = [
    "CodeVerifier",
    "split_tests",
]


class CodeVerifier(Verifier):
    """Runs the response's Python code against the record's tests in the sandbox.

    Args:
        tests_field: the data field with the tests: Python statements (usually ``assert``),
            a list of them or one string of several.
        hidden_tests_field: the field with hidden tests (same form; never quoted in a reason).
        reference_field: the field with a reference solution's source, compared with the
            solution on the inputs in ``inputs_field`` (argument lists, or Python source
            defining ``inputs(rng)``), calling the function named in ``entry_point_field``
            (default: the reference's only top-level function).
        inputs_field: see ``reference_field``.
        entry_point_field: see ``reference_field``.
        examples: at most this many generated inputs per record.
        rel_tol: the relative tolerance of floats compared with the reference's.
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
        hidden_tests_field: str = "hidden_tests",
        reference_field: str = "reference",
        inputs_field: str = "inputs",
        entry_point_field: str = "entry_point",
        examples: int = 100,
        rel_tol: float = 1e-9,
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

        self.fields = {
            "tests_field": tests_field,
            "hidden_field": hidden_tests_field,
            "reference_field": reference_field,
            "inputs_field": inputs_field,
            "entry_point_field": entry_point_field,
        }
        self.examples = examples
        self.rel_tol = rel_tol
        self.block = block
        self.sandbox = Sandbox(
            Limits(wall=wall, cpu=cpu, memory=memory_mb * 2**20, processes=processes),
            allow_missing=allow_missing,
            site_packages=site_packages,
            max_concurrent=max_concurrent,
        )

    async def verify(self, record: Record) -> Verdict:
        from synthkit.verify.sandbox import SandboxUnavailable, extract_code

        try:
            suite = Suite.from_record(record, examples=self.examples, rel_tol=self.rel_tol, **self.fields)
        except SuiteError as exc:
            return Verdict(self.name, False, str(exc))
        if not record.response:
            return Verdict(self.name, False, "the record has no response to run")
        code = extract_code(record.response, block=self.block)
        try:
            result = await self.sandbox.run(code, suite)
        except SandboxUnavailable as exc:
            raise RecordError(str(exc), kind="sandbox") from None
        score = 1 - result.tests_failed / result.tests_total if result.tests_total else 0.0
        return Verdict(self.name, result.passed, result.reason, score)

    async def aclose(self) -> None:
        self.sandbox.close()
