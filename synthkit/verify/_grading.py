"""Inside the sandbox: the grader and the solution, two processes that exchange plain data.

``_sandbox_child.py`` loads this file (standard library only) and calls :func:`run` as
pid 1 of a sandbox. Pid 1 is the grader. Before it reads anything about the tests it
forks the solution's process, which closes every descriptor but its two pipes, enters a
Landlock domain of its own (so it cannot signal the grader) and runs the solution. Only
then does the grader read the tests, the hidden tests and the reference from the host's
pipe, which the solution's process never held, and run them in its own interpreter.

Every name the solution defines is a :class:`Remote` in the tests' namespace: calling it,
or anything else done to it, is a request on the pipe, and the answer comes back as plain
data (:func:`encode` / :func:`decode`: JSON lists with a type tag, ``["int", "0x9"]``). So
what a test compares is a value the grader decoded itself, never an object of the
solution's, and ``==`` in a test is type-strict (:func:`strict_equal`).

Anything on the pipe that is not a well-formed answer to the request in flight is
tampering, seen by the grader. The solution's process also reports what it notices about
itself (a replaced builtin, an object whose ``__eq__`` claims to equal anything, a signal
handler, a patched harness...): those notes are evidence, not guarantees, since the
solution controls its own process; the guarantees come from the process boundary.
"""

import atexit
import builtins
import json
import marshal
import math
import operator
import os
import re
import select
import signal
import sys
import types

MAX_DEPTH = 100
FRAME_CAP = 32 * 2**20
NOTE_CAP = 300
EXIT_HARNESS = 126

#: The solution's names are skipped in the tests' namespace when they shadow these (except the entry point).
BUILTIN_NAMES = frozenset(dir(builtins))


# ----------------------------------------------------------------------------- errors
class Malformed(ValueError):
    """A frame or a value that is not in the protocol's shape."""


class Unsendable(TypeError):
    """A value that cannot cross the boundary as plain data."""


class Tampered(BaseException):
    """The solution's process broke the protocol; a test cannot catch it with ``except Exception``."""


class SolutionGone(BaseException):
    """The solution's process has ended; every later request fails with this."""


class SolutionError(Exception):
    """An exception of the solution's with no builtin counterpart the grader may raise."""


# ----------------------------------------------------------------------------- plain data
_HEX_INT = re.compile(r"-?0x[0-9a-f]+\Z")
_HEX_FLOAT = re.compile(r"-?(0x[0-9a-f]+(\.[0-9a-f]*)?p[+-][0-9]+|inf)\Z|nan\Z")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}\Z")

#: The builtin type a subclass instance is read as, and how its content is read without its own methods.
_BASES = (
    (int, int.__int__),
    (float, float.__float__),
    (complex, complex.__complex__),
    (str, str.__str__),
    (bytes, bytes.__bytes__),
    (list, lambda v: list.__getitem__(v, slice(None))),
    (tuple, lambda v: tuple.__getitem__(v, slice(None))),
    (dict, lambda v: dict(dict.items(v))),
    (set, lambda v: set(set.__iter__(v))),
    (frozenset, lambda v: frozenset(frozenset.__iter__(v))),
)
_HASHABLE_BASES = (int, float, complex, str, bytes, tuple, frozenset)


def plain_base(value):
    """Return the builtin type whose subclass ``value`` is an instance of, or ``None``."""
    for base, _ in _BASES:
        if isinstance(value, base):
            return base
    return None


def content(value):
    """Return a builtin subclass instance's content as the exact builtin type (its own methods unused)."""
    for base, read in _BASES:
        if isinstance(value, base):
            return read(value)
    raise Unsendable(f"a {type(value).__name__} object is not plain data")


