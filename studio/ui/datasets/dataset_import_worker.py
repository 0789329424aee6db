"""Qt threads for the Dataset panel: the folder import and the loading of a dataset.

`ImportThread` runs the Qt-free `import_folder` and turns its progress callback into signals,
throttled to about 10 per second so the GUI thread never drowns in updates; `cancel()` sets the
flag the import checks between files. `LoadThread` reads a dataset and its statistics off the GUI
thread (the chorales' summaries take a moment). Owners call `stop_and_wait()` before a thread's
object goes away: a QThread is never destroyed while running.
"""

from __future__ import annotations

import os
import threading
import time
import traceback

from PySide6.QtCore import Signal

from studio.data import BUILTIN, DatasetError, load_dataset
from studio.data.importer import ImportProgress, ImportReport, import_folder
from studio.data.piece_content import ImportOptions
from studio.data.statistics import dataset_statistics
from studio.data.store import DatasetStore
from studio.data.worker_pool import WorkerPool
from studio.ui.worker_thread import WorkerThread

PROGRESS_INTERVAL_S = 0.1
WORKER_NICE = 10  # parser processes yield the cores to the GUI thread at once


def _lower_this_thread_priority() -> None:
    """On Linux a thread has its own nice value: the import's bookkeeping thread gives way to
    the GUI thread (elsewhere this is a no-op)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 5)
    except (AttributeError, OSError):
        pass


class ImportThread(WorkerThread):
    progress = Signal(object)  # ImportProgress
    report_ready = Signal(object)  # ImportReport
    failed = Signal(str)

    def __init__(self, folder: str, name: str, options: ImportOptions, parent=None,
                 pool: WorkerPool | None = None) -> None:
        """`pool`: worker processes started beforehand (e.g. while the user filled in the
        dialog); the thread owns it from now on and closes it."""
        super().__init__(parent)
        self.folder, self.name, self.options = folder, name, options
        self.pool = pool
        self._cancel = False
        self._last_emit = 0.0
        self.report: ImportReport | None = None

    def cancel(self) -> None:
        self._cancel = True

    def _on_progress(self, p: ImportProgress) -> None:
        now = time.monotonic()
        if now - self._last_emit >= PROGRESS_INTERVAL_S or p.phase != "importing":
            self._last_emit = now
            self.progress.emit(p)

    def run(self) -> None:
        _lower_this_thread_priority()
        try:
            with self.pool or WorkerPool(nice=WORKER_NICE) as pool:
                self.report = import_folder(self.folder, self.name, self.options,
                                            progress=self._on_progress,
                                            cancel=lambda: self._cancel, pool=pool)
        except DatasetError as e:
            self.failed.emit(str(e))
            return
        except Exception as e:  # a bug must not kill the app silently: report it
            traceback.print_exc()
            self.failed.emit(f"the import stopped unexpectedly ({type(e).__name__}: {e})")
            return
        self.report_ready.emit(self.report)

    def stop_and_wait(self) -> None:
        self.cancel()
        self.wait()


class LoadThread(WorkerThread):
    """Loads a dataset, its statistics and its manifest; emits `loaded(...)`."""

    loaded = Signal(object, object, object)  # Dataset, DatasetStatistics, Manifest or None
    failed = Signal(str)

    def __init__(self, name: str, parent=None) -> None:
        super().__init__(parent)
        self.name = name

    def run(self) -> None:
        try:
            if self.name in BUILTIN:
                ds, manifest = load_dataset(self.name), None
            else:
                store = DatasetStore()
                manifest = store.read(self.name)
                ds = store.load(self.name, manifest)
            stats = dataset_statistics(ds, manifest)
        except (DatasetError, OSError) as e:
            self.failed.emit(str(e))
            return
        except Exception as e:
            traceback.print_exc()
            self.failed.emit(f"cannot load {self.name!r} ({type(e).__name__}: {e})")
            return
        self.loaded.emit(ds, stats, manifest)

    def stop_and_wait(self) -> None:
        self.wait()
