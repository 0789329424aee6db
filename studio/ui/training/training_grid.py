"""The grid-search view: the grid as a form, a table of its runs, and the curves of one run.

The form is a list of settings, each with the values to try (comma-separated, checked against
the setting's knob by `studio.ml.grid.parse_grid`); every other setting comes from the set-up
form. The table gets one row per combination: its values, status, best epoch, best validation
loss and accuracy. Clicking a row shows that run's curves below; the best run so far (lowest
validation loss) is highlighted in bold on green. The panel feeds the runs' reports in
(`curves_for(index)`, `run_started`, `run_ended`, `finish`).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ml.errors import ConfigError
from studio.ml.grid import GridRow, expand_grid, parse_grid
from studio.ml.knobs import knobs_of
from studio.ml.registry import family_class
from studio.ml.train_config import TrainConfig
from studio.ui.training.training_curve_data import RunCurves
from studio.ui.training.training_curves import CurvesView
from studio.ui.training.training_form import format_value, knob_tooltip

BEST_BRUSH = QBrush(QColor("#2f5a36"))  # green on the dark theme
RESULT_COLUMNS = ("status", "best epoch", "valid loss", "accuracy")


class GridView(QWidget):
    start_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ""
        self.keys: list[str] = []
        self.rows: dict[int, GridRow] = {}
        self.curves: dict[int, RunCurves] = {}
        self.form = QTableWidget(0, 2)
        self.form.setObjectName("grid_form")
        self.form.setHorizontalHeaderLabels(["setting", "values to try (comma-separated)"])
        self.form.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.form.verticalHeader().hide()
        self.form.setMinimumHeight(90)
        add, remove = QPushButton("Add setting"), QPushButton("Remove")
        add.clicked.connect(lambda: self.add_setting())
        remove.clicked.connect(self.remove_setting)
        self.count_label = QLabel()
        self.count_label.setWordWrap(True)
        self.start_button = QPushButton("Start grid search")
        self.start_button.setObjectName("start_grid")
        self.start_button.setToolTip("Train one model for every combination of the values "
                                     "above; the best is kept under the name in Set-up.")
        self.start_button.clicked.connect(self.start_requested)
        buttons = QHBoxLayout()
        for w in (add, remove):
            buttons.addWidget(w)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("grid_runs")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.itemSelectionChanged.connect(self._row_chosen)
        self.run_curves = CurvesView(compact=True)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.form)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.count_label)
        split = QSplitter(Qt.Orientation.Vertical)
        for w in (top, self.table, self.run_curves):
            split.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

    # -- the grid as a form ---------------------------------------------------------------------
    def set_model(self, model: str) -> None:
        """Offer the settings of `model` and of training (the form keeps what still applies)."""
        grid_text = self._texts()
        self.model = model
        self.form.setRowCount(0)
        for name, text in grid_text:
            if name in self._knobs():
                self.add_setting(name, text)
        if not self.form.rowCount():
            self.add_setting("lr", "0.001, 0.003")
        self._update_count()

    def _knobs(self) -> dict[str, Any]:
        if not self.model:
            return {}
        knobs = knobs_of(family_class(self.model).Config) + knobs_of(TrainConfig)
        return {k.name: k for k in knobs if k.name not in ("device", "threads", "log_every")}

    def add_setting(self, name: str = "", text: str = "") -> None:
        knobs = self._knobs()
        row = self.form.rowCount()
        self.form.insertRow(row)
        box = QComboBox()
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(8)
        for k in knobs.values():
            box.addItem(k.title, k.name)
            box.setItemData(box.count() - 1, knob_tooltip(k), Qt.ItemDataRole.ToolTipRole)
        used = {n for n, _ in self._texts()}
        name = name or next((n for n in knobs if n not in used), "")
        box.setCurrentIndex(max(0, box.findData(name)))
        edit = QLineEdit(text or format_value(knobs[box.currentData()].default))
        box.currentIndexChanged.connect(self._update_count)
        edit.textChanged.connect(self._update_count)
        self.form.setCellWidget(row, 0, box)
        self.form.setCellWidget(row, 1, edit)
        self._update_count()

    def remove_setting(self) -> None:
        row = self.form.currentRow() if self.form.currentRow() >= 0 else self.form.rowCount() - 1
        if row >= 0:
            self.form.removeRow(row)
        self._update_count()

    def _texts(self) -> list[tuple[str, str]]:
        out = []
        for row in range(self.form.rowCount()):
            box, edit = self.form.cellWidget(row, 0), self.form.cellWidget(row, 1)
            if box is not None and edit is not None:
                out.append((box.currentData(), edit.text()))
        return out

    def set_grid(self, grid: dict[str, list[Any]]) -> None:
        self.form.setRowCount(0)
        for name, values in grid.items():
            self.add_setting(name, ", ".join(format_value(v) for v in values))

    def grid(self) -> dict[str, list[Any]]:
        """The grid of the form, each value checked (raises `ConfigError`)."""
        texts = self._texts()
        names = [n for n, _ in texts]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ConfigError(f"{', '.join(twice)} appears twice in the grid")
        grid = parse_grid(self.model, [f"{n}={t}" for n, t in texts])
        expand_grid(grid)
        return grid

    def _update_count(self, *_) -> None:
        try:
            combos = len(expand_grid(self.grid()))
        except ConfigError as e:
            self.count_label.setText(f"<span style='color:#ff6b6b'>{e}</span>")
            return
        self.count_label.setText(f"{combos} run{'s' if combos != 1 else ''} will be trained")

    # -- the runs -------------------------------------------------------------------------------
    def begin(self, grid: dict[str, list[Any]]) -> None:
        """A grid search starts: one pending row per combination."""
        self.keys = list(grid)
        self.rows = {i: GridRow(i, p) for i, p in enumerate(expand_grid(grid))}
        self.curves = {}
        self.table.clear()
        self.table.setColumnCount(1 + len(self.keys) + len(RESULT_COLUMNS))
        self.table.setHorizontalHeaderLabels(["#", *self.keys, *RESULT_COLUMNS])
        self.table.setRowCount(len(self.rows))
        for row in self.rows.values():
            self._show_row(row)
        self.table.resizeColumnsToContents()
        self.run_curves.set_run(None)

    def curves_for(self, index: int) -> RunCurves:
        if index not in self.curves:
            self.curves[index] = RunCurves(f"run {index + 1}")
        return self.curves[index]

    def run_started(self, row: GridRow) -> None:
        self.rows[row.index] = row
        self._show_row(row)

    def run_ended(self, row: GridRow) -> None:
        self.rows[row.index] = row
        self._show_row(row)
        self._highlight_best()
        self.table.resizeColumnsToContents()

    def finish(self, rows: list[GridRow] | None = None, status: str = "") -> None:
        for row in rows or []:
            self.rows[row.index] = row
            self._show_row(row)
        if status:  # the search stopped: rows never started say so
            for row in self.rows.values():
                if row.status in ("pending", "running"):
                    row.status = status
                    self._show_row(row)
        self._highlight_best()
        self.table.resizeColumnsToContents()

    def _show_row(self, row: GridRow) -> None:
        loss = row.metrics.get("valid_loss", math.nan)
        accuracy = row.metrics.get("valid_accuracy", math.nan)
        status = row.status if not row.error else f"{row.status}: {row.error}"
        cells = [str(row.index + 1), *(format_value(row.params.get(k)) for k in self.keys),
                 status, str(row.best_epoch or ""),
                 f"{loss:.4f}" if math.isfinite(loss) else "",
                 f"{accuracy:.3f}" if math.isfinite(accuracy) else ""]
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, row.index)
            if row.error:
                item.setToolTip(row.error)
            self.table.setItem(row.index, col, item)

    def best_index(self) -> int | None:
        """The run with the lowest validation loss (None before any run has finished)."""
        done = [r for r in self.rows.values() if r.metrics and r.status != "cancelled"]
        if not done:
            return None
        return min(done, key=lambda r: (r.score("valid_loss"), r.index)).index

    def _highlight_best(self) -> None:
        best = self.best_index()
        for r in range(self.table.rowCount()):
            for c in range(self.table.columnCount()):
                item = self.table.item(r, c)
                if item is None:
                    continue
                font = QFont(item.font())
                font.setBold(r == best)
                item.setFont(font)
                item.setBackground(BEST_BRUSH if r == best else QBrush())
            first = self.table.item(r, 0)
            if first is not None:
                first.setText(f"★ {r + 1}" if r == best else str(r + 1))

    def select_run(self, index: int) -> None:
        self.table.selectRow(index)

    def _row_chosen(self) -> None:
        items = self.table.selectedItems()
        if not items:
            return
        index = items[0].data(Qt.ItemDataRole.UserRole)
        self.run_curves.set_run(self.curves.get(index))
