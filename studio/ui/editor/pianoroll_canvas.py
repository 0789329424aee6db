"""The note canvas of the piano roll: paints the visible notes from numpy columns and turns mouse
and key events into gestures and edits.

Painting is layered. The background (pitch rows, grid) is cached until the view or the song
changes; the static layer (background + every unselected note + the ghost notes of a candidate
under audition, see `ghost_notes`) is cached until the notes, the selection, the ghosts or the
view change; each paint blits it and draws only the selected notes (moved by the preview offsets
of the gesture in progress) and the playhead. So a drag of 1,000 notes, or the playhead moving
during playback, never redraws the other notes. Building the static layer culls each track to the
visible time range (binary search on sorted starts) and draws its notes with a few batched
`drawRects` calls (see `pianoroll_paint`); tracks other than the current one are dimmed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QCursor, QImage, QKeyEvent, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QMenu, QToolTip, QWidget

from studio.music.song import PPQ
from studio.ui import palette
from studio.ui.editor import pianoroll_paint as paint
from studio.ui.editor.ghost_notes import paint_ghost_label
from studio.ui.editor.note_raster import (
    GhostLayer,
    NoteLayer,
    ghost_strips,
    image_of,
    raster_notes,
    shade_table,
)
from studio.ui.editor.note_tooltip import note_text
from studio.ui.editor.pianoroll_gestures import (
    DrawGesture,
    Gesture,
    MoveGesture,
    ResizeGesture,
    RubberBandGesture,
)

if TYPE_CHECKING:
    from studio.ui.editor.pianoroll import PianoRoll

EDGE_PX = 6            # the right-edge grip of a note, in pixels
OTHER_TRACK_STRENGTH = 0.55   # tracks other than the current one are dimmed
DEFAULT_VELOCITY = 100


class NoteCanvas(QWidget):
    def __init__(self, roll: PianoRoll) -> None:
        super().__init__(roll)
        self.roll = roll
        self.gesture: Gesture | None = None
        self.draw_length = PPQ // 2        # the length a click in draw mode gives a note
        # velocity of new notes, per track: the last one set in that track's velocity lane
        self.track_velocity: dict[int, int] = {}
        self.paint_count = 0               # for tests and benchmarks
        self._click_focused = False        # the focus came with the click being handled
        self._ghosts = None                # ghost_strips of the ghost notes, and their key
        self._ghost_key: tuple | None = None
        self._selected = np.zeros(0, dtype=np.int64)
        self._bg: paint.Background | None = None
        self._static_pixels: np.ndarray | None = None
        self._bg_key: tuple | None = None
        self._static: QImage | None = None
        self._static_key: tuple | None = None
        self._sel_rows: list = []
        self._shade_tables: dict[tuple, np.ndarray] = {}
        self._sel_key: tuple | None = None
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 120)

    # ---- state from the document ----------------------------------------------------------------
    def velocity_for(self, track_id: int | None) -> int:
        """The velocity a note drawn into this track gets: the last velocity set in the
        track's velocity lane; before that, the median velocity of its notes (drawing into a
        soft part stays soft); for an empty track DEFAULT_VELOCITY. Never another track's."""
        if track_id in self.track_velocity:
            return self.track_velocity[track_id]
        track = next((t for t in self.roll.document.song.tracks if t.id == track_id), None)
        if track is None or not track.notes:
            return DEFAULT_VELOCITY
        return int(np.median(self.roll.columns.of(track).velocity))

    def selection_changed(self) -> None:
        ids = self.roll.document.selected_note_ids
        self._selected = np.fromiter(sorted(ids), dtype=np.int64, count=len(ids))
        self.update()

    # ---- painting --------------------------------------------------------------------------------
    def resizeEvent(self, e) -> None:  # noqa: N802
        self.roll.geom.resize(self.width(), self.height())

    def invalidate(self, background: bool = True) -> None:
        """Drop the cached layers (the next paint renders everything again)."""
        self._static_key = None
        if background:
            self._bg_key = None
            self._ghost_key = None
        self.update()

    def _view_key(self) -> tuple:
        g, roll = self.roll.geom, self.roll
        return (g.left_tick, g.top, g.px_per_tick, g.key_height, g.width, g.height,
                roll.snap.ticks, roll.revision, self.devicePixelRatioF())

    def _background(self) -> paint.Background:
        """Pitch rows and grid lines, recomputed only when the view or the song changes."""
        key = self._view_key()
        if self._bg_key != key:
            self._bg = paint.background_rows(self.roll.geom, self.roll.document.song,
                                             self.roll.snap.ticks, self.devicePixelRatioF())
            self._bg_key = key
        return self._bg

    def _ordered_tracks(self) -> list:
        doc = self.roll.document
        tracks = doc.visible_tracks()
        current = doc.current_track_id
        return [t for t in tracks if t.id != current] + [t for t in tracks if t.id == current]

    def _static_layer(self, ghosts: str) -> QImage:
        """Background + every note that is not selected (+ the selected ones where a drag left
        them: dimmed when moving, as they are when copying). Cached: a drag repaints only the
        selected notes over it."""
        roll = self.roll
        key = (self._view_key(), roll.selection_revision, roll.loop_region(), roll.time_range(),
               ghosts, roll.ghost_revision)
        if self._static_key == key:
            return self._static
        dpr = self.devicePixelRatioF()
        geom = roll.geom
        t0, t1 = geom.visible_ticks()
        lo, hi = geom.visible_pitches()
        current = roll.document.current_track_id
        layers = []
        for track in self._ordered_tracks():
            cols = roll.columns.of(track)
            if not len(cols):
                continue
            idx = cols.visible(t0, t1, lo, hi)
            strength = 1.0 if track.id == current else OTHER_TRACK_STRENGTH
            if len(self._selected):
                sel = np.isin(cols.id[idx], self._selected, assume_unique=True)
                if ghosts == "copy":
                    sel[:] = False
                elif ghosts == "ghost":
                    layers.append(self._layer(cols, idx[sel], track, strength / 3))
                idx = idx[~sel]
            layers.append(self._layer(cols, idx, track, strength))
        ghosts = self._ghost_strips()
        pixels = raster_notes(self._background(), geom, layers, dpr, ghosts)
        image = image_of(pixels, dpr)
        p = QPainter(image)
        paint.no_pen(p)
        paint.paint_span(p, geom, roll.loop_region(), palette.LOOP_FILL, palette.LOOP_EDGE)
        paint.paint_span(p, geom, roll.time_range(), palette.RANGE_FILL)
        if ghosts is not None:
            paint_ghost_label(p, geom, f"Ghost notes: {roll.ghost_label} (G hides)"
                              if roll.ghost_label else "Ghost notes (G hides)")
        p.end()
        self._static_pixels = pixels   # the image paints from this memory
        self._static, self._static_key = image, key
        return image

    def _ghost_strips(self):
        """The ghost notes rasterized (`note_raster.ghost_strips`), kept until the view, the
        ghosts or the tracks' look change: an edit or a new selection does not redo them."""
        roll, geom = self.roll, self.roll.geom
        layers = roll.ghost_layers() if roll.ghost_visible else []
        dpr = self.devicePixelRatioF()
        key = (geom.left_tick, geom.top, geom.px_per_tick, geom.key_height, geom.width,
               geom.height, dpr, roll.ghost_revision,
               tuple((id(cols), colour.rgb()) for cols, colour in layers))
        if self._ghost_key != key:
            t0, t1 = geom.visible_ticks()
            lo, hi = geom.visible_pitches()
            visible = [GhostLayer(cols, cols.visible(t0, t1, lo, hi), palette.argb(colour))
                       for cols, colour in layers]
            width = max(1, round(geom.width * dpr))
            self._ghosts = ghost_strips(geom, visible, width, dpr) if visible else None
            self._ghost_key = key
        return self._ghosts

    def _selected_rows(self) -> list:
        """(columns, indices) of the selected notes of each visible track, cached."""
        roll = self.roll
        key = (roll.revision, roll.selection_revision)
        if self._sel_key != key:
            rows = []
            if len(self._selected):
                for track in self._ordered_tracks():
                    cols = roll.columns.of(track)
                    idx = np.flatnonzero(np.isin(cols.id, self._selected, assume_unique=True))
                    if len(idx):
                        rows.append((cols, idx))
            self._sel_rows, self._sel_key = rows, key
        return self._sel_rows

    def paintEvent(self, e) -> None:  # noqa: N802
        self.paint_count += 1
        roll, geom = self.roll, self.roll.geom
        g = self.gesture
        dt, dp, d_dur = (g.dt, g.dp, g.d_dur) if g else (0, 0, 0)
        moving = bool(dt or dp or d_dur)
        ghosts = ("copy" if g.copy else "ghost") if moving else "none"
        p = QPainter(self)
        p.drawImage(0, 0, self._static_layer(ghosts))
        paint.no_pen(p)
        t0, t1 = geom.visible_ticks()
        rects = []
        for cols, idx in self._selected_rows():
            on = idx[(cols.start[idx] + dt < t1)
                     & (np.maximum(cols.end[idx] + dt + d_dur, cols.start[idx] + dt + 1) > t0)]
            if len(on):
                rects.append(paint.note_rects(geom, cols, on, dt, dp, d_dur))
        if rects:
            paint.paint_selected(p, np.concatenate(rects))
        if g is not None:
            g.paint(p)
            paint.no_pen(p)
        paint.paint_playhead(p, geom, roll.playhead, geom.height)
        p.end()

    def _layer(self, cols, idx: np.ndarray, track, strength: float) -> NoteLayer:
        key = (self.roll.track_color(track).rgb(), strength)
        table = self._shade_tables.get(key)
        if table is None:
            colour = self.roll.track_color(track)
            table = self._shade_tables[key] = shade_table(palette.velocity_shades(colour,
                                                                                  strength))
        return NoteLayer(cols, idx, table)

    # ---- mouse -----------------------------------------------------------------------------------
    def _hit(self, pos: QPointF):
        """(track, column index, on_right_edge) of the note under `pos`, or None."""
        roll, geom = self.roll, self.roll.geom
        doc = roll.document
        tracks = doc.visible_tracks()
        current = doc.current_track_id
        ordered = [t for t in tracks if t.id != current] + [t for t in tracks if t.id == current]
        hit = roll.columns.hit(ordered, geom.tick_at(pos.x()), geom.pitch_at(pos.y()))
        if hit is None:
            return None
        track, i = hit
        cols = roll.columns.of(track)
        x_end = geom.x_of(cols.end[i])
        width = (cols.end[i] - cols.start[i]) * geom.px_per_tick
        on_edge = width >= 2 * EDGE_PX and x_end - pos.x() <= EDGE_PX
        return track, i, on_edge

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        # The first click into the roll from another widget only focuses it: it does not draw a
        # note (clicks on notes select them as usual). Qt gives the focus just before the press
        # (a focus-in for a mouse reason); coming back from another application is not that.
        had_focus, self._click_focused = not self._click_focused, False
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        pos, mods = e.position(), e.modifiers()
        doc = self.roll.document
        hit = self._hit(pos)
        if e.button() == Qt.MouseButton.RightButton:
            self._right_click(e, hit)
            return
        if e.button() != Qt.MouseButton.LeftButton:
            return
        if hit is None:
            if self.roll.tool == "draw" and not mods & Qt.KeyboardModifier.ShiftModifier:
                if not had_focus:
                    self.roll.message.emit("The piano roll has the keyboard focus: click again "
                                           "to draw a note")
                    return
                self.gesture = DrawGesture(self, pos, mods)
            else:
                self.gesture = RubberBandGesture(
                    self, pos, add=bool(mods & Qt.KeyboardModifier.ShiftModifier))
            self.update()
            return
        track, i, on_edge = hit
        cols = self.roll.columns.of(track)
        nid = int(cols.id[i])
        doc.set_current_track(track.id)
        self.roll.set_time_range(None)
        select_on_click = None
        if mods & Qt.KeyboardModifier.ShiftModifier:
            if nid in doc.selected_note_ids:
                doc.select(doc.selected_note_ids - {nid})
                return
            doc.select({nid}, add=True)
        elif nid not in doc.selected_note_ids:
            doc.select({nid})
        else:
            select_on_click = nid
        if on_edge:
            self.gesture = ResizeGesture(self, pos, int(cols.end[i]),
                                         int(cols.end[i] - cols.start[i]))
        else:
            self.gesture = MoveGesture(self, pos, (nid, int(cols.start[i]), int(cols.pitch[i]),
                                                   int(cols.velocity[i])), select_on_click)

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ToolTip:   # the note under the mouse: name, start, length...
            hit = None if self.gesture is not None else self._hit(QPointF(e.pos()))
            if hit is None:
                QToolTip.hideText()
                e.ignore()
            else:
                track, i, _ = hit
                note = self.roll.document.song.find_note(int(self.roll.columns.of(track).id[i]))[1]
                QToolTip.showText(e.globalPos(), note_text(self.roll.document.song, track, note),
                                  self)
            return True
        return super().event(e)

    def focusInEvent(self, e) -> None:  # noqa: N802
        self._click_focused = e.reason() == Qt.FocusReason.MouseFocusReason
        super().focusInEvent(e)

    def focusOutEvent(self, e) -> None:  # noqa: N802
        self._click_focused = False
        super().focusOutEvent(e)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self.gesture is not None:
            self.gesture.move(e.position(), e.modifiers())
            self.update()
            return
        hit = self._hit(e.position())
        if hit is None:
            shape = (Qt.CursorShape.CrossCursor if self.roll.tool == "draw"
                     else Qt.CursorShape.ArrowCursor)
        else:
            shape = Qt.CursorShape.SizeHorCursor if hit[2] else Qt.CursorShape.SizeAllCursor
        if self.cursor().shape() != shape:
            self.setCursor(QCursor(shape))

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        g, self.gesture = self.gesture, None
        if g is not None and e.button() == Qt.MouseButton.LeftButton:
            g.move(e.position(), e.modifiers())
            try:
                g.finish(e.position(), e.modifiers())
            except (ValueError, KeyError) as err:
                self.roll.report_error(str(err))
        self.update()

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.button() == Qt.MouseButton.LeftButton and self.roll.tool == "select" \
                and self._hit(e.position()) is None:
            g = DrawGesture(self, e.position(), e.modifiers())
            g.finish(e.position(), e.modifiers())
            self.update()

    def _right_click(self, e: QMouseEvent, hit) -> None:
        doc = self.roll.document
        if hit is not None:
            nid = int(self.roll.columns.of(hit[0]).id[hit[1]])
            if self.roll.tool == "draw":
                from studio.ui.editor.note_edits import delete_edit

                doc.apply(delete_edit([nid]))
                return
            if nid not in doc.selected_note_ids:
                doc.select({nid})
        menu = QMenu(self)
        for name in ("cut", "copy", "paste", "delete", "duplicate", "quantize",
                     "transpose_up", "transpose_down", "octave_up", "octave_down", "select_all"):
            action = self.roll.edit_actions.get(name)
            if action is not None:
                menu.addAction(action)
        menu.popup(e.globalPosition().toPoint())

    def wheelEvent(self, e: QWheelEvent) -> None:  # noqa: N802
        self.roll.wheel(e, anchor=e.position())

    # ---- keys ------------------------------------------------------------------------------------
    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        # the arrows, Delete, Q, ... are the editor's window shortcuts (editor_actions)
        if e.key() == Qt.Key.Key_Escape:
            if self.gesture is not None:
                self.gesture = None
                self.update()
            else:
                self.roll.document.clear_selection()
        else:
            super().keyPressEvent(e)
