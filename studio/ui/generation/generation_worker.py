"""Running generation off the GUI thread: one request at a time, candidates as they arrive,
progress, cancel.

`GenerationRunner.start(request)` runs `studio.ml.generation.generate` on a `GenerationThread`.
Each candidate crosses to the GUI thread as soon as the core hands it over (`candidate_ready`), so
the first variation is listed before the others are done; progress arrives at most about ten
times a second. Starting a run cancels the one before (its late candidates are dropped: every
signal carries its run number); `shutdown()` cancels and waits, so no QThread is ever destroyed
while it runs.
"""

from __future__ import annotations

import threading
import time
import traceback

from PySide6.QtCore import QObject, Signal

from studio.ui.worker_thread import WorkerThread

PROGRESS_INTERVAL_S = 0.1


class GenerationThread(WorkerThread):
    """Runs one `generate(request)` call; the request's song is a copy nobody else touches."""

    candidate_ready = Signal(int, object)  # run number, Candidate
    progressed = Signal(int, float, str)  # run number, fraction 0..1, what it is doing
    succeeded = Signal(int, list)
    failed = Signal(int, str)  # a message for the musician
    cancelled = Signal(int)

    def __init__(self, run: int, request, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.run_number = run
        self.request = request
        self.stop = threading.Event()
        self._last_progress = 0.0

    def _progress(self, fraction: float, text: str = "") -> None:
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_INTERVAL_S or fraction >= 1.0:
            self._last_progress = now
            self.progressed.emit(self.run_number, float(fraction), str(text))

    def _candidate(self, candidate) -> None:
        if not self.stop.is_set():
            self.candidate_ready.emit(self.run_number, candidate)

    def run(self) -> None:
        from studio.ml.generation import generate

        try:
            result = generate(self.request, on_candidate=self._candidate,
                              progress=self._progress, cancel=self.stop.is_set)
        except Exception as e:  # shown in the panel, never a crash of the app
            if self.stop.is_set():
                self.cancelled.emit(self.run_number)
                return
            from studio.ml.errors import user_message

            message = user_message(e)
            if message is None:
                traceback.print_exc()
                message = f"Generation failed unexpectedly ({type(e).__name__}: {e})"
            self.failed.emit(self.run_number, message)
            return
        if self.stop.is_set():
            self.cancelled.emit(self.run_number)
        else:
            self.succeeded.emit(self.run_number, list(result))


class GenerationRunner(QObject):
    """Owns the generation threads of one panel. Signals come only from the current run."""

    candidate_ready = Signal(object)
    progress = Signal(float, str)
    finished = Signal(list)  # every candidate of the run
    failed = Signal(str)
    cancelled = Signal()
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._run = 0
        self._thread: GenerationThread | None = None
        self._old: list[GenerationThread] = []

    def is_running(self) -> bool:
        return self._thread is not None

    def threads_alive(self) -> int:
        """Threads of this runner whose run() has not returned (cancelled ones included)."""
        threads = self._old + ([self._thread] if self._thread is not None else [])
        return sum(1 for t in threads if not t.isFinished())

    def start(self, request) -> None:
        """Generate for `request` on a fresh thread, cancelling any run still going."""
        self.cancel()
        self._run += 1
        thread = GenerationThread(self._run, request)
        thread.candidate_ready.connect(self._on_candidate)
        thread.progressed.connect(self._on_progress)
        thread.succeeded.connect(self._on_succeeded)
        thread.failed.connect(self._on_failed)
        thread.cancelled.connect(self._on_cancelled)
        thread.finished.connect(self._reap)
        self._thread = thread
        thread.start()
        self.running_changed.emit(True)

    def cancel(self) -> bool:
        """Ask the running generation to stop; what it still sends is dropped. Returns whether
        there was one."""
        thread = self._thread
        if thread is None:
            return False
        thread.stop.set()
        self._old.append(thread)
        self._thread = None
        self.running_changed.emit(False)
        self.cancelled.emit()
        return True

    def shutdown(self, timeout_ms: int = 60_000) -> None:
        """Cancel and wait for every thread this runner started (the window is closing)."""
        self.cancel()
        for t in list(self._old):
            t.stop.set()
            t.wait(timeout_ms)
        self._old = [t for t in self._old if t.isRunning()]

    # ---- signals from the threads (queued to the GUI thread) -----------------------------------
    def _current(self, run: int) -> bool:
        return self._thread is not None and run == self._thread.run_number

    def _on_candidate(self, run: int, candidate) -> None:
        if self._current(run):
            self.candidate_ready.emit(candidate)

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

    def _on_succeeded(self, run: int, candidates: list) -> None:
        if self._end(run):
            self.finished.emit(candidates)

    def _on_failed(self, run: int, message: str) -> None:
        if self._end(run):
            self.failed.emit(message)

    def _on_cancelled(self, run: int) -> None:
        if self._end(run):   # stopped by the core itself; a cancel() from here already said so
            self.cancelled.emit()

    def _reap(self) -> None:
        """Forget threads that have ended (QThread.finished: run() has returned)."""
        for t in [t for t in self._old if t.isFinished()]:
            t.wait()
            self._old.remove(t)
            t.deleteLater()
