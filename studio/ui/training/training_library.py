"""The model library view: your trained models and the shipped ones, each with its card.

The list comes from `studio.ml.library.list_models()` (cards only, no weights are loaded). The
card of the selected model says what it is (family, what it can generate), what it learned from
(dataset and its size), how well it did (the best epoch's validation metrics), when and how long
it trained, its settings and the command that trains it again. Your own models can be renamed
and deleted; "Use for generation" emits `model_chosen(name)` (the panel passes it on to the
generation panel).
"""

from __future__ import annotations

import html
import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QInputDialog,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ml.errors import StudioMLError
from studio.ml.library import ModelEntry, delete_model, list_models, rename_model
from studio.ui.training.training_form import format_value

METRICS = (("valid_loss", "Validation loss", "{:.4f}"), ("valid_nll", "Validation NLL", "{:.4f}"),
           ("valid_accuracy", "Accuracy", "{:.1%}"), ("valid_f1", "F1", "{:.3f}"))


def _date(card: dict) -> str:
    return str(card.get("created", ""))[:16].replace("T", " ")


def card_html(entry: ModelEntry) -> str:
    """The card of a model, as rich text."""
    e = html.escape
    if entry.problem:
        return f"<b>{e(entry.name)}</b><p style='color:#ff6b6b'>{e(entry.problem)}</p>"
    c = entry.card
    rows = [("Kind", f"{entry.model} ({c.get('title', entry.family)})"),
            ("Generates", ", ".join(entry.modes) or "—"),
            ("Trained on", _dataset_text(c)),
            ("Status", str(c.get("status", "—")))]
    epochs = len(c.get("metrics", []))
    if epochs:
        seconds = float(c.get("seconds", 0))
        took = f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
        rows.append(("Training", f"{epochs} epoch{'s' if epochs != 1 else ''} in {took}; "
                                 f"best epoch {c.get('best_epoch', 0)}"))
    best = entry.best_metrics
    for key, label, fmt in METRICS:
        value = best.get(key)
        if value is not None and math.isfinite(value):
            rows.append((label, fmt.format(value)))
    rows.append(("Date", _date(c) or "—"))
    if "grid" in c:
        rows.append(("Grid search", f"best of {len(c['grid'].get('runs', []))} runs"))
    rows.append(("Source", "shipped with Studio" if entry.shipped else "your library"))
    table = "".join(f"<tr><td style='color:#8a929e;padding-right:8px'>{e(k)}</td>"
                    f"<td>{e(v)}</td></tr>" for k, v in rows)
    settings = ", ".join(f"{k} {format_value(v)}" for k, v in c.get("config", {}).items())
    training = c.get("training", {})
    train_text = ", ".join(f"{k} {format_value(training[k])}" for k in
                           ("epochs", "batch_size", "optimizer", "lr", "weight_decay",
                            "patience") if k in training)
    out = f"<h3>{e(entry.name)}</h3><table>{table}</table>"
    if settings:
        out += f"<p><b>Model settings</b>: {e(settings)}</p>"
    if train_text:
        out += f"<p><b>Training</b>: {e(train_text)}</p>"
    if c.get("command"):
        out += f"<p><b>Train again</b>: <code>{e(c['command'])}</code></p>"
    return out


def _dataset_text(card: dict) -> str:
    ds = card.get("dataset", {})
    pieces = ds.get("pieces", {})
    counts = " / ".join(f"{pieces[s]} {s}" for s in ("train", "valid", "test") if s in pieces)
    return f"{ds.get('name', '?')}" + (f" ({counts} pieces)" if counts else "")


