"""The keyboard at the left of the piano roll: one key per pitch row, C's labelled (C4 = middle
C, MIDI 60). Clicking a key (or sliding over keys) asks to hear it: `audition_requested`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter
from PySide6.QtWidgets import QWidget

from studio.ui import palette
from studio.ui.editor import pianoroll_paint as paint
from studio.ui.editor.pianoroll_geometry import PITCHES

if TYPE_CHECKING:
    from studio.ui.editor.pianoroll import PianoRoll

WIDTH = 58
AUDITION_VELOCITY = 100
WHITE = QColor("#e6e8eb")
WHITE_EDGE = QColor("#9aa0a8")
BLACK = QColor("#1b1d21")
PRESSED = QColor("#ffb347")
NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def pitch_name(pitch: int) -> str:
    """Scientific pitch name: 60 -> "C4"."""
    return f"{NAMES[pitch % 12]}{pitch // 12 - 1}"


class Keyboard(QWidget):
    def __init__(self, roll: PianoRoll) -> None:
        super().__init__(roll)
        self.roll = roll
        self.pressed: int | None = None
        self.setFixedWidth(WIDTH)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setToolTip("Click a key to hear it")

    def paintEvent(self, e) -> None:  # noqa: N802
        geom = self.roll.geom
        w, h = self.width(), self.height()
        p = QPainter(self)
        paint.no_pen(p)
        p.fillRect(QRectF(0, 0, w, h), WHITE)
        lo, hi = geom.pitch_at(h), geom.pitch_at(0)
        pitches = np.arange(lo, hi + 1)
        is_black = np.isin(pitches % 12, paint.BLACK_KEYS)
        ys = (PITCHES - 1 - pitches) * geom.key_height - geom.top
        # separators between white keys sit under B/C and E/F, and between rows elsewhere
        edges = pitches[np.isin(pitches % 12, (0, 5))]
        lines = np.empty((len(edges), 4))
        lines[:, 0], lines[:, 2], lines[:, 3] = 0, w, 1
        lines[:, 1] = np.floor((PITCHES - edges) * geom.key_height - geom.top) - 1
        paint.fill_rects(p, lines, WHITE_EDGE)
        blacks = np.empty((int(is_black.sum()), 4))
        blacks[:, 0], blacks[:, 2], blacks[:, 3] = 0, w * 0.6, geom.key_height
        blacks[:, 1] = ys[is_black]
        paint.fill_rects(p, blacks, BLACK)
        if self.pressed is not None:
            y = geom.y_of(self.pressed)
            black = self.pressed % 12 in paint.BLACK_KEYS
            p.fillRect(QRectF(0, y, w * (0.6 if black else 1.0), geom.key_height), PRESSED)
        if geom.key_height >= 7:
            font = QFont(self.font())
            font.setPixelSize(int(min(12, geom.key_height - 1)))
            p.setFont(font)
            p.setPen(QColor("#50555e"))
            for pitch in pitches[pitches % 12 == 0].tolist():
                y = geom.y_of(pitch)
                p.drawText(QRectF(0, y, w - 4, geom.key_height),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                           pitch_name(pitch))
        paint.no_pen(p)
        p.fillRect(QRectF(w - 1, 0, 1, h), palette.C_ROW_LINE)
        p.end()

    def _press_at(self, pos: QPointF) -> None:
        pitch = self.roll.geom.pitch_at(pos.y())
        if pitch != self.pressed:
            self.pressed = pitch
            self.roll.audition_requested.emit(pitch, AUDITION_VELOCITY)
            self.update()

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.button() == Qt.MouseButton.LeftButton:
            self._press_at(e.position())

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.buttons() & Qt.MouseButton.LeftButton:
            self._press_at(e.position())

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self.pressed = None
        self.update()

    def wheelEvent(self, e) -> None:  # noqa: N802
        self.roll.wheel(e, anchor=e.position())
