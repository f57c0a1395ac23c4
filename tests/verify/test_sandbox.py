"""The code sandbox: each attack is rejected with its reason, nothing survives, nothing leaks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from synthkit.verify.sandbox import LAYERS, Limits, Sandbox, extract_code, probe_layers

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux")


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    """A sandbox with short limits, so the attacks end quickly."""
    return Sandbox(Limits(wall=4, cpu=2, memory=512 * 2**20, processes=24))


def _processes_in(workdir: str) -> list[int]:
    """Return the pids of live processes whose environment names ``workdir`` (every sandboxed process does)."""
    needle = f"HOME={workdir}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read()
            with open(f"/proc/{entry}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env.split(b"\0") and state != b"Z":
            found.append(int(entry))
    return found


def _assert_clean(result) -> None:
    """The run's temporary directory is gone and no process of the run is alive."""
    assert result.workdir
    assert not os.path.exists(result.workdir)
    deadline = time.monotonic() + 2
    while _processes_in(result.workdir) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_in(result.workdir) == []


def test_every_layer_is_available_here():
    """On the project's Linux machines every isolation layer works (so nothing is silently skipped)."""
    layers = probe_layers()
    assert {k: layers[k] for k in LAYERS} == dict.fromkeys(LAYERS)
    assert layers["landlock_abi"] >= 1


