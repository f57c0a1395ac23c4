"""The sandbox's inside: set up every isolation layer, then grade a solution on its tests.

:mod:`synthkit.verify.sandbox` runs this file as ``python -I -S _sandbox_child.py CONFIG`` in a new
session with a scrubbed environment, its working directory set to a fresh temporary
directory, and a result pipe as an extra file descriptor. It uses the standard library only.

Order of the layers (each named as :mod:`synthkit.verify.sandbox` names them):

1. As root, the real uid becomes 65534 (effective and saved stay 0, so files stay readable
   as their owner): ``RLIMIT_NPROC`` then applies, which it never does to a real uid 0.
2. ``userns``: a new user namespace mapping only the current uid, so no capability holds
   outside it; ``netns``: a new network namespace with loopback down; ``pidns``: a new
   pid namespace for the processes this one starts.
3. Resource limits (CPU, address space, processes, file size, open files, no core dumps),
   every capability dropped for good, ``no_new_privs``, ``landlock`` (reads only below the
   allowed paths, writes only below the working directory, no TCP, no signals or abstract
   sockets outside), ``seccomp`` (no uid/gid changes, no ``AF_UNIX`` sockets, no ptrace or
   ``process_vm_*``, mount, bpf, keyrings, io_uring or new namespaces). This process is
   now the grader; it dies with the fork server (``PR_SET_PDEATHSIG``).
4. The grader (the ``_sandboxed`` package, loaded from its folder) forks the solution's
   process: pid 1 of the new pid namespace, so the grader has no pid it could name, and
   when it ends the kernel kills every process it left. It keeps only its two pipes to the
   grader, takes a process group and a nested Landlock domain of its own, and handles
   SIGXCPU itself (pid 1 ignores signals it has no handler for). The grader then lets
   itself signal only that process (a second seccomp filter: the record's tests run
   here), reads the tests from the host's payload pipe and runs them, calling into the
   solution's process for every use of its names. One line on the result pipe, which the
   solution's process never holds, says how they went, and one more the grader's exit.

Runs start either from ``python -I -S _sandbox_child.py HEXCONFIG`` (the layer probe) or
from a fork server (``--server FD``) that forks one launcher per request, which saves an
interpreter start per run. Configs and tests travel as ``marshal`` data and reports as
``repr`` lines.
"""

import ctypes
import marshal
import os
import resource
import signal
import struct
import sys

EXIT_SETUP = 125
NOBODY = 65534

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
# SECBIT_NOROOT | _LOCKED | KEEP_CAPS_LOCKED | NO_CAP_AMBIENT_RAISE | _LOCKED
SECUREBITS = 0x01 | 0x02 | 0x20 | 0x40 | 0x80

SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446

# Landlock filesystem rights by ABI version.
LL_EXECUTE = 1 << 0
LL_WRITE_FILE = 1 << 1
LL_READ_FILE = 1 << 2
LL_READ_DIR = 1 << 3
LL_TRUNCATE = 1 << 14
LL_IOCTL_DEV = 1 << 15
LL_READ = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR
LL_FILE_ONLY = LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV

# Syscalls the sandbox may not make (x86_64, aarch64); each fails with EPERM.
_DENY = {
    "x86_64": (
        0xC000003E,
        {
            "setuid": 105, "setgid": 106, "setreuid": 113, "setregid": 114, "setgroups": 116,
            "setresuid": 117, "setresgid": 119, "setfsuid": 122, "setfsgid": 123, "ptrace": 101,
            "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "unshare": 272,
            "setns": 308, "bpf": 321, "keyctl": 250, "add_key": 248, "request_key": 249,
            "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425,
            "io_uring_enter": 426, "io_uring_register": 427, "process_vm_readv": 310,
            "process_vm_writev": 311,
        },
        41,  # socket
    ),
    "aarch64": (
        0xC00000B7,
        {
            "setuid": 146, "setgid": 144, "setreuid": 145, "setregid": 143, "setgroups": 159,
            "setresuid": 147, "setresgid": 149, "setfsuid": 151, "setfsgid": 152, "ptrace": 117,
            "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "unshare": 97,
            "setns": 268, "bpf": 280, "keyctl": 219, "add_key": 217, "request_key": 218,
            "perf_event_open": 241, "userfaultfd": 282, "io_uring_setup": 425,
            "io_uring_enter": 426, "io_uring_register": 427, "process_vm_readv": 270,
            "process_vm_writev": 271,
        },
        198,  # socket
    ),
}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


