"""Progress of long stages, for a person at a terminal and for a log file alike.

On a terminal or in a notebook: a tqdm bar that stays visible when the stage ends. Otherwise
(CI, ``nohup``, a log file) a bar's carriage returns are noise or nothing, so a plain line goes
to stderr every ``$XRET_PROGRESS_INTERVAL`` seconds (10 by default) with done/total, rate and
ETA.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from xret.errors import XretError

INTERVAL_ENV = "XRET_PROGRESS_INTERVAL"
DEFAULT_INTERVAL = 10.0
WINDOW = 60.0
"""Seconds of recent progress whose rate prices what is left: a stage's start (loading, the first
and longest batches) no longer inflates its ETA (32 min shown for a stage of 8 min 54 s)."""


class Progress(Protocol):
    def update(self, n: int, work: float = 0.0) -> None: ...

    def close(self) -> None: ...


def progress(
    total: int | None, desc: str, unit: str, enabled: bool = True, work: float | None = None
) -> Progress:
    """A bar on a terminal, periodic lines otherwise, nothing when disabled (``--quiet``).
    ``work``: the stage's total of what its time is proportional to (padded tokens, when texts
    are encoded longest first), so that the lines' ETA does not price a long text as a short one."""
    if not enabled:
        return _Silent()
    if interactive():  # a notebook renders a bar's carriage returns in place, as a terminal
        from tqdm import tqdm

        return _Bar(
            tqdm(
                total=total,
                desc=desc,
                unit=unit,
                file=sys.stderr,
                leave=True,
                dynamic_ncols=True,
                disable=False,  # TQDM_DISABLE (read when tqdm is imported) is for the libraries'
            )
        )
    return LogLines(total, desc, unit, interval(), work=work)


def interactive() -> bool:
    """Whether a person is watching: a terminal, or a Jupyter kernel (whose stderr is no tty)."""
    return sys.stderr.isatty() or "ipykernel" in sys.modules


LIBRARY_BARS_OFF = {
    "TQDM_DISABLE": "1",  # tqdm itself (mteb, sentence-transformers)
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # the hub's, and transformers' "Loading weights"
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",  # datasets' map ("Standardizing") and shard writing
}
"""What silences the libraries' own tqdm bars; each is read when its library is imported."""


@contextmanager
def quiet_library_bars() -> Iterator[None]:
    """Off the terminal, the libraries' bars are carriage-return noise in a log file (xret's own
    progress lines stay): off while the block runs (a command), unless the user set them; the
    environment is as it was afterwards (a command called in-process leaves no trace)."""
    added = (
        {}
        if sys.stderr.isatty()
        else {name: value for name, value in LIBRARY_BARS_OFF.items() if name not in os.environ}
    )
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def interval() -> float:
    value = os.environ.get(INTERVAL_ENV)
    if not value:
        return DEFAULT_INTERVAL
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise XretError(f"{INTERVAL_ENV}={value!r}: expected a positive number of seconds")
    return seconds


class _Silent:
    def update(self, n: int, work: float = 0.0) -> None:
        pass

    def close(self) -> None:
        pass


class _Bar:
    """A tqdm bar as a Progress (its own ETA, from a smoothed rate of items)."""

    def __init__(self, bar) -> None:
        self.bar = bar

    def update(self, n: int, work: float = 0.0) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


class LogLines:
    """One line every ``every`` seconds while the stage runs, and a last one when a stage that
    printed any ends; a stage shorter than ``every`` prints nothing. Its rate and ETA are those of
    the last ``WINDOW`` seconds, in units of ``work`` when the stage has one."""

    def __init__(
        self,
        total: int | None,
        desc: str,
        unit: str,
        every: float,
        clock=time.monotonic,
        work: float | None = None,
    ):
        self.total, self.desc, self.unit, self.every = total, desc, unit, every
        self._clock = clock
        self._start = self._last = clock()
        self.done, self.work, self.work_done = 0, work, 0.0
        self._printed = False
        self._recent: deque[tuple[float, int, float]] = deque([(self._start, 0, 0.0)])
        """(time, done, work done) samples: the last one before the window, then those in it."""

    def update(self, n: int, work: float = 0.0) -> None:
        self.done += n
        self.work_done += work
        now = self._clock()
        self._recent.append((now, self.done, self.work_done))
        while len(self._recent) > 2 and self._recent[1][0] <= now - WINDOW:
            self._recent.popleft()
        if now - self._last >= self.every:
            self._emit()

    def close(self) -> None:
        if self._printed:
            self._emit(final=True)

    def _emit(self, final: bool = False) -> None:
        now = self._clock()
        self._last, self._printed = now, True
        elapsed = now - self._start
        since, done_then, work_then = self._recent[0] if not final else (self._start, 0, 0.0)
        span = now - since
        rate = (self.done - done_then) / span if span > 0 else 0.0
        work_rate = (self.work_done - work_then) / span if span > 0 else 0.0
        count = f"{self.done:,}" if self.total is None else f"{self.done:,}/{self.total:,}"
        count += f" {self.unit}s"
        if self.total:
            count += f" ({100 * self.done / self.total:.0f} %)"
        parts = [f"{self.desc}: {count}", f"{rate:,.{0 if rate >= 10 else 1}f} {self.unit}s/s"]
        if final:
            parts.append(f"{duration(elapsed)} in all")
        elif self.work and work_rate > 0:
            parts.append(f"ETA {duration((self.work - self.work_done) / work_rate)}")
        elif self.total and rate > 0:
            parts.append(f"ETA {duration((self.total - self.done) / rate)}")
        print(", ".join(parts), file=sys.stderr, flush=True)


def duration(seconds: float) -> str:
    """``4.2 s``, ``7 min 03 s``, ``2 h 05 min``: as precise as a person needs."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def stage_lines(name: str, seconds: dict[str, float], total: float) -> list[str]:
    """The time of every stage of a task and the total (wall clock), one per line; ``rest`` is
    what no stage measured (assembling the record, per-query tables)."""
    rows = {**seconds, "rest": max(0.0, total - sum(seconds.values())), "total": total}
    width = max(map(len, rows))
    lines = [f"  {stage:<{width}}  {duration(s):>12}" for stage, s in rows.items()]
    return [f"{name}: time per stage", *lines]
