"""The model picker of the generation panel and the catalogue behind it.

The generation core pulls in torch, which takes seconds to import; the window must not wait for
it. `ModelCatalog.start()` imports the core on a worker thread while the window appears (so the
first Generate is quick too) and says `loaded` when the library can be listed; from then on
listing reads only the model cards. `ModelCombo` lists the models that can do the chosen mode,
the core's default first selected, and lists them again each time it opens (a model trained a
minute ago appears).
"""

from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from studio.ui.worker_thread import WorkerThread

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
CARD_ROLE = Qt.ItemDataRole.UserRole + 2


class _CoreThread(WorkerThread):
    """Imports the core, then loads the models queued in the catalog (each with its
    originality index and style critic) until the queue is empty."""

    failed = Signal(str)
    imported = Signal()

    def __init__(self, catalog: ModelCatalog) -> None:
        super().__init__()
        self.catalog = catalog

    def run(self) -> None:
        try:
            import studio.ml.generation as core
        except Exception as e:  # reported in the panel
            traceback.print_exc()
            self.failed.emit(f"The generation engine could not start ({type(e).__name__}: {e})")
            return
        self.imported.emit()
        while not self.isInterruptionRequested():
            with self.catalog.lock:
                if not self.catalog.queue:
                    return
                model = self.catalog.queue.pop(0)
            try:
                core.warm_up(model)
            except Exception:  # a broken model: generating with it will say what is wrong
                pass


def entry_name(entry) -> str:
    return str(getattr(entry, "name", entry))


