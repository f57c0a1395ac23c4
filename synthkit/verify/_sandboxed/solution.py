"""The solution's process: run the solution, then answer the grader's requests with plain data.

Its harness keeps the original builtins for itself (:class:`Builtins`) and watches what the
solution does to the process (:class:`Watch`); what it sees goes to the grader as notes.
"""

import atexit
import builtins
import operator
import os
import resource
import signal
import sys
import time
import types

from .data import (
    Unsendable,
    content,
    decode,
    dumps,
    encode,
    exception_info,
    flush_stdio,
    loads,
    plain_base,
    read_all,
    signal_name,
    type_name,
    write_all,
)

NOTE_CAP = 300
_HASHABLE_BASES = (int, float, complex, str, bytes, tuple, frozenset)


_SENTINEL = object()
_SKIP_PROBE = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type, types.ModuleType)
_WATCHED_TYPES = (object, type, int, float, complex, bool, str, bytes, list, tuple, dict, set, frozenset, BaseException)
_WATCHED_SLOTS = ("__eq__", "__ne__", "__hash__", "__lt__", "__le__", "__gt__", "__ge__", "__bool__", "__len__",
                  "__contains__", "__iter__", "__instancecheck__", "__subclasscheck__")
#: The harness itself: the sandbox child script and this package.
_HARNESS = ("__main__", __package__, f"{__package__}.data", __name__, f"{__package__}.grading")
_WATCHED_MODULES = (*_HARNESS, "json", "json.decoder", "json.encoder")
_TESTING_MODULES = ("unittest", "unittest.case", "doctest")
_KILLS = frozenset({"os.kill", "os.killpg"})


class Builtins:
    """The solution's process has two sets of builtins: the harness's, and the solution's own.

    The solution's code runs (:meth:`run`) with whatever it made of ``builtins``; the
    harness, and the library code it calls (``json``), always with the original ones. Until
    the solution changes them the two are one dict, and nothing is swapped.

    Args:
        pristine: the builtins as they were before any solution ran (the snapshot's copy).
    """

    def __init__(self, pristine):
        self.pristine = pristine
        self.theirs = None  # the solution's own, once it has changed them

    def run(self, fn, *args, **kwargs):
        live = vars(builtins)
        if self.theirs is not None:
            live.clear()
            live.update(self.theirs)
        try:
            return fn(*args, **kwargs)
        finally:
            if self.theirs is not None or live != self.pristine:
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
        self.mappings += [(m, vars(sys.modules[m])) for m in _WATCHED_MODULES if m in sys.modules]
        self.copies = [dict(vars(builtins) if live is None else live) for _, live in self.mappings]
        # of the builtin types, the slots that decide comparisons (a whole type dict is a lot to look at)
        self.slots = {(t, d): t.__dict__.get(d) for t in _WATCHED_TYPES for d in _WATCHED_SLOTS}


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
        self.builtins = solution_builtins

    def arm(self):
        """Start watching (right before the solution runs): atexit, signal handlers, signals sent."""
        register = atexit.register

        def recording_register(func, *args, **kwargs):
            if sys._getframe(1).f_code.co_filename == "solution.py":
                self.note(f"registered an atexit handler ({getattr(func, '__qualname__', type_name(func))})")
            return register(func, *args, **kwargs)

        atexit.register = recording_register
        snap = prepare()
        exits = vars(atexit)
        self.mappings = [*snap.mappings, ("atexit", exits)]
        self.snapshots = [*snap.copies, dict(exits)]
        self.slots = snap.slots
        self.signals = {}
        for s in signal.valid_signals():
            try:
                self.signals[s] = signal.getsignal(s)
            except (OSError, ValueError):
                pass
        sys.addaudithook(self._audit)

    def _audit(self, event, args):
        # pid 1 of its namespace, the solution's process has no pid for the grader: 0, -1 and 1 are what is left to try
        if event in _KILLS and args and type(args[0]) is int and args[0] <= 1:
            self.note(f"tried to signal the grader ({event}{tuple(args)!r}; from here that reaches only itself)")

    def note(self, text):
        text = text[:NOTE_CAP]
        if text not in self.notes:
            self.notes.append(text)

    def probe(self, value, base):
        """Note a returned object whose ``__eq__`` claims to equal an unrelated object, or a builtin subclass re-hashing."""
        if isinstance(value, _SKIP_PROBE):
            return
        name = type_name(value)
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
                if self.builtins.theirs is None:  # Builtins.run has just compared them
                    continue
                live = self.builtins.theirs
            if snapshot == live:  # a C loop that stops at identity: fast while nothing changed
                continue
            what = "the sandbox harness" if label in _HARNESS else label
            for k, v in snapshot.items():
                if live.get(k, _SENTINEL) is not v:
                    verb = "replaced" if k in live else "deleted"
                    self.note(f"{verb} {label}.{k}" if label == "builtins" else f"patched {what} ({label}.{k})")
            if label != "builtins":
                for k in live.keys() - snapshot.keys():
                    if not isinstance(live.get(k), types.ModuleType):  # importing a submodule adds one
                        self.note(f"patched {what} (added {label}.{k})")
        for (t, d), v in self.slots.items():
            if t.__dict__.get(d) is not v:
                self.note(f"patched {t.__name__}.{d}")
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
        return ["ref", ref, type_name(value), callable(value)]

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


def _on_cpu_limit(watch):
    """SIGXCPU in the solution's process: pid 1 of its namespace, it would ignore it unhandled."""
    soft = resource.getrlimit(resource.RLIMIT_CPU)[0]

    def handler(_signum, _frame):
        # On a loaded machine the kernel's signal comes early by the clocks a process can
        # read (1.87 s of a 2 s limit seen); a signal sent before the limit can only end the
        # run as a CPU-limit failure anyway, so the margin is wide.
        if soft == resource.RLIM_INFINITY or time.process_time() + 0.5 >= soft:
            os._exit(128 + signal.SIGXCPU)
        watch.note("sent itself SIGXCPU, the CPU limit's signal, before reaching the limit")

    return handler


def serve_solution(rfd, wfd):
    """The solution's process: run ``solution.py``, send its names, then answer requests until EOF. Never returns."""
    solution = Builtins(prepare().copies[0])
    watch = Watch(solution)
    signal.signal(signal.SIGXCPU, _on_cpu_limit(watch))
    objects = _Objects(watch)
    reader = os.fdopen(rfd, "rb")
    fd = os.open("solution.py", os.O_RDONLY)
    source = read_all(fd).decode("utf-8", "surrogateescape")
    os.close(fd)
    namespace = {"__name__": "solution", "__builtins__": builtins}
    send, frame, leave = write_all, dumps, os._exit  # bound before the solution runs
    watch.arm()
    try:
        solution.run(exec, compile(source, "solution.py", "exec"), namespace)
    except BaseException as exc:  # noqa: BLE001 - SystemExit included: the tests never ran
        flush_stdio()
        send(wfd, frame({"id": 0, "raised": exception_info(exc), "seen": watch.check()}))
        leave(0)
    names = {}
    for key, value in list(namespace.items()):
        if type(key) is str and not key.startswith("__") and not isinstance(value, types.ModuleType):
            names[key] = objects.encode(value)
    flush_stdio()
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
        flush_stdio()
        send(wfd, frame(reply))