class SetupError(Exception):
    """A layer could not be set up."""


def _check(ret, what):
    if ret < 0:
        err = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(err)} (errno {err})")
    return ret


def _prctl(option, arg2=0, arg3=0, arg4=0, arg5=0, what="prctl"):
    return _check(_libc.prctl(option, arg2, arg3, arg4, arg5), what)


def _emit(fd, obj):
    """Write one report line: the ``repr`` of a dict of literals (the parent reads it with ``ast.literal_eval``)."""
    os.write(fd, (repr(obj) + "\n").encode("utf-8", "backslashreplace"))


def _write(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- layers
def enter_namespaces(state):
    """Unshare the user, network and pid namespaces, recording which worked."""
    uid, gid = os.geteuid(), os.getegid()
    try:
        _check(_libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
        state["userns"] = None
    except (SetupError, OSError) as exc:
        state["userns"] = str(exc)
    for name, flag in (("netns", CLONE_NEWNET), ("pidns", CLONE_NEWPID)):
        try:
            _check(_libc.unshare(flag), f"unshare(CLONE_NEW{name[:3].upper()})")
            state[name] = None
        except SetupError as exc:
            state[name] = str(exc)


def set_limits(limits):
    """Apply the resource limits (the process count counts only this user namespace)."""
    cpu = int(limits["cpu"])
    pairs = [
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (limits["memory"],) * 2),
        (resource.RLIMIT_NPROC, (limits["nproc"],) * 2),
        (resource.RLIMIT_FSIZE, (limits["fsize"],) * 2),
        (resource.RLIMIT_NOFILE, (limits["nofile"],) * 2),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_MEMLOCK, (0, 0)),
    ]
    for which, value in pairs:
        try:
            resource.setrlimit(which, value)
        except (ValueError, OSError) as exc:
            raise SetupError(f"setrlimit({which}, {value}): {exc}") from None


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities():
    """Drop every capability: securebits so exec as uid 0 grants none, bounding set, ambient, capset."""
    _prctl(PR_SET_SECUREBITS, SECUREBITS, what="prctl(PR_SET_SECUREBITS)")
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0:
            if ctypes.get_errno() == 22:  # EINVAL: past the last capability
                break
            _check(-1, f"prctl(PR_CAPBSET_DROP, {cap})")
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, what="prctl(PR_CAP_AMBIENT_CLEAR_ALL)")
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
    _prctl(PR_SET_NO_NEW_PRIVS, 1, what="prctl(PR_SET_NO_NEW_PRIVS)")


def landlock_abi():
    """Return the kernel's Landlock ABI version (raises SetupError without Landlock)."""
    return _check(_libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), 1), "landlock ABI")