def encode(value, other, depth=0):
    """Return ``value`` as a JSON-able tagged node; ``other(value, depth)`` encodes what is not exactly plain.

    Tags: ``none``, ``bool``, ``int`` (hex), ``float`` (hex, exact), ``complex``, ``str``,
    ``bytes`` (hex), ``list``, ``tuple``, ``set``, ``frozenset``, ``dict`` (pairs), ``ref``.
    """
    if depth > MAX_DEPTH:
        raise Unsendable(f"the value is nested deeper than {MAX_DEPTH} levels")
    t = type(value)
    if value is None:
        return ["none"]
    if t is bool:
        return ["bool", value]
    if t is int:
        return ["int", hex(value)]
    if t is float:
        return ["float", value.hex()]
    if t is complex:
        return ["complex", value.real.hex(), value.imag.hex()]
    if t is str:
        return ["str", value]
    if t is bytes:
        return ["bytes", value.hex()]
    if t is list or t is tuple or t is set or t is frozenset:
        return [t.__name__, [encode(v, other, depth + 1) for v in value]]
    if t is dict:
        return ["dict", [[encode(k, other, depth + 1), encode(v, other, depth + 1)] for k, v in value.items()]]
    return other(value, depth)


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        raise Malformed("an unhashable value as a set element or dict key") from None
    return value


def decode(node, remote=None, depth=0):
    """Return the value of a tagged node, checking its shape strictly (raises :class:`Malformed`).

    ``remote(ref, type_name, is_callable)`` turns a ``ref`` node into a handle; without it a
    ``ref`` is malformed.
    """
    if depth > MAX_DEPTH + 1:
        raise Malformed(f"a value nested deeper than {MAX_DEPTH} levels")
    if type(node) is not list or not node or type(node[0]) is not str:
        raise Malformed("a value that is not a tagged list")
    tag, n = node[0], len(node)
    if tag == "none" and n == 1:
        return None
    if n == 2:
        arg = node[1]
        ta = type(arg)
        if tag == "bool" and ta is bool:
            return arg
        if tag == "int" and ta is str and _HEX_INT.match(arg):
            return int(arg, 16)
        if tag == "float" and ta is str and _HEX_FLOAT.match(arg):
            return float.fromhex(arg)
        if tag == "str" and ta is str:
            return arg
        if tag == "bytes" and ta is str and re.fullmatch(r"(?:[0-9a-f]{2})*", arg):
            return bytes.fromhex(arg)
        if ta is list and tag in ("list", "tuple", "set", "frozenset"):
            items = [decode(v, remote, depth + 1) for v in arg]
            if tag == "list":
                return items
            if tag == "tuple":
                return tuple(items)
            out = {_hashable(v) for v in items} if tag == "set" else frozenset(_hashable(v) for v in items)
            if len(out) != len(items):
                raise Malformed("a set with repeated elements")
            return out
        if tag == "dict" and ta is list:
            out = {}
            for pair in arg:
                if type(pair) is not list or len(pair) != 2:
                    raise Malformed("a dict item that is not a [key, value] pair")
                key = _hashable(decode(pair[0], remote, depth + 1))
                if key in out:
                    raise Malformed("a dict with a repeated key")
                out[key] = decode(pair[1], remote, depth + 1)
            return out
    if tag == "complex" and n == 3 and all(type(p) is str and _HEX_FLOAT.match(p) for p in node[1:]):
        return complex(float.fromhex(node[1]), float.fromhex(node[2]))
    if tag == "ref" and n == 4 and remote is not None:
        ref, name, is_callable = node[1:]
        if type(ref) is int and ref >= 0 and type(name) is str and len(name) <= 100 and type(is_callable) is bool:
            return remote(ref, name, is_callable)
    raise Malformed(f"a value tagged {tag!r} of the wrong shape")


def _refuse(name):
    raise Malformed(f"{name} is not a value of the protocol")


def _pairs(pairs):
    out = dict(pairs)
    if len(out) != len(pairs):
        raise Malformed("an object with a repeated key")
    return out


