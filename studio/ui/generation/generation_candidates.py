"""The list of generated variations: one row per candidate as it arrives, with how original it
is (the longest run it shares with the model's training music) and how close to the training
style it sounds; sortable by any column; Play / Accept / Discard / Show on the style map.

The list only shows candidates and says what the musician asked for (signals); the panel plays,
applies and discards them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

COLUMNS = ("#", "Originality", "Style", "Nearest")
ORIGINALITY_COLUMN, STYLE_COLUMN, NEAREST_COLUMN = 1, 2, 3


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SortItem(QTableWidgetItem):
    """A cell shown as text and sorted by a number (missing values sort last)."""

    def __init__(self, text: str, key: float | None, tip: str = "") -> None:
        super().__init__(text)
        self.key = key
        if tip:
            self.setToolTip(tip)
        self.setFlags(self.flags() & ~Qt.ItemFlag.ItemIsEditable)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine = self.key if self.key is not None else float("inf")
        theirs = getattr(other, "key", None)
        return mine < (theirs if theirs is not None else float("inf"))


def originality_cells(candidate) -> tuple[str, float | None, str]:
    """(verdict, sort key = longest shared run, tooltip) of a candidate's originality check."""
    o = getattr(candidate, "originality", None)
    if o is None:
        return "not checked", None, "No originality check for this variation"
    verdict = str(getattr(o, "verdict", "") or "")
    run = getattr(o, "longest_run", None)
    piece = getattr(o, "piece", None) or ""
    tip = verdict
    if run is not None:
        tip = f"{verdict}\nLongest run of notes shared with the training music: {run}"
        if piece:
            tip += f" (in {piece})"
    short = verdict.split(":")[0].strip() or "?"   # "original", "quotes a phrase", ...
    if short.startswith("copies"):
        short = "copies"
    if run is not None:
        short += f" ({run})"
    return short, run, tip


def style_cells(candidate) -> tuple[tuple[str, float | None, str], tuple[str, float | None, str]]:
    """The style score (higher = closer to the training style) and nearest-piece distance."""
    s = getattr(candidate, "style", None)
    if s is None:
        none = ("—", None, "No style reference for this model's training music")
        return none, none
    score = float(s.style_score)
    distance = float(s.nearest_distance)
    nearest = getattr(s, "nearest_piece", "") or ""
    note = getattr(s, "note", "") or ""
    score_tip = "How much it sounds like the training music, 0 to 1 (higher = closer)"
    if note:
        score_tip += f"\n{note}"
    distance_tip = "Distance to the most similar training piece (lower = more alike)"
    if nearest:
        distance_tip += f": {nearest}"
    # sorting by style puts the best first when ascending, so the key is the negated score
    return (f"{score:.2f}", -score, score_tip), (f"{distance:.2f}", distance, distance_tip)


