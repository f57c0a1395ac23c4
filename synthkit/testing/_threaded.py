"""A loopback server that serves from its own thread and event loop: the shared start and stop of the fakes."""

from __future__ import annotations

import asyncio
import threading
from typing import TypeVar

__all__ = ["ThreadedServer"]

S = TypeVar("S", bound="ThreadedServer")


class ThreadedServer:
    """Serve ``_serve(ready)`` in a daemon thread with its own event loop.

    A subclass sets ``thread_name`` and implements ``async _serve(ready)``, which binds its
    port, creates ``self._stopped`` (an :class:`asyncio.Event`), sets ``ready`` and serves
    until ``self._stopped`` is set.
    """

    thread_name = "synthkit-fake-server"
    _thread: threading.Thread | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _stopped: asyncio.Event | None = None

    async def _serve(self, ready: threading.Event) -> None:
        raise NotImplementedError

    def start(self: S) -> S:
        """Serve in a background thread; return once the port is bound (at once if already serving)."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve(ready))
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                errors.append(exc)
                ready.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name=self.thread_name, daemon=True)
        self._thread.start()
        ready.wait(30)
        if errors:
            self._thread = None
            raise errors[0]
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._thread is None or self._loop is None or self._stopped is None:
            return
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)
        self._thread = None

    def __enter__(self: S) -> S:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