_DECODER = json.JSONDecoder(parse_float=_refuse, parse_constant=_refuse, object_pairs_hook=_pairs)
_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def loads(data):
    """Parse one JSON frame strictly: no floats, NaN or repeated keys (raises :class:`Malformed`)."""
    try:
        return _DECODER.decode(data.decode("utf-8") if type(data) is bytes else data)
    except RecursionError:
        raise Malformed("a frame nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError included
        if isinstance(exc, Malformed):
            raise
        raise Malformed("not a JSON frame") from None


def dumps(obj):
    """One frame: compact ASCII JSON and a newline."""
    return _ENCODER.encode(obj).encode("ascii") + b"\n"


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# ----------------------------------------------------------------------------- strict comparison
def canon(value):
    """Return a hashable form of a plain value that keeps its types: ``1``, ``1.0`` and ``True`` differ.

    NaN equals NaN here; a solution's object (:class:`Remote`) equals only itself.
    """
    t = type(value)
    if t is list or t is tuple:
        return (t.__name__, tuple(canon(v) for v in value))
    if t is set or t is frozenset:
        return (t.__name__, frozenset(canon(v) for v in value))
    if t is dict:
        return ("dict", frozenset((canon(k), canon(v)) for k, v in value.items()))
    if t is float and value != value:
        return ("float", "nan")
    if t is complex and (value != value):
        return ("complex", canon(value.real), canon(value.imag))
    if t is Remote:
        return ("ref", id(object.__getattribute__(value, "_link")), object.__getattribute__(value, "_ref"))
    return (t.__name__, value)


def strict_equal(a, b):
    """``a == b`` with types compared too, all the way down (a test's own objects use their ``==``)."""
    try:
        return canon(a) == canon(b)
    except TypeError:  # an unhashable object of the test's own
        return type(a) is type(b) and a == b


def close_equal(a, b, rel_tol):
    """Like :func:`strict_equal`, but floats (and complex numbers) agree to ``rel_tol`` (or 1e-12 absolute)."""
    ta = type(a)
    if ta is not type(b):
        return False
    if ta is float:
        return (a != a and b != b) or math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-12)
    if ta is complex:
        return close_equal(a.real, b.real, rel_tol) and close_equal(a.imag, b.imag, rel_tol)
    if ta is list or ta is tuple:
        return len(a) == len(b) and all(close_equal(x, y, rel_tol) for x, y in zip(a, b))
    if ta is dict:
        if len(a) != len(b):
            return False
        keys = {canon(k): k for k in b}
        return all(canon(k) in keys and close_equal(v, b[keys[canon(k)]], rel_tol) for k, v in a.items())
    return strict_equal(a, b)


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


# ----------------------------------------------------------------------------- exceptions across the boundary
_NOT_REBUILT = frozenset({"StopIteration", "StopAsyncIteration"})


def exception_info(exc):
    """Describe an exception of the solution's as plain data (the solution's side)."""
    cls = type(exc)
    try:
        message = str(exc)
        if type(message) is not str:
            message = ""
    except BaseException:  # noqa: BLE001 - the solution's __str__
        message = ""
    bases = [c.__name__ for c in cls.__mro__ if c.__module__ == "builtins" and type(c.__name__) is str]
    name = cls.__name__ if type(cls.__name__) is str else "Exception"
    module = cls.__module__ if type(cls.__module__) is str else ""
    return {"type": name[:100], "module": module[:100], "bases": bases[:20], "message": message[:500]}


_REBUILT = {}


def rebuild_exception(info):
    """Return an exception the grader raises for one of the solution's (checking the description's shape).

    A builtin exception is rebuilt as itself; the solution's own class as a class of the same
    name derived from its nearest builtin base. Exceptions that steer control flow
    (``SystemExit``, ``StopIteration``...) become a :class:`SolutionError` of that name.
    """
    if type(info) is not dict or set(info) != {"type", "module", "bases", "message"}:
        raise Malformed("an exception description of the wrong shape")
    name, module, bases, message = info["type"], info["module"], info["bases"], info["message"]
    if not (type(name) is str and _NAME.match(name) and type(module) is str and type(message) is str):
        raise Malformed("an exception description of the wrong shape")
    if type(bases) is not list or not all(type(b) is str for b in bases):
        raise Malformed("an exception description of the wrong shape")
    base = SolutionError
    for b in bases:
        cls = getattr(builtins, b, None)
        if isinstance(cls, type) and issubclass(cls, Exception) and b not in _NOT_REBUILT:
            base = cls
            break
    if module == "builtins" and name == base.__name__:
        cls = base
    else:
        cls = _REBUILT.get((name, base))
        if cls is None:
            cls = _REBUILT[(name, base)] = type(name, (base,), {"__module__": "solution"})
    try:
        exc = cls(message)
    except Exception:  # noqa: BLE001 - a builtin that takes other arguments (UnicodeError kin)
        exc = type(name, (SolutionError,), {"__module__": "solution"})(message)
    exc.solution_message = message  # str(KeyError(m)) would quote m again
    return exc


