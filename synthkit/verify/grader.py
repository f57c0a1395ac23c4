"""What the ``code`` verifier grades a solution on, and how the grader's report reads.

A :class:`Suite` holds the tests a solution must pass: visible ``tests``, ``hidden`` tests
(never shown to the solution, never quoted in a reason) and a :class:`Reference` solution
compared with it on many inputs. The sandbox sends it to its grader process only after the
solution's process has started, so the solution never sees it; there, each test runs in
the grader's own interpreter and every use of the solution's names is a call into the
solution's process that answers with plain data. Before it leaves, each test is rewritten
so that its ``==``, ``!=``, ``in`` and ``not in`` compare types as well as values
(:func:`strict_source`): ``True``, ``1`` and ``1.0`` are three different answers.

A record carries a suite in these fields (the names are the ``code`` verifier's options)::

    {"response": "...",
     "tests": ["assert square(3) == 9"],              # or one string of statements
     "hidden_tests": ["assert square(12) == 144"],    # same form; optional
     "reference": "def square(x):\\n    return x * x",  # optional, with "inputs"
     "inputs": [[0], [-7], [10**6]],                   # argument lists, or Python source of
                                                       # def inputs(rng): yield (rng.randint(-9, 9),) ...
     "entry_point": "square"}                          # optional: the reference's only function
"""

from __future__ import annotations

import ast
import functools
import hashlib
import marshal
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from synthkit._frozen import thaw
from synthkit.errors import SynthkitError
from synthkit.records import Record

__all__ = ["COMPARE", "Reference", "Suite", "SuiteError", "split_tests", "strict_source", "summarize"]

#: The name the rewritten tests call for a type-strict comparison (bound in the grader only).
COMPARE = "__sk_compare__"

_OPS = {
    ast.Eq: "==", ast.NotEq: "!=", ast.In: "in", ast.NotIn: "not in", ast.Lt: "<", ast.LtE: "<=",
    ast.Gt: ">", ast.GtE: ">=", ast.Is: "is", ast.IsNot: "is not",
}
_STRICT = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)
_GROUPS = (("tests", "test", "tests"), ("hidden", "hidden test", "hidden tests"), ("reference", "reference check", "reference checks"))


class SuiteError(SynthkitError):
    """A record's tests, hidden tests or reference cannot be graded as they are."""


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


class _Strict(ast.NodeTransformer):
    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if not any(isinstance(op, _STRICT) for op in node.ops):
            return node
        ops = ast.Tuple([ast.Constant(_OPS[type(op)]) for op in node.ops], ast.Load())
        return ast.copy_location(ast.Call(ast.Name(COMPARE, ast.Load()), [ops, node.left, *node.comparators], []), node)


@functools.lru_cache(maxsize=4096)
def strict_source(test: str) -> str:
    """Return a test with its ``==``, ``!=``, ``in`` and ``not in`` made type-strict calls to :data:`COMPARE`.

    The operands of a chained comparison are all evaluated before comparing. A test that
    does not parse is returned as it is (it fails in the sandbox with its ``SyntaxError``).

    >>> strict_source("assert f(2) == 4")
    "assert __sk_compare__(('==',), f(2), 4)"
    """
    try:
        tree = ast.parse(test)
    except SyntaxError:
        return test
    return ast.unparse(ast.fix_missing_locations(_Strict().visit(tree)))


def _statements(value: str | Sequence[str] | None) -> tuple[str, ...]:
    return () if not value else tuple(split_tests(value))


def _inputs(value: Any) -> tuple[tuple[Any, ...], ...] | str:
    if isinstance(value, str):
        return value
    try:
        return tuple(tuple(args) if isinstance(args, (list, tuple)) else (args,) for args in value)
    except TypeError:
        msg = f"a reference's inputs are a list of argument lists or Python source defining inputs(rng), not {value!r:.80}"
        raise SuiteError(msg) from None


def _only_function(code: str) -> str:
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        msg = f"the reference solution does not parse: {exc.msg} (line {exc.lineno}); fix the record's reference"
        raise SuiteError(msg) from None
    names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if len(names) != 1:
        found = ", ".join(names) or "none"
        msg = f"the reference defines {len(names)} top-level functions ({found}); name the one to compare in 'entry_point'"
        raise SuiteError(msg)
    return names[0]


@attrs.frozen
class Reference:
    """A correct solution the solution is compared with, value for value, on many inputs.

    Attributes:
        code: the reference's Python source.
        inputs: argument tuples, or Python source defining ``inputs(rng)`` that returns or
            yields them (``rng`` is a ``random.Random`` seeded with ``seed``).
        entry_point: the function compared (default: the reference's only top-level function).
        examples: at most this many generated inputs are used.
        seed: the generator's seed (default: derived from ``code`` and ``inputs``, so runs repeat).
        rel_tol: floats agree to this relative tolerance (or 1e-12 absolute); all else compares exactly,
            types included. An exception matches one of the same builtin class.

    Raises:
        SuiteError: the code does not parse, or it has several functions and no ``entry_point``.
    """

    code: str
    inputs: tuple[tuple[Any, ...], ...] | str = attrs.field(converter=_inputs)
    entry_point: str | None = None
    examples: int = 100
    seed: int | None = None
    rel_tol: float = 1e-9

    def __attrs_post_init__(self) -> None:  # derived defaults of a frozen value
        if self.entry_point is None:
            object.__setattr__(self, "entry_point", _only_function(self.code))
        if self.seed is None:
            digest = hashlib.sha256(f"{self.code}\0{self.inputs!r}".encode()).digest()
            object.__setattr__(self, "seed", int.from_bytes(digest[:8], "big"))

    @property
    def size(self) -> int:
        """How many checks it makes (generated inputs count as ``examples``)."""
        return self.examples if isinstance(self.inputs, str) else len(self.inputs)