def apply_landlock(read_paths, write_paths):
    """Allow reads below ``read_paths`` and everything below ``write_paths``; deny the rest."""
    abi = landlock_abi()
    fs = (1 << 13) - 1
    if abi >= 2:
        fs |= 1 << 13  # REFER
    if abi >= 3:
        fs |= LL_TRUNCATE
    if abi >= 5:
        fs |= LL_IOCTL_DEV
    net = 0b11 if abi >= 4 else 0  # bind and connect TCP, with no rule allowing either
    scoped = 0b11 if abi >= 6 else 0  # abstract unix sockets and signals outside the sandbox
    attr = struct.pack("=QQQ", fs, net, scoped)[: 8 if abi < 4 else 16 if abi < 6 else 24]
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = _check(_libc.syscall(SYS_LANDLOCK_CREATE_RULESET, buf, ctypes.c_size_t(len(attr)), 0), "landlock ruleset")
    try:
        rules = [(p, LL_READ) for p in read_paths] + [(p, fs) for p in write_paths]
        for path, access in rules:
            try:
                pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                if not os.path.isdir(path):
                    access &= LL_FILE_ONLY
                access &= fs
                rule = ctypes.create_string_buffer(struct.pack("=Qi", access, pfd), 12)
                _check(_libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, 1, rule, 0), f"landlock rule for {path}")
            finally:
                os.close(pfd)
        _prctl(PR_SET_NO_NEW_PRIVS, 1, what="prctl(PR_SET_NO_NEW_PRIVS)")
        _check(_libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


_SCOPE = []


def scope_ruleset():
    """A Landlock ruleset that only scopes signals and abstract sockets (ABI 6+), made once; ``None`` without.

    The fork server makes it before any run, so a run only restricts itself with it.
    """
    if not _SCOPE:
        fd = None
        try:
            if landlock_abi() >= 6:
                attr = ctypes.create_string_buffer(struct.pack("=QQQ", 0, 0, 0b11), 24)
                fd = _check(_libc.syscall(SYS_LANDLOCK_CREATE_RULESET, attr, ctypes.c_size_t(24), 0), "landlock scope")
        except SetupError:
            fd = None
        _SCOPE.append(fd)
    return _SCOPE[0]


def landlock_scope():
    """Enter a nested Landlock domain scoping signals and abstract sockets; return whether it could.

    A process in it cannot signal, or reach by abstract socket, any process outside it:
    the solution's process, put in one, cannot signal the grader.
    """
    fd = scope_ruleset()
    if fd is None:
        return False
    _check(_libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, fd, 0), "landlock_restrict_self (scope)")
    return True


def _bpf_program(arch, denied, socket_nr):
    """Return a seccomp filter: kill on a foreign arch, EPERM for ``denied`` and socket(AF_UNIX)."""
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, eperm, kill = 0x7FFF0000, 0x00050000 | 1, 0x80000000
    nrs = sorted(denied.values())
    # layout: 0 ld arch; 1 jeq arch; 2 ld nr; [3] jge x32 (x86_64); denied...; socket jeq; ret allow;
    #         ld arg0; jeq AF_UNIX; ret allow; ret eperm; ret kill
    body = [(jge, 0x40000000)] if arch == 0xC000003E else []
    body += [(jeq, nr) for nr in nrs]
    n = 3 + len(body) + 1 + 1 + 3
    eperm_at, kill_at = n, n + 1
    prog = [(ld, 0, 0, 4), (jeq, 0, kill_at - 2, arch), (ld, 0, 0, 0)]
    for code, k in body:
        at = len(prog)
        prog.append((code, eperm_at - at - 1, 0, k))
    prog.append((jeq, 1, 0, socket_nr))  # socket -> check its family; anything else -> allow
    prog.append((ret, 0, 0, allow))
    prog.append((ld, 0, 0, 16))  # args[0], low 32 bits
    at = len(prog)
    prog.append((jeq, eperm_at - at - 1, 0, 1))  # AF_UNIX
    prog.append((ret, 0, 0, allow))
    prog.append((ret, 0, 0, eperm))
    prog.append((ret, 0, 0, kill))
    assert len(prog) == kill_at + 1
    return prog


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


# Syscalls that send a signal: kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal.
_SIGNALLING = {"x86_64": (62, 200, 234, 129, 297, 424), "aarch64": (129, 130, 131, 138, 240, 424)}