def describe_exception(exc):
    """``Type: message`` (the solution's own message for an exception rebuilt from its side)."""
    message = getattr(exc, "solution_message", None)
    if message is None:
        message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


# ----------------------------------------------------------------------------- the solution's side
_SENTINEL = object()
_SKIP_PROBE = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type, types.ModuleType)
_WATCHED_TYPES = (object, type, int, float, complex, bool, str, bytes, list, tuple, dict, set, frozenset, BaseException)
_WATCHED_MODULES = ("__main__", __name__, "json", "json.decoder", "json.encoder")
_TESTING_MODULES = ("unittest", "unittest.case", "doctest")
_KILLS = frozenset({"os.kill", "os.killpg", "signal.pthread_kill", "signal.pidfd_send_signal"})


def signal_name(sig):
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _type_name(value):
    try:
        name = type(value).__name__
    except BaseException:  # noqa: BLE001
        return "object"
    return name[:100] if type(name) is str else "object"


class Builtins:
    """The solution's process has two sets of builtins: the harness's, and the solution's own.

    The solution's code runs (:meth:`run`) with whatever it made of ``builtins``; the
    harness, and the library code it calls (``json``), always with the original ones.
    """

    def __init__(self):
        self.pristine = dict(vars(builtins))
        self.theirs = dict(self.pristine)

    def run(self, fn, *args, **kwargs):
        live = vars(builtins)
        live.clear()
        live.update(self.theirs)
        try:
            return fn(*args, **kwargs)
        finally:
            self.theirs = dict(live)
            live.clear()
            live.update(self.pristine)


class Snapshot:
    """The watched mappings as they are before any solution runs: builtins, builtin types, the harness, ``json``.

    Taken once in the fork server (:func:`prepare`) and shared by every run forked from it:
    the same objects, so identity fingerprints stay valid across the fork.
    """

    def __init__(self):
        self.mappings = [("builtins", None)]  # in the solution's process: its own builtins
        self.mappings += [(t.__name__, t.__dict__) for t in _WATCHED_TYPES]
        self.mappings += [(m, vars(sys.modules[m])) for m in _WATCHED_MODULES if m in sys.modules]
        self.copies = [dict(vars(builtins) if live is None else live) for _, live in self.mappings]


_SNAPSHOT = []


def prepare():
    """Take the :class:`Snapshot` now (the fork server calls this once, before any run)."""
    if not _SNAPSHOT:
        _SNAPSHOT.append(Snapshot())
    return _SNAPSHOT[0]


