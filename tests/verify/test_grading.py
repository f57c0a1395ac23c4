"""The code verifier's grading: plain data across the boundary, type-strict comparison, hidden tests, reference checks."""

from __future__ import annotations

import math
import re
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthkit.records import Record
from synthkit.verify._sandboxed import data as g
from synthkit.verify.code import CodeVerifier
from synthkit.verify.grader import Reference, Suite, SuiteError, strict_source
from synthkit.verify.sandbox import Limits, Sandbox

linux = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux")

# Plain data as the grader sees it: every builtin value type, nested (a strategy of this module's own:
# tests/strategies.py holds JSON-like data, which lacks tuples, sets, bytes and non-finite floats).
_scalars = (
    st.none() | st.booleans() | st.integers() | st.integers(0, 9).map(lambda n: -(10**5000) - n)
    | st.floats() | st.complex_numbers() | st.text(max_size=20) | st.binary(max_size=20)
)
_hashable = st.recursive(_scalars, lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3), max_leaves=8)
plain_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.sets(_hashable, max_size=4)
    | st.frozensets(_hashable, max_size=3) | st.dictionaries(_hashable, inner, max_size=4),
    max_leaves=20,
)


@given(plain_values)
@settings(max_examples=300, deadline=None)
def test_plain_data_round_trips_exactly(value):
    """Every plain value survives encode, a JSON frame and the strict decoder with its types and exact floats."""
    node = g.encode(value, g.outbound)
    back = g.decode(g.loads(g.dumps(node)[:-1]))
    assert g.strict_equal(back, value)
    assert type(back) is type(value)


@given(plain_values, plain_values)
@settings(max_examples=200, deadline=None)
def test_strict_equality_is_python_equality_plus_types(a, b):
    """strict_equal implies Python's == (NaN aside), and is reflexive and symmetric."""
    assert g.strict_equal(a, a)
    assert g.strict_equal(a, b) == g.strict_equal(b, a)
    if g.strict_equal(a, b) and not _has_nan(a):
        assert a == b


