"""A worker process beside the local engine's loop that prepares dedup batches while the loop decides the last one.

A two-phase filter (exact and near dedup) offers ``preparer(records)``: its ``prepare`` of those
records as a picklable call that holds only their ids and texts. Hashing, n-grams and MinHash
signatures depend on the texts alone, so they can run in another process while this one reads,
decides in input order and writes; the verdicts are the same as when the filter prepares in place.

The worker is a new interpreter (``python -m synthkit.pipeline.preparers``), not a fork: thread
pools of libraries loaded here (rensa's, say) would hang in a forked child, and a user's script is
never run again. It starts on the first full batch (a small input never pays for it), takes batches
once it has loaded its modules (until then they are prepared in place), ignores SIGINT and
SIGTERM (Ctrl-C reaches the whole process group: the run drains and closes it) and ends when its
input closes, with the run or when this process dies. Whatever goes wrong with it (it died, a call
would not pickle), that batch is prepared in place and the output does not change.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import struct
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import concurrent.futures

__all__ = ["MIN_RECORDS", "Preparers", "default_workers"]

#: Records a batch needs before it is sent to the worker; the first such batch starts it.
MIN_RECORDS = 512

_HEAD = struct.Struct("<Q")


def default_workers() -> int:
    """One worker when this process may use two cores or more, else none."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return 1 if cores >= 2 else 0


def _send(fh: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(_HEAD.pack(len(data)))
    fh.write(data)
    fh.flush()


def _read(fh: IO[bytes]) -> bytes:
    head = fh.read(_HEAD.size)
    if len(head) < _HEAD.size:
        raise EOFError("the other end of the preparer's pipe closed")
    (size,) = _HEAD.unpack(head)
    data = fh.read(size)
    if len(data) < size:
        raise EOFError("the other end of the preparer's pipe closed")
    return data


def _receive(fh: IO[bytes]) -> Any:
    return pickle.loads(_read(fh))  # noqa: S301 - between this run and its own worker


class Preparers:
    """A worker process running filters' preparer calls (none when ``workers`` is 0).

    Args:
        workers: ``1`` to use a worker, ``0`` for none (more are not useful: this process,
            which decides, is the slower side).
    """

    def __init__(self, workers: int) -> None:
        self.workers = min(workers, 1)
        self._proc: subprocess.Popen[bytes] | None = None
        self._io: concurrent.futures.ThreadPoolExecutor | None = None  # one thread: the pipe's round trips, in order
        self._ready: concurrent.futures.Future[Any] | None = None
        self.sent = 0  # batches handed to the worker

    @property
    def ready(self) -> bool:
        """Whether the worker has started and loaded its modules."""
        return self._ready is not None and self._ready.done() and self._ready.exception() is None

    def ahead(self, filters: Sequence[Any], records: Sequence[Any]) -> list[concurrent.futures.Future[Any] | None] | None:
        """Start preparing ``records`` for each filter that can be prepared elsewhere; ``None`` when nothing is sent."""
        if not self.workers or len(records) < MIN_RECORDS:
            return None
        makers: list[Callable[[Sequence[Any]], Callable[[], Any]] | None] = [
            getattr(f, "preparer", None) if callable(getattr(f, "decide", None)) else None for f in filters
        ]
        if not any(makers):
            return None
        if self._proc is None:
            try:
                self._start([type(f).__module__ for f, m in zip(filters, makers) if m is not None])
            except OSError:
                self._give_up()
            return None
        if not self.ready:
            if self._ready is not None and self._ready.done():  # it could not start
                self._give_up()
            return None
        futures = [None if m is None else self._submit(m(records)) for m in makers]
        return futures if any(f is not None for f in futures) else None

    def _start(self, modules: list[str]) -> None:
        import concurrent.futures  # here, not at import: most runs never start a worker

        self._proc = subprocess.Popen([sys.executable, "-m", "synthkit.pipeline.preparers"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # noqa: S603
        self._io = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="synthkit-preparer")
        self._ready = self._io.submit(self._round_trip, (list(sys.path), modules))

    def _round_trip(self, message: Any) -> Any:
        assert self._proc is not None and self._proc.stdin is not None and self._proc.stdout is not None
        _send(self._proc.stdin, message)
        ok, value = _receive(self._proc.stdout)
        if not ok:
            raise RuntimeError(value)
        return value

    def _submit(self, call: Callable[[], Any]) -> concurrent.futures.Future[Any] | None:
        assert self._io is not None
        self.sent += 1
        return self._io.submit(self._round_trip, call)

    async def results(self, futures: Sequence[concurrent.futures.Future[Any] | None] | None) -> list[Any] | None:
        """Wait for the batches :meth:`ahead` started; a failed one is ``None`` (its filter prepares in place)."""
        if futures is None:
            return None
        out: list[Any] = []
        for fut in futures:
            if fut is None:
                out.append(None)
                continue
            try:
                out.append(await asyncio.wrap_future(fut))
            except asyncio.CancelledError:
                fut.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - the worker died, a call would not pickle: prepare in place
                out.append(None)
                if isinstance(exc, (EOFError, OSError)):
                    self._give_up()
        return out

    def _give_up(self) -> None:
        """Stop sending: the rest of the run prepares in place."""
        self.workers = 0
        self.close()

    def close(self) -> None:
        """End the worker: its input closes (a batch it is on is finished first); killed if it is still starting, or has not ended in 5 s."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if not self.ready:
            proc.kill()  # a run shorter than the worker's start: nothing to wait for
        if self._io is not None:
            self._io.shutdown(wait=False, cancel_futures=True)
        try:
            proc.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _serve() -> None:
    """The worker: read calls from standard input, write their results to standard output, until the input closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to standard error, not into the replies
    inp = sys.stdin.buffer
    try:
        path, modules = _receive(inp)
    except EOFError:
        return
    sys.path[:] = path
    import importlib

    for name in modules:
        importlib.import_module(name)
    _send(out, (True, None))
    while True:
        try:
            data = _read(inp)
        except EOFError:
            return
        try:
            reply = (True, pickle.loads(data)())  # noqa: S301 - from the run that started this worker
        except Exception as exc:  # noqa: BLE001 - said to the run, which prepares that batch in place
            reply = (False, f"{type(exc).__name__}: {exc}")
        _send(out, reply)


if __name__ == "__main__":
    _serve()