class Watch:
    """What the solution's process sees the solution do to it: replaced builtins, patched types or harness, hooks.

    Run in the solution's own process, so the solution can hide from it; it gives the
    evidence for a ``tampered`` verdict, not the guarantees.
    """

    def __init__(self, solution_builtins):
        self.notes = []
        self.sent = 0
        self.parent = os.getppid()
        self.group = os.getpgrp()
        self.builtins = solution_builtins

    def arm(self):
        """Snapshot what is watched and start watching (right before the solution runs)."""
        register = atexit.register

        def recording_register(func, *args, **kwargs):
            if sys._getframe(1).f_code.co_filename == "solution.py":
                self.note(f"registered an atexit handler ({getattr(func, '__qualname__', _type_name(func))})")
            return register(func, *args, **kwargs)

        atexit.register = recording_register
        snap = prepare()
        exits = vars(atexit)
        self.mappings = [*snap.mappings, ("atexit", exits)]
        self.snapshots = [*snap.copies, dict(exits)]
        self.signals = {}
        for s in signal.valid_signals():
            try:
                self.signals[s] = signal.getsignal(s)
            except (OSError, ValueError):
                pass
        sys.addaudithook(self._audit)

    def _audit(self, event, args):
        if event not in _KILLS:
            return
        target = args[0] if args else None
        if event == "os.kill":
            hit = type(target) is int and (target <= 1 or target == self.parent)
        elif event == "os.killpg":
            hit = type(target) is int and (target <= 1 or target == self.group)
        else:  # a pidfd of the grader's, or a thread: nothing an answer needs
            hit = event == "signal.pidfd_send_signal"
        if hit:
            self.note(f"sent a signal to the grader ({event}{tuple(args)!r})")

    def note(self, text):
        text = text[:NOTE_CAP]
        if text not in self.notes:
            self.notes.append(text)

    def probe(self, value, base):
        """Note a returned object whose ``__eq__`` claims to equal an unrelated object, or a builtin subclass re-hashing."""
        if isinstance(value, _SKIP_PROBE):
            return
        name = _type_name(value)
        try:
            eq, ne = value == _SENTINEL, value != _SENTINEL
        except BaseException:  # noqa: BLE001 - the solution's __eq__
            eq = ne = None
        if eq is True or ne is False:
            self.note(f"the solution's {name} object claims to equal any object (its __eq__/__ne__ say so of an unrelated one)")
        if base in _HASHABLE_BASES:
            try:
                if hash(value) != hash(content(value)):
                    self.note(f"the solution's {name} object (a {base.__name__} subclass) overrides __hash__")
            except BaseException:  # noqa: BLE001
                pass

    def check(self):
        """Look again at everything watched (fast while nothing changed); return the notes not reported yet."""
        for (label, live), snapshot in zip(self.mappings, self.snapshots):
            if live is None:
                live = self.builtins.theirs
            if snapshot == live:  # a C loop that stops at identity: fast while nothing changed
                continue
            what = "the sandbox harness" if label in ("__main__", __name__) else label
            for k, v in snapshot.items():
                if live.get(k, _SENTINEL) is not v:
                    verb = "replaced" if k in live else "deleted"
                    self.note(f"{verb} {label}.{k}" if label == "builtins" else f"patched {what} ({label}.{k})")
            if label != "builtins":
                for k in live.keys() - snapshot.keys():
                    if not isinstance(live.get(k), types.ModuleType):  # importing a submodule adds one
                        self.note(f"patched {what} (added {label}.{k})")
        for s, h in self.signals.items():
            try:
                now = signal.getsignal(s)
            except (OSError, ValueError):
                continue
            if now is not h:
                self.note(f"installed a handler for {signal_name(s)}")
        for m in _TESTING_MODULES:
            module = sys.modules.get(m)
            if module is not None:
                self._planted(m, vars(module))
        if signal.getitimer(signal.ITIMER_REAL)[0] or signal.getitimer(signal.ITIMER_VIRTUAL)[0]:
            self.note("set an alarm (signal.alarm or setitimer)")
        if sys.gettrace() is not None or sys.getprofile() is not None:
            self.note("set a trace or profile function")
        new, self.sent = self.notes[self.sent :], len(self.notes)
        return new


    def _planted(self, label, namespace):
        """Note the solution's own functions planted in a testing module or its classes (e.g. TestCase.assertEqual)."""
        for k, v in list(namespace.items()):
            if isinstance(v, type) and v.__module__ == label:
                self._planted(f"{label}.{k}", v.__dict__)
            elif getattr(getattr(v, "__code__", None), "co_filename", None) == "solution.py":
                self.note(f"patched {label}.{k} with its own function")


class _Objects:
    """The solution's objects the grader holds handles to (by ``ref`` number)."""

    def __init__(self, watch):
        self.watch = watch
        self.objects = []
        self.ids = {}

    def other(self, value, depth):
        base = plain_base(value)
        self.watch.probe(value, base)
        if base is not None:
            return encode(content(value), self.other, depth)
        return self.ref(value)

    def ref(self, value):
        key = id(value)
        ref = self.ids.get(key)
        if ref is None:
            ref = self.ids[key] = len(self.objects)
            self.objects.append(value)
        return ["ref", ref, _type_name(value), callable(value)]

    def resolve(self, ref, _name, _is_callable):
        return self.objects[ref]

    def encode(self, value):
        try:
            return encode(value, self.other)
        except Unsendable:
            return self.ref(value)