def _has_nan(value) -> bool:
    if isinstance(value, (float, complex)):
        return value != value
    if isinstance(value, dict):
        return any(_has_nan(k) or _has_nan(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_has_nan(v) for v in value)
    return False


STRICT_TABLE = [
    (1, 1, True),
    (1, True, False),
    (1, 1.0, False),
    (0.1 + 0.2, 0.3, False),
    (float("nan"), float("nan"), True),
    ([1, 2], (1, 2), False),
    ({1: "a"}, {True: "a"}, False),
    ({1, 2}, {2, 1}, True),
    ({1, 2}, frozenset({1, 2}), False),
    ([[1], {"a": (2,)}], [[1], {"a": (2,)}], True),
    ([[1], {"a": (2,)}], [[1], {"a": [2]}], False),
    ("1", 1, False),
    (b"x", "x", False),
    (None, False, False),
]


@pytest.mark.parametrize(("a", "b", "equal"), STRICT_TABLE)
def test_strict_equality_table(a, b, equal):
    """Values of different types are different answers, however Python's == sees them."""
    assert g.strict_equal(a, b) is equal


MALFORMED = [
    "not a list", ["int"], ["int", 5], ["int", "0x1_0"], ["int", " 0x10"], ["float", 0.5], ["float", "1.5"],
    ["bool", 1], ["str", 3], ["bytes", "zz"], ["list", "ab"], ["set", [["int", "0x1"], ["int", "0x1"]]],
    ["dict", [[["list", []], ["none"]]]], ["dict", [[["int", "0x1"]]]], ["ref", 1, "X", True], ["eval", "os.system('x')"],
    [["str", "x"]], ["none", 1],
]


@pytest.mark.parametrize("node", MALFORMED, ids=repr)
def test_the_decoder_refuses_anything_off_the_protocol(node):
    """A node of the wrong shape, an unknown tag, a repeated set element or an unhashable key is Malformed."""
    with pytest.raises(g.Malformed):
        g.decode(node)


@pytest.mark.parametrize("frame", [b'{"id": 1, "id": 2}', b'{"v": 1.5}', b'{"v": NaN}', b"[" * 100000, b"\xff"])
def test_frames_are_parsed_strictly(frame):
    """Repeated keys, JSON floats, NaN, absurd nesting and bad bytes are not frames."""
    with pytest.raises(g.Malformed):
        g.loads(frame)


def test_builtin_subclasses_cross_as_their_content_only():
    """A str, int or dict subclass arrives as an exact builtin holding its content; its own methods stay behind."""

    class Loud(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

        def __str__(self):
            return "forged"

    assert g.plain(Loud("abc")) == "abc" and type(g.plain(Loud("abc"))) is str
    assert not g.strict_equal(g.plain(Loud("abc")), "xyz")
    from collections import Counter, OrderedDict, namedtuple

    assert type(g.plain(Counter("aab"))) is dict and g.plain(Counter("aab")) == {"a": 2, "b": 1}
    assert type(g.plain(OrderedDict(a=1))) is dict
    assert type(g.plain(namedtuple("P", "x y")(1, 2))) is tuple
    with pytest.raises(g.Unsendable, match="only plain data"):
        g.plain(object())


REWRITES = [
    ("assert f(2) == 4", "assert __sk_compare__(('==',), f(2), 4)"),
    ("assert f(2) != 4", "assert __sk_compare__(('!=',), f(2), 4)"),
    ("assert 3 in f()", "assert __sk_compare__(('in',), 3, f())"),
    ("assert 0 <= f(1) == 1", "assert __sk_compare__(('<=', '=='), 0, f(1), 1)"),
    ("assert f(1) < 2", "assert f(1) < 2"),
    ("assert f(1) is None", "assert f(1) is None"),
    ("for i in range(3):\n    assert g(i) == i * i", "for i in range(3):\n    assert __sk_compare__(('==',), g(i), i * i)"),
    ("assert (", "assert ("),
]


@pytest.mark.parametrize(("source", "rewritten"), REWRITES)
def test_tests_are_rewritten_to_strict_comparisons(source, rewritten):
    """==, !=, in and not in become calls to the grader's strict comparison; other operators stay; bad syntax is kept."""
    assert strict_source(source) == rewritten


def test_a_suite_needs_something_to_grade_with():
    """An empty suite is an error naming the fields, not a run that passes on nothing."""
    with pytest.raises(SuiteError, match="needs tests"):
        Suite()
    with pytest.raises(SuiteError, match="no tests in 'tests'.*'hidden_tests'.*'reference'"):
        Suite.from_record(Record.create(response="x"))
    with pytest.raises(SuiteError, match="no 'inputs'"):
        Suite.from_record(Record.create(response="x", data={"reference": "def f():\n    return 1"}))


def test_a_reference_names_its_entry_point():
    """The entry point defaults to the reference's only function; several functions and none is an error saying so."""
    assert Reference("import math\ndef area(r):\n    return math.pi * r * r", inputs=[[1]]).entry_point == "area"
    with pytest.raises(SuiteError, match=r"2 top-level functions \(a, b\); name the one to compare in 'entry_point'"):
        Reference("def a():\n    pass\ndef b():\n    pass", inputs=[[]])
    assert Reference("def a():\n    pass\ndef b():\n    pass", inputs=[[]], entry_point="b").entry_point == "b"
    seeds = {Reference("def f(x):\n    return x", inputs="def inputs(rng):\n    yield (1,)").seed for _ in range(2)}
    assert len(seeds) == 1


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    """A sandbox with short limits."""
    return Sandbox(Limits(wall=6, cpu=3))


@linux
def test_hidden_tests_are_never_quoted_and_never_reachable(sandbox):
    """A solution that searches its whole process for the tests finds none; a failing hidden test is named by number only."""
    hidden = ["assert add(40, 2) == 42, 'SECRET-HIDDEN-MESSAGE'", "assert add(1, 1) == 2  # SECRET-HIDDEN-COMMENT"]
    code = textwrap.dedent(
        """
        import gc, os, sys
        needle = 'SEC' + 'RET-HIDDEN'
        found = [r for o in gc.get_objects() for r in gc.get_referents(o) if type(r) is str and needle in r and r is not needle]
        found += [n for n in os.listdir('.') if needle.encode() in open(n, 'rb').read()]
        print('FOUND', found)
        def add(a, b):
            return a + b + (sys.maxsize if a == 40 else 0)
        """
    )
    r = sandbox.run_sync(code, ["assert add(1, 2) == 3"], hidden=hidden)
    assert "FOUND []" in r.stdout
    assert r.reason == "1/2 hidden tests failed; first: hidden test 1 raised AssertionError"
    assert "SECRET" not in r.reason + r.stdout + r.stderr
    assert (r.tests_total, r.tests_failed) == (3, 1)


@linux
def test_hidden_tests_run_after_the_visible_ones_in_their_namespace(sandbox):
    """Hidden tests see the names the visible tests defined, and a passing run counts both groups."""
    r = sandbox.run_sync("def inc(x):\n    return x + 1", ["base = inc(1)\nassert base == 2"], hidden=["assert inc(base) == 3"])
    assert r.passed and r.reason == "1/1 tests and 1/1 hidden tests passed"


@linux
def test_reference_checks_on_generated_inputs(sandbox):
    """The solution is compared with the reference on generated inputs; a difference is reported without the input."""
    ref = Reference(
        "def clamp(x, lo, hi):\n    return max(lo, min(hi, x))",
        inputs="def inputs(rng):\n    while True:\n        a, b = sorted(rng.sample(range(-50, 50), 2))\n        yield (rng.randint(-99, 99), a, b)",
        examples=60,
    )
    good = sandbox.run_sync("def clamp(x, lo, hi):\n    return lo if x < lo else hi if x > hi else x", (), reference=ref)
    assert good.passed and good.reason == "60/60 reference checks passed"
    bad = sandbox.run_sync("def clamp(x, lo, hi):\n    return max(lo, min(hi - 1, x))", (), reference=ref)
    assert not bad.passed
    assert re.fullmatch(r"\d+/60 reference checks failed; first: reference check \d+ returned a different value than the reference solution", bad.reason)


@linux
def test_reference_exceptions_and_float_tolerance(sandbox):
    """A reference that raises expects the same builtin exception; floats agree to rel_tol, other types exactly."""
    ref = Reference(
        "import math\ndef root(x):\n    if x < 0:\n        raise ValueError('negative')\n    return math.sqrt(x)",
        inputs=[[4.0], [2.0], [-1.0], [0.0]],
    )
    by_newton = textwrap.dedent(
        """
        class NegativeInput(ValueError):
            pass
        def root(x):
            if x < 0:
                raise NegativeInput(x)
            r = x or 0.0
            for _ in range(60):
                r = (r + x / r) / 2 if r else 0.0
            return r
        """
    )
    assert sandbox.run_sync(by_newton, (), reference=ref).passed
    wrong_error = sandbox.run_sync("def root(x):\n    if x < 0:\n        raise KeyError(x)\n    return x ** 0.5", (), reference=ref)
    assert "raised KeyError where the reference raised ValueError" in wrong_error.reason
    as_int = sandbox.run_sync("def root(x):\n    if x < 0:\n        raise ValueError\n    return round(x ** 0.5)", (), reference=ref)
    assert "returned a different value than the reference solution" in as_int.reason


@linux
def test_the_tests_use_the_solutions_objects_remotely(sandbox):
    """Classes, attributes, methods, iteration, keyword arguments, its objects passed back, and its exceptions all work."""
    code = textwrap.dedent(
        """
        class Account:
            def __init__(self, owner, balance=0):
                self.owner, self.balance = owner, balance
            def deposit(self, amount):
                if amount <= 0:
                    raise ValueError('amount must be positive')
                self.balance += amount
                return self
        def richest(*accounts):
            return max(accounts, key=lambda a: a.balance)
        def countdown(n):
            while n:
                yield n
                n -= 1
        LIMIT = {'daily': 500}
        """
    )
    tests = [
        "a = Account('ada', balance=10)\nb = Account('bob')\nb.deposit(20).deposit(5)\nassert b.balance == 25",
        "assert richest(a, b) is b and richest(a, b) == b and richest(a, b) != a",
        "try:\n    a.deposit(-1)\nexcept ValueError as exc:\n    assert 'positive' in str(exc)\nelse:\n    raise AssertionError",
        "assert list(countdown(3)) == [3, 2, 1] and LIMIT == {'daily': 500}",
        "a.owner = 'eve'\nassert a.owner == 'eve'",
    ]
    r = sandbox.run_sync(code, tests)
    assert r.passed, r.reason


@linux
def test_a_test_cannot_hand_the_solution_a_function(sandbox):
    """Only plain data and the solution's own objects cross; a lambda in a test fails with a reason saying so."""
    r = sandbox.run_sync("def apply(f, x):\n    return f(x)", ["assert apply(lambda v: v + 1, 1) == 2"])
    assert not r.passed and "cannot be passed to the solution: only plain data" in r.reason


@linux
def test_a_solution_cannot_shadow_what_the_tests_use(sandbox):
    """A solution's abs, len or isinstance does not replace the real one in the tests (only the entry point may)."""
    code = "def abs(x):\n    return 0\ndef len(x):\n    return 3\ndef f(x):\n    return x + 0.5"
    r = sandbox.run_sync(code, ["assert abs(f(1) - 1) < 1e-9", "assert len([f(1)]) == 1"])
    assert r.reason.startswith("1/2 tests failed; first: test 1 `assert abs(f(1) - 1) < 1e-9` raised AssertionError"), r.reason
    ref = Reference("def sum(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t", inputs=[[[1, 2]], [[]]])
    assert ref.entry_point == "sum"
    wrong = sandbox.run_sync("def sum(xs):\n    return 99", ["assert sum([1, 2]) == 3"], reference=ref)
    assert wrong.reason.startswith("1/1 tests failed; first: test 1 `assert sum([1, 2]) == 3` raised AssertionError")
    assert sandbox.run_sync("def sum(xs):\n    return len(xs) and xs[0] + sum(xs[1:])", ["assert sum([1, 2]) == 3"], reference=ref).passed


@linux
def test_the_solution_cannot_signal_the_grader(sandbox):
    """The solution's process is pid 1 of its own namespace: the grader has no pid there, and signals aimed at it reach nothing else."""
    code = textwrap.dedent(
        """
        import os, signal
        print('parent', os.getppid(), 'me', os.getpid())
        for pid in (0, -1, 1):
            for sig in (signal.SIGTERM, signal.SIGXCPU, signal.SIGKILL):
                try:
                    os.kill(pid, sig)
                except OSError as exc:
                    print('refused', pid, exc.errno)
        def f():
            return 1
        """
    )
    r = sandbox.run_sync(code, ["assert f() == 1"])
    assert "parent 0 me 1" in r.stdout
    assert r.status == "tampered" and "tried to signal the grader (os.kill(0, 15)" in r.reason
    assert "sent itself SIGXCPU" in " ".join(r.tampered)


@linux
def test_the_grader_can_signal_only_the_solutions_process(sandbox):
    """The record's tests run in the grader, which a seccomp filter lets signal the solution's process and nothing else."""
    test = "import os, signal\ntry:\n    os.kill(os.getppid(), 0)\nexcept PermissionError:\n    print('parent refused')\nassert f() == 1"
    r = sandbox.run_sync("def f():\n    return 1", [test])
    assert r.passed, r.reason
    assert "parent refused" in r.stdout


@linux
def test_ending_during_a_call(sandbox):
    """A crash with a non-zero status fails the running test with how it ended; CPU exhaustion in a call names the limit."""
    r = sandbox.run_sync("import os\ndef f():\n    os._exit(3)", ["assert f() == 1", "assert True"])
    assert r.reason.startswith("1/2 tests failed; first: test 1 `assert f() == 1` failed: the solution's process exited with code 3")
    cpu = Sandbox(Limits(wall=8, cpu=1)).run_sync("def f():\n    while True:\n        pass", ["assert f() == 1"])
    assert cpu.status == "cpu" and cpu.reason == "CPU time limit of 1 s exceeded (killed by SIGXCPU) while test 1 was running", (cpu.reason, cpu.tampered, cpu.duration)


@linux
async def test_the_code_verifier_reads_the_record_format():
    """A record's tests, hidden_tests, reference, inputs and entry_point drive the verdict and its score."""
    v = CodeVerifier(wall=6, cpu=3, examples=20)
    data = {
        "tests": ["assert double(2) == 4"],
        "hidden_tests": "assert double(0) == 0\nassert double(-3) == -6",
        "reference": "def helper():\n    pass\ndef double(x):\n    return 2 * x",
        "entry_point": "double",
        "inputs": "def inputs(rng):\n    while True:\n        yield (rng.randint(-1000, 1000),)",
    }
    good = await v.verify(Record.create(response="```python\ndef double(x):\n    return x + x\n```", data=data))
    assert good.passed and good.reason == "1/1 tests, 2/2 hidden tests and 20/20 reference checks passed"
    lucky = await v.verify(Record.create(response="def double(x):\n    return 4 if x == 2 else x", data=data))
    assert not lucky.passed and lucky.score < 0.2
    assert lucky.reason.startswith("1/2 hidden tests failed; first: hidden test 2 raised AssertionError; ")
    assert (await v.verify(Record.create(response="x = 1"))).reason.startswith("the record has no tests")
    await v.aclose()


def test_floats_compare_to_the_tolerance_and_nan_equals_nan():
    """close_equal accepts float noise at rel_tol, never a type change, and NaN for NaN."""
    assert g.close_equal([0.1 + 0.2], [0.3], 1e-9)
    assert not g.close_equal(0.3, 0.31, 1e-9)
    assert not g.close_equal(1, 1.0, 1e-9)
    assert g.close_equal({"a": math.nan}, {"a": math.nan}, 1e-9)
