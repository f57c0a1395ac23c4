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


def loads(data):
    """Parse one JSON frame strictly: no floats, NaN or repeated keys (raises :class:`Malformed`)."""
    try:
        return json.loads(data, parse_float=_refuse, parse_constant=_refuse, object_pairs_hook=_pairs)
    except RecursionError:
        raise Malformed("a frame nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError included
        if isinstance(exc, Malformed):
            raise
        raise Malformed(f"not a JSON frame ({exc})") from None


def dumps(obj):
    """One frame: compact ASCII JSON and a newline."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii") + b"\n"


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
        return cls(message)
    except Exception:  # noqa: BLE001 - a builtin that takes other arguments (UnicodeError kin)
        return type(name, (SolutionError,), {"__module__": "solution"})(message)


# ----------------------------------------------------------------------------- the solution's side
_SENTINEL = object()
_SKIP_PROBE = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type, types.ModuleType)
_WATCHED_TYPES = (object, type, int, float, complex, bool, str, bytes, list, tuple, dict, set, frozenset, BaseException)
_WATCHED_DUNDERS = ("__eq__", "__ne__", "__hash__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__len__",
                    "__contains__", "__iter__", "__repr__", "__str__", "__instancecheck__", "__subclasscheck__")
_WATCHED_MODULES = ("__main__", __name__, "json", "json.decoder", "json.encoder", "os", "marshal", "select", "signal")
_KILLS = frozenset({"os.kill", "os.killpg", "signal.pthread_kill", "signal.pidfd_send_signal"})


def _type_name(value):
    try:
        name = type(value).__name__
    except BaseException:  # noqa: BLE001
        return "object"
    return name[:100] if type(name) is str else "object"


class Watch:
    """What the solution's process sees the solution do to it: replaced builtins, patched types or harness, hooks.

    Run in the solution's own process, so the solution can hide from it; it gives the
    evidence for a ``tampered`` verdict, not the guarantees.
    """

    def __init__(self):
        self.notes = []
        self.sent = 0
        self.parent = os.getppid()

    def arm(self):
        """Snapshot what is watched and start watching (right before the solution runs)."""
        import atexit

        self.builtins = dict(vars(builtins))
        self.dunders = {(t, d): t.__dict__.get(d) for t in _WATCHED_TYPES for d in _WATCHED_DUNDERS}
        self.modules = {m: dict(vars(sys.modules[m])) for m in _WATCHED_MODULES if m in sys.modules}
        self.signals = {}
        for s in signal.valid_signals():
            try:
                self.signals[s] = signal.getsignal(s)
            except (OSError, ValueError):
                pass
        register = atexit.register

        def recording_register(func, *args, **kwargs):
            if sys._getframe(1).f_code.co_filename == "solution.py":
                self.note(f"registered an atexit handler ({getattr(func, '__qualname__', _type_name(func))})")
            return register(func, *args, **kwargs)

        atexit.register = recording_register
        self.modules["atexit"] = dict(vars(atexit))
        sys.addaudithook(self._audit)

    def _audit(self, event, args):
        if event in _KILLS:
            target = args[0] if args else None
            if event != "os.kill" or (type(target) is int and (target <= 1 or target == self.parent)):
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
            self.note(f"a {name} object claims to equal any object ({name}.__eq__/__ne__ say so of an unrelated object)")
        if base in _HASHABLE_BASES:
            try:
                if hash(value) != hash(content(value)):
                    self.note(f"a {name} object ({base.__name__} subclass) overrides __hash__")
            except BaseException:  # noqa: BLE001
                pass

    def check(self):
        """Return the notes not reported yet (and look again at what is watched)."""
        for k, v in self.builtins.items():
            if builtins.__dict__.get(k, _SENTINEL) is not v:
                self.note(f"replaced builtins.{k}" if k in builtins.__dict__ else f"deleted builtins.{k}")
        for (t, d), v in self.dunders.items():
            if t.__dict__.get(d) is not v:
                self.note(f"patched {t.__name__}.{d}")
        for m, snapshot in self.modules.items():
            current = vars(sys.modules.get(m, types))
            for k, v in snapshot.items():
                if current.get(k, _SENTINEL) is not v:
                    self.note(f"patched {'the sandbox harness' if m in ('__main__', __name__) else m} ({m}.{k})")
        for s, h in self.signals.items():
            try:
                now = signal.getsignal(s)
            except (OSError, ValueError):
                continue
            if now is not h:
                self.note(f"installed a handler for {signal.Signals(s).name if s in signal.Signals._value2member_map_ else s}")
        if signal.getitimer(signal.ITIMER_REAL)[0] or signal.getitimer(signal.ITIMER_VIRTUAL)[0]:
            self.note("set an alarm (signal.alarm or setitimer)")
        if sys.gettrace() is not None or sys.getprofile() is not None:
            self.note("set a trace or profile function")
        new, self.sent = self.notes[self.sent :], len(self.notes)
        return new


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
    watch = Watch()
    objects = _Objects(watch)
    reader = os.fdopen(rfd, "rb")
    with open("solution.py", encoding="utf-8") as fh:
        source = fh.read()
    namespace = {"__name__": "solution", "__builtins__": builtins}
    send = write_all  # bound before the solution runs: patching the module attribute changes nothing here
    frame = dumps
    watch.arm()
    try:
        exec(compile(source, "solution.py", "exec"), namespace)  # noqa: S102 - this is the sandbox
    except BaseException as exc:  # noqa: BLE001 - SystemExit included: the tests never ran
        _flush()
        send(wfd, frame({"id": 0, "raised": exception_info(exc), "seen": watch.check()}))
        os._exit(0)
    names = {}
    for key, value in list(namespace.items()):
        if type(key) is str and not key.startswith("__") and not isinstance(value, types.ModuleType):
            names[key] = objects.encode(value)
    _flush()
    send(wfd, frame({"id": 0, "names": names, "seen": watch.check()}))
    while True:
        line = reader.readline()
        if not line:
            os._exit(0)
        request = loads(line)
        reply = {"id": request["id"]}
        op = request["op"]
        try:
            args = [decode(a, objects.resolve) for a in request["args"]]
            kwargs = {k: decode(v, objects.resolve) for k, v in request["kwargs"].items()}
            reply["value"] = objects.encode(OPS[op](*args, **kwargs))
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

    __slots__ = ("_link", "_ref", "_type", "_callable")

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
        self.doing = "loading the solution"

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
            sig = end["signal"]
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
            return f"the solution's process was killed by {name}"
        if "killed" in end:
            return f"the solution's process {end['killed']} and was stopped"
        return f"the solution's process exited with code {end.get('exit')}"

    def tamper(self, what):
        what = what[:NOTE_CAP]
        if what not in self.tampered:
            self.tampered.append(what)

    def _frame(self, line, keys, expected):
        try:
            msg = loads(line)
            if type(msg) is not dict or not set(msg) <= keys or msg.get("id") != expected or type(msg["id"]) is not int:
                raise Malformed("not an answer to the request in flight")
            seen = msg.get("seen", [])
            if type(seen) is not list or len(seen) > 50 or not all(type(s) is str for s in seen):
                raise Malformed("a 'seen' list of the wrong shape")
        except Malformed as exc:
            excerpt = line[:120].decode("utf-8", "backslashreplace")
            self.tamper(f"the solution's process wrote {excerpt!r} on the grader's channel while {self.doing} ({exc})")
            self._kill(None)
            raise Tampered() from None
        self.notes.extend(s[:NOTE_CAP] for s in seen if s[:NOTE_CAP] not in self.notes)
        return msg

    def _value(self, node):
        try:
            return decode(node, self.remote)
        except Malformed as exc:
            self.tamper(f"the solution's process sent a malformed value while {self.doing} ({exc})")
            self._kill(None)
            raise Tampered() from None

    def remote(self, ref, type_name, is_callable):
        handle = self.remotes.get(ref)
        if handle is None:
            handle = self.remotes[ref] = Remote(self, ref, type_name, is_callable)
        return handle

    # -- the protocol
    def ready(self):
        """Wait for the solution to load; return its names, or ``("raised", description)``, or ``None`` if it ended."""
        line = self._line()
        if line is None:
            self._gone()
            return None
        msg = self._frame(line, {"id", "names", "raised", "seen"}, 0)
        if ("names" in msg) == ("raised" in msg):
            self._frame(b"{}", set(), -1)  # neither or both: malformed
        if "raised" in msg:
            try:
                exc = rebuild_exception(msg["raised"])
            except Malformed:
                self._frame(line, set(), -1)
            return ("raised", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        names = msg["names"]
        if type(names) is not dict:
            self._frame(line, set(), -1)
        return {k: self._value(v) for k, v in names.items() if _NAME.match(k)}

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
        msg = self._frame(line, {"id", "value", "raised", "stop", "seen"}, self.last)
        answers = [k for k in ("value", "raised", "stop") if k in msg]
        if len(answers) != 1 or (answers == ["stop"] and (msg["stop"] is not True or op != "next")):
            self._frame(b"{}", set(), -1)
        if "value" in msg:
            return self._value(msg["value"])
        if "stop" in msg:
            raise StopIteration
        try:
            exc = rebuild_exception(msg["raised"])
        except Malformed:
            self._frame(line, set(), -1)
        raise exc

    def close(self):
        if self.end is None:
            self._kill(None)
        os.close(self.pidfd)

    def report_end(self):
        """How the solution's process ended while the tests ran (``None`` if the grader stopped it)."""
        if self.end is None or ("exit" in self.end and self.faults == 0):
            return None
        return dict(self.end)


def _describe(exc, detailed, mismatch=None):
    """How a failure reads in a reason: hidden checks show the exception's type only."""
    if isinstance(exc, SolutionGone):
        return f"failed: {exc}"
    name = type(exc).__name__
    if not detailed:
        return f"raised {name}"
    text = f"{name}: {exc}" if str(exc) else name
    if mismatch and isinstance(exc, AssertionError):
        text += f" ({mismatch})"
    return f"raised {text[:500]}"


def _run_tests(tests, label, namespace, link, compare, detailed):
    failed = []
    for i, source in enumerate(tests):
        link.doing = f"{label} {i + 1} ran"
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
        link.doing = f"reference check {i + 1} ran"
        try:
            expected = ("value", plain(reference(*plain(args))))
        except Exception as exc:  # noqa: BLE001 - the reference raising is an expected outcome
            expected = ("raised", type(exc))
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
                failed.append({"index": i, "error": f"raised {type(actual[1]).__name__} where the reference raised {want.__name__}"})
        elif actual[0] == "raised":
            failed.append({"index": i, "error": f"raised {type(actual[1]).__name__} where the reference returned a value"})
        else:
            failed.append({"index": i, "error": f"returned a value where the reference raised {expected[1].__name__}"})
    return {"total": len(inputs), "failed": failed}


def grade(payload, link):
    """Run the tests, the hidden tests and the reference checks against the solution; return the report."""
    names = link.ready()
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
                groups[key] = {"total": len(payload[key]), "failed": _run_tests(payload[key], label, namespace, link, compare, detailed)}
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