def _call(f, *args, **kwargs):
    return f(*args, **kwargs)


#: What the grader may ask the solution's process to do with its objects.
OPS = {
    "call": _call, "getattr": getattr, "setattr": setattr, "delattr": delattr, "bool": bool, "len": len,
    "iter": iter, "next": next, "str": str, "int": int, "float": float, "complex": complex, "index": operator.index,
    "contains": operator.contains, "getitem": operator.getitem, "setitem": operator.setitem,
    "delitem": operator.delitem, "neg": operator.neg, "pos": operator.pos, "abs": abs, "invert": operator.invert,
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "matmul": operator.matmul,
    "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow,
    "lshift": operator.lshift, "rshift": operator.rshift, "and": operator.and_, "or": operator.or_,
    "xor": operator.xor, "lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
}


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001, S110 - the solution may have closed or replaced it
            pass


def serve_solution(rfd, wfd):
    """The solution's process: run ``solution.py``, send its names, then answer requests until EOF. Never returns."""
    signal.signal(signal.SIGXCPU, signal.SIG_DFL)
    solution = Builtins()
    watch = Watch(solution)
    objects = _Objects(watch)
    reader = os.fdopen(rfd, "rb")
    fd = os.open("solution.py", os.O_RDONLY)
    source = _read_all(fd).decode("utf-8", "surrogateescape")
    os.close(fd)
    namespace = {"__name__": "solution", "__builtins__": builtins}
    send, frame, leave = write_all, dumps, os._exit  # bound before the solution runs
    watch.arm()
    try:
        solution.run(exec, compile(source, "solution.py", "exec"), namespace)
    except BaseException as exc:  # noqa: BLE001 - SystemExit included: the tests never ran
        _flush()
        send(wfd, frame({"id": 0, "raised": exception_info(exc), "seen": watch.check()}))
        leave(0)
    names = {}
    for key, value in list(namespace.items()):
        if type(key) is str and not key.startswith("__") and not isinstance(value, types.ModuleType):
            names[key] = objects.encode(value)
    _flush()
    send(wfd, frame({"id": 0, "names": names, "seen": watch.check()}))
    while True:
        line = reader.readline()
        if not line:
            leave(0)
        request = loads(line)
        reply = {"id": request["id"]}
        op = request["op"]
        try:
            args = [decode(a, objects.resolve) for a in request["args"]]
            kwargs = {k: decode(v, objects.resolve) for k, v in request["kwargs"].items()}
            reply["value"] = objects.encode(solution.run(OPS[op], *args, **kwargs))
        except StopIteration as exc:
            if op == "next":
                reply["stop"] = True
            else:
                reply["raised"] = exception_info(exc)
        except BaseException as exc:  # noqa: BLE001 - the solution's exception, SystemExit included
            reply["raised"] = exception_info(exc)
        seen = watch.check()
        if seen:
            reply["seen"] = seen
        _flush()
        send(wfd, frame(reply))


# ----------------------------------------------------------------------------- the grader's side
class Remote:
    """One of the solution's objects, seen from the grader: whatever a test does to it is a request.

    Equality is identity (two handles to the same object); the rest (calls, attributes,
    ``len``, iteration, arithmetic...) runs in the solution's process and returns plain
    data or another :class:`Remote`.
    """

    __slots__ = ("_callable", "_link", "_ref", "_type")

    def __init__(self, link, ref, type_name, is_callable):
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_callable", is_callable)

    def _ask(self, op, *args, **kwargs):
        return object.__getattribute__(self, "_link").request(op, args, kwargs)

    def __repr__(self):
        return f"<the solution's {object.__getattribute__(self, '_type')} object>"

    def __call__(self, *args, **kwargs):
        return self._ask("call", self, *args, **kwargs)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._ask("getattr", self, name)

    def __setattr__(self, name, value):
        self._ask("setattr", self, name, value)

    def __delattr__(self, name):
        self._ask("delattr", self, name)

    def __eq__(self, other):
        return strict_equal(self, other)

    def __ne__(self, other):
        return not strict_equal(self, other)

    def __hash__(self):
        return hash(canon(self))

    def __bool__(self):
        return self._ask("bool", self)

    def __len__(self):
        return self._ask("len", self)

    def __iter__(self):
        return self._ask("iter", self)

    def __next__(self):
        return self._ask("next", self)

    def __str__(self):
        return self._ask("str", self)

    def __int__(self):
        return self._ask("int", self)

    def __float__(self):
        return self._ask("float", self)

    def __complex__(self):
        return self._ask("complex", self)

    def __index__(self):
        return self._ask("index", self)

    def __contains__(self, item):
        return self._ask("contains", self, item)

    def __getitem__(self, key):
        return self._ask("getitem", self, key)

    def __setitem__(self, key, value):
        self._ask("setitem", self, key, value)

    def __delitem__(self, key):
        self._ask("delitem", self, key)


