"""The grader's process: run the tests against the solution's process, compare, and write the report.

The tests, hidden tests and reference checks run here, in the grader's own interpreter;
every use of the solution's names is a request to its process (:class:`Link`), answered in
plain data (:mod:`.data`). Tampering seen on the channel stops the grading.
"""

import builtins
import marshal
import operator
import os
import re
import select
import signal

from .data import (
    IDENTIFIER,
    Malformed,
    Remote,
    Unsendable,
    close_equal,
    decode,
    describe_exception,
    dumps,
    encode,
    flush_stdio,
    loads,
    outbound,
    plain,
    read_all,
    rebuild_exception,
    signal_name,
    strict_equal,
    write_all,
)
from .solution import NOTE_CAP, prepare, serve_solution

__all__ = ["prepare", "run"]

FRAME_CAP = 32 * 2**20
EXIT_HARNESS = 126

#: The solution's names are skipped in the tests' namespace when they shadow these (except the entry point).
BUILTIN_NAMES = frozenset(dir(builtins))


class Tampered(BaseException):
    """The solution's process broke the protocol; a test cannot catch it with ``except Exception``."""


class SolutionGone(BaseException):
    """The solution's process has ended; every later request fails with this."""


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Comparer:
    """``__sk_compare__`` in the tests: the host rewrites ``a == b`` (and ``!=``, ``in``, ``not in``) into a call.

    The operands of a chained comparison are all evaluated first. ``mismatch`` says why
    the last ``==`` that failed did, when Python's own ``==`` would have said equal.
    """

    _PY = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "is": operator.is_, "is not": operator.is_not}

    def __init__(self):
        self.mismatch = None

    def __call__(self, ops, *operands):
        for i, op in enumerate(ops):
            a, b = operands[i], operands[i + 1]
            if op == "==":
                ok = self.equal(a, b)
            elif op == "!=":
                ok = not strict_equal(a, b)
            elif op == "in":
                ok = self.contains(b, a)
            elif op == "not in":
                ok = not self.contains(b, a)
            else:
                ok = self._PY[op](a, b)
            if not ok:
                return False
        return True

    def equal(self, a, b):
        if strict_equal(a, b):
            return True
        if type(a) is Remote or type(b) is Remote:
            remote = a if type(a) is Remote else b
            self.mismatch = f"the solution gave {remote!r}, an object, where plain data was compared"
        else:
            try:
                loose = bool(a == b)
            except Exception:  # noqa: BLE001 - a test's own object
                loose = False
            if loose:
                self.mismatch = (
                    f"{_short(a)} ({type(a).__name__}) and {_short(b)} ({type(b).__name__}) differ in type; "
                    f"== compares types too"
                )
        return False

    @staticmethod
    def contains(container, item):
        t = type(container)
        if t is str or t is bytes:
            return type(item) is t and item in container
        if t in (list, tuple, set, frozenset, dict):
            return any(strict_equal(item, e) for e in container)
        if t is range:
            return type(item) is int and item in container
        return item in container