class CandidateList(QWidget):
    play_requested = Signal(object)  # Candidate
    stop_requested = Signal()
    accept_requested = Signal(object)
    discard_requested = Signal()
    map_requested = Signal(list)  # every candidate

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.candidates: dict[int, object] = {}
        self.accepted: int | None = None
        self.playing = False
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("candidate_table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)   # in the order they came
        self.table.setMinimumHeight(90)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ORIGINALITY_COLUMN, QHeaderView.ResizeMode.Stretch)
        for column, tip in ((ORIGINALITY_COLUMN, "Is it new? The longest run of notes it shares "
                             "with the music the model learned from (click to sort)"),
                            (STYLE_COLUMN, "How much it sounds like the training music, 0 to 1 "
                             "(click to sort, best first)"),
                            (NEAREST_COLUMN, "Distance to the most similar training piece "
                             "(click to sort, closest first)")):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        header.setSortIndicatorShown(True)
        self.table.itemSelectionChanged.connect(self._sync_buttons)
        self.table.cellDoubleClicked.connect(lambda *_: self._play())
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Hear the song with this variation (Stop to stop)")
        self.accept_button = QPushButton("Accept")
        self.accept_button.setToolTip("Put this variation into the song (Ctrl+Z takes it out)")
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Forget these variations")
        self.map_button = QPushButton("Style map")
        self.map_button.setToolTip("Show the variations on the style map, among the training "
                                   "pieces")
        self.play_button.clicked.connect(self._play)
        self.accept_button.clicked.connect(self._accept)
        self.discard_button.clicked.connect(self.discard_requested)
        self.map_button.clicked.connect(
            lambda: self.map_requested.emit(list(self.candidates.values())))
        self.details = QLabel()
        self.details.setObjectName("candidate_details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QHBoxLayout()
        for b in (self.play_button, self.accept_button, self.discard_button, self.map_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        self._sync_buttons()

    # ---- rows ----------------------------------------------------------------------------------
    def add(self, candidate) -> None:
        """List one more candidate (selected when it is the first)."""
        index = int(candidate.index)
        self.candidates[index] = candidate
        sorting = self.table.isSortingEnabled()
        self.table.setSortingEnabled(False)   # rows must not move while they are filled in
        row = self.table.rowCount()
        self.table.insertRow(row)
        number = SortItem(str(index + 1), index, str(getattr(candidate, "description", "")))
        number.setData(Qt.ItemDataRole.UserRole, index)
        (style, nearest) = style_cells(candidate)
        cells = (number, SortItem(*originality_cells(candidate)), SortItem(*style),
                 SortItem(*nearest))
        for column, item in enumerate(cells):
            self.table.setItem(row, column, item)
        self.table.setSortingEnabled(sorting)
        if self.current() is None:
            self.select(index)
        self._sync_buttons()

    def clear(self) -> None:
        self.candidates.clear()
        self.accepted = None
        self.table.setRowCount(0)
        self._sync_buttons()

    def row_of(self, index: int) -> int | None:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(Qt.ItemDataRole.UserRole) == index:
                return row
        return None

    def select(self, index: int) -> None:
        row = self.row_of(index)
        if row is not None:
            self.table.selectRow(row)

    def current(self):
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        index = self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)
        return self.candidates.get(index)

    def order(self) -> list[int]:
        """Candidate indexes in the order the table shows them."""
        return [self.table.item(r, 0).data(Qt.ItemDataRole.UserRole)
                for r in range(self.table.rowCount())]

    def sort_by(self, column: int, ascending: bool = True) -> None:
        order = Qt.SortOrder.AscendingOrder if ascending else Qt.SortOrder.DescendingOrder
        self.table.sortItems(column, order)
        self.table.horizontalHeader().setSortIndicator(column, order)

    def mark_accepted(self, index: int | None) -> None:
        """Tick the variation that is in the song (None: none is)."""
        self.accepted = index
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            number = item.data(Qt.ItemDataRole.UserRole)
            item.setText(("✔ " if number == index else "") + str(number + 1))
        self._sync_buttons()

    def _show_details(self) -> None:
        c = self.current()
        if c is None:
            self.details.setText("")
            return
        lines = [f"<b>Variation {c.index + 1}</b>"
                 + (" (in the song)" if c.index == self.accepted else "")
                 + f": {_escape(str(getattr(c, 'description', '')))}"]
        o = getattr(c, "originality", None)
        if o is not None and getattr(o, "verdict", ""):
            lines.append(_escape(f"Originality: {o.verdict}"
                                 + (f" (in {o.piece})" if getattr(o, "piece", "")
                                    and o.longest_run else "")))
        s = getattr(c, "style", None)
        near = getattr(s, "nearest_piece", "") if s is not None else ""
        if near:
            lines.append(_escape(f"Nearest training piece: {near}"))
        self.details.setText("<br>".join(lines))
        seconds = float(getattr(c, "seconds", 0.0) or 0.0)
        self.details.setToolTip(f"Written in {seconds:.1f} s" if seconds else "")

    # ---- buttons -------------------------------------------------------------------------------
    def set_playing(self, playing: bool) -> None:
        self.playing = playing
        self._sync_buttons()

    def _play(self) -> None:
        if self.playing:
            self.stop_requested.emit()
            return
        candidate = self.current()
        if candidate is not None:
            self.play_requested.emit(candidate)

    def _accept(self) -> None:
        candidate = self.current()
        if candidate is not None:
            self.accept_requested.emit(candidate)

    def _sync_buttons(self) -> None:
        self._show_details()
        chosen = self.current() is not None
        self.play_button.setText("Stop" if self.playing else "Play")
        self.play_button.setEnabled(self.playing or chosen)
        self.accept_button.setEnabled(chosen)
        self.discard_button.setEnabled(bool(self.candidates))
        self.map_button.setEnabled(bool(self.candidates))
