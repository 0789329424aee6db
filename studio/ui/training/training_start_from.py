"""The "Start from" box of the training set-up: fine-tune a trained model instead of starting
from scratch.

It lists the shipped models and the user's library models of the chosen kind (an LSTM run can
start from any LSTM model). With one chosen, the set-up shows the parent's model settings (fixed:
the child keeps its architecture) and gentle training defaults (`studio.ml.finetune`), the
musician may freeze the lowest layers and anchor the child to its parent (the training form's
`anchor` setting, mirrored here: `follow`), and after the run the panel compares the new model with
its parent and, if ticked, with a model trained from scratch on the same songs.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QSpinBox, QWidget

from studio.ml.knobs import knobs_of
from studio.ml.library import list_models
from studio.ml.train_config import TrainConfig
from studio.ui.training.training_form import changed_signal, control_for, get_value, set_value

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
        self.anchor_box = control_for(next(k for k in knobs_of(TrainConfig)
                                           if k.name == "anchor"))
        self.anchor_box.setObjectName("anchor_box")
        self.anchor_box.setToolTip(
            "How strongly the new model is held near the one you start from. 0 lets it move "
            "freely towards your songs (best on the songs we measured); a little, such as "
            "0.001, keeps more of what it knew, for when it forgets too much.")
        self._anchor_control: QWidget | None = None
        self.compare_box = QCheckBox("Also train one from scratch, to compare")
        self.compare_box.setObjectName("compare_box")
        self.compare_box.setChecked(True)
        self.compare_box.setToolTip(
            "After fine-tuning, train a model from scratch on the same songs with the same "
            "settings, and show how well each predicts your test songs.")
        form = QFormLayout(self)
        form.addRow("Model", self.parent_box)
        form.addRow("Frozen layers", self.freeze_box)
        form.addRow("Anchor to the parent", self.anchor_box)
        form.labelForField(self.anchor_box).setToolTip(self.anchor_box.toolTip())
        form.addRow(self.compare_box)
        self._entries: dict[str, Any] = {}
        self.parent_box.currentIndexChanged.connect(self._chosen)
        self._chosen()

    def follow(self, training_form: Any) -> None:
        """Show and edit the training form's anchor setting (the one the run uses) here."""
        control = training_form.controls["anchor"]
        self._anchor_control = control
        self.anchor_box.setValue(get_value(control))
        self.anchor_box.valueChanged.connect(lambda v: set_value(control, v))
        changed_signal(control).connect(lambda *_: self.anchor_box.setValue(get_value(control)))

    @property
    def anchor(self) -> float:
        return self.anchor_box.value() if self.parent_name else 0.0

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
        self.anchor_box.setEnabled(entry is not None)
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
