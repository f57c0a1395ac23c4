"""Run untrusted Python code against its tests in a sandbox.

Each run is a separate process tree, isolated by what a Linux kernel offers without root:

============  ===================================================================
layer         what it does
============  ===================================================================
``userns``    a new user namespace: no capability holds outside the sandbox, and
              the process limit counts only the sandbox's own processes
``netns``     a new network namespace with loopback down: no network at all
``pidns``     a new pid namespace for the solution: it sees only its own processes,
              and when its first process ends, or the grader dies, every process
              in it is killed
``nproc``     ``RLIMIT_NPROC`` holds (as root, the real uid becomes 65534 for it)
``landlock``  reads only below the interpreter and system paths, writes only below
              the run's temporary directory, no TCP, no signals outside
``seccomp``   no uid/gid changes, ``AF_UNIX`` sockets, ptrace, mount, bpf,
              keyrings, io_uring or new namespaces
============  ===================================================================

Runs are forked from a warm launcher process (a fork server started on first use, with a
scrubbed environment), so a run costs a few forks rather than an interpreter start.
Always on: a wall-clock timeout that kills the whole process group, CPU-time, address
space, process-count, file-size and open-file limits, every capability dropped, a
scrubbed environment (no inherited variables), and a temporary working directory that
is deleted afterwards. When a layer is missing, :class:`Sandbox` refuses to run, naming
the layer, unless the caller opts out of it with ``allow_missing``.

Inside, the solution and its grading are apart (the ``_sandboxed`` package): the sandbox's
first process is the grader; it forks the solution's process, pid 1 of a new pid
namespace (so the grader has no pid there), which holds only two pipes to the grader (not
the report pipe, not the tests), enters a Landlock domain of its own and runs the solution.
The grader, which may now signal that process only, then reads the
:class:`~synthkit.verify.grader.Suite` from a pipe of its own and runs the tests in its interpreter; every use of the solution's names is a request to the
solution's process, answered with plain data (type-tagged JSON) that the grader compares,
type-strictly. What the solution writes on its pipe that is not such an answer, and what
its process notices it doing to itself (replacing builtins, an ``__eq__`` that equals
anything...), makes the run ``tampered``.

Example:
    >>> sb = Sandbox(Limits(wall=5))
    >>> sb.run_sync("def add(a, b):\\n    return a + b", ["assert add(1, 2) == 3"]).passed
    True
"""

from __future__ import annotations

import ast
import asyncio
import fcntl
import functools
import marshal
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from synthkit.errors import SynthkitError
from synthkit.verify.grader import Reference, Suite, summarize

__all__ = ["LAYERS", "Limits", "RunResult", "Sandbox", "SandboxUnavailable", "probe_layers", "extract_code"]

#: The isolation layers, in the order they are set up.
LAYERS = ("userns", "netns", "pidns", "nproc", "landlock", "seccomp")

_CHILD = Path(__file__).with_name("_sandbox_child.py")
_SYSTEM_READ = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
_DEVICES_READ = ("/dev/urandom", "/dev/random", "/dev/zero")
_DEVICES_RW = ("/dev/null",)


class SandboxUnavailable(SynthkitError):
    """An isolation layer the sandbox needs is missing on this machine."""


@attrs.frozen
class Limits:
    """Resource limits of one sandboxed run.

    Attributes:
        wall: wall-clock seconds before the whole process group is killed.
        cpu: CPU seconds per process (``RLIMIT_CPU``).
        memory: address-space bytes per process (``RLIMIT_AS``).
        processes: processes and threads at once in the sandbox (``RLIMIT_NPROC``).
        file_size: bytes any one file may grow to (``RLIMIT_FSIZE``).
        open_files: open file descriptors per process (``RLIMIT_NOFILE``).
        output: bytes of stdout and of stderr kept (the rest is read and discarded).
    """

    wall: float = 10.0
    cpu: int = 5
    memory: int = 1024 * 2**20
    processes: int = 32
    file_size: int = 16 * 2**20
    open_files: int = 256
    output: int = 64 * 2**10


