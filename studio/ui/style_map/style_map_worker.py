"""Running the analysis off the GUI thread: one task at a time, with progress and cancel.

`AnalysisTaskRunner.start(fn)` runs `fn(progress, cancelled)` on a QThread, where `progress(
fraction, text)` reports (forwarded as a signal at most about 10 times a second) and `cancelled()`
tells the task to stop (the Qt-free analysis functions check it between steps and raise
`AnalysisCancelled`). Starting a task cancels the one before; `shutdown()` cancels and waits, so
no QThread is ever destroyed while it runs.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from studio.ml.analysis.errors import AnalysisCancelled
from studio.ui.worker_thread import WorkerThread

TaskFn = Callable[[Callable[[float, str], None], Callable[[], bool]], object]


class _TaskThread(WorkerThread):
    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, fn: TaskFn, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self.stop = threading.Event()
        self._last = 0.0

    def _progress(self, fraction: float, text: str) -> None:
        now = time.monotonic()
        if now - self._last >= 0.1 or fraction >= 1.0:
            self._last = now
            self.progressed.emit(float(fraction), text)

    def run(self) -> None:
        try:
            result = self._fn(self._progress, self.stop.is_set)
        except AnalysisCancelled:
            self.cancelled.emit()
        except Exception as e:  # reported to the user, never a crash of the app
            from studio.ml.errors import user_message

            message = user_message(e)
            if message is None:
                traceback.print_exc()
                message = f"{type(e).__name__}: {e}"
            self.failed.emit(message)
        else:
            if self.stop.is_set():
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)


class AnalysisTaskRunner(QObject):
    """Runs one analysis task at a time on a worker thread."""

    progress = Signal(float, str)
    finished = Signal(object)  # the task's result
    failed = Signal(str)  # a message for the user
    cancelled = Signal()
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: _TaskThread | None = None
        self._old: list[_TaskThread] = []

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def start(self, fn: TaskFn) -> None:
        """Run `fn` on a fresh thread, cancelling any task still running."""
        self.cancel()
        thread = _TaskThread(fn)
        thread.progressed.connect(self.progress)
        thread.succeeded.connect(lambda r, t=thread: self._done(t, self.finished, r))
        thread.failed.connect(lambda m, t=thread: self._done(t, self.failed, m))
        thread.cancelled.connect(lambda t=thread: self._done(t, self.cancelled))
        self._thread = thread
        thread.start()
        self.running_changed.emit(True)

    def _done(self, thread: _TaskThread, signal, *payload) -> None:
        thread.wait()
        if thread is not self._thread:  # a cancelled earlier task reporting late
            if thread in self._old:
                self._old.remove(thread)
            return
        self._thread = None
        self.running_changed.emit(False)
        signal.emit(*payload)

    def cancel(self) -> None:
        """Ask the running task to stop; its result, if any, is dropped."""
        if self._thread is not None:
            self._thread.stop.set()
            if self._thread.isRunning():
                self._old.append(self._thread)
            self._thread = None
            self.running_changed.emit(False)
            self.cancelled.emit()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel and wait for every thread this runner started."""
        current = [self._thread] if self._thread is not None else []
        for t in current + self._old:
            t.stop.set()
        for t in current + self._old:
            t.wait(timeout_ms)
        self._thread = None
        self._old.clear()
