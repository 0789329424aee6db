"""The chord lane above the notes: the song's chord symbols (`Song.chords`), each a block from
where it starts to where the next one does, drawn on the roll's time axis (it scrolls and zooms
with the notes).

Double-click an empty place: a small editor opens at that beat (chords sit on the beat grid;
Alt: on the roll's grid); type a symbol (C, Am7, F#m7b5, Bb/D ...) and press Enter. Double-click
a chord (or select it and press Enter or F2) to change it. Click selects a chord; Delete or
Backspace deletes it; drag it (or Left/Right) to move it by beats. Enter with no chord selected
adds one at the playhead. Every change is one undoable edit (`studio.music.chord_lane`). A
symbol that cannot be read is named in the status bar and in red in the editor, which stays
open; the song is not touched. The right-click menu offers chord suggestion for the selection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter
from PySide6.QtWidgets import QLineEdit, QMenu, QWidget

from studio.music.chord_lane import (
    ChordSymbolError,
    add_chord,
    change_chord,
    move_chord,
    remove_chords,
    symbol,
)
from studio.music.edits import EditError
from studio.ui import palette
from studio.ui.editor import pianoroll_paint as paint

if TYPE_CHECKING:
    from studio.music.song import ChordSymbol
    from studio.ui.editor.pianoroll import PianoRoll

HEIGHT = 24
EDITOR_WIDTH = 96
DRAG_PX = 4
CHORD_FILL = QColor("#3a4a5e")
CHORD_EDGE = QColor("#6f8fb5")
_KEYS_KEPT = {Qt.Key.Key_Delete, Qt.Key.Key_Backspace, Qt.Key.Key_Left, Qt.Key.Key_Right,
              Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2, Qt.Key.Key_Escape}


class ChordEditor(QLineEdit):
    """The inline editor: Enter commits, Escape cancels, leaving it commits a good symbol."""

    def __init__(self, lane: ChordLane) -> None:
        super().__init__(lane)
        self.lane = lane
        self.setObjectName("chord_editor")
        self.setPlaceholderText("Am7")
        self.setMaxLength(32)
        self.returnPressed.connect(lambda: lane.commit_editor(keep_open_on_error=True))
        self.hide()

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        if e.key() == Qt.Key.Key_Escape:
            self.lane.close_editor()
            return
        super().keyPressEvent(e)
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            e.accept()   # not on to the lane, where Enter would open the editor again

    def focusOutEvent(self, e) -> None:  # noqa: N802
        super().focusOutEvent(e)
        if self.isVisible():
            self.lane.commit_editor(keep_open_on_error=False)


class ChordLane(QWidget):
    suggest_requested = Signal()   # "Suggest chords" from the lane's menu (the Song menu's job)

    def __init__(self, roll: PianoRoll) -> None:
        super().__init__(roll)
        self.setObjectName("chord_lane")
        self.roll = roll
        self.selected: int | None = None       # tick of the selected symbol
        self.editing: int | None = None        # tick the editor writes to
        self.editing_existing = False
        self._press: tuple[float, int | None] | None = None   # (x, tick of the symbol grabbed)
        self.drag_to: int | None = None        # where the grabbed symbol would land (preview)
        self.editor = ChordEditor(self)
        self.setFixedHeight(HEIGHT)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setToolTip("Chords: double-click to add or change one; drag to move it; "
                        "select it and press Delete to remove it")

    # ---- geometry ------------------------------------------------------------------------------
    @property
    def song(self):
        return self.roll.document.song

    def beat_tick(self, x: float, mods=Qt.KeyboardModifier.NoModifier, nearest: bool = False
                  ) -> int:
        """The beat line at or before x (nearest: the closest), Alt: the roll's grid."""
        tick = max(0.0, self.roll.geom.tick_at(x))
        if mods & Qt.KeyboardModifier.AltModifier:
            return max(0, self.roll.snap.round(tick) if nearest else self.roll.snap.floor(tick))
        return beat_of(self.song, tick, nearest)

    def spans(self) -> list[tuple[ChordSymbol, int]]:
        """(symbol, end tick) of each chord: it lasts until the next, the last for a bar or to
        the song's end."""
        chords = self.song.chords
        out = []
        for i, c in enumerate(chords):
            if i + 1 < len(chords):
                end = chords[i + 1].tick
            else:
                end = max(self.song.end, c.tick + self.song.time_signature_at(c.tick).bar_ticks)
            out.append((c, end))
        return out

    def symbol_at(self, x: float) -> int | None:
        """Tick of the symbol whose block is under x."""
        tick = self.roll.geom.tick_at(x)
        for c, end in self.spans():
            if c.tick <= tick < end:
                return c.tick
        return None

    # ---- painting ------------------------------------------------------------------------------
    def paintEvent(self, e) -> None:  # noqa: N802
        geom = self.roll.geom
        w, h = self.width(), self.height()
        p = QPainter(self)
        paint.no_pen(p)
        p.fillRect(QRectF(0, 0, w, h), palette.BLACK_KEY_ROW)
        t0, t1 = geom.visible_ticks()
        bars, _, _ = paint.time_grid(self.song, t0 - 1, t1, 0)
        paint.fill_rects(p, paint.vertical_lines(geom, bars, 0, h), palette.GRID_LINE)
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        metrics = p.fontMetrics()
        for c, end in self.spans():
            start = c.tick
            if self.drag_to is not None and c.tick == self.selected:   # the drag's preview
                start, end = self.drag_to, self.drag_to + (end - c.tick)
            x0, x1 = geom.x_of(start), geom.x_of(end)
            if x1 < 0 or x0 > w:
                continue
            box = QRectF(x0 + 1, 2, max(3.0, x1 - x0 - 2), h - 4)
            selected = c.tick == self.selected
            p.setPen(palette.SELECTED_EDGE if selected else CHORD_EDGE)
            p.setBrush(CHORD_FILL)
            p.drawRoundedRect(box, 3, 3)
            p.setPen(palette.SELECTED_FILL if selected else palette.TEXT)
            text_box = box.adjusted(4, 0, -2, 0)
            label = metrics.elidedText(c.label, Qt.TextElideMode.ElideRight,
                                       max(0, int(text_box.width())))
            p.drawText(text_box, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                       label)
        paint.no_pen(p)
        paint.paint_playhead(p, geom, self.roll.playhead, h)
        p.fillRect(QRectF(0, h - 1, w, 1), palette.C_ROW_LINE)
        p.end()

    # ---- mouse ---------------------------------------------------------------------------------
    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        x = e.position().x()
        hit = self.symbol_at(x)
        self.select(hit)
        if e.button() == Qt.MouseButton.RightButton:
            self._menu(e.globalPosition().toPoint())
            return
        if e.button() == Qt.MouseButton.LeftButton:
            self._press = (x, hit)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._press is None or self._press[1] is None:
            return
        x0, tick = self._press
        if abs(e.position().x() - x0) < DRAG_PX and self.drag_to is None:
            return
        delta = self.roll.geom.tick_at(e.position().x()) - self.roll.geom.tick_at(x0)
        target = max(0.0, tick + delta)
        self.drag_to = self.beat_tick(self.roll.geom.x_of(target), e.modifiers(), nearest=True)
        self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        press, target = self._press, self.drag_to
        self._press, self.drag_to = None, None
        if press is not None and press[1] is not None and target is not None \
                and target != press[1]:
            if self._apply(move_chord(self.song, press[1], target)):
                self.selected = target
        self.update()

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.button() != Qt.MouseButton.LeftButton:
            return
        x = e.position().x()
        hit = self.symbol_at(x)
        # on a chord, but far from where it starts (a long chord): a new one at this beat
        beat = self.beat_tick(x, e.modifiers())
        if hit is not None and beat - hit >= self.song.time_signature_at(hit).bar_ticks:
            hit = None
        self.open_editor(hit if hit is not None else beat, existing=hit is not None)

    def wheelEvent(self, e) -> None:  # noqa: N802
        self.roll.wheel(e, anchor=e.position(), vertical=False)

    def _menu(self, at: QPoint) -> None:
        menu = QMenu(self)
        if self.selected is not None:
            menu.addAction("Change Chord…", lambda: self.open_editor(self.selected, True))
            menu.addAction("Delete Chord", self.delete_selected)
            menu.addSeparator()
        menu.addAction("Suggest Chords", self.suggest_requested.emit)
        menu.popup(at)

    # ---- keys ----------------------------------------------------------------------------------
    def event(self, e: QEvent) -> bool:
        # With a chord selected (or the lane focused), Delete, the arrows and Enter are the
        # lane's, not the window's note shortcuts.
        if e.type() == QEvent.Type.ShortcutOverride and isinstance(e, QKeyEvent) \
                and e.key() in _KEYS_KEPT and not e.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            if self.selected is not None or e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter,
                                                         Qt.Key.Key_F2):
                e.accept()
                return True
        return super().event(e)

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        key = e.key()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selected is not None:
            self.delete_selected()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right) and self.selected is not None:
            self.move_selected_by_beat(-1 if key == Qt.Key.Key_Left else 1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2):
            if self.selected is not None:
                self.open_editor(self.selected, existing=True)
            else:
                self.edit_at_playhead()
        elif key == Qt.Key.Key_Escape:
            self.select(None)
        else:
            super().keyPressEvent(e)

    # ---- commands ------------------------------------------------------------------------------
    def edit_at_playhead(self) -> None:
        """Song > Chord at Playhead: the editor at the playhead's beat, holding the chord that
        starts there (to change it) or empty (to add one); the lane is shown if it was hidden."""
        if not self.roll.chord_lane_action.isChecked():
            self.roll.chord_lane_action.setChecked(True)
        tick = beat_of(self.song, self.roll.playhead or 0)
        existing = any(c.tick == tick for c in self.song.chords)
        self.open_editor(tick, existing=existing)

    def select(self, tick: int | None) -> None:
        if tick != self.selected:
            self.selected = tick
            self.update()

    def delete_selected(self) -> None:
        if self.selected is not None and self._apply(remove_chords(self.song, [self.selected])):
            self.selected = None

    def move_selected_by_beat(self, direction: int) -> None:
        if self.selected is None:
            return
        tick = self.selected
        target = next_beat(self.song, tick) if direction > 0 else previous_beat(self.song, tick)
        if target == tick or target < 0:
            self.roll.report_error("The chord cannot move further that way")
            return
        if self._apply(move_chord(self.song, tick, target)):
            self.selected = target

    def open_editor(self, tick: int, existing: bool) -> None:
        self.editing, self.editing_existing = int(tick), existing
        current = next((c for c in self.song.chords if c.tick == tick), None)
        self.editor.setText(current.label if existing and current is not None else "")
        self.editor.setStyleSheet("")
        self.editor.setToolTip("Type a chord symbol (C, Am7, F#m7b5, Bb/D) and press Enter; "
                               "Escape cancels")
        x = int(max(0, min(self.width() - EDITOR_WIDTH, self.roll.geom.x_of(tick))))
        self.editor.setGeometry(x, 0, EDITOR_WIDTH, self.height())
        self.editor.show()
        self.editor.setFocus()
        self.editor.selectAll()
        self.select(tick if existing else self.selected)

    def close_editor(self) -> None:
        self.editing = None
        self.editor.hide()
        self.setFocus()

    def commit_editor(self, keep_open_on_error: bool) -> bool:
        """Put the typed symbol in the lane (one edit); a bad symbol is explained and changes
        nothing. Returns whether the song changed."""
        if self.editing is None:
            return False
        tick, text = self.editing, self.editor.text()
        if not text.strip():
            if self.editing_existing:        # emptied: the chord goes
                self.editing = None
                self.editor.hide()
                self.select(tick)
                self.delete_selected()
                return True
            self.close_editor()
            return False
        try:
            new = symbol(tick, text)
        except ChordSymbolError as e:
            message = f"Not a chord: {e}"
            self.roll.report_error(message)
            if keep_open_on_error:
                self.editor.setStyleSheet("QLineEdit { border: 1px solid #d9534f; }")
                self.editor.setToolTip(message)
                return False
            self.editing = None
            self.editor.hide()
            return False
        self.editing = None
        self.editor.hide()
        exists = any(c.tick == tick for c in self.song.chords)
        edit = change_chord(self.song, new) if exists else add_chord(self.song, new)
        done = self._apply(edit)
        if done:
            self.selected = tick
        self.setFocus()
        return done

    def _apply(self, edit) -> bool:
        try:
            self.roll.document.apply(edit)
        except (EditError, KeyError) as e:
            self.roll.report_error(str(e))
            return False
        return True

    def song_changed(self) -> None:
        """After any edit (undo included): forget a selection whose chord is gone."""
        if self.selected is not None and all(c.tick != self.selected for c in self.song.chords):
            self.selected = None
        self.update()

    def song_replaced(self) -> None:
        self.selected = None
        self.drag_to = None
        self._press = None
        if self.editor.isVisible():
            self.editing = None
            self.editor.hide()


def _beats_near(song, tick: float) -> np.ndarray:
    bar = song.time_signature_at(int(tick)).bar_ticks
    _, beats, _ = paint.time_grid(song, max(0.0, tick - 2 * bar), tick + 2 * bar, 0)
    return beats.astype(np.int64)


def beat_of(song, tick: float, nearest: bool = False) -> int:
    """The beat line at or before `tick` (nearest: the closest beat line)."""
    beats = _beats_near(song, tick)
    if not len(beats):
        return max(0, int(tick))
    if nearest:
        return int(beats[np.argmin(np.abs(beats - tick))])
    before = beats[beats <= tick]
    return int(before[-1]) if len(before) else 0


def next_beat(song, tick: int) -> int:
    beats = _beats_near(song, tick + 1)
    after = beats[beats > tick]
    return int(after[0]) if len(after) else tick


def previous_beat(song, tick: int) -> int:
    beats = _beats_near(song, max(0, tick - 1))
    before = beats[beats < tick]
    return int(before[-1]) if len(before) else -1