@attrs.frozen
class RunResult:
    """The outcome of one sandboxed run.

    Attributes:
        status: ``"passed"``, ``"failed"`` (a test or the solution raised), ``"timeout"``,
            ``"cpu"`` (CPU limit), ``"memory"`` (memory limit), ``"crashed"`` (killed by a
            signal or exited before the tests finished), ``"tampered"`` (the solution
            interfered with its grading; ``reason`` starts ``tampered:``).
        reason: one line saying why, naming the limit or the failing test.
        tests_total: how many checks there were (tests, hidden tests, reference checks).
        tests_failed: how many failed (all of them when the tests never ran).
        exit_code: the sandboxed process's exit code, if it exited.
        signal: the signal that killed it, if one did.
        stdout: the start of its standard output.
        stderr: the start of its standard error.
        duration: wall-clock seconds, process start to last byte.
        workdir: the temporary directory it ran in (deleted by now).
        tampered: what was seen when the solution interfered with its grading.
    """

    status: str
    reason: str
    tests_total: int = 0
    tests_failed: int = 0
    exit_code: int | None = None
    signal: int | None = None
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    workdir: str = ""
    tampered: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status == "passed"


_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)


def extract_code(text: str, *, block: str = "last") -> str:
    """Return the Python code in a model response.

    Takes the fenced block tagged ``python`` (or ``py``, ``python3``); without one, an
    untagged fenced block; without any fence, the whole text.

    Args:
        text: the response.
        block: ``"last"`` or ``"first"`` matching block, or ``"all"`` of them joined.
    """
    blocks = [(lang.lower(), body) for lang, body in _FENCE.findall(text)]
    chosen = [b for lang, b in blocks if lang in ("python", "py", "python3")] or [b for lang, b in blocks if not lang]
    if not chosen:
        return text if not blocks else blocks[-1][1]
    if block == "first":
        return chosen[0]
    if block == "all":
        return "\n\n".join(chosen)
    return chosen[-1]


def _scrubbed_env(workdir: str) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }


def _read_paths(python: str, extra: Iterable[str], site_packages: bool) -> list[str]:
    paths = [sys.base_prefix, str(Path(python).resolve().parent.parent), *_SYSTEM_READ, *_DEVICES_READ]
    if site_packages:
        paths.append(sys.prefix)
    paths.extend(extra)
    seen: list[str] = []
    for p in paths:
        if p and p not in seen and os.path.exists(p):
            seen.append(p)
    return seen


async def _read_capped(stream: asyncio.StreamReader | None, cap: int) -> bytes:
    if stream is None:
        return b""
    kept = bytearray()
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            return bytes(kept)
        if len(kept) < cap:
            kept.extend(chunk[: cap - len(kept)])


def _probe_run(python: str, cfg: dict[str, Any], workdir: str) -> tuple[bytes, bytes]:
    """Run the launcher once in its own process (no fork server) and return (report, stderr)."""
    r, w = os.pipe()
    cfg = {**cfg, "result_fd": w}
    try:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [python, "-I", "-S", str(_CHILD), marshal.dumps(cfg).hex()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=_scrubbed_env(workdir),
            cwd=workdir,
            pass_fds=(w,),
            start_new_session=True,
        )
    finally:
        os.close(w)
    with os.fdopen(r, "rb") as fh:
        report = fh.read()
    _, err = proc.communicate(timeout=30)
    return report, err


def _parse_report(data: bytes) -> list[dict[str, Any]]:
    """Read the launcher's report lines (``repr`` of dicts of literals); anything else is skipped."""
    lines = []
    for raw in data.decode("utf-8", "replace").splitlines():
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            continue
        if isinstance(value, dict):
            lines.append(value)
    return lines


