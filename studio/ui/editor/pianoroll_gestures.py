"""Mouse gestures of the note canvas: draw, move (copy with Ctrl), resize, rubber-band select.

Following noisicaa's piano roll, a gesture only changes a preview (offsets the canvas paints)
while the mouse moves; on release it applies ONE edit through `document.apply`, so a drag is one
undo step and the song never holds half a gesture. Alt turns snapping off for the gesture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt

from studio.music.song import Note
from studio.ui.editor import note_edits

if TYPE_CHECKING:
    from studio.ui.editor.pianoroll_canvas import NoteCanvas

DRAG_THRESHOLD = 3  # pixels before a press becomes a drag


def _alt(mods) -> bool:
    return bool(mods & Qt.KeyboardModifier.AltModifier)


def _ctrl(mods) -> bool:
    return bool(mods & Qt.KeyboardModifier.ControlModifier)


class Gesture:
    """Base: what the canvas paints while the mouse is down."""

    dt = 0          # ticks the selected notes are moved by (preview)
    dp = 0          # semitones
    d_dur = 0       # ticks added to their durations
    copy = False    # Ctrl+drag: originals stay, copies move

    def __init__(self, canvas: NoteCanvas, pos: QPointF) -> None:
        self.canvas = canvas
        self.roll = canvas.roll
        self.press = QPointF(pos)
        self.started = False

    def _passed_threshold(self, pos: QPointF) -> bool:
        if not self.started:
            d = pos - self.press
            self.started = abs(d.x()) + abs(d.y()) >= DRAG_THRESHOLD
        return self.started

    def move(self, pos: QPointF, mods) -> None:
        pass

    def finish(self, pos: QPointF, mods) -> None:
        pass

    def paint(self, painter) -> None:
        pass


class MoveGesture(Gesture):
    """Drag the selected notes by the grabbed note; Ctrl copies them."""

    def __init__(self, canvas, pos, note: tuple[int, int, int, int], select_on_click: int | None
                 ) -> None:
        super().__init__(canvas, pos)
        self.note_id, self.start, self.pitch, self.velocity = note
        self.select_on_click = select_on_click  # a click (no drag) on a selected note selects it
        geom = self.roll.geom
        self.press_tick = geom.tick_at(pos.x())
        self.press_pitch = geom.pitch_at(pos.y())
        song = self.roll.document.song
        found = [song.find_note(i)[1] for i in self.roll.document.selected_note_ids]
        self.min_start = min((n.start for n in found), default=0)
        self.lo = min((n.pitch for n in found), default=0)
        self.hi = max((n.pitch for n in found), default=127)

    def move(self, pos, mods) -> None:
        if not self._passed_threshold(pos):
            return
        geom, snap = self.roll.geom, self.roll.snap
        raw = geom.tick_at(pos.x()) - self.press_tick
        dt = snap.round(self.start + raw, enabled=not _alt(mods)) - self.start
        dp = geom.pitch_at(pos.y()) - self.press_pitch
        dt = max(dt, -self.min_start)
        dp = min(max(dp, -self.lo), 127 - self.hi)
        if dp != self.dp:
            self.roll.audition_requested.emit(self.pitch + dp, self.velocity)
        self.dt, self.dp, self.copy = dt, dp, _ctrl(mods)

    def finish(self, pos, mods) -> None:
        doc = self.roll.document
        if not self.started:
            if self.select_on_click is not None:
                doc.select({self.select_on_click})
            return
        self.copy = _ctrl(mods)
        ids = sorted(doc.selected_note_ids)
        if not ids or (self.dt == 0 and self.dp == 0):
            return
        if self.copy:
            edit, new_ids = note_edits.copy_edit(doc.song, ids, self.dt, self.dp)
            doc.apply(edit)
            doc.select(new_ids)
        else:
            doc.apply(note_edits.move_edit(doc.song, ids, self.dt, self.dp))


class ResizeGesture(Gesture):
    """Drag the right edge: every selected note gets longer or shorter by the same amount."""

    def __init__(self, canvas, pos, end: int, length: int) -> None:
        super().__init__(canvas, pos)
        self.end = end
        self.length = length
        self.press_tick = self.roll.geom.tick_at(pos.x())
        self.min_dur = self.roll.snap.step()

    def move(self, pos, mods) -> None:
        if not self._passed_threshold(pos):
            return
        snap = self.roll.snap
        raw = self.roll.geom.tick_at(pos.x()) - self.press_tick
        self.min_dur = 1 if _alt(mods) or not snap.ticks else snap.ticks
        new_end = snap.round(self.end + raw, enabled=not _alt(mods))
        self.d_dur = max(new_end - self.end, min(0, self.min_dur - self.length))

    def finish(self, pos, mods) -> None:
        doc = self.roll.document
        if not self.started or self.d_dur == 0:
            return
        edit = note_edits.resize_edit(doc.song, sorted(doc.selected_note_ids), self.d_dur,
                                      self.min_dur)
        if edit.changes:
            doc.apply(edit)
            self.canvas.draw_length = max(1, self.length + self.d_dur)


class DrawGesture(Gesture):
    """Click to add a note of the last length; drag right to choose its length."""

    def __init__(self, canvas, pos, mods) -> None:
        super().__init__(canvas, pos)
        geom, snap = self.roll.geom, self.roll.snap
        self.snapping = not _alt(mods)
        self.start = max(0, snap.floor(geom.tick_at(pos.x()), self.snapping))
        self.pitch = geom.pitch_at(pos.y())
        self.length = canvas.draw_length
        self.velocity = canvas.velocity_for(self.roll.document.current_track_id)
        self.roll.audition_requested.emit(self.pitch, self.velocity)

    def move(self, pos, mods) -> None:
        if not self._passed_threshold(pos):
            return
        snap = self.roll.snap
        end = snap.round(self.roll.geom.tick_at(pos.x()), self.snapping)
        step = snap.step() if self.snapping else 1
        self.length = max(step, end - self.start)

    def finish(self, pos, mods) -> None:
        doc = self.roll.document
        note = Note(self.pitch, self.start, self.length, self.velocity)
        edit, track_id = note_edits.add_note_edit(doc.song, doc.current_track_id, note)
        doc.apply(edit)
        doc.set_current_track(track_id)
        doc.select({note.id})
        self.canvas.draw_length = self.length

    def paint(self, painter) -> None:
        from studio.ui import palette

        geom = self.roll.geom
        rect = QRectF(geom.x_of(self.start), geom.y_of(self.pitch),
                      max(2.0, self.length * geom.px_per_tick), geom.key_height)
        painter.fillRect(rect, palette.SELECTED_EDGE)
        painter.fillRect(rect.adjusted(1, 1, -1, -1), palette.SELECTED_FILL)


class RubberBandGesture(Gesture):
    """Drag over empty space to select the notes inside the band; Shift adds to the selection."""

    def __init__(self, canvas, pos, add: bool) -> None:
        super().__init__(canvas, pos)
        self.add = add
        self.current = QPointF(pos)

    def rect(self) -> QRectF:
        return QRectF(self.press, self.current).normalized()

    def move(self, pos, mods) -> None:
        if self._passed_threshold(pos):
            self.current = QPointF(pos)

    def finish(self, pos, mods) -> None:
        doc, geom = self.roll.document, self.roll.geom
        self.roll.set_time_range(None)
        if not self.started:
            if not self.add:
                doc.clear_selection()
            return
        r = self.rect()
        ids = self.roll.columns.ids_in(doc.visible_tracks(), geom.tick_at(r.left()),
                                       geom.tick_at(r.right()), geom.pitch_at(r.bottom()),
                                       geom.pitch_at(r.top()))
        doc.select(ids, add=self.add)

    def paint(self, painter) -> None:
        from studio.ui import palette

        if self.started:
            r = self.rect()
            painter.fillRect(r, palette.RUBBER_BAND)
            painter.setPen(palette.SELECTED_EDGE)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(r)
