"""The ruler above the notes: bar numbers and beats, the loop region, the playhead.

Its upper strip is the loop strip: drag there to set the loop region (double-click clears it).
Its lower part is the timeline: a click moves the playhead (`seek_requested`) to the nearest grid
line (Alt: exactly where clicked, as for notes), a drag selects a time range on the grid (and the
notes that start in it) for generation and editing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QMouseEvent, QPainter, QPolygonF
from PySide6.QtWidgets import QMenu, QWidget

from studio.music.timing import bar_beat
from studio.ui import palette
from studio.ui.editor import pianoroll_paint as paint

if TYPE_CHECKING:
    from studio.ui.editor.pianoroll import PianoRoll

LOOP_STRIP = 12
HEIGHT = 34


class Ruler(QWidget):
    def __init__(self, roll: PianoRoll) -> None:
        super().__init__(roll)
        self.roll = roll
        self.setFixedHeight(HEIGHT)
        self._press: tuple[str, int, float] | None = None  # (strip, tick, x)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setToolTip("Click: move the playhead to the grid (Alt: anywhere). "
                        "Drag: select a time range.\n"
                        "Top strip: drag to set the loop region, double-click to clear it.")

    def paintEvent(self, e) -> None:  # noqa: N802
        roll, geom = self.roll, self.roll.geom
        w, h = self.width(), self.height()
        p = QPainter(self)
        paint.no_pen(p)
        p.fillRect(QRectF(0, 0, w, h), palette.BLACK_KEY_ROW)
        p.fillRect(QRectF(0, 0, w, LOOP_STRIP), palette.BACKGROUND)
        loop = roll.loop_region()
        if loop is not None:
            x0, x1 = geom.x_of(loop[0]), geom.x_of(loop[1])
            p.fillRect(QRectF(x0, 1, x1 - x0, LOOP_STRIP - 2), palette.LOOP_EDGE)
        rng = roll.time_range()
        if rng is not None:
            x0, x1 = geom.x_of(rng[0]), geom.x_of(rng[1])
            p.fillRect(QRectF(x0, LOOP_STRIP, x1 - x0, h - LOOP_STRIP), palette.RANGE_FILL)
        t0, t1 = geom.visible_ticks()
        bars, beats, _ = paint.time_grid(roll.document.song, t0 - 1, t1, 0)
        if len(beats) > 1 and (beats[1] - beats[0]) * geom.px_per_tick >= 6:
            paint.fill_rects(p, paint.vertical_lines(geom, beats, h - 6, 6), palette.DIM_TEXT)
        paint.fill_rects(p, paint.vertical_lines(geom, bars, LOOP_STRIP, h - LOOP_STRIP),
                         palette.BAR_LINE)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        p.setFont(font)
        p.setPen(palette.TEXT)
        min_gap = p.fontMetrics().horizontalAdvance("0000") + 6
        last_x = -1e9
        sigs = roll.document.song.time_signatures
        for tick in bars.tolist():
            x = geom.x_of(tick)
            if x - last_x < min_gap:
                continue
            last_x = x
            bar = bar_beat(int(tick), sigs)[0]
            p.drawText(QPointF(x + 3, LOOP_STRIP + 13), str(bar))
        paint.no_pen(p)
        if roll.playhead is not None:
            x = geom.x_of(roll.playhead)
            p.setBrush(palette.PLAYHEAD)
            p.drawPolygon(QPolygonF([QPointF(x - 5, LOOP_STRIP), QPointF(x + 5, LOOP_STRIP),
                                     QPointF(x, LOOP_STRIP + 8)]))
            p.fillRect(QRectF(np.floor(x) - 0.5, LOOP_STRIP, 2, h - LOOP_STRIP), palette.PLAYHEAD)
        p.fillRect(QRectF(0, h - 1, w, 1), palette.C_ROW_LINE)
        p.end()

    def _tick(self, x: float, mods) -> int:
        snapping = not mods & Qt.KeyboardModifier.AltModifier
        return max(0, self.roll.snap.round(self.roll.geom.tick_at(x), snapping))

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.button() == Qt.MouseButton.RightButton:
            self._menu(e)
            return
        if e.button() != Qt.MouseButton.LeftButton:
            return
        x, y = e.position().x(), e.position().y()
        strip = "loop" if y < LOOP_STRIP else "time"
        self._press = (strip, self._tick(x, e.modifiers()), x)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._press is None:
            return
        strip, start, x0 = self._press
        if abs(e.position().x() - x0) < 3:
            return
        tick = self._tick(e.position().x(), e.modifiers())
        span = (min(start, tick), max(start, tick))
        if span[1] > span[0]:
            if strip == "loop":
                self.roll.set_loop_region(span)
            else:
                self.roll.set_time_range(span, select_notes=True)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        press, self._press = self._press, None
        if press is None or e.button() != Qt.MouseButton.LeftButton:
            return
        strip, _, x0 = press
        if abs(e.position().x() - x0) < 3 and strip == "time":
            tick = self._tick(e.position().x(), e.modifiers())   # on the grid; Alt: free
            self.roll.set_time_range(None)
            self.roll.set_playhead(tick)
            self.roll.seek_requested.emit(tick)

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.position().y() < LOOP_STRIP:
            self.roll.set_loop_region(None)

    def _menu(self, e: QMouseEvent) -> None:
        menu = QMenu(self)
        rng = self.roll.selection_range()
        loop = menu.addAction("Loop the selection")
        loop.setEnabled(rng is not None)
        loop.triggered.connect(lambda: self.roll.set_loop_region(rng))
        clear = menu.addAction("Clear the loop")
        clear.setEnabled(self.roll.loop_region() is not None)
        clear.triggered.connect(lambda: self.roll.set_loop_region(None))
        menu.popup(e.globalPosition().toPoint())

    def wheelEvent(self, e) -> None:  # noqa: N802
        self.roll.wheel(e, anchor=e.position(), vertical=False)