class _ForkServer:
    """A warm launcher process that forks one sandbox per request (see ``_sandbox_child.serve``)."""

    def __init__(self, python: str, site: bool) -> None:
        self.python = python
        self.site = site
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: Any = None
        self._owner = 0

    def _start(self) -> None:
        self._owner = os.getpid()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
                [self.python, *(("-I",) if self.site else ("-I", "-S")), str(_CHILD), "--server", str(child.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=_scrubbed_env("/"),
                cwd="/",
                pass_fds=(child.fileno(),),
                start_new_session=True,
            )
        finally:
            child.close()
        self._sock = parent
        self._finalizer = weakref.finalize(self, _stop_server, parent, self._proc)

    def launch(self, cfg: bytes, fds: list[int]) -> int:
        """Send one run's config and its stdout, stderr, report and payload fds; return the sandbox's first pid."""
        with self._lock:
            for _ in range(2):
                if self._sock is None or self._proc is None or self._owner != os.getpid() or self._proc.poll() is not None:
                    self.close()
                    self._start()
                assert self._sock is not None
                try:
                    socket.send_fds(self._sock, [cfg], fds)
                    answer = self._sock.recv(4)
                except OSError:
                    answer = b""
                if len(answer) == 4:
                    return int(struct.unpack("=i", answer)[0])
                self.close()
        msg = "the sandbox's fork server stopped answering; see whether the machine is out of processes or memory"
        raise SandboxUnavailable(msg)

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._sock = self._proc = self._finalizer = None


def _stop_server(sock: socket.socket, proc: subprocess.Popen[bytes]) -> None:
    sock.close()  # the server kills what it still runs and exits at EOF
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def _pipe_reader(fd: int) -> tuple[asyncio.StreamReader, Any]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**20)
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0))
    return reader, transport


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _few_files(path: str) -> bool:
    """Whether ``path`` holds at most 8 entries, none a folder (deleting it cannot take long)."""
    try:
        with os.scandir(path) as entries:
            for i, entry in enumerate(entries):
                if i >= 8 or entry.is_dir(follow_symlinks=False):
                    return False
    except OSError:
        return False
    return True


def _rmtree(path: str) -> None:
    def onerror(func: Any, p: str, _exc: Any) -> None:
        try:
            os.chmod(os.path.dirname(p), stat.S_IRWXU)
            os.chmod(p, stat.S_IRWXU)
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=onerror)


@functools.cache
def probe_layers(python: str = sys.executable) -> dict[str, str | None]:
    """Return each layer mapped to ``None`` when it works here, else why it does not.

    Runs the sandbox once with nothing to execute; the answer is cached per interpreter.
    """
    workdir = tempfile.mkdtemp(prefix="synthkit-sandbox-probe-")
    cfg = {
        "probe": True,
        "workdir": workdir,
        "allow_missing": list(LAYERS),
        "limits": _limits_cfg(Limits()),
        "read_paths": _read_paths(python, (), False),
        "write_paths": [workdir],
    }

    try:
        report, err = _probe_run(python, cfg, workdir)
    finally:
        _rmtree(workdir)
    lines = _parse_report(report)
    if not any("probe" in x for x in lines):
        lines.append({"setup_error": err.decode(errors="replace").strip()[-500:] or "the launcher gave no answer"})
    for line in lines:
        if "probe" in line:
            state = line["probe"]
            return {k: state.get(k, "not tried") for k in LAYERS} | {"landlock_abi": state.get("landlock_abi")}
    why = next((x["setup_error"] for x in lines if "setup_error" in x), "the launcher gave no answer")
    return {k: why for k in LAYERS} | {"landlock_abi": None}


