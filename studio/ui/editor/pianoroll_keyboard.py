"""The keyboard at the left of the piano roll: one key per pitch row, C's labelled (C4 = middle
C, MIDI 60). For a drum track (the current track is on channel 10) it is wider and names the
General MIDI drum sound of each row instead (36 Bass Drum 1, 38 Acoustic Snare, ...). Clicking a
key (or sliding over keys) asks to hear it: `audition_requested`; hovering names it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter
from PySide6.QtWidgets import QToolTip, QWidget

from studio.music.gm_drums import GM_DRUMS
from studio.ui import palette
from studio.ui.editor import pianoroll_paint as paint
from studio.ui.editor.note_tooltip import key_text
from studio.ui.editor.pianoroll_geometry import PITCHES

if TYPE_CHECKING:
    from studio.ui.editor.pianoroll import PianoRoll

WIDTH = 58
DRUM_WIDTH = 150           # room for "49 Crash Cymbal 1"
DRUM_STUB = 0.2            # black keys of a drum track: a short stub, the name beside it
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

    def drums(self) -> bool:
        """Does it show drum names (the current track is a drum track)?"""
        track = self.roll.document.current_track()
        return track is not None and track.is_drum

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ToolTip:
            pitch = self.roll.geom.pitch_at(e.pos().y())
            QToolTip.showText(e.globalPos(), f"{key_text(pitch, self.drums())}: click to hear it",
                              self)
            return True
        return super().event(e)

    def paintEvent(self, e) -> None:  # noqa: N802
        geom = self.roll.geom
        w, h = self.width(), self.height()
        drums = self.drums()
        black_w = w * (DRUM_STUB if drums else 0.6)
        p = QPainter(self)
        paint.no_pen(p)
        p.fillRect(QRectF(0, 0, w, h), WHITE)
        lo, hi = geom.pitch_at(h), geom.pitch_at(0)
        pitches = np.arange(lo, hi + 1)
        is_black = np.isin(pitches % 12, paint.BLACK_KEYS)
        ys = (PITCHES - 1 - pitches) * geom.key_height - geom.top
        # separators between white keys sit under B/C and E/F, and between rows elsewhere
        edges = pitches if drums else pitches[np.isin(pitches % 12, (0, 5))]
        lines = np.empty((len(edges), 4))
        lines[:, 0], lines[:, 2], lines[:, 3] = 0, w, 1
        lines[:, 1] = np.floor((PITCHES - edges) * geom.key_height - geom.top) - 1
        paint.fill_rects(p, lines, WHITE_EDGE)
        blacks = np.empty((int(is_black.sum()), 4))
        blacks[:, 0], blacks[:, 2], blacks[:, 3] = 0, black_w, geom.key_height
        blacks[:, 1] = ys[is_black]
        paint.fill_rects(p, blacks, BLACK)
        if self.pressed is not None:
            y = geom.y_of(self.pressed)
            black = self.pressed % 12 in paint.BLACK_KEYS
            p.fillRect(QRectF(0, y, black_w if black else w, geom.key_height), PRESSED)
        if drums and geom.key_height >= 7:
            self._paint_drum_names(p, pitches, w)
        elif geom.key_height >= 7:
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

    def _paint_drum_names(self, p: QPainter, pitches: np.ndarray, w: int) -> None:
        geom = self.roll.geom
        font = QFont(self.font())
        font.setPixelSize(int(min(12, geom.key_height - 1)))
        p.setFont(font)
        p.setPen(QColor("#30343b"))
        x = round(w * DRUM_STUB) + 3
        metrics = p.fontMetrics()
        for pitch in pitches.tolist():
            name = GM_DRUMS.get(pitch)
            if name is None:
                continue
            text = metrics.elidedText(f"{pitch} {name}", Qt.TextElideMode.ElideRight, w - x - 4)
            p.drawText(QRectF(x, geom.y_of(pitch), w - x - 4, geom.key_height),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)

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