class ModelCatalog(QObject):
    """The library's models per generation mode, once the core is imported; loading models
    ahead of use (`warm`) on the same worker thread."""

    loaded = Signal()
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ready = False
        self.problem = ""
        self.lock = threading.Lock()
        self.queue: list[str] = []   # models to load, shared with the thread (under `lock`)
        self._warmed: set[str] = set()
        self._thread: _CoreThread | None = None

    def start(self) -> None:
        """Import the core on a worker thread (the window does not wait for torch)."""
        if self._thread is None and not self.ready and not self.problem:
            self._start_thread()

    def warm(self, model: str | None) -> None:
        """Load `model` (a library name or file) on the worker thread, so that generating with
        it starts at once. Each model once; a few seconds for a harmonizer the first time."""
        if not model or model in self._warmed or self.problem:
            return
        self._warmed.add(model)
        with self.lock:
            self.queue.append(model)
        if self._thread is None:
            self._start_thread()

    def _start_thread(self) -> None:
        self._thread = _CoreThread(self)
        self._thread.failed.connect(self._failed)
        self._thread.imported.connect(self._imported)
        self._thread.finished.connect(self._thread_done)
        self._thread.start()

    def _failed(self, message: str) -> None:
        self.problem = message
        self.failed.emit(message)

    def _imported(self) -> None:
        if not self.ready:
            self.ready = True
            self.loaded.emit()

    def _thread_done(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.wait()
            thread.deleteLater()
        with self.lock:
            pending = bool(self.queue)
        if pending and not self.problem:   # queued while the thread was finishing
            self._start_thread()

    @property
    def busy(self) -> bool:
        """Still importing the core or loading models."""
        return self._thread is not None

    def wait(self) -> None:
        """Stop loading models and wait for the thread (closing the window)."""
        with self.lock:
            self.queue.clear()
        if self._thread is not None:
            self._thread.requestInterruption()
            self._thread.wait()

    def entries(self, mode: str) -> list:
        """The models that can generate `mode` (empty until loaded)."""
        if not self.ready:
            return []
        from studio.ml.generation import available_models

        return list(available_models(mode))

    def default(self, mode: str) -> str | None:
        if not self.ready:
            return None
        from studio.ml.generation import default_model

        name = default_model(mode)
        return None if name is None else entry_name(name)

    def modes_of(self, name: str) -> list[str] | None:
        """The modes a library model can generate (None: no such model)."""
        from studio.ml.modes import GENERATION_MODES

        found = None
        for mode in GENERATION_MODES:
            if any(entry_name(e) == name for e in self.entries(mode)):
                found = (found or []) + [mode]
        if found is not None:
            return found
        from studio.ml.library import list_models

        for e in list_models():
            if e.name == name:
                return list(e.modes)
        return None


def describe_entry(entry) -> str:
    """A tooltip: what the model is, what it learned from, how well."""
    card = getattr(entry, "card", None) or {}
    lines = [entry_name(entry)]
    family = card.get("family")
    if family:
        try:
            from studio.ml.registry import family_class

            cls = family_class(str(family))
            lines.append(f"{cls.title}: {cls.summary}" if cls.summary else cls.title)
        except Exception:  # an unknown family: the card still says what it is
            lines.append(str(family))
    dataset = card.get("dataset", {})
    if isinstance(dataset, dict) and dataset.get("name"):
        lines.append(f"Trained on: {dataset['name']}")
    if getattr(entry, "shipped", False):
        lines.append("Comes with Studio")
    problem = getattr(entry, "problem", "")
    if problem:
        lines.append(f"Problem: {problem}")
    return "\n".join(lines)


class ModelCombo(QComboBox):
    """The models that can do one mode; refilled each time the list opens."""

    def __init__(self, catalog: ModelCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.mode = ""
        self.setObjectName("model_combo")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(12)

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.refill(prefer_default=True)

    def refill(self, prefer_default: bool = False, select: str | None = None) -> None:
        """List the mode's models again, keeping the chosen one (or choosing `select`, or the
        core's default)."""
        keep = select or (None if prefer_default else self.model_name())
        self.blockSignals(True)
        self.clear()
        if not self.catalog.ready:
            self.addItem(self.catalog.problem or "Loading models…", None)
            self.setEnabled(False)
            self.blockSignals(False)
            return
        entries = self.catalog.entries(self.mode)
        for e in entries:
            label = entry_name(e) + ("" if getattr(e, "shipped", True) else "  (yours)")
            self.addItem(label, entry_name(e))
            self.setItemData(self.count() - 1, describe_entry(e), Qt.ItemDataRole.ToolTipRole)
            path = getattr(e, "path", None)
            self.setItemData(self.count() - 1, str(path) if path else entry_name(e), PATH_ROLE)
            self.setItemData(self.count() - 1, getattr(e, "card", None) or {}, CARD_ROLE)
        if not entries:
            self.addItem("No model for this yet: train one in the Training panel", None)
        self.setEnabled(bool(entries))
        wanted = keep or self.catalog.default(self.mode)
        index = self.findData(wanted) if wanted else -1
        self.setCurrentIndex(index if index >= 0 else 0)
        self.blockSignals(False)
        self.currentIndexChanged.emit(self.currentIndex())

    def model_name(self) -> str | None:
        """The chosen model's library name (None when there is none to choose)."""
        data = self.currentData()
        return None if data is None else str(data)

    def model_ref(self) -> str | None:
        """What to generate with: the chosen model's file (a user's model and a shipped one may
        share a name; the one listed is the one used)."""
        data = self.currentData(PATH_ROLE)
        return None if data is None else str(data)

    def warning(self) -> str:
        """What the chosen model's card says against generating with it (undertrained), or ''.
        Read only once the models are loaded (the check imports the training code)."""
        card = self.currentData(CARD_ROLE)
        if not card or not self.catalog.ready:
            return ""
        from studio.ml.finetune import generation_warnings

        warnings = generation_warnings(card)
        if not warnings:
            return ""
        return f"{self.model_name()} may be undertrained: " + "; ".join(warnings) + "."

    def showPopup(self) -> None:  # noqa: N802 (Qt name)
        if self.catalog.ready:
            self.refill()
        super().showPopup()