class Link:
    """The grader's end of the pipes to the solution's process."""

    def __init__(self, pid, rfd, wfd):
        self.pid, self.rfd, self.wfd = pid, rfd, wfd
        self.pidfd = os.pidfd_open(pid)
        self.poll = select.poll()
        self.poll.register(rfd, select.POLLIN)
        self.poll.register(self.pidfd, select.POLLIN)
        self.buf = bytearray()
        self.eof = False
        self.last = 0
        self.remotes = {}
        self.notes = []  # what the solution's process reported about itself
        self.tampered = []  # what the grader saw on the channel
        self.end = None  # {"exit": n} or {"signal": n}, with "during"
        self.faults = 0
        self.doing = "the solution was loading"

    # -- reading
    def _line(self):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[: i + 1]
                return line
            if len(self.buf) > FRAME_CAP:
                self._kill(f"sent an answer larger than {FRAME_CAP // 2**20} MiB")
                self.buf.clear()
                return None
            if self.eof:
                return None
            ready = dict(self.poll.poll())
            if self.rfd in ready:
                chunk = os.read(self.rfd, 1 << 16)
                if chunk:
                    self.buf += chunk
                else:
                    self.eof = True
            elif self.pidfd in ready:  # ended; a child of its may still hold the pipe open
                os.set_blocking(self.rfd, False)
                try:
                    while chunk := os.read(self.rfd, 1 << 16):
                        self.buf += chunk
                except BlockingIOError:
                    pass
                self.eof = True

    def _gone(self):
        """The channel closed: record how the solution's process ended (or that it closed the channel and lives on)."""
        if self.end is None:
            if not select.select([self.pidfd], [], [], 1.0)[0]:
                self.tamper("closed its end of the grader's channel and kept running")
                self._kill(None)
            else:
                self._reap()
        self.faults += 1
        return SolutionGone(self.gone_reason())

    def _reap(self):
        status = _reap_until(self.pid)
        if status is None:
            self.end = {"exit": -1}
        elif os.WIFSIGNALED(status):
            self.end = {"signal": os.WTERMSIG(status)}
        elif os.WEXITSTATUS(status) == 128 + signal.SIGXCPU:  # its own handler, at the CPU limit (it is pid 1)
            self.end = {"signal": int(signal.SIGXCPU)}
        else:
            self.end = {"exit": os.WEXITSTATUS(status)}
        self.end["during"] = self.doing

    def _kill(self, why):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.end is None:
            self._reap()
            if why:
                self.end = {"killed": why, "during": self.doing}
        self.eof = True

    def gone_reason(self):
        end = self.end or {}
        if "signal" in end:
            return f"the solution's process was killed by {signal_name(end['signal'])}"
        if "killed" in end:
            return f"the solution's process {end['killed']} and was stopped"
        return f"the solution's process exited with code {end.get('exit')}"

    def tamper(self, what):
        what = what[:NOTE_CAP]
        if what not in self.tampered:
            self.tampered.append(what)

    def _reject(self, line, why):
        """Record what the solution's process wrote instead of an answer, stop it, and raise :class:`Tampered`."""
        excerpt = line[:120].decode("utf-8", "backslashreplace")
        self.tamper(f"the solution's process wrote {excerpt!r} on the grader's channel while {self.doing} ({why})")
        self._kill(None)
        raise Tampered()

    def _frame(self, line, keys, expected, answers):
        """Parse one answer: only ``keys``, the expected id, exactly one of ``answers``, a well-formed ``seen``."""
        msg = None
        try:
            msg = loads(line)
            if type(msg) is not dict or not set(msg) <= keys or type(msg.get("id")) is not int or msg["id"] != expected:
                raise Malformed("not an answer to the request in flight")
            if sum(k in msg for k in answers) != 1:
                raise Malformed(f"not exactly one of {', '.join(answers)}")
            seen = msg.get("seen", [])
            if type(seen) is not list or len(seen) > 50 or not all(type(s) is str for s in seen):
                raise Malformed("a 'seen' list of the wrong shape")
        except Malformed as exc:
            broken = msg.get("broken") if type(msg) is dict and len(msg) == 1 else None
            if type(broken) is str:
                self.tamper(f"the harness in the solution's process broke ({broken[:200]}) while {self.doing}")
                self._kill(None)
                raise Tampered() from None
            self._reject(line, exc)
        self.notes.extend(s[:NOTE_CAP] for s in seen if s[:NOTE_CAP] not in self.notes)
        return msg

    def _decoded(self, line, decode_it, node):
        try:
            return decode_it(node)
        except Malformed as exc:
            self._reject(line, exc)

    def remote(self, ref, type_name, is_callable):
        handle = self.remotes.get(ref)
        if handle is None:
            handle = self.remotes[ref] = Remote(self, ref, type_name, is_callable)
        return handle

    # -- the protocol
    def ready(self):
        """Wait for the solution to load: its names, or ``("raised", description)``, or ``None`` if its process ended."""
        line = self._line()
        if line is None:
            self._gone()
            return None
        msg = self._frame(line, {"id", "names", "raised", "seen"}, 0, ("names", "raised"))
        if "raised" in msg:
            exc = self._decoded(line, rebuild_exception, msg["raised"])
            return ("raised", describe_exception(exc))

        def names(node):
            if type(node) is not dict or not all(type(k) is str and IDENTIFIER.match(k) for k in node):
                raise Malformed("names that are not identifiers")
            return {k: decode(v, self.remote) for k, v in node.items()}

        return self._decoded(line, names, msg["names"])

    def request(self, op, args=(), kwargs=None):
        """Ask the solution's process to apply ``op`` to ``args``; return the plain answer (or raise what it raised)."""
        if self.tampered:
            raise Tampered()
        if self.end is not None:
            self.faults += 1
            raise SolutionGone(self.gone_reason())
        self.last += 1
        data = dumps({
            "id": self.last,
            "op": op,
            "args": [encode(a, outbound) for a in args],
            "kwargs": {k: encode(v, outbound) for k, v in (kwargs or {}).items()},
        })
        try:
            write_all(self.wfd, data)
        except BrokenPipeError:
            raise self._gone() from None
        line = self._line()
        if line is None:
            raise self._gone()
        msg = self._frame(line, {"id", "value", "raised", "stop", "seen"}, self.last, ("value", "raised", "stop"))
        if "value" in msg:
            return self._decoded(line, lambda node: decode(node, self.remote), msg["value"])
        if "stop" in msg:
            if msg["stop"] is not True or op != "next":
                self._reject(line, "a 'stop' that answers no next()")
            raise StopIteration
        raise self._decoded(line, rebuild_exception, msg["raised"])

    def close(self):
        """Stop the solution's process and reap it, and any other child (the namespace's end waits for that)."""
        if self.end is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _reap_until(self.pid)
        os.close(self.pidfd)

    def report_end(self):
        """How the solution's process ended while the tests ran (``None``: it was still answering)."""
        return None if self.end is None else dict(self.end)