def _run_coro(coro: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # called from inside a running loop (e.g. a verifier built in async code): use a thread
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _limits_cfg(limits: Limits) -> dict[str, int]:
    return {
        "cpu": max(1, int(limits.cpu)),
        "memory": int(limits.memory),
        "nproc": int(limits.processes),
        "fsize": int(limits.file_size),
        "nofile": int(limits.open_files),
    }


_HINTS = (
    ("MemoryError", "memory", "memory limit of {mem} MiB"),
    ("Resource temporarily unavailable", None, "process limit of {nproc}"),
    ("File too large", None, "file size limit of {fsize} MiB"),
)


def _failures_ok(failed: Any) -> bool:
    return isinstance(failed, list) and all(
        isinstance(f, dict) and isinstance(f.get("index"), int) and isinstance(f.get("error"), str) for f in failed
    )


def _well_formed(line: dict[str, Any]) -> bool:
    """Whether a report line has the shape the grader writes."""
    if not isinstance(line.get("tampered"), list) or not all(isinstance(t, str) for t in line["tampered"]):
        return False
    if line.get("stage") == "solution":
        return any(isinstance(line.get(k), t) for k, t in (("error", str), ("exit", int), ("signal", int)))
    if line.get("stage") == "tests":
        groups = line.get("groups")
        return isinstance(groups, dict) and all(
            isinstance(g, dict) and isinstance(g.get("total"), int) and _failures_ok(g.get("failed"))
            for g in groups.values()
        ) and (line.get("ended") is None or isinstance(line["ended"], dict))
    return False


def _prefill(fd: int, payload: bytes) -> bytes:
    """Write what fits of ``payload`` into the pipe now, without blocking; return the rest.

    The bytes wait in the kernel's pipe buffer: the grader reads them after it has forked the
    solution's process, which closes its copy of the pipe before the solution runs.
    """
    if len(payload) > 2**16:
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, min(len(payload), 2**20))
        except OSError:
            pass  # the default 64 KiB; the rest goes in a thread
    os.set_blocking(fd, False)
    try:
        written = os.write(fd, payload)
    except BlockingIOError:
        written = 0
    os.set_blocking(fd, True)
    return payload[written:]


def _write_rest(fd: int, rest: bytes) -> None:
    try:
        view = memoryview(rest)
        while view:
            view = view[os.write(fd, view) :]
    except BrokenPipeError:
        pass  # the grader is gone; the report says why
    finally:
        os.close(fd)


