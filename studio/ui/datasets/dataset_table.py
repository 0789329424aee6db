"""The table of a dataset's pieces: name, duration, tracks, notes, key, split (sortable)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt

from studio.data.dataset import Piece

COLUMNS = ("Name", "Duration", "Tracks", "Notes", "Key", "Split")


def format_duration(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


class PiecesModel(QAbstractTableModel):
    """Rows are `Piece`s; the sort role gives numbers for the numeric columns."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.pieces: list[Piece] = []

    def set_pieces(self, pieces: list[Piece]) -> None:
        self.beginResetModel()
        self.pieces = list(pieces)
        self._sort_pieces()
        self.endResetModel()

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Sorted here in Python (a key per row), not by the proxy, which would call `data`
        tens of thousands of times for a large dataset."""
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        self._sort_pieces()
        self.layoutChanged.emit()

    def _sort_pieces(self) -> None:
        column, order = getattr(self, "_sort", (0, Qt.SortOrder.AscendingOrder))
        self.pieces.sort(key=lambda p: (self._value(p, column), p.name),
                         reverse=order == Qt.SortOrder.DescendingOrder)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else len(self.pieces)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def _value(self, piece: Piece, column: int):
        m = piece.metadata
        return (piece.name, float(m.get("seconds", 0.0)), int(m.get("tracks", 0)),
                int(m.get("notes", 0)), m.get("key") or "", piece.split)[column]

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        piece = self.pieces[index.row()]
        value = self._value(piece, index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return format_duration(value) if index.column() == 1 else value
        if role == Qt.ItemDataRole.UserRole:
            return value
        if role == Qt.ItemDataRole.ToolTipRole:
            m = piece.metadata
            parts = [piece.source]
            if m.get("instruments"):
                parts.append("instruments: " + ", ".join(m["instruments"]))
            if m.get("time_signatures"):
                parts.append("meter: " + ", ".join(m["time_signatures"]))
            if m.get("pitch_min") is not None:
                parts.append(f"pitches {m['pitch_min']}-{m['pitch_max']}")
            return "\n".join(p for p in parts if p)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (1, 2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class PiecesProxy(QSortFilterProxyModel):
    """Filters by name (case-insensitive); sorting is passed on to the pieces model."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFilterKeyColumn(0)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)