def _reap_until(pid):
    """Reap children until ``pid`` is reaped; return its wait status (``None`` if it is not a child).

    The solution's process is pid 1 of its namespace, and its exit waits until every other
    process of the namespace (children a test started here) is reaped: so reap them all.
    """
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return None
        if done == pid:
            return status


def _describe(exc, detailed, mismatch=None):
    """How a failure reads in a reason: hidden checks show the exception's type only."""
    if isinstance(exc, SolutionGone):
        return f"failed: {exc}"
    if not detailed:
        return f"raised {type(exc).__name__}"
    text = describe_exception(exc)
    if mismatch and isinstance(exc, AssertionError):
        text += f" ({mismatch})"
    return f"raised {text[:500]}"


def _run_tests(tests, label, namespace, link, compare, detailed):
    failed = []
    for i, source in enumerate(tests):
        link.doing = f"{label} {i + 1} was running"
        compare.mismatch = None
        faults = link.faults
        try:
            exec(compile(source, f"<{label} {i + 1}>", "exec"), namespace)  # noqa: S102 - the record's tests
        except Tampered:
            return failed
        except BaseException as exc:  # noqa: BLE001 - every failure counts, SystemExit included
            if link.tampered:
                return failed
            failed.append({"index": i, "error": _describe(exc, detailed, compare.mismatch)})
            continue
        if link.tampered:
            return failed
        if link.faults != faults:
            failed.append({"index": i, "error": f"failed: {link.gone_reason()}"})
    return failed


def _inputs(spec):
    items = spec["inputs"]
    if type(items) is str:
        import itertools
        import random

        gen_ns = {"__builtins__": builtins, "__name__": "inputs"}
        exec(compile(items, "<inputs>", "exec"), gen_ns)  # noqa: S102 - the record's generator
        make = gen_ns.get("inputs")
        if not callable(make):
            raise ValueError("the record's 'inputs' source defines no function inputs(rng)")
        items = list(itertools.islice(make(random.Random(spec["seed"])), spec["examples"]))
    out = []
    for args in items:
        if type(args) not in (list, tuple):
            raise ValueError(f"each input is a list or tuple of arguments, not a {type(args).__name__}")
        out.append(tuple(args))
    return out


