"""The bad-files report of a dataset: every file that was not imported, and why."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

STATUS_TEXT = {"bad": "unreadable", "duplicate": "duplicate", "filtered": "filtered out"}


class ProblemsModel(QAbstractTableModel):
    HEADERS = ("File", "Problem", "Reason")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, str, str]] = []

    def set_rows(self, rows: list[tuple[str, str, str]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else 3

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if index.isValid() and role in (Qt.ItemDataRole.DisplayRole,
                                        Qt.ItemDataRole.ToolTipRole):
            return self.rows[index.row()][index.column()]
        return None


class ProblemsView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.heading = QLabel("")
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        self.model = ProblemsModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table)

    def show_manifest(self, manifest) -> None:
        """`manifest`: a `studio.data.store.Manifest`, or None for a built-in dataset."""
        if manifest is None:
            self.model.set_rows([])
            self.heading.setText("Built-in dataset: nothing to report.")
            return
        rows = [(rel, STATUS_TEXT.get(r.get("status"), r.get("status", "")),
                 r.get("reason", "")) for rel, r in manifest.problems()]
        self.model.set_rows(rows)
        text = (f"{len(rows)} file{'s' if len(rows) != 1 else ''} of {manifest.source} "
                f"{'were' if len(rows) != 1 else 'was'} not imported."
                if rows else f"Every file of {manifest.source} was imported.")
        if not manifest.complete:
            text += " The last import was interrupted: use Resume import to finish it."
        self.heading.setText(text)
        self.table.resizeColumnToContents(0)
