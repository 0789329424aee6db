"""The velocity lane under the notes: one bar per visible note, its height the velocity.

Drag up or down on a bar: if that note is selected, every selected note changes by the same amount
(keeping their differences); otherwise the bars under the mouse take the mouse height as you sweep
across them. Like the note gestures, the drag is a preview; the release applies one edit. The velocity set
becomes that track's velocity for new notes (other tracks keep theirs); the label beside the lane
shows the one the current track's new notes get.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QMouseEvent, QPainter
from PySide6.QtWidgets import QWidget

from studio.ui import palette
from studio.ui.editor import note_edits
from studio.ui.editor import pianoroll_paint as paint

if TYPE_CHECKING:
    from studio.ui.editor.pianoroll import PianoRoll

BAR_WIDTH = 4
GRAB_PX = 5


class VelocityLane(QWidget):
    def __init__(self, roll: PianoRoll) -> None:
        super().__init__(roll)
        self.roll = roll
        self.overrides: dict[int, int] = {}    # note id -> velocity shown while dragging
        self._relative: tuple[float, dict[int, int]] | None = None  # (press y, start velocities)
        self._grabbed: int | None = None       # the note whose bar the drag started on
        self.setMinimumHeight(40)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def velocity_at(self, y: float) -> int:
        usable = max(1.0, self.height() - 4.0)
        return int(min(127, max(1, round((self.height() - 2 - y) / usable * 127))))

    def y_of(self, velocity: float) -> float:
        return self.height() - 2 - velocity / 127 * max(1.0, self.height() - 4.0)

    def _visible(self):
        """(track, columns, indices) of the notes whose bars are on screen."""
        geom = self.roll.geom
        t0, t1 = geom.visible_ticks()
        doc = self.roll.document
        tracks = doc.visible_tracks()
        current = doc.current_track_id
        for t in [t for t in tracks if t.id != current] + [t for t in tracks if t.id == current]:
            cols = self.roll.columns.of(t)
            idx = cols.visible(t0, t1)
            idx = idx[cols.start[idx] >= t0 - BAR_WIDTH / geom.px_per_tick]
            yield t, cols, idx

    def paintEvent(self, e) -> None:  # noqa: N802
        p = QPainter(self)
        paint.no_pen(p)
        w, h = self.width(), self.height()
        p.fillRect(QRectF(0, 0, w, h), palette.BLACK_KEY_ROW)
        for v in (32, 64, 96, 127):
            p.fillRect(QRectF(0, round(self.y_of(v)), w, 1), palette.GRID_LINE)
        geom = self.roll.geom
        selected = self.roll.canvas._selected
        current = self.roll.document.current_track_id
        for track, cols, idx in self._visible():
            if not len(idx):
                continue
            vel = cols.velocity[idx].copy()
            if self.overrides:
                ids = cols.id[idx].tolist()
                vel = np.array([self.overrides.get(i, v) for i, v in zip(ids, vel.tolist())])
            rects = np.empty((len(idx), 4))
            rects[:, 0] = np.floor((cols.start[idx] - geom.left_tick) * geom.px_per_tick)
            rects[:, 1] = self.y_of(vel)
            rects[:, 2] = BAR_WIDTH
            rects[:, 3] = h - rects[:, 1]
            sel = np.isin(cols.id[idx], selected) if len(selected) else np.zeros(len(idx), bool)
            alpha = 255 if track.id == current else 120
            colour = self.roll.track_color(track)
            colour.setAlpha(alpha)
            paint.fill_rects(p, rects[~sel], colour)
            paint.fill_rects(p, rects[sel], palette.SELECTED_FILL)
        paint.paint_playhead(p, geom, self.roll.playhead, h)
        p.end()

    def _bar_at(self, x: float) -> tuple[int, int] | None:
        """(note id, velocity) of the bar under x (the current track wins)."""
        best = None
        for _, cols, idx in self._visible():
            xs = (cols.start[idx] - self.roll.geom.left_tick) * self.roll.geom.px_per_tick
            near = np.flatnonzero((x >= xs - 1) & (x <= xs + GRAB_PX))
            if len(near):
                i = idx[near[-1]]
                best = (int(cols.id[i]), int(cols.velocity[i]))
        return best

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.button() != Qt.MouseButton.LeftButton:
            return
        hit = self._bar_at(e.position().x())
        doc = self.roll.document
        self.overrides = {}
        self._grabbed = None if hit is None else hit[0]
        if hit is not None and hit[0] in doc.selected_note_ids:
            song = doc.song
            start = {i: song.find_note(i)[1].velocity for i in doc.selected_note_ids}
            self._relative = (e.position().y(), start)
        else:
            self._relative = None
            self._sweep(e.position().x(), e.position().y())
        self.update()

    def _sweep(self, x: float, y: float) -> None:
        hit = self._bar_at(x)
        if hit is not None:
            self.overrides[hit[0]] = self.velocity_at(y)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if not e.buttons() & Qt.MouseButton.LeftButton:
            over = self._bar_at(e.position().x()) is not None
            self.setCursor(Qt.CursorShape.SizeVerCursor if over else Qt.CursorShape.ArrowCursor)
            return
        if self._relative is not None:
            y0, start = self._relative
            delta = round((y0 - e.position().y()) / max(1.0, self.height() - 4.0) * 127)
            self.overrides = {i: int(min(127, max(1, v + delta))) for i, v in start.items()}
        else:
            self._sweep(e.position().x(), e.position().y())
        self.update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.button() != Qt.MouseButton.LeftButton:
            return
        values, self.overrides, self._relative = self.overrides, {}, None
        doc = self.roll.document
        if values:
            edit = note_edits.velocity_edit(doc.song, values)
            if edit.changes:
                self._remember(values)
                doc.apply(edit)
        self.update()

    def _remember(self, values: dict[int, int]) -> None:
        """New notes of each track touched take the velocity just set there (the bar grabbed;
        in a sweep, the last bar of that track)."""
        song, per_track = self.roll.document.song, self.roll.canvas.track_velocity
        for nid, v in values.items():
            per_track[song.find_note(nid)[0].id] = v
        if self._grabbed in values:
            per_track[song.find_note(self._grabbed)[0].id] = values[self._grabbed]

    def wheelEvent(self, e) -> None:  # noqa: N802
        self.roll.wheel(e, anchor=e.position(), vertical=False)
