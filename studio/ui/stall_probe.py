"""`StallProbe`: how long the GUI thread's event loop goes without turning, measured the way a
musician would feel it (the gaps between the ticks of a 10 ms timer on that thread).

Used by the tests and benchmarks that check the window stays responsive while training,
importing or generating. `own_gaps` leave out the time the thread was ready to run but the OS
had no free core for it (Linux's per-thread run-queue wait, /proc/self/task/TID/schedstat): on a
shared machine other programs can keep any thread waiting, which is not the studio blocking.
Waiting for another of the studio's threads (a lock, Python's GIL) still counts.
"""

from __future__ import annotations

import os
import threading
import time

from PySide6.QtCore import QTimer


class StallProbe:
    def __init__(self, interval_ms: int = 10) -> None:
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []  # seconds between ticks
        self.own_gaps: list[float] = []  # the same, less the run-queue wait
        try:
            self._stat = os.open(f"/proc/self/task/{threading.get_native_id()}/schedstat",
                                 os.O_RDONLY)
        except OSError:
            self._stat = -1  # not Linux: every gap counts in full

    def _queue_wait(self) -> float:
        try:
            return int(os.pread(self._stat, 100, 0).split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return 0.0

    def start(self) -> None:
        self._last, self._waited = time.perf_counter(), self._queue_wait()
        self.timer.start()

    def _tick(self) -> None:
        now, waited = time.perf_counter(), self._queue_wait()
        self.gaps.append(now - self._last)
        self.own_gaps.append(now - self._last - (waited - self._waited))
        self._last, self._waited = now, waited

    def stop(self) -> None:
        self.timer.stop()

    def close(self) -> None:
        self.stop()
        if self._stat >= 0:
            os.close(self._stat)
            self._stat = -1