@attrs.frozen
class Suite:
    """Everything a solution is graded on.

    Attributes:
        tests: visible test statements (usually ``assert``), run in order in one namespace.
        hidden: hidden test statements, run after them in the same namespace; a reason
            names a hidden test by number only, never by its source or its message.
        reference: a reference compared with the solution on many inputs (reasons show
            neither the inputs nor the reference's values).

    Raises:
        SuiteError: the suite has nothing to grade with.
    """

    tests: tuple[str, ...] = attrs.field(default=(), converter=_statements)
    hidden: tuple[str, ...] = attrs.field(default=(), converter=_statements)
    reference: Reference | None = None

    def __attrs_post_init__(self) -> None:
        if not (self.tests or self.hidden or self.reference):
            msg = "a suite needs tests, hidden tests or a reference solution with inputs"
            raise SuiteError(msg)

    @classmethod
    def from_record(
        cls,
        record: Record,
        *,
        tests_field: str = "tests",
        hidden_field: str = "hidden_tests",
        reference_field: str = "reference",
        inputs_field: str = "inputs",
        entry_point_field: str = "entry_point",
        examples: int = 100,
        rel_tol: float = 1e-9,
    ) -> Suite:
        """Read a record's suite (see the module docs for the fields).

        Raises:
            SuiteError: the record has nothing to grade with, or a reference without inputs.
        """
        data: Mapping[str, Any] = record.data
        reference = None
        if data.get(reference_field):
            if data.get(inputs_field) is None:
                msg = (
                    f"the record has a reference solution in {reference_field!r} but no {inputs_field!r} to compare "
                    f"it on: add argument lists, or Python source defining inputs(rng)"
                )
                raise SuiteError(msg)
            reference = Reference(
                code=str(data[reference_field]), inputs=thaw(data[inputs_field]),
                entry_point=data.get(entry_point_field) or None, examples=examples, rel_tol=rel_tol,
            )
        try:
            return cls(data.get(tests_field), data.get(hidden_field), reference)
        except SuiteError:
            msg = (
                f"the record has no tests in {tests_field!r} (Python assert statements), no hidden tests in "
                f"{hidden_field!r} and no reference in {reference_field!r}"
            )
            raise SuiteError(msg) from None

    @property
    def size(self) -> int:
        """How many checks the suite makes."""
        return len(self.tests) + len(self.hidden) + (self.reference.size if self.reference else 0)

    def payload(self) -> bytes:
        """The suite as the sandbox's grader reads it (``marshal``; tests already made type-strict)."""
        ref = self.reference
        data: dict[str, Any] = {
            "tests": [strict_source(t) for t in self.tests],
            "hidden": [strict_source(t) for t in self.hidden],
            "entry_point": ref.entry_point if ref else None,
            "reference": None,
        }
        if ref is not None:
            data["reference"] = {
                "code": ref.code, "entry_point": ref.entry_point, "examples": ref.examples, "seed": ref.seed,
                "rel_tol": float(ref.rel_tol), "inputs": ref.inputs if isinstance(ref.inputs, str) else thaw(ref.inputs),
            }
        try:
            return marshal.dumps(data)
        except ValueError:
            msg = "a reference's inputs hold a value that is not plain data (None, bool, numbers, str, bytes, lists, dicts)"
            raise SuiteError(msg) from None


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def summarize(groups: Mapping[str, Any], suite: Suite) -> tuple[int, int, str, str | None]:
    """Read the grader's per-group results: ``(total, failed, reason, first error)``.

    The reason is ``"3/3 tests passed"``, ``"3/3 tests, 2/2 hidden tests and 100/100
    reference checks passed"``, or names the first failure: ``"1/3 tests failed; first:
    test 2 `assert f(2) == 4` raised AssertionError"``; hidden tests and reference checks
    are named by number only.
    """
    total = failed = 0
    passed_parts: list[str] = []
    failures: list[str] = []
    first: str | None = None
    for key, one, many in _GROUPS:
        group = groups.get(key)
        if group is None:
            continue
        if group.get("error"):
            total, failed = total + 1, failed + 1
            failures.append(f"{many} could not run: the record's reference or inputs raised {group['error']}")
            first = first or group["error"]
            continue
        n, bad = group["total"], group["failed"]
        total, failed = total + n, failed + len(bad)
        if not bad:
            passed_parts.append(f"{n}/{n} {many}")
            continue
        head = bad[0]
        shown = f" `{' '.join(suite.tests[head['index']].split())[:200]}`" if key == "tests" else ""
        if failures:
            failures.append(f"{len(bad)}/{n} {many} failed too")
        else:
            failures.append(f"{len(bad)}/{n} {many} failed; first: {one} {head['index'] + 1}{shown} {head['error']}")
        first = first or head["error"]
    if failures:
        return total, failed, "; ".join(failures), first
    return total, failed, f"{_and(passed_parts)} passed", None
