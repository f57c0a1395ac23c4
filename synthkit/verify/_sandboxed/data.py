"""Plain data across the sandbox's boundary: the tagged JSON format, strict equality, exceptions, handles.

Both processes use it: the solution's encodes its answers, the grader decodes them
strictly (:func:`decode` refuses anything off the format) and compares them type-strictly
(:func:`strict_equal`). Standard library only.
"""

import builtins
import cmath
import json
import math
import os
import re
import signal
import sys

MAX_DEPTH = 100


class Malformed(ValueError):
    """A frame or a value that is not in the protocol's shape."""


class Unsendable(TypeError):
    """A value that cannot cross the boundary as plain data."""


class SolutionError(Exception):
    """An exception of the solution's with no builtin counterpart the grader may raise."""


# ----------------------------------------------------------------------------- plain data
_HEX_INT = re.compile(r"-?0x[0-9a-f]+\Z")
_HEX_FLOAT = re.compile(r"-?(0x[0-9a-f]+(\.[0-9a-f]*)?p[+-][0-9]+|inf)\Z|nan\Z")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}\Z")

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


def flush_stdio():
    """Flush ``sys.stdout`` and ``sys.stderr`` (before an ``os._exit``, which would lose what they buffer)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001, S110 - the solution or a test may have closed or replaced it
            pass


def read_all(fd):
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


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
    if t is float and math.isnan(value):
        return ("float", "nan")
    if t is complex and cmath.isnan(value):
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
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-12)
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
    if not (type(name) is str and IDENTIFIER.match(name) and type(module) is str and type(message) is str):
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


# ----------------------------------------------------------------------------- names
def signal_name(sig):
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def type_name(value):
    try:
        name = type(value).__name__
    except BaseException:  # noqa: BLE001
        return "object"
    return name[:100] if type(name) is str else "object"


# ----------------------------------------------------------------------------- handles
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


def outbound(value, depth):
    if type(value) is Remote:
        return ["ref", object.__getattribute__(value, "_ref"), object.__getattribute__(value, "_type"), False]
    if plain_base(value) is not None:
        return encode(content(value), outbound, depth)
    raise Unsendable(
        f"a {type(value).__name__} object cannot be passed to the solution: only plain data (None, bool, int, "
        f"float, complex, str, bytes, list, tuple, dict, set, frozenset) and the solution's own objects cross"
    )


def plain(value):
    """A fresh copy of ``value`` as plain data (builtin subclasses read as their builtin type)."""
    return decode(encode(value, outbound), _no_remote)


def _no_remote(*_args):
    raise Unsendable("the solution's objects have no place here")


