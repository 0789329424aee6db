"""Earlier runs to compare: the run logs under `studio.paths.runs_dir()`, newest first, each with
a check box; the checked ones are read back (`studio.ml.loggers.read_run_log`) and drawn behind
the current run's curves.

A log is listed from its first line only (model, dataset, size); it is read in full when it is
checked, and kept until the file changes.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio import paths
from studio.ui.training.training_curve_data import RunCurves
from studio.ui.training.training_curves import OVERLAY_COLOURS

MAX_LISTED = 200


def run_logs() -> list[Path]:
    """The run logs, newest first."""
    folder = paths.runs_dir()
    logs = [p for p in folder.glob("*.jsonl") if p.is_file()]
    return sorted(logs, key=lambda p: p.stat().st_mtime, reverse=True)[:MAX_LISTED]


def log_title(path: Path) -> str:
    """`model on dataset · date · NAME` from the log's first line and the file's date."""
    try:
        with open(path, encoding="utf-8") as f:
            first = json.loads(f.readline() or "{}")
    except (OSError, json.JSONDecodeError):
        first = {}
    when = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    what = f"{first.get('model', '?')} on {first.get('dataset', '?')}"
    return f"{what} · {when} · {path.stem}"


class RunHistory(QWidget):
    """The list of earlier runs; `overlays_changed` carries the checked runs' curves."""

    overlays_changed = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cache: dict[Path, tuple[float, RunCurves]] = {}
        self.list = QListWidget()
        self.list.setObjectName("run_history")
        self.list.setToolTip("Tick earlier runs to draw their curves (dashed) behind the "
                             "current one.")
        self.list.itemChanged.connect(self._changed)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        clear = QPushButton("Clear")
        clear.setToolTip("Untick every run")
        clear.clicked.connect(self.clear)
        row = QHBoxLayout()
        row.addWidget(QLabel("Earlier runs"))
        row.addStretch(1)
        row.addWidget(clear)
        row.addWidget(refresh)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.list)
        self.refresh()

    def refresh(self) -> None:
        checked = set(self.checked_paths())
        self.list.blockSignals(True)
        self.list.clear()
        for path in run_logs():
            item = QListWidgetItem(log_title(path))
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if path in checked
                               else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._changed()

    def checked_paths(self) -> list[Path]:
        out = []
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(Path(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def set_checked(self, path: Path, checked: bool = True) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if Path(item.data(Qt.ItemDataRole.UserRole)) == Path(path):
                item.setCheckState(Qt.CheckState.Checked if checked else
                                   Qt.CheckState.Unchecked)

    def clear(self) -> None:
        for path in self.checked_paths():
            self.set_checked(path, False)

    def curves(self, path: Path) -> RunCurves:
        """The run of a log (read again only when the file changed)."""
        stamp = path.stat().st_mtime
        cached = self._cache.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, RunCurves.from_log(path, label=path.stem))
            self._cache[path] = cached
        return cached[1]

    def _changed(self, *_) -> None:
        runs = []
        for path in self.checked_paths():
            try:
                runs.append(self.curves(path))
            except OSError:
                continue
        self._colour_items(runs)
        self.overlays_changed.emit(runs)

    def _colour_items(self, runs: list[RunCurves]) -> None:
        """A checked run's text takes the colour of its curves."""
        colours = {r.label: OVERLAY_COLOURS[i % len(OVERLAY_COLOURS)] for i, r in
                   enumerate(runs)}
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            colour = colours.get(Path(item.data(Qt.ItemDataRole.UserRole)).stem)
            item.setForeground(QBrush(QColor(colour)) if colour else QBrush())
        self.list.blockSignals(False)
