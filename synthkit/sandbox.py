"""Run untrusted Python code against its tests in a sandbox.

Each run is a separate process tree, isolated by what a Linux kernel offers without root:

============  ===================================================================
layer         what it does
============  ===================================================================
``userns``    a new user namespace: no capability holds outside the sandbox, and
              the process limit counts only the sandbox's own processes
``netns``     a new network namespace with loopback down: no network at all
``pidns``     a new pid namespace: the sandbox sees only its own processes, and
              when its first process ends, or the launcher dies, every process in
              it is killed
``nproc``     ``RLIMIT_NPROC`` holds (as root, the real uid becomes 65534 for it)
``landlock``  reads only below the interpreter and system paths, writes only below
              the run's temporary directory, no TCP, no signals outside
``seccomp``   no uid/gid changes, ``AF_UNIX`` sockets, ptrace, mount, bpf,
              keyrings, io_uring or new namespaces
============  ===================================================================

Always on: a wall-clock timeout that kills the whole process group, CPU-time, address
space, process-count, file-size and open-file limits, every capability dropped, a
scrubbed environment (no inherited variables), and a temporary working directory that
is deleted afterwards. When a layer is missing, :class:`Sandbox` refuses to run, naming
the layer, unless the caller opts out of it with ``allow_missing``.

Example:
    >>> sb = Sandbox(Limits(wall=5))
    >>> sb.run_sync("def add(a, b):\\n    return a + b", ["assert add(1, 2) == 3"]).passed
    True
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from .errors import SynthkitError

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
            signal or exited before the tests finished).
        reason: one line saying why, naming the limit or the failing test.
        tests_total: how many tests there were.
        tests_failed: how many failed (all of them when the tests never ran).
        exit_code: the sandboxed process's exit code, if it exited.
        signal: the signal that killed it, if one did.
        stdout: the start of its standard output.
        stderr: the start of its standard error.
        duration: wall-clock seconds, process start to last byte.
        workdir: the temporary directory it ran in (deleted by now).
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


async def _spawn(
    python: str, cfg: dict[str, Any], workdir: str, *, site: bool = False
) -> tuple[asyncio.subprocess.Process, asyncio.StreamReader, Any]:
    r, w = os.pipe()
    cfg = {**cfg, "result_fd": w}
    try:
        proc = await asyncio.create_subprocess_exec(
            python,
            *(("-I",) if site else ("-I", "-S")),
            str(_CHILD),
            json.dumps(cfg),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_scrubbed_env(workdir),
            cwd=workdir,
            pass_fds=(w,),
            start_new_session=True,
        )
    except BaseException:
        os.close(r)
        raise
    finally:
        os.close(w)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**20)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(r, "rb", buffering=0)
    )
    return proc, reader, transport


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


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

    async def go() -> list[dict[str, Any]]:
        proc, reader, transport = await _spawn(python, cfg, workdir)
        try:
            out, err, _ = await asyncio.wait_for(
                asyncio.gather(reader.read(), _read_capped(proc.stderr, 4096), proc.wait()), 30
            )
        finally:
            transport.close()
        lines = [json.loads(x) for x in out.decode().splitlines() if x.strip()]
        if not any("probe" in x for x in lines):
            lines.append({"setup_error": err.decode(errors="replace").strip()[-500:] or "no answer"})
        return lines

    try:
        lines = _run_coro(go())
    finally:
        _rmtree(workdir)
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

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._sem is None or self._sem_loop is not loop:
            self._sem = asyncio.Semaphore(self.max_concurrent)
            self._sem_loop = loop
        return self._sem

    def run_sync(self, code: str, tests: Sequence[str]) -> RunResult:
        """Run :meth:`run` to completion from synchronous code."""
        return _run_coro(self.run(code, tests))

    async def run(self, code: str, tests: Sequence[str] | str) -> RunResult:
        """Run ``code``, then each test statement, in a fresh sandbox.

        Args:
            code: the solution's source.
            tests: Python statements (usually ``assert``), each run after the solution in
                its namespace; a single string is one test.
        """
        if isinstance(tests, str):
            tests = [tests]
        async with self._semaphore():
            return await self._run(code, list(tests))

    async def _run(self, code: str, tests: list[str]) -> RunResult:
        lim = self.limits
        workdir = tempfile.mkdtemp(prefix="synthkit-sandbox-")
        start = time.monotonic()
        timed_out = False
        try:
            Path(workdir, "solution.py").write_text(code, encoding="utf-8")
            Path(workdir, "tests.json").write_text(json.dumps(tests), encoding="utf-8")
            cfg = {
                "workdir": workdir,
                "allow_missing": list(self.allow_missing),
                "limits": _limits_cfg(lim),
                "read_paths": self.read_paths,
                "write_paths": [workdir, *_DEVICES_RW],
            }
            proc, reader, transport = await _spawn(self.python, cfg, workdir, site=self.site_packages)
            gathered = asyncio.gather(
                reader.read(), _read_capped(proc.stdout, lim.output), _read_capped(proc.stderr, lim.output), proc.wait()
            )
            try:
                results, out, err, _ = await asyncio.wait_for(asyncio.shield(gathered), lim.wall)
            except asyncio.TimeoutError:
                timed_out = True
                _killpg(proc.pid)
                # every process of the sandbox holds the pipes; EOF means all are gone
                results, out, err, _ = await asyncio.wait_for(gathered, 30)
            except BaseException:
                _killpg(proc.pid)
                gathered.cancel()
                raise
            finally:
                transport.close()
        finally:
            await asyncio.to_thread(_rmtree, workdir)
        duration = time.monotonic() - start
        lines = []
        for raw in results.decode(errors="replace").splitlines():
            try:
                lines.append(json.loads(raw))
            except ValueError:
                continue
        return self._interpret(
            lines, timed_out, len(tests), out.decode(errors="replace"), err.decode(errors="replace"), duration, workdir
        )

    def _interpret(
        self, lines: list[dict[str, Any]], timed_out: bool, n: int, out: str, err: str, duration: float, workdir: str
    ) -> RunResult:
        lim = self.limits
        common = {"stdout": out, "stderr": err, "duration": duration, "workdir": workdir, "tests_total": n}
        setup = next((x for x in lines if "setup_error" in x), None)
        if setup is not None:
            msg = f"the sandbox could not start: {setup['setup_error']}"
            raise SandboxUnavailable(msg)
        # the launcher writes the exit status last; the child writes its report before it
        status = lines[-1] if lines and ("exit" in lines[-1] or "signal" in lines[-1]) and not timed_out else {}
        report = next((x for x in lines if x.get("stage") in ("solution", "tests")), None)
        code, sig = status.get("exit"), status.get("signal")
        common |= {"exit_code": code, "signal": sig, "tests_failed": n}
        if timed_out:
            return RunResult("timeout", f"wall-clock timeout after {lim.wall:g} s; the whole process group was killed", **common)
        if sig is not None:
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            if sig == signal.SIGXCPU:
                return RunResult("cpu", f"CPU time limit of {lim.cpu} s exceeded (killed by {name})", **common)
            if sig == signal.SIGKILL:
                why = "the CPU time hard limit or the kernel's out-of-memory killer"
                return RunResult("crashed", f"killed by SIGKILL ({why})", **common)
            return RunResult("crashed", f"killed by {name}", **common)
        if report is None:
            tail = err.strip().splitlines()[-1:] or ["(no stderr)"]
            return RunResult(
                "crashed", f"the program exited with code {code} before the tests finished; stderr: {tail[0][:300]}", **common
            )
        if report["stage"] == "solution":
            error = report["error"]
            status_name, hint = self._hint(error)
            return RunResult(status_name, f"the solution raised {error}{hint} before the tests ran", **common)
        failed = report["failed"]
        common["tests_failed"] = len(failed)
        if not failed and code == 0:
            return RunResult("passed", f"{n}/{n} tests passed", **common)
        if not failed:
            return RunResult("crashed", f"the tests passed but the program exited with code {code}", **common)
        first = failed[0]
        status_name, hint = self._hint(first["error"])
        test = " ".join(first["test"].split())[:200]
        return RunResult(
            status_name,
            f"{len(failed)}/{n} tests failed; first: test {first['index'] + 1} `{test}` raised {first['error']}{hint}",
            **common,
        )

    def _hint(self, error: str) -> tuple[str, str]:
        lim = self.limits
        values = {"mem": lim.memory // 2**20, "nproc": lim.processes, "fsize": lim.file_size // 2**20}
        for needle, status, hint in _HINTS:
            if needle in error:
                return status or "failed", " (" + hint.format(**values) + ")"
        return "failed", ""
