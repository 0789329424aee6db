"""Python's cycle collector, run on the GUI thread only.

Python collects reference cycles in whichever thread happens to allocate past the collector's
threshold: a worker computing statistics, a training loop, the MIDI port watcher. When such a
cycle holds a Qt object that Python owns, the collector destroys it on that worker thread. Qt's
destructor then takes a lock and asks Python (for the GIL) about overridden methods, while the
GUI thread holds the GIL and waits for the same lock: the studio froze for good (seen in the test
suite: a dataset loading thread collected a window's object while the GUI thread was tearing
down a plot).

So once a QApplication exists the studio turns automatic collection off and collects from a
timer on the GUI thread instead, with the interpreter's own generation thresholds: cycles are
freed as before (within `INTERVAL_MS`), and a Qt object is never destroyed by the collector on
another thread. Plain reference counting is untouched: objects without cycles go at once.

A full collection walks every object: with torch and the models loaded that is some 350,000
objects and 0.2 s, a visible stall of the window (one came right after each dataset import).
Almost all of them are the start-up heap (modules, classes, functions) that lives as long as the
studio, and full collections there find next to nothing (0-165 objects in the runs measured).
So the first time a full collection is due, the collector freezes what is alive instead
(`gc.freeze()`, no walk at all): later full collections walk only what came after. The price: a
cycle among those start-up objects that becomes garbage later is never freed.

A full collection of what came after can still take a tenth of a second (models loaded, a dataset
with its statistics), so it waits while the studio is busy with something a stall would spoil:
a background job (a `WorkerThread`: import, training, generation) or playback, each registered
with `defer_full_collections_while`. It waits at most `MAX_DEFER_S`; the younger generations are
collected meanwhile as usual.
"""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

INTERVAL_MS = 100
MAX_DEFER_S = 120.0

_busy_checks: list[Callable[[], Callable[[], bool] | None]] = []  # weak: see below


def defer_full_collections_while(check: Callable[[], bool]) -> None:
    """Hold full collections back while `check()` is true (a bound method is held weakly: the
    check goes away with its object)."""
    if hasattr(check, "__self__") and hasattr(check, "__func__"):
        _busy_checks.append(weakref.WeakMethod(check))
    else:
        _busy_checks.append(lambda: check)


def busy() -> bool:
    """Is anything registered busy now (a full collection would stall it)?"""
    alive = []
    answer = False
    for ref in _busy_checks:
        check = ref()
        if check is None:
            continue
        alive.append(ref)
        try:
            answer = answer or bool(check())
        except RuntimeError:  # its Qt object is already gone
            pass
    _busy_checks[:] = alive
    return answer


class MainThreadCollector(QObject):
    """Collects on the GUI thread when the allocation counts pass the thresholds: the youngest
    generation that is due, one collection a tick, and a full collection only when the old
    generation has grown by a quarter since the last one (the interpreter's own rule); the first
    full one freezes the start-up heap instead (see the module doc)."""

    def __init__(self, app: QCoreApplication, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(app)
        self.thresholds = gc.get_threshold()
        self.collections = [0, 0, 0]
        self.long_lived = len(gc.get_objects(2))
        self.frozen = False
        self.full_due_since: float | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        gc.disable()
        self.timer.start()
        app.aboutToQuit.connect(self.stop)

    def check(self) -> int | None:
        """Collect the generation that is due; returns it, or None when none was."""
        t0, t1, t2 = self.thresholds
        if self.full_due_since is not None and (
                not busy() or time.monotonic() - self.full_due_since > MAX_DEFER_S):
            return self._collect(2)
        c0, c1, c2 = gc.get_count()
        if c0 <= t0:
            return None
        # A burst (a library import: 100,000 objects between two ticks) goes through the middle
        # generation at once: left there, it would be walked again, all of it, by the next
        # middle collection (0.2 s), where the interpreter walks a few thousand at a time.
        generation = 1 if (c1 > t1 or c0 > t0 * t1) else 0
        if (generation == 1 and self.full_due_since is None and c2 > t2
                and len(gc.get_objects(2)) > 1.25 * self.long_lived):
            if self.frozen and busy():
                self.full_due_since = time.monotonic()   # later, when nothing would stall
            else:
                generation = 2
        return self._collect(generation)

    def _collect(self, generation: int) -> int:
        if generation == 2 and not self.frozen:
            gc.collect(1)
            gc.freeze()   # the start-up heap: never walked again (see the module doc)
            self.frozen = True
        else:
            gc.collect(generation)
        if generation == 2:
            self.long_lived = len(gc.get_objects(2))
            self.full_due_since = None
        self.collections[generation] += 1
        return generation

    def stop(self) -> None:
        """The event loop ends: give collection back to the interpreter."""
        self.timer.stop()
        gc.enable()


def install() -> MainThreadCollector | None:
    """Start collecting on the GUI thread (once per application); None without an application
    or when called off the GUI thread (then it changes nothing)."""
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        return None
    collector = app.findChild(MainThreadCollector)
    if collector is None:
        collector = MainThreadCollector(app)
    elif not collector.timer.isActive():   # a second event loop after a quit
        gc.disable()
        collector.timer.start()
    return collector