class LibraryView(QWidget):
    model_chosen = Signal(str)
    message = Signal(str)
    error = Signal(str, str)  # title, text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[ModelEntry] = []
        self.tree = QTreeWidget()
        self.tree.setObjectName("library_tree")
        self.tree.setHeaderLabels(["Name", "Model", "Dataset", "Valid loss", "Date"])
        self.tree.setRootIsDecorated(True)
        self.tree.currentItemChanged.connect(self._chosen)
        self.tree.itemDoubleClicked.connect(lambda *_: self.use_selected())
        self.card = QTextBrowser()
        self.card.setObjectName("model_card")
        self.card.setOpenLinks(False)
        self.use_button = QPushButton("Use for generation")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete…")
        refresh = QPushButton("Refresh")
        self.use_button.setToolTip("Choose this model in the Generation panel.")
        self.use_button.clicked.connect(self.use_selected)
        self.rename_button.clicked.connect(lambda: self.rename_selected())
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        refresh.clicked.connect(lambda: self.refresh())
        buttons = QGridLayout()  # two rows: the panel fits a narrow dock
        buttons.addWidget(self.use_button, 0, 0, 1, 2)
        buttons.addWidget(refresh, 0, 2)
        buttons.addWidget(self.rename_button, 1, 0)
        buttons.addWidget(self.delete_button, 1, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(self.card)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        """List the models again; keep (or move to) the selection."""
        current = select or (self.current_entry().name if self.current_entry() else None)
        self.entries = list_models()
        self.tree.clear()
        groups = {False: QTreeWidgetItem(["Your models"]),
                  True: QTreeWidgetItem(["Shipped models"])}
        for group in groups.values():
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(group)
        for i, entry in enumerate(self.entries):
            best = entry.best_metrics.get("valid_loss")
            item = QTreeWidgetItem([entry.name, entry.model, entry.dataset,
                                    f"{best:.4f}" if best is not None else "",
                                    _date(entry.card)])
            item.setData(0, Qt.ItemDataRole.UserRole, i)
            item.setToolTip(0, entry.problem or str(entry.path))
            groups[entry.shipped].addChild(item)
        for shipped, group in groups.items():
            if not group.childCount():
                empty = QTreeWidgetItem(["(none yet: train one in Set-up)" if not shipped
                                         else "(none)"])
                empty.setFlags(Qt.ItemFlag.NoItemFlags)
                group.addChild(empty)
            group.setExpanded(True)
        for c in range(self.tree.columnCount()):
            self.tree.resizeColumnToContents(c)
        if not (current and self.select(current)) and self.entries:
            self.select(self.entries[0].name)  # a card to read from the start
        self._chosen()

    def select(self, name: str) -> bool:
        for group in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(group)
            for k in range(top.childCount()):
                item = top.child(k)
                if item.text(0) == name and item.data(0, Qt.ItemDataRole.UserRole) is not None:
                    self.tree.setCurrentItem(item)
                    return True
        return False

    def current_entry(self) -> ModelEntry | None:
        item = self.tree.currentItem() if hasattr(self, "tree") else None
        index = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        return self.entries[index] if index is not None and index < len(self.entries) else None

    def _chosen(self, *_) -> None:
        entry = self.current_entry()
        self.card.setHtml(card_html(entry) if entry else
                          "<p style='color:#8a929e'>Choose a model to see its card.</p>")
        mine = entry is not None and not entry.shipped
        self.use_button.setEnabled(entry is not None and not entry.problem)
        self.rename_button.setEnabled(mine)
        self.delete_button.setEnabled(mine)

    def use_selected(self) -> None:
        entry = self.current_entry()
        if entry is not None and not entry.problem:
            self.model_chosen.emit(entry.name)

    def rename_selected(self, new_name: str | None = None) -> bool:
        entry = self.current_entry()
        if entry is None or entry.shipped:
            return False
        if new_name is None:
            new_name, ok = QInputDialog.getText(self, "Rename model", "New name:",
                                                text=entry.name)
            if not ok:
                return False
        try:
            renamed = rename_model(entry, new_name)
        except (StudioMLError, OSError) as e:
            self.error.emit("Cannot rename the model", str(e))
            return False
        self.refresh(select=renamed.name)
        self.message.emit(f"Renamed {entry.name} to {renamed.name}")
        return True

    def delete_selected(self, confirm: bool = True) -> bool:
        entry = self.current_entry()
        if entry is None or entry.shipped:
            return False
        if confirm:
            answer = QMessageBox.question(self, "Delete model",
                                          f"Delete the model {entry.name}? This cannot be undone.")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            delete_model(entry)
        except (StudioMLError, OSError) as e:
            self.error.emit("Cannot delete the model", str(e))
            return False
        self.refresh()
        self.message.emit(f"Deleted the model {entry.name}")
        return True
