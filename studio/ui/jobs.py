"""Background jobs: `JobRunner` runs one job at a time for a panel, with progress, cancel and the
same error handling for every panel, on a `WorkerThread` (studio.ui.worker_thread).

A job is a plain function `fn(thread)` (usually around a Qt-free core function) run on a
`JobThread`: it reports with `thread.report(fraction, text)` (forwarded at most about ten times a
second), hands over partial results with `thread.deliver(item)`, and checks
`thread.stop_requested()` between steps. Starting a job cancels the one before (whatever the old
one still sends is dropped); `shutdown()` cancels and waits, so no QThread is ever destroyed
while it runs. A job that raises fails with a message for the user: a user error's own text
(`studio.ml.errors.user_message`); anything else is a bug, printed with its traceback and named
as unexpected (`failure_message`, which the other worker threads use too).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from studio.ui.worker_thread import WorkerThread

PROGRESS_INTERVAL_S = 0.1


def failure_message(error: BaseException, unexpected: str = "") -> str:
    """What a failed job tells the user: a user error's own message; for anything else (a bug)
    the traceback is printed and the message says `unexpected` (e.g. "Generation failed
    unexpectedly") with the error."""
    from studio.ml.errors import user_message

    message = user_message(error)
    if message is None:
        traceback.print_exc()
        detail = f"{type(error).__name__}: {error}"
        message = f"{unexpected} ({detail})" if unexpected else detail
    return message


class JobThread(WorkerThread):
    """Runs one job function; every signal carries the run number, so late ones can be told."""

    progressed = Signal(int, float, str)  # run number, fraction 0..1, what it is doing
    delivered = Signal(int, object)  # run number, a partial result
    succeeded = Signal(int, object)
    failed = Signal(int, str)  # a message for the user
    cancelled = Signal(int)

    def __init__(self, run: int, fn: Callable[[JobThread], object], unexpected: str = "",
                 cancel_errors: tuple[type[BaseException], ...] = (),
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.run_number = run
        self.stop = threading.Event()
        self._fn, self._unexpected, self._cancel_errors = fn, unexpected, cancel_errors
        self._last_report = 0.0

    def stop_requested(self) -> bool:
        return self.stop.is_set()

    def report(self, fraction: float, text: str = "") -> None:
        now = time.monotonic()
        if now - self._last_report >= PROGRESS_INTERVAL_S or fraction >= 1.0:
            self._last_report = now
            self.progressed.emit(self.run_number, float(fraction), str(text))

    def deliver(self, item: object) -> None:
        if not self.stop.is_set():
            self.delivered.emit(self.run_number, item)

    def run(self) -> None:
        try:
            result = self._fn(self)
        except Exception as e:  # shown in the panel, never a crash of the app
            if self.stop.is_set() or isinstance(e, self._cancel_errors):
                self.cancelled.emit(self.run_number)
            else:
                self.failed.emit(self.run_number, failure_message(e, self._unexpected))
            return
        if self.stop.is_set():
            self.cancelled.emit(self.run_number)
        else:
            self.succeeded.emit(self.run_number, result)


class JobRunner(QObject):
    """Runs one job at a time for its owner (a panel). Signals come only from the current job.

    Subclasses set `unexpected` (how a bug's message starts), `cancel_errors` (the exceptions by
    which a job says it stopped on request) and `shutdown_wait_ms`."""

    progress = Signal(float, str)
    delivered = Signal(object)  # a partial result of the current job
    finished = Signal(object)  # the job's result
    failed = Signal(str)  # a message for the user
    cancelled = Signal()
    running_changed = Signal(bool)

    unexpected = ""
    cancel_errors: tuple[type[BaseException], ...] = ()
    shutdown_wait_ms = 60_000

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._run = 0
        self._thread: JobThread | None = None
        self._old: list[JobThread] = []  # cancelled or ended threads not yet finished

    def is_running(self) -> bool:
        return self._thread is not None

    def threads_alive(self) -> int:
        """Threads of this runner whose run() has not returned (cancelled ones included)."""
        threads = self._old + ([self._thread] if self._thread is not None else [])
        return sum(1 for t in threads if not t.isFinished())

    def start_job(self, fn: Callable[[JobThread], object]) -> None:
        """Run `fn(thread)` on a fresh thread, cancelling any job still running."""
        self.cancel()
        self._run += 1
        thread = JobThread(self._run, fn, self.unexpected, self.cancel_errors)
        thread.delivered.connect(self._on_delivered)
        thread.progressed.connect(self._on_progress)
        thread.succeeded.connect(self._on_succeeded)
        thread.failed.connect(self._on_failed)
        thread.cancelled.connect(self._on_cancelled)
        thread.finished.connect(self._reap)
        self._thread = thread
        thread.start()
        self.running_changed.emit(True)

    def cancel(self) -> bool:
        """Ask the running job to stop; what it still sends is dropped. Returns whether there
        was one."""
        thread = self._thread
        if thread is None:
            return False
        thread.stop.set()
        self._old.append(thread)
        self._thread = None
        self.running_changed.emit(False)
        self.cancelled.emit()
        return True

    def shutdown(self, timeout_ms: int | None = None) -> None:
        """Cancel and wait for every thread this runner started (the window is closing)."""
        self.cancel()
        for t in list(self._old):
            t.stop.set()
            t.wait(self.shutdown_wait_ms if timeout_ms is None else timeout_ms)
        self._old = [t for t in self._old if t.isRunning()]

    # ---- signals from the threads (queued to the GUI thread) -----------------------------------
    def _current(self, run: int) -> bool:
        return self._thread is not None and run == self._thread.run_number

    def _on_delivered(self, run: int, item: object) -> None:
        if self._current(run):
            self.delivered.emit(item)

    def _on_progress(self, run: int, fraction: float, text: str) -> None:
        if self._current(run):
            self.progress.emit(fraction, text)

    def _end(self, run: int) -> bool:
        if not self._current(run):
            return False
        self._old.append(self._thread)
        self._thread = None
        self.running_changed.emit(False)
        return True

    def _on_succeeded(self, run: int, result: object) -> None:
        if self._end(run):
            self.finished.emit(result)

    def _on_failed(self, run: int, message: str) -> None:
        if self._end(run):
            self.failed.emit(message)

    def _on_cancelled(self, run: int) -> None:
        if self._end(run):  # stopped by the job itself; a cancel() from here already said so
            self.cancelled.emit()

    def _reap(self) -> None:
        """Forget threads that have ended (QThread.finished: run() has returned)."""
        for t in [t for t in self._old if t.isFinished()]:
            t.wait()
            self._old.remove(t)
            t.deleteLater()