def confine_signals(pids):
    """Let this process signal only ``pids`` (by ``kill`` or ``tgkill``); any other signal it sends fails with EPERM.

    The grader installs it once it has forked the solution's process: the record's tests,
    which run in the grader, can then signal no process outside the sandbox.
    """
    machine = os.uname().machine
    if machine not in _SIGNALLING:
        raise SetupError(f"no seccomp filter for the {machine} architecture")
    kill, tkill, tgkill, *others = _SIGNALLING[machine]
    ld, jeq, ret = 0x20, 0x15, 0x06
    allow, eperm, kill_process = 0x7FFF0000, 0x00050000 | 1, 0x80000000
    # 0 ld arch; 1 jeq arch; 2 ld nr; 3 jeq kill; 4 jeq tgkill; 5.. jeq others (EPERM); ret allow;
    # ld arg0; jeq pid...; ret eperm; ret allow; ret kill
    denied = [tkill, *others]
    arg_at = 5 + len(denied) + 1
    eperm_at = arg_at + 1 + len(pids)
    allow_at, kill_at = eperm_at + 1, eperm_at + 2
    prog = [(ld, 0, 0, 4), (jeq, 0, kill_at - 2, _DENY[machine][0]), (ld, 0, 0, 0)]
    prog.append((jeq, arg_at - 4, 0, kill))
    prog.append((jeq, arg_at - 5, 0, tgkill))
    for nr in denied:
        at = len(prog)
        prog.append((jeq, eperm_at - at - 1, 0, nr))
    prog.append((ret, 0, 0, allow))
    prog.append((ld, 0, 0, 16))  # args[0], low 32 bits: the pid (or thread group)
    for pid in pids:
        at = len(prog)
        prog.append((jeq, allow_at - at - 1, 0, pid))
    prog += [(ret, 0, 0, eperm), (ret, 0, 0, allow), (ret, 0, 0, kill_process)]
    assert len(prog) == kill_at + 1
    filters = (_SockFilter * len(prog))(*[_SockFilter(*ins) for ins in prog])
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(_SockFprog(len(prog), filters)), 0, 0),
           "seccomp signal filter")


_FILTER = []


def seccomp_filter():
    """The seccomp program for this machine, built once (the fork server builds it before any run)."""
    if not _FILTER:
        machine = os.uname().machine
        if machine not in _DENY:
            raise SetupError(f"no seccomp filter for the {machine} architecture")
        prog = _bpf_program(*_DENY[machine])
        filters = (_SockFilter * len(prog))(*[_SockFilter(*ins) for ins in prog])
        _FILTER.append((_SockFprog(len(prog), filters), filters))
    return _FILTER[0][0]


def apply_seccomp():
    """Install the seccomp filter (needs no_new_privs, set before)."""
    fprog = seccomp_filter()
    _prctl(PR_SET_NO_NEW_PRIVS, 1, what="prctl(PR_SET_NO_NEW_PRIVS)")
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0), "seccomp filter")


# ----------------------------------------------------------------------------- running
def _load_grading():
    """Load the ``_sandboxed`` package from beside this file and return its ``grading`` module.

    This script runs with ``-I``, so there is no package to import from: the package is
    loaded from its folder under a name of its own.
    """
    import importlib
    import importlib.util

    name = "_synthkit_sandboxed"
    if name not in sys.modules:
        folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_sandboxed")
        spec = importlib.util.spec_from_file_location(name, os.path.join(folder, "__init__.py"), submodule_search_locations=[folder])
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{name}.grading")


def isolate_solution():
    """In the solution's process, before the solution runs: die with the grader; a process group and a Landlock domain of its own."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, what="prctl(PR_SET_PDEATHSIG)")
    os.setpgid(0, 0)  # kill(0, ...) reaches its own group only
    try:
        landlock_scope()
    except SetupError:
        pass  # it cannot name the grader's pid anyway; the scope also covers abstract sockets


def confine_grader(solution_pid):
    """In the grader, once the solution's process is forked: signals to it (and to itself) only."""
    confine_signals((solution_pid, os.getpid()))


def reap_all():
    """Wait for every child of this process (pid 1 of a namespace only ends once its siblings are reaped)."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def probe_nproc(limit):
    """Return ``None`` if ``RLIMIT_NPROC`` stops forks at ``limit``, else why not."""
    r, w = os.pipe()
    kids = []
    try:
        for _ in range(limit + 1):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                os.close(w)
                os.read(r, 1)
                os._exit(0)
            kids.append(pid)
    finally:
        os.close(w)
        os.close(r)
        reap_all()  # not one by one: the first is pid 1 of the new namespace, whose exit waits for the others
    if len(kids) > limit:
        return f"RLIMIT_NPROC is not enforced: {len(kids)} processes started under a limit of {limit} (the real uid is root)"
    return None


def confine(cfg, state, rfd):
    """Confine this process, the sandbox's grader: limits, capabilities, Landlock, seccomp (the probe ends here)."""
    allow = set(cfg["allow_missing"])
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, what="prctl(PR_SET_PDEATHSIG)")
    set_limits(cfg["limits"])
    if cfg.get("probe"):
        state["nproc"] = probe_nproc(cfg["limits"]["nproc"])
    drop_capabilities()
    try:
        state["landlock"] = None
        state["landlock_abi"] = apply_landlock(cfg["read_paths"], cfg["write_paths"])
    except SetupError as exc:
        state["landlock"] = str(exc)
    try:
        apply_seccomp()
        state["seccomp"] = None
    except SetupError as exc:
        state["seccomp"] = str(exc)
    missing = {k: v for k, v in state.items() if k in LAYERS and v is not None}
    if cfg.get("probe"):
        _emit(rfd, {"probe": state})
        os._exit(0)
    refused = sorted(set(missing) - allow)
    if refused:
        why = "; ".join(f"{k}: {missing[k]}" for k in refused)
        _emit(rfd, {"setup_error": f"isolation layers unavailable: {why}", "missing": refused})
        os._exit(EXIT_SETUP)
    os.chdir(cfg["workdir"])
    _prctl(PR_SET_DUMPABLE, 0, what="prctl(PR_SET_DUMPABLE)")  # no ptrace or /proc access to the grader


