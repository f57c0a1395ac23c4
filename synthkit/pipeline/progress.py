"""Progress of a run: a rich live bar on a terminal, plain log lines otherwise.

:class:`RunProgress` implements the pipeline's ``ProgressReporter`` protocol
(``update(summary)`` / ``close(summary)``) and reads a teacher's
:class:`~synthkit.teachers.remote.TeacherStats` for requests/s, tokens, cost, retries and failures.
"""

from __future__ import annotations

import collections
import os
import threading
import sys
import time
from typing import IO, Any

__all__ = ["RunProgress", "format_stats"]


def format_stats(summary: Any, stats: Any, total: int | None, elapsed: float, *, rate: float | None = None) -> str:
    """One line: records done, rate, ETA, tokens, cost (and projected), retries, failures, 429s, cache hits, slow requests, pauses.

    Args:
        rate: records per second over a recent window (default: over the whole run).
    """
    done = 0 if summary is None else summary.kept + summary.n_dropped + summary.n_failed
    head = f"{done}/{total}" if total else f"{done}"
    parts = [f"{head} records"]
    per_s = rate if rate is not None else done / max(elapsed, 1e-9)
    if total and done < total and per_s > 0:
        parts.append(f"{per_s:.1f} rec/s, ETA {_duration((total - done) / per_s)}")
    if stats is not None:
        parts += [
            f"{stats.ok / max(elapsed, 1e-9):.1f} req/s",
            f"{stats.tokens:,} tokens",
            _dollars(stats.cost_usd),
        ]
        if stats.cost_usd and total and 0 < done < total:
            parts[-1] += f" (~{_dollars(stats.cost_usd * total / done)} projected)"
        parts += [f"{stats.retries} retries", f"{stats.failures} failed"]
        if stats.rate_limited:
            parts.append(f"{stats.rate_limited} x 429")
        if stats.cached:
            parts.append(f"{stats.cached} cached")
        batches = getattr(stats, "batches", None)
        if batches:  # batch mode: each batch's state and counts (the last few)
            shown = list(batches.items())[-4:]
            more = f" +{len(batches) - len(shown)} more" if len(batches) > len(shown) else ""
            parts.append("batches " + ", ".join(f"{bid} {state}" for bid, state in shown) + more)
        slow, oldest = stats.slow() if hasattr(stats, "slow") else (0, 0.0)
        if slow:
            parts.append(f"waiting on {slow} slow requests (oldest {oldest:.0f} s)")
        pause = getattr(stats, "paused_until", 0.0) - time.monotonic()
        if pause > 0.5:
            parts.append(f"paused for Retry-After {pause:.0f} s")
    elif summary is not None:
        parts.append(f"{summary.n_failed} failed")
    return " | ".join(parts)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _dollars(cost: float | None) -> str:
    if cost is None:
        return "cost n/a"
    return f"${cost:.4f}" if cost >= 0.01 or cost == 0 else f"${cost:.6f}"


class RunProgress:
    """Show a run's progress.

    Args:
        stats: the teacher's counters (``teacher.stats``), or ``None``.
        total: the number of input records, if known.
        stream: where to write (default ``sys.stderr``).
        live: a rich live bar (default: when ``stream`` is a terminal).
        interval: seconds between plain log lines (default ``$SYNTHKIT_PROGRESS_INTERVAL`` or 10).
    """

    def __init__(
        self,
        stats: Any = None,
        *,
        total: int | None = None,
        stream: IO[str] | None = None,
        live: bool | None = None,
        interval: float | None = None,
    ) -> None:
        if interval is None:
            interval = float(os.environ.get("SYNTHKIT_PROGRESS_INTERVAL") or 10.0)
        self.stats = stats
        self.total = total
        self.stream = stream or sys.stderr
        self.interval = interval
        self.started = time.monotonic()
        self._last = self.started
        self._summary: Any = None
        self._marks: collections.deque[tuple[float, int]] = collections.deque()
        self._live: Any = None
        self._bar: Any = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if live is None:
            live = bool(getattr(self.stream, "isatty", lambda: False)())
        if live:
            self._start_live()
        else:
            self._ticker = threading.Thread(target=self._tick, name="synthkit-progress", daemon=True)
            self._ticker.start()

    def _start_live(self) -> None:
        from rich.console import Console, Group
        from rich.live import Live
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
        from rich.text import Text

        console = Console(file=self.stream)
        self._bar = Progress(BarColumn(bar_width=30), MofNCompleteColumn(), TimeElapsedColumn(), console=console)
        self._task = self._bar.add_task("generate", total=self.total)
        progress = self

        class _Line:
            def __rich__(self) -> Text:
                return Text(progress.line().split(" | ", 1)[-1], overflow="fold")

        self._live = Live(Group(self._bar, _Line()), console=console, refresh_per_second=4, transient=False)
        self._live.start()

    def line(self) -> str:
        return format_stats(self._summary, self.stats, self.total, time.monotonic() - self.started, rate=self._rate())

    def _rate(self) -> float | None:
        """Records per second over the last minute or so (a windowed rate), or ``None`` before there is one."""
        if len(self._marks) < 2:
            return None
        (t0, d0), (t1, d1) = self._marks[0], self._marks[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else None

    def update(self, summary: Any) -> None:
        self._summary = summary
        now = time.monotonic()
        done = summary.kept + summary.n_dropped + summary.n_failed
        if not self._marks or now - self._marks[-1][0] >= 1.0:
            self._marks.append((now, done))
            while len(self._marks) > 2 and now - self._marks[0][0] > 60:
                self._marks.popleft()
        if self._bar is not None:
            done = summary.kept + summary.n_dropped + summary.n_failed
            self._bar.update(self._task, completed=done)
        elif now - self._last >= self.interval:
            self._last = now
            print(f"[synthkit] {self.line()}", file=self.stream, flush=True)  # noqa: T201

    def _tick(self) -> None:
        """Log a line every ``interval`` seconds even while no record finishes (a daemon thread)."""
        while not self._stop.wait(max(0.05, self.interval / 2)):
            now = time.monotonic()
            if now - self._last >= self.interval:
                self._last = now
                print(f"[synthkit] {self.line()}", file=self.stream, flush=True)  # noqa: T201

    def close(self, summary: Any) -> None:
        self._summary = summary
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        if self._live is not None:
            self.update(summary)
            self._live.stop()
            self._live = None
        else:
            print(f"[synthkit] done: {self.line()}", file=self.stream, flush=True)  # noqa: T201