def _unary(op):
    return lambda self: self._ask(op, self)


def _binary(op, reflected):
    if reflected:
        return lambda self, other: self._ask(op, other, self)
    return lambda self, other: self._ask(op, self, other)


for _op in ("neg", "pos", "abs", "invert"):
    setattr(Remote, f"__{_op}__", _unary(_op))
for _op in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "lshift", "rshift", "and", "or", "xor"):
    setattr(Remote, f"__{_op}__", _binary(_op, False))
    setattr(Remote, f"__r{_op}__", _binary(_op, True))
for _op in ("lt", "le", "gt", "ge"):
    setattr(Remote, f"__{_op}__", _binary(_op, False))
del _op


def _grader_other(value, depth):
    if type(value) is Remote:
        return ["ref", object.__getattribute__(value, "_ref"), object.__getattribute__(value, "_type"), False]
    if plain_base(value) is not None:
        return encode(content(value), _grader_other, depth)
    raise Unsendable(
        f"a {type(value).__name__} object cannot be passed to the solution: only plain data (None, bool, int, "
        f"float, complex, str, bytes, list, tuple, dict, set, frozenset) and the solution's own objects cross"
    )


def plain(value):
    """A fresh copy of ``value`` as plain data (builtin subclasses read as their builtin type)."""
    return decode(encode(value, _grader_other), _no_remote)


def _no_remote(*_args):
    raise Unsendable("the solution's objects have no place here")


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
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = None
        if status is None:
            self.end = {"exit": -1}
        elif os.WIFSIGNALED(status):
            self.end = {"signal": os.WTERMSIG(status)}
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
            if type(node) is not dict or not all(type(k) is str and _NAME.match(k) for k in node):
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
            "args": [encode(a, _grader_other) for a in args],
            "kwargs": {k: encode(v, _grader_other) for k, v in (kwargs or {}).items()},
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
        """Stop the solution's process (the pid namespace's end reaps it)."""
        if self.end is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.close(self.pidfd)

    def report_end(self):
        """How the solution's process ended while the tests ran (``None``: it was still answering)."""
        return None if self.end is None else dict(self.end)


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
        except Exception as exc:  # noqa: BLE001 - the reference raising is an expected outcome
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


def _read_all(fd):
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def run(payload_fd, emit, isolate):
    """Pid 1's part: fork the solution's process, then read the payload and grade; ``emit(report)`` at the end.

    Args:
        payload_fd: the host's pipe with the tests (``marshal``); read only after the fork.
        emit: writes the report on the host's report pipe (which the solution's process never holds).
        isolate: called in the solution's process before the solution runs (its own Landlock domain).
    """
    to_solution = os.pipe()
    from_solution = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            _close_all_but({0, 1, 2, to_solution[0], from_solution[1]})
            isolate()
            serve_solution(to_solution[0], from_solution[1])
        except BaseException as exc:  # noqa: BLE001 - the solution broke the harness: say so on the channel
            _broken(from_solution[1], exc)
        finally:
            os._exit(EXIT_HARNESS)
    os.close(to_solution[0])
    os.close(from_solution[1])
    payload = marshal.loads(_read_all(payload_fd))
    os.close(payload_fd)
    link = Link(pid, from_solution[0], to_solution[1])
    try:
        report = grade(payload, link)
    finally:
        link.close()
    emit(report)
