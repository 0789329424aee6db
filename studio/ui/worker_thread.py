"""`WorkerThread`: the QThread every background job of the studio runs on.

Qt aborts the whole process ("QThread: Destroyed while thread is still running") when a QThread
object is destroyed while its thread runs. The panels stop and join their threads when the
window closes; this base class is the safety net for every other way out (the interpreter
exiting while a window was never closed, a script or test that drops a window): each started
thread is remembered weakly, and at exit the ones still running are asked to stop and waited
for, so the process ends cleanly instead of dumping core.
"""

from __future__ import annotations

import atexit
import weakref

from PySide6.QtCore import QThread

from studio.ui.main_thread_gc import defer_full_collections_while
from studio.ui.main_thread_gc import install as collect_on_gui_thread

EXIT_WAIT_MS = 30_000  # e.g. an import of torch or a model load that cannot be interrupted

_threads: weakref.WeakSet = weakref.WeakSet()


class WorkerThread(QThread):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _threads.add(self)
        collect_on_gui_thread()  # no Qt object is ever collected on this thread


def join_running_threads(timeout_ms: int = EXIT_WAIT_MS) -> int:
    """Ask every running worker thread to stop and wait for it; how many were still running."""
    running = []
    for thread in list(_threads):
        try:
            if thread.isRunning():
                thread.requestInterruption()
                running.append(thread)
        except RuntimeError:  # its C++ object is already gone
            pass
    for thread in running:
        stop = getattr(thread, "stop", None) or getattr(thread, "cancel", None)
        if callable(stop):
            try:
                stop()
            except Exception:  # a best effort at exit
                pass
        thread.wait(timeout_ms)
    return len(running)


atexit.register(join_running_threads)


def any_running() -> bool:
    """Is a background job running now?"""
    for thread in list(_threads):
        try:
            if thread.isRunning():
                return True
        except RuntimeError:  # its C++ object is already gone
            pass
    return False


defer_full_collections_while(any_running)  # a 0.1 s collection would show in their progress
