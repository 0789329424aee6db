"""The "Start from" box of the training set-up: fine-tune a trained model instead of starting
from scratch.

It lists the shipped models and the user's library models of the chosen kind (an LSTM run can
start from any LSTM model). With one chosen, the set-up shows the parent's model settings (fixed:
the child keeps its architecture) and gentle training defaults (`studio.ml.finetune`), the
musician may freeze the lowest layers, and after the run the panel compares the new model with
its parent and, if ticked, with a model trained from scratch on the same songs.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QSpinBox, QWidget

from studio.ml.library import list_models

SCRATCH = "Nothing: train from scratch"


class StartFromBox(QGroupBox):
    """Parent model, frozen layers, and the from-scratch comparison (see the module)."""

    parent_changed = Signal(object)  # the parent's ModelEntry, or None (from scratch)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Start from", parent)
        self.parent_box = QComboBox()
        self.parent_box.setObjectName("parent_box")
        self.parent_box.setToolTip(
            "Fine-tune: start from a model that already knows a lot of music and teach it your "
            "songs. With the 20 or 30 songs most musicians have, this gives a far better model "
            "than training from scratch.")
        self.freeze_box = QSpinBox()
        self.freeze_box.setObjectName("freeze_box")
        self.freeze_box.setToolTip(
            "Keep this many of the model's lowest layers as they are (0: all layers learn). "
            "Freezing keeps what the model knows of music in general and learns only your "
            "style on top: try it with very few songs.")
        self.compare_box = QCheckBox("Also train one from scratch, to compare")
        self.compare_box.setObjectName("compare_box")
        self.compare_box.setChecked(True)
        self.compare_box.setToolTip(
            "After fine-tuning, train a model from scratch on the same songs with the same "
            "settings, and show how well each predicts your test songs.")
        form = QFormLayout(self)
        form.addRow("Model", self.parent_box)
        form.addRow("Frozen layers", self.freeze_box)
        form.addRow(self.compare_box)
        self._entries: dict[str, Any] = {}
        self.parent_box.currentIndexChanged.connect(self._chosen)
        self._chosen()

    def refresh(self, model: str) -> None:
        """List the models of kind `model` (e.g. "lstm"), keeping the choice if still there."""
        current = self.parent_name
        self.parent_box.blockSignals(True)
        self.parent_box.clear()
        self.parent_box.addItem(SCRATCH, None)
        try:
            entries = [e for e in list_models() if e.model == model and not e.problem]
        except Exception:  # noqa: BLE001 - an unreadable library must not take the panel down
            entries = []
        self._entries = {e.name: e for e in entries}
        for e in entries:
            self.parent_box.addItem(f"{e.name}{' (shipped)' if e.shipped else ''}", e.name)
        index = self.parent_box.findData(current) if current else 0
        self.parent_box.setCurrentIndex(max(0, index))
        self.parent_box.blockSignals(False)
        self._chosen()

    def select(self, name: str | None) -> None:
        index = self.parent_box.findData(name) if name else 0
        if index < 0:
            raise ValueError(f"no model called {name!r} to start from")
        self.parent_box.setCurrentIndex(index)

    @property
    def parent_name(self) -> str | None:
        return self.parent_box.currentData()

    @property
    def freeze(self) -> int:
        return self.freeze_box.value() if self.parent_name else 0

    @property
    def compare_scratch(self) -> bool:
        return bool(self.parent_name) and self.compare_box.isChecked()

    def _chosen(self, *_: Any) -> None:
        entry = self._entries.get(self.parent_name) if self.parent_name else None
        self.freeze_box.setEnabled(entry is not None)
        self.compare_box.setEnabled(entry is not None)
        if entry is not None:
            self.freeze_box.setRange(0, max(0, self._groups(entry) - 1))
        self.parent_changed.emit(entry)

    @staticmethod
    def _groups(entry: Any) -> int:
        from studio.ml.finetune import layer_groups
        from studio.ml.registry import create_family

        try:
            return len(layer_groups(create_family(entry.model, entry.card["config"]).build()))
        except Exception:  # noqa: BLE001 - a card the registry refuses: nothing to freeze
            return 1