def _check_reference(spec, names, link):
    """Compare the solution's entry point with the reference's on every input; the inputs are never shown."""
    entry = spec["entry_point"]
    try:
        ref_ns = {"__builtins__": builtins, "__name__": "reference"}
        exec(compile(spec["code"], "<reference>", "exec"), ref_ns)  # noqa: S102 - the record's reference
        reference = ref_ns[entry]
        inputs = _inputs(spec)
    except BaseException as exc:  # noqa: BLE001
        return {"total": 1, "failed": [], "error": f"{type(exc).__name__}: {exc}"[:300]}
    target = names.get(entry)
    if type(target) is not Remote or not object.__getattribute__(target, "_callable"):
        error = f"failed: the solution defines no function {entry}()"
        return {"total": len(inputs), "failed": [{"index": i, "error": error} for i in range(len(inputs))]}
    failed = []
    for i, args in enumerate(inputs):
        link.doing = f"reference check {i + 1} was running"
        try:
            expected = ("value", reference(*plain(args)))
        except BaseException as exc:  # noqa: BLE001 - the reference raising is an expected outcome (SystemExit too)
            expected = ("raised", type(exc))
        if expected[0] == "value":
            try:
                expected = ("value", plain(expected[1]))
            except Unsendable as exc:
                return {"total": 1, "failed": [], "error": f"the reference returned a value that is not plain data ({exc})"}
        faults = link.faults
        try:
            actual = ("value", target(*args))
        except Tampered:
            break
        except SolutionGone as exc:
            failed.append({"index": i, "error": f"failed: {exc}"})
            continue
        except Exception as exc:  # noqa: BLE001
            actual = ("raised", exc)
        if link.faults != faults:
            failed.append({"index": i, "error": f"failed: {link.gone_reason()}"})
        elif expected[0] == "value" and actual[0] == "value":
            if not close_equal(expected[1], actual[1], spec["rel_tol"]):
                failed.append({"index": i, "error": "returned a different value than the reference solution"})
        elif expected[0] == "raised" and actual[0] == "raised":
            want = next(c for c in expected[1].__mro__ if c.__module__ == "builtins")
            if not isinstance(actual[1], want):
                error = f"raised {type(actual[1]).__name__} where the reference raised {want.__name__}"
                failed.append({"index": i, "error": error})
        elif actual[0] == "raised":
            failed.append({"index": i, "error": f"raised {type(actual[1]).__name__} where the reference returned a value"})
        else:
            failed.append({"index": i, "error": f"returned a value where the reference raised {expected[1].__name__}"})
    return {"total": len(inputs), "failed": failed}


def grade(payload, link):
    """Run the tests, the hidden tests and the reference checks against the solution; return the report."""
    try:
        names = link.ready()
    except Tampered:
        names = None
    if names is None or type(names) is tuple:
        report = {"stage": "solution", **({"error": names[1]} if names else _end_fields(link.end))}
    else:
        entry = payload.get("entry_point")
        compare = Comparer()
        namespace = {"__builtins__": builtins, "__name__": "tests", "__sk_compare__": compare}
        namespace.update({k: v for k, v in names.items() if k not in BUILTIN_NAMES or k == entry})
        groups = {}
        for key, label, detailed in (("tests", "test", True), ("hidden", "hidden test", False)):
            if payload[key] and not link.tampered:
                failed = _run_tests(payload[key], label, namespace, link, compare, detailed)
                groups[key] = {"total": len(payload[key]), "failed": failed}
        if payload.get("reference") and not link.tampered:
            groups["reference"] = _check_reference(payload["reference"], names, link)
        report = {"stage": "tests", "groups": groups, "ended": link.report_end()}
    report["tampered"] = link.tampered + link.notes
    return report


def _end_fields(end):
    end = end or {"exit": -1}
    if "signal" in end:
        return {"signal": end["signal"]}
    if "killed" in end:
        return {"exit": -1}
    return {"exit": end["exit"]}


def _broken(fd, exc):
    """Tell the grader the harness in the solution's process broke, and where (ASCII written by hand, no json)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f" at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else ""
    text = re.sub(r"[^A-Za-z0-9 _.:/-]", "?", f"{type(exc).__name__}{where}")[:200]
    try:
        os.write(fd, b'{"broken":"' + text.encode("ascii") + b'"}\n')
    except OSError:
        pass


def _close_all_but(keep):
    top = max(256, *keep) + 1
    low = 0
    for fd in sorted(keep):
        if fd > low:
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, top)


def run(payload_fd, emit, isolate, confine):
    """The grader's part: fork the solution's process, then read the payload and grade; ``emit(report)`` at the end.

    Args:
        payload_fd: the host's pipe with the tests (``marshal``); read only after the fork.
        emit: writes the report on the host's report pipe (which the solution's process never holds).
        isolate: called in the solution's process before the solution runs (its own Landlock domain).
        confine: called in the grader with the solution's pid, before any of the record's code runs.
    """
    to_solution = os.pipe()
    from_solution = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            isolate()  # first: it may use a descriptor the next line closes
            _close_all_but({0, 1, 2, to_solution[0], from_solution[1]})
            serve_solution(to_solution[0], from_solution[1])
        except BaseException as exc:  # noqa: BLE001 - the solution broke the harness: say so on the channel
            _broken(from_solution[1], exc)
        finally:
            os._exit(EXIT_HARNESS)
    os.close(to_solution[0])
    os.close(from_solution[1])
    confine(pid)
    payload = marshal.loads(read_all(payload_fd))
    os.close(payload_fd)
    link = Link(pid, from_solution[0], to_solution[1])
    try:
        report = grade(payload, link)
    finally:
        link.close()
    flush_stdio()  # what the tests printed
    emit(report)