def _on_cpu_limit(rfd):
    def handler(_signum, _frame):
        _emit(rfd, {"signal": int(signal.SIGXCPU)})
        os._exit(128 + signal.SIGXCPU)

    return handler


LAYERS = ("userns", "netns", "pidns", "nproc", "landlock", "seccomp")


def launch(cfg, rfd, pfd=None):
    """Run one sandbox in this process: namespaces, the layers, then the grader's work. Never returns.

    ``rfd`` is the report pipe, ``pfd`` the payload pipe with the tests (none for the probe).
    """
    state = {}
    try:
        if os.geteuid() == 0:
            try:
                os.setresuid(NOBODY, 0, 0)
            except OSError:
                pass  # uid 65534 unmapped (we are in a user namespace already); the probe checks "nproc"
        enter_namespaces(state)
        confine(cfg, state, rfd)
    except (SetupError, OSError) as exc:
        _emit(rfd, {"setup_error": f"sandbox setup: {exc}", "missing": []})
        os._exit(EXIT_SETUP)
    signal.signal(signal.SIGXCPU, _on_cpu_limit(rfd))  # the grader's own CPU limit, reported as such
    _load_grading().run(pfd, lambda report: _emit(rfd, report), isolate_solution, confine_grader)
    _emit(rfd, {"exit": 0})
    os._exit(0)


def serve(sock_fd):
    """Fork server: for each request (config + stdout, stderr, result, payload fds), fork a launcher; answer its pid.

    Forking from this warm process skips an interpreter start and the ``ctypes`` import per
    run. It holds nothing but configs (its environment is scrubbed). When the parent closes
    the socket, the server kills the process group of every launcher still running and exits.
    """
    import socket
    import struct

    _load_grading().prepare()  # warm: json, select, the grader and its snapshot, once, not per run
    try:
        seccomp_filter()
    except SetupError:
        pass  # each run reports the missing layer
    scope_ruleset()
    sock = socket.socket(fileno=sock_fd)
    alive = set()
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(sock, 1 << 20, 4)
        except OSError:
            msg, fds = b"", []
        while alive:
            try:
                done, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                alive.clear()
                break
            if not done:
                break
            alive.discard(done)
        if not msg:
            for pid in alive:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
            os._exit(0)
        cfg = marshal.loads(msg)
        pid = os.fork()
        if pid == 0:
            sock.close()
            os.setsid()
            os.dup2(fds[0], 1)
            os.dup2(fds[1], 2)
            rfd, pfd = fds[2], fds[3]
            for fd in fds[:2]:
                os.close(fd)
            os.environ.clear()
            os.environ.update(cfg["env"])
            os.chdir(cfg["workdir"])
            launch(cfg, rfd, pfd)
        for fd in fds:
            os.close(fd)
        alive.add(pid)
        sock.sendall(struct.pack("=i", pid))


def main():
    if sys.argv[1] == "--server":
        serve(int(sys.argv[2]))
    cfg = marshal.loads(bytes.fromhex(sys.argv[1]))
    launch(cfg, cfg["result_fd"])


if __name__ == "__main__":
    main()