def test_correct_solution_passes(sandbox):
    """A correct solution passes its tests and says how many passed."""
    r = sandbox.run_sync("def add(a, b):\n    return a + b\n", ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"])
    assert r.passed, r
    assert r.reason == "2/2 tests passed"
    _assert_clean(r)


def test_wrong_solution_names_the_failing_test(sandbox):
    """A wrong solution fails with the first failing test and its error in the reason."""
    r = sandbox.run_sync("def add(a, b):\n    return a - b\n", ["assert add(0, 0) == 0", "assert add(1, 2) == 3"])
    assert r.status == "failed"
    assert r.tests_failed == 1
    assert "test 2 `assert add(1, 2) == 3` raised AssertionError" in r.reason


def test_infinite_loop_is_stopped_by_the_cpu_limit():
    """A busy infinite loop is killed by the CPU-time limit, with that as the reason."""
    # a wall clock well above the CPU limit, so a loaded machine (2 s of CPU may take 5 s) still hits the CPU limit first
    r = Sandbox(Limits(wall=30, cpu=2, memory=512 * 2**20, processes=24)).run_sync("while True:\n    pass\n", ["assert True"])
    assert r.status == "cpu"
    assert "CPU time limit of 2 s exceeded" in r.reason
    _assert_clean(r)


def test_sleeping_forever_is_stopped_by_the_wall_timeout():
    """Code that blocks without using CPU is killed at the wall-clock timeout, with its whole group."""
    sb = Sandbox(Limits(wall=1.5, cpu=5))
    code = "import subprocess, time\nsubprocess.Popen(['sleep', '60'])\ntime.sleep(60)\n"
    t0 = time.monotonic()
    r = sb.run_sync(code, ["assert True"])
    assert time.monotonic() - t0 < 6
    assert r.status == "timeout"
    assert "wall-clock timeout after 1.5 s" in r.reason
    _assert_clean(r)


def test_ten_gigabyte_allocation_hits_the_memory_limit(sandbox):
    """Allocating 10 GB fails inside the sandbox with a MemoryError naming the memory limit."""
    r = sandbox.run_sync("buf = bytearray(10 * 1024**3)\n", ["assert len(buf) > 0"])
    assert r.status == "memory"
    assert "MemoryError" in r.reason and "memory limit of 512 MiB" in r.reason
    _assert_clean(r)


def test_hundreds_of_child_processes_hit_the_process_limit(sandbox):
    """Starting 300 children stops at the process limit; every child that did start is gone afterwards."""
    code = textwrap.dedent(
        """
        import os, time
        for _ in range(300):
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
        """
    )
    r = sandbox.run_sync(code, ["assert True"])
    assert r.status == "failed"
    assert "Resource temporarily unavailable" in r.reason and "process limit of 24" in r.reason
    _assert_clean(r)


def test_background_children_are_killed_when_the_run_ends(sandbox):
    """A daemon started in a new session by passing code does not outlive the run."""
    code = "import subprocess\nsubprocess.Popen(['sleep', '60'], start_new_session=True)\n"
    r = sandbox.run_sync(code, ["assert True"])
    assert r.passed, r
    _assert_clean(r)


def test_writing_outside_the_temporary_directory_is_denied(sandbox, tmp_path):
    """Writes to a world-writable folder outside the sandbox, and to /tmp, are refused; nothing appears."""
    outside = tmp_path / "outside"
    outside.mkdir()
    outside.chmod(0o777)
    target = outside / "pwned.txt"
    tmp_target = Path("/tmp") / f"synthkit-escape-{os.getpid()}.txt"
    code = f"open({str(target)!r}, 'w').write('x')\n"
    r = sandbox.run_sync(code, ["assert True"])
    assert r.status == "failed"
    assert "PermissionError" in r.reason and str(target) in r.reason
    r2 = sandbox.run_sync(f"open({str(tmp_target)!r}, 'w').write('x')\n", ["assert True"])
    assert "PermissionError" in r2.reason
    assert not target.exists() and not tmp_target.exists()
    assert os.listdir(outside) == []
    _assert_clean(r)


def test_writing_inside_the_temporary_directory_works(sandbox):
    """The code may write files in its own working directory."""
    code = "with open('notes.txt', 'w') as f:\n    f.write('hello')\n"
    r = sandbox.run_sync(code, ["assert open('notes.txt').read() == 'hello'"])
    assert r.passed, r


def test_connecting_to_a_listening_local_port_fails(sandbox):
    """A socket to a port listening on 127.0.0.1 outside the sandbox cannot connect, and none arrives."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        code = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\ns.sendall(b'stolen')\n"
        r = sandbox.run_sync(code, ["assert True"])
        with pytest.raises(TimeoutError):
            listener.accept()
    assert r.status == "failed"
    assert "PermissionError" in r.reason or "Network is unreachable" in r.reason
    _assert_clean(r)


def test_unix_sockets_are_refused(sandbox):
    """AF_UNIX sockets (a way to reach local daemons by path) cannot be created."""
    r = sandbox.run_sync("import socket\nsocket.socket(socket.AF_UNIX).connect('/run/anything.sock')\n", ["assert True"])
    assert r.status == "failed"
    assert "Operation not permitted" in r.reason


def test_secrets_in_the_parent_environment_do_not_leak(sandbox, monkeypatch):
    """A secret in the parent's environment is neither inherited nor readable through /proc."""
    secret = "sk-test-3f9c1d7e-do-not-leak"
    monkeypatch.setenv("SYNTHKIT_TEST_SECRET", secret)
    code = textwrap.dedent(
        f"""
        import os
        print(sorted(os.environ))
        try:
            print(open('/proc/{os.getpid()}/environ').read())
        except OSError as exc:
            print('proc:', exc)
        token = os.environ['SYNTHKIT_TEST_SECRET']
        """
    )
    r = sandbox.run_sync(code, ["assert token"])
    assert r.status == "failed"
    assert "KeyError: 'SYNTHKIT_TEST_SECRET'" in r.reason
    assert "proc: [Errno 13] Permission denied" in r.stdout
    assert secret not in r.stdout + r.stderr + r.reason
    assert "['HOME', 'LANG', 'LC_ALL', 'PATH', 'TMPDIR']" in r.stdout
    _assert_clean(r)


def test_changing_uid_is_refused(sandbox):
    """The code cannot make its real uid root again (which would lift the process limit)."""
    r = sandbox.run_sync("import os\nos.setreuid(0, -1)\n", ["assert True"])
    assert r.status == "failed"
    assert "Operation not permitted" in r.reason


def test_exiting_early_is_not_a_pass(sandbox):
    """Code that exits with status 0 before the tests run is rejected, not passed."""
    r = sandbox.run_sync("import os\nos._exit(0)\n", ["assert False"])
    assert r.status == "crashed"
    assert "before the tests finished" in r.reason
    r = sandbox.run_sync("raise SystemExit(0)\n", ["assert False"])
    assert r.status == "failed" and "SystemExit" in r.reason


def test_output_is_capped(sandbox):
    """A flood of output is read to the end but only the first bytes are kept."""
    sb = Sandbox(Limits(wall=5, output=1000))
    r = sb.run_sync("import sys\nfor _ in range(20000):\n    sys.stdout.write('x' * 100)\n", ["assert True"])
    assert r.passed, r
    assert len(r.stdout) == 1000


def test_file_size_limit(sandbox):
    """A file larger than the file-size limit cannot be written."""
    sb = Sandbox(Limits(wall=5, file_size=2**20))
    r = sb.run_sync("open('big', 'wb').write(b'x' * (4 * 2**20))\n", ["assert True"])
    assert r.status == "failed"
    assert "File too large" in r.reason and "file size limit of 1 MiB" in r.reason


def test_concurrent_runs_stay_apart(sandbox):
    """Many runs at once each see only their own tests and working directory."""
    import asyncio

    async def go():
        codes = [f"X = {i}\nopen('mine', 'w').write(str(X))\n" for i in range(8)]
        return await asyncio.gather(*(sandbox.run(c, [f"assert open('mine').read() == '{i}'"]) for i, c in enumerate(codes)))

    results = asyncio.run(go())
    assert all(r.passed for r in results), [r.reason for r in results]
    assert len({r.workdir for r in results}) == 8


def test_extract_code_prefers_the_last_python_block():
    """The code run is the last ```python block of a response, else an untagged block, else the text."""
    text = "Idea:\n```python\nx = 1\n```\nFinal:\n```python\ndef f():\n    return 2\n```\n"
    assert extract_code(text) == "def f():\n    return 2\n"
    assert extract_code(text, block="first") == "x = 1\n"
    assert extract_code("```\ny = 3\n```") == "y = 3\n"
    assert extract_code("z = 4") == "z = 4"


def test_unknown_layer_names_are_refused():
    """allow_missing only accepts the named layers."""
    with pytest.raises(ValueError, match="unknown layers"):
        Sandbox(allow_missing=("firewall",))


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_a_missing_layer_is_refused_unless_allowed(tmp_path):
    """Where user namespaces are disabled, the sandbox refuses to run, naming the layer, until the user opts out."""
    script = tmp_path / "probe.py"
    script.write_text(
        textwrap.dedent(
            """
            from synthkit.verify.sandbox import Sandbox, SandboxUnavailable
            try:
                Sandbox()
            except SandboxUnavailable as exc:
                print("REFUSED", exc)
            sb = Sandbox(allow_missing=("userns", "nproc"))
            print("RAN", sb.run_sync("def f():\\n    return 1", ["assert f() == 1"]).reason)
            """
        )
    )
    inner = f"echo 0 > /proc/sys/user/max_user_namespaces && exec {sys.executable} {script}"
    proc = subprocess.run(["unshare", "-U", "-r", "--fork", "sh", "-c", inner], capture_output=True, text=True, timeout=60)
    if "max_user_namespaces" in proc.stderr:
        pytest.skip("cannot lower max_user_namespaces here")
    assert "REFUSED" in proc.stdout, proc.stderr
    assert "missing userns" in proc.stdout
    assert "allow_missing=(" in proc.stdout
    assert "RAN 1/1 tests passed" in proc.stdout, proc.stdout + proc.stderr



def test_junk_on_the_report_pipe_does_not_confuse_the_verdict(sandbox):
    """Lines the code writes on every pipe it holds never reach the report: the grader sees them as tampering."""
    code = textwrap.dedent(
        """
        import os, stat
        for fd in range(3, 64):
            try:
                if stat.S_ISFIFO(os.fstat(fd).st_mode):
                    os.write(fd, b"{'stage': 'tests'}\\n[1, 2]\\nnot python\\n{'setup_error': 3}\\n")
            except OSError:
                pass
        """
    )
    r = sandbox.run_sync(code, ["assert 1 == 2"])
    assert r.status == "tampered" and not r.passed
    assert r.reason.startswith("tampered: the solution's process wrote \"{'stage': 'tests'}\" on the grader's channel")