class Sandbox:
    """Runs a solution and its tests in an isolated process tree.

    Args:
        limits: the resource limits of each run.
        allow_missing: layers (from :data:`LAYERS`) the caller accepts to run without;
            by default a missing layer makes the constructor raise.
        read_paths: more paths the code may read (the interpreter's prefix and system
            library paths are always readable).
        site_packages: let the code import the current environment's installed packages
            (adds ``sys.prefix`` to the readable paths and runs without ``-S``).
        python: the interpreter that runs the code.
        max_concurrent: runs at once; more wait their turn.

    Raises:
        SandboxUnavailable: a layer is missing and not in ``allow_missing``.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        allow_missing: Iterable[str] = (),
        read_paths: Iterable[str] = (),
        site_packages: bool = False,
        python: str = sys.executable,
        max_concurrent: int | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.allow_missing = tuple(allow_missing)
        unknown = sorted(set(self.allow_missing) - set(LAYERS))
        if unknown:
            msg = f"allow_missing names unknown layers {unknown}; the layers are {', '.join(LAYERS)}"
            raise ValueError(msg)
        self.python = python
        self.site_packages = site_packages
        self.read_paths = _read_paths(python, read_paths, site_packages)
        self.max_concurrent = max_concurrent or os.cpu_count() or 1
        self.layers = probe_layers(python)
        missing = {k: self.layers[k] for k in LAYERS if self.layers[k] is not None}
        refused = [k for k in missing if k not in self.allow_missing]
        if refused:
            why = "; ".join(f"{k} ({missing[k]})" for k in refused)
            msg = (
                f"the code sandbox cannot isolate generated code on this machine: missing {why}. "
                f"Run on a Linux kernel with unprivileged user namespaces and Landlock (5.13+), or accept "
                f"the risk explicitly with allow_missing={tuple(refused)!r}"
            )
            raise SandboxUnavailable(msg)
        self.missing = tuple(missing)
        self._sem: asyncio.Semaphore | None = None
        self._sem_loop: Any = None
        self._server = _ForkServer(python, site_packages)

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._sem is None or self._sem_loop is not loop:
            self._sem = asyncio.Semaphore(self.max_concurrent)
            self._sem_loop = loop
        return self._sem

    def run_sync(
        self, code: str, tests: Sequence[str] | str | Suite, *, hidden: Sequence[str] = (), reference: Reference | None = None
    ) -> RunResult:
        """Run :meth:`run` to completion from synchronous code."""
        return _run_coro(self.run(code, tests, hidden=hidden, reference=reference))

    async def run(
        self, code: str, tests: Sequence[str] | str | Suite, *, hidden: Sequence[str] = (), reference: Reference | None = None
    ) -> RunResult:
        """Run ``code`` in a fresh sandbox and grade it on its tests.

        Args:
            code: the solution's source.
            tests: Python statements (usually ``assert``) run after the solution, with its
                names in scope, in the grader's process; a single string is one test. Or a
                whole :class:`~synthkit.verify.grader.Suite`.
            hidden: hidden tests, run after them (named by number only in a reason).
            reference: a reference solution compared with the solution on its inputs.

        Raises:
            SuiteError: there is nothing to grade with.
        """
        if isinstance(tests, str):
            tests = [tests]
        suite = tests if isinstance(tests, Suite) else Suite(tuple(tests), tuple(hidden), reference)
        async with self._semaphore():
            return await self._run(code, suite)

    async def _run(self, code: str, suite: Suite) -> RunResult:
        lim = self.limits
        payload = suite.payload()
        workdir = tempfile.mkdtemp(prefix="synthkit-sandbox-")
        start = time.monotonic()
        timed_out = False
        try:
            Path(workdir, "solution.py").write_text(code, encoding="utf-8")
            cfg = {
                "workdir": workdir,
                "env": _scrubbed_env(workdir),
                "allow_missing": list(self.allow_missing),
                "limits": _limits_cfg(lim),
                "read_paths": self.read_paths,
                "write_paths": [workdir, *_DEVICES_RW],
            }
            pipes = [os.pipe() for _ in range(3)]
            tests_r, tests_w = os.pipe()  # to the grader only, read after the solution's process has forked
            rest = _prefill(tests_w, payload)
            if not rest:  # all of it waits in the pipe: the grader reads it, then EOF, without waiting for us
                os.close(tests_w)
            try:
                pid = await asyncio.to_thread(self._server.launch, marshal.dumps(cfg), [w for _, w in pipes] + [tests_r])
            except BaseException:
                for r, _ in pipes:
                    os.close(r)
                if rest:
                    os.close(tests_w)
                raise
            finally:
                for _, w in pipes:
                    os.close(w)
                os.close(tests_r)
            writer = asyncio.ensure_future(asyncio.to_thread(_write_rest, tests_w, rest)) if rest else None
            readers = [await _pipe_reader(r) for r, _ in pipes]
            out_r, err_r, rep_r = (rd for rd, _ in readers)
            # every process of the sandbox holds these pipes: EOF on all three means all are gone
            gathered = asyncio.gather(
                _read_capped(out_r, lim.output), _read_capped(err_r, lim.output), _read_capped(rep_r, 2**20)
            )
            try:
                out, err, report = await asyncio.wait_for(asyncio.shield(gathered), lim.wall)
            except asyncio.TimeoutError:
                timed_out = True
                _killpg(pid)
                out, err, report = await asyncio.wait_for(gathered, 30)
            except BaseException:
                _killpg(pid)
                gathered.cancel()
                raise
            finally:
                for _, transport in readers:
                    transport.close()
                if writer is not None:
                    await writer
        finally:
            if _few_files(workdir):
                _rmtree(workdir)  # quicker here than a thread hop
            else:
                await asyncio.to_thread(_rmtree, workdir)
        duration = time.monotonic() - start
        return self._interpret(
            _parse_report(report), timed_out, suite, out.decode(errors="replace"), err.decode(errors="replace"),
            duration, workdir,
        )

    def close(self) -> None:
        """Stop the fork server (it is started again on the next run)."""
        self._server.close()

    def _interpret(
        self, lines: list[dict[str, Any]], timed_out: bool, suite: Suite, out: str, err: str, duration: float, workdir: str
    ) -> RunResult:
        lim = self.limits
        n = suite.size
        common: dict[str, Any] = {"stdout": out, "stderr": err, "duration": duration, "workdir": workdir, "tests_total": n}
        # Only the grader holds the report pipe (the solution's process closes its copy before
        # the solution runs): it writes one report, then a line with its exit status.
        report = next((x for x in lines if _well_formed(x)), None)
        setup = next((x for x in lines if isinstance(x.get("setup_error"), str)), None)
        if setup is not None and report is None:
            msg = f"the sandbox could not start: {setup['setup_error']}"
            raise SandboxUnavailable(msg)
        code = next((x["exit"] for x in reversed(lines) if isinstance(x.get("exit"), int) and "stage" not in x), None)
        sig = next((x["signal"] for x in lines if isinstance(x.get("signal"), int) and "stage" not in x), None)
        common |= {"exit_code": code, "signal": sig, "tests_failed": n}
        if timed_out:
            return RunResult("timeout", f"wall-clock timeout after {lim.wall:g} s; the whole process group was killed", **common)
        if report is not None and report["tampered"]:
            seen = report["tampered"]
            more = f" (and {len(seen) - 3} more)" if len(seen) > 3 else ""
            return RunResult("tampered", "tampered: " + "; ".join(seen[:3]) + more, tampered=tuple(seen), **common)
        if sig is not None:
            return self._killed(sig, "", common)
        if report is None:
            if code is None:
                why = "the CPU time hard limit or the kernel's out-of-memory killer"
                return RunResult("crashed", f"the sandbox's grader was killed before it reported ({why})", **common)
            tail = err.strip().splitlines()[-1:] or ["(no stderr)"]
            return RunResult(
                "crashed", f"the program exited with code {code} before the tests finished; stderr: {tail[0][:300]}", **common
            )
        if report["stage"] == "solution":
            if "error" in report:
                status_name, hint = self._hint(report["error"])
                return RunResult(status_name, f"the solution raised {report['error']}{hint} before the tests ran", **common)
            if "signal" in report:
                return self._killed(report["signal"], "", common)
            tail = err.strip().splitlines()[-1:] or ["(no stderr)"]
            why = f"the program exited with code {report['exit']} before the tests finished; stderr: {tail[0][:300]}"
            return RunResult("crashed", why, **common)
        total, failed, reason, first = summarize(report["groups"], suite)
        common |= {"tests_total": total, "tests_failed": failed}
        ended = report["ended"]
        if ended is not None:
            during = f" while {ended.get('during', 'the tests ran')}"
            if isinstance(ended.get("signal"), int):
                return self._killed(ended["signal"], during, common)
            if ended.get("exit") == 0:
                why = (
                    f"tampered: the solution's process exited with status 0{during}, which only code that steps "
                    f"around the harness does (os._exit, a signal handler, __del__)"
                )
                return RunResult("tampered", why, tampered=(why[len("tampered: ") :],), **common)
        if not failed and code == 0:
            return RunResult("passed", reason, **common)
        if not failed:
            return RunResult("crashed", f"the tests passed but the grader exited with code {code}", **common)
        status_name, hint = self._hint(first or "")
        return RunResult(status_name, reason + hint, **common)

    def _killed(self, sig: int, during: str, common: dict[str, Any]) -> RunResult:
        lim = self.limits
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig == signal.SIGXCPU:
            return RunResult("cpu", f"CPU time limit of {lim.cpu} s exceeded (killed by {name}){during}", **common)
        if sig == signal.SIGKILL:
            why = "the CPU time hard limit or the kernel's out-of-memory killer"
            return RunResult("crashed", f"killed by SIGKILL ({why}){during}", **common)
        return RunResult("crashed", f"killed by {name}{during}", **common)

    def _hint(self, error: str) -> tuple[str, str]:
        lim = self.limits
        values = {"mem": lim.memory // 2**20, "nproc": lim.processes, "fsize": lim.file_size // 2**20}
        for needle, status, hint in _HINTS:
            if needle in error:
                return status or "failed", " (" + hint.format(**values) + ")"
        return "failed", ""
