"""The track list: one row per track with its colour, name, instrument (General MIDI program or
drums), and Mute / Solo / Visible switches. Clicking a row makes that track current (new notes go
there). Renaming, changing the instrument, adding and removing tracks are undoable edits; colour,
mute, solo and visibility are view state kept in the document (and saved in the project)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.music.edits import AddTrack, ChangeTrack, RemoveTrack, TrackValues
from studio.music.song import Track
from studio.ui import palette
from studio.ui.document import Document
from studio.ui.editor.gm_programs import GM_PROGRAMS

COLUMNS = ("", "Name", "Instrument", "M", "S", "V")
COLOR, NAME, PROGRAM, MUTE, SOLO, VISIBLE = range(6)
DRUMS = "Drums (channel 10)"
# column: (document flag, button text, tip); the Visible button is "on" when NOT hidden
FLAGS = {MUTE: ("muted", "M", "Mute: silence this track"),
         SOLO: ("soloed", "S", "Solo: hear only the soloed tracks"),
         VISIBLE: ("hidden", "V", "Visible: show this track's notes in the piano roll")}


class TrackList(QWidget):
    message = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("track_list")
        self.document = document
        self._signature: tuple = ()
        self._building = False
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        for col in (COLOR, MUTE, SOLO, VISIBLE):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            self.table.setColumnWidth(col, 26)
        header.setSectionResizeMode(PROGRAM, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(PROGRAM, 118)
        header.setMinimumSectionSize(20)
        for col, tip in ((MUTE, "Mute"), (SOLO, "Solo"), (VISIBLE, "Visible in the piano roll")):
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(300)
        self.table.itemChanged.connect(self._item_changed)
        self.table.currentCellChanged.connect(self._current_changed)
        self.add_button = QPushButton("Add Track", self)
        self.add_button.clicked.connect(self.add_track)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self.remove_current)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        document.changed.connect(self.refresh)
        document.song_replaced.connect(lambda: self.refresh(force=True))
        document.track_flags_changed.connect(self._sync_view_state)
        self.refresh(force=True)

    # ---- building rows ---------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        song = self.document.song
        sig = tuple((t.id, t.name, t.program, t.is_drum) for t in song.tracks)
        if sig == self._signature and not force:
            return
        self._signature = sig
        self._building = True
        self.table.setRowCount(len(song.tracks))
        for row, track in enumerate(song.tracks):
            self._fill_row(row, track)
        current = next((i for i, t in enumerate(song.tracks)
                        if t.id == self.document.current_track_id), -1)
        if current >= 0:
            self._select_row(current)
        self.remove_button.setEnabled(bool(song.tracks))
        self._building = False

    def _sync_view_state(self) -> None:
        """Colours, switches and the current row, without rebuilding the rows."""
        song = self.document.song
        if tuple((t.id, t.name, t.program, t.is_drum) for t in song.tracks) != self._signature:
            self.refresh(force=True)
            return
        self._building = True
        for row, track in enumerate(song.tracks):
            self._paint_swatch(row, track)
            for col, (flag, _, _) in FLAGS.items():
                on = track.id in getattr(self.document, flag)
                button = self.table.cellWidget(row, col)
                if button is not None:
                    button.blockSignals(True)
                    button.setChecked((not on) if flag == "hidden" else on)
                    button.blockSignals(False)
            if track.id == self.document.current_track_id and self.table.currentRow() != row:
                self._select_row(row)
        self._building = False

    def _select_row(self, row: int) -> None:
        """Mark the current track's row. Through its name cell: selectRow makes the colour
        button of column 0 the current cell, and Qt then gives that button the keyboard focus,
        taking it from the piano roll whenever the current track changes."""
        flags = (QItemSelectionModel.SelectionFlag.ClearAndSelect
                 | QItemSelectionModel.SelectionFlag.Rows)
        self.table.selectionModel().setCurrentIndex(self.table.model().index(row, NAME), flags)

    def _paint_swatch(self, row: int, track: Track) -> None:
        swatch = self.table.cellWidget(row, COLOR)
        if swatch is not None:
            colour = palette.track_color(row, self.document.track_colors.get(track.id))
            swatch.setStyleSheet(f"background: {colour.name()}; border: 1px solid #111;")

    def _fill_row(self, row: int, track: Track) -> None:
        doc = self.document
        swatch = QToolButton(self.table)
        swatch.setObjectName("track_color")
        swatch.setToolTip("Colour of this track's notes (click to change)")
        swatch.clicked.connect(lambda _=False, t=track.id: self.choose_color(t))
        self.table.setCellWidget(row, COLOR, swatch)
        self._paint_swatch(row, track)
        name = QTableWidgetItem(track.name or f"Track {row + 1}")
        name.setData(Qt.ItemDataRole.UserRole, track.id)
        self.table.setItem(row, NAME, name)
        box = QComboBox(self.table)
        box.addItems([f"{i + 1}. {n}" for i, n in enumerate(GM_PROGRAMS)] + [DRUMS])
        box.setCurrentIndex(128 if track.is_drum else track.program)
        box.setToolTip("The instrument this track plays (General MIDI program)")
        box.currentIndexChanged.connect(lambda i, t=track.id: self.set_program(t, i))
        self.table.setCellWidget(row, PROGRAM, box)
        for col, (flag, text, tip) in FLAGS.items():
            button = QToolButton(self.table)
            button.setObjectName(f"track_{flag}")
            button.setText(text)
            button.setCheckable(True)
            on = track.id in getattr(doc, flag)
            button.setChecked((not on) if flag == "hidden" else on)
            button.setToolTip(tip)
            button.toggled.connect(lambda checked, t=track.id, f=flag: self._flag_toggled(
                t, f, checked))
            self.table.setCellWidget(row, col, button)

    def track_id_at(self, row: int) -> int | None:
        item = self.table.item(row, NAME)
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    # ---- user changes ----------------------------------------------------------------------------
    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._building:
            return
        track_id = self.track_id_at(item.row())
        if track_id is None:
            return
        col = item.column()
        if col == NAME:
            track = self.document.song.track(track_id)
            if item.text() != track.name:
                self.document.apply(ChangeTrack(track_id, (("name", item.text()),),
                                                "Rename track"))

    def _flag_toggled(self, track_id: int, flag: str, checked: bool) -> None:
        self.document.set_track_flag(flag, track_id, (not checked) if flag == "hidden"
                                     else checked)

    def flag_button(self, row: int, col: int) -> QToolButton:
        return self.table.cellWidget(row, col)

    def _current_changed(self, row: int, *_) -> None:
        if not self._building and row >= 0:
            self.document.set_current_track(self.track_id_at(row))

    def set_program(self, track_id: int, index: int) -> None:
        track = self.document.song.track(track_id)
        drums = index == 128
        fields = (("is_drum", drums),) if drums else (("program", index), ("is_drum", False))
        if drums != track.is_drum or (not drums and index != track.program):
            self.document.apply(ChangeTrack(track_id, fields, "Change instrument"))

    def choose_color(self, track_id: int) -> None:
        row = next(i for i, t in enumerate(self.document.song.tracks) if t.id == track_id)
        start = palette.track_color(row, self.document.track_colors.get(track_id))
        colour = QColorDialog.getColor(start, self, "Track colour")
        if colour.isValid():
            self.set_color(track_id, colour)

    def set_color(self, track_id: int, colour: QColor) -> None:
        self.document.track_colors[track_id] = colour.name()
        self.document.track_flags_changed.emit()

    def add_track(self) -> None:
        song = self.document.song
        used = {t.channel for t in song.tracks}
        channel = next((c for c in range(16) if c != 9 and c not in used), 0)
        track = Track(f"Track {len(song.tracks) + 1}", program=0, channel=channel)
        self.document.apply(AddTrack(TrackValues.of(track), description="Add track"))
        self.document.set_current_track(track.id)

    def remove_current(self) -> None:
        track_id = self.document.current_track_id
        if track_id is None:
            return
        self.document.apply(RemoveTrack(track_id, "Remove track"))
        song = self.document.song
        self.document.set_current_track(song.tracks[0].id if song.tracks else None)
        self.message.emit("Track removed (Ctrl+Z brings it back)")
