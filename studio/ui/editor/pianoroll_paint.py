"""Drawing pieces of the piano roll fast, straight from numpy.

`draw_rects` hands an (n, 4) float64 array (x, y, w, h rows, the memory layout of QRectF) to
`QPainter.drawRects(const QRectF *, int)` without building one Python object per rectangle: the
selected notes, velocity bars and ruler marks are drawn this way, a few calls each. The grid
behind the notes is built as pixels (`background_pixels`); the unselected notes are rasterized by
`note_raster`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shiboken6
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from studio.music.song import PPQ, Song
from studio.ui import palette
from studio.ui.editor.note_columns import TrackColumns
from studio.ui.editor.pianoroll_geometry import PITCHES, ViewGeometry

BLACK_KEYS = np.array([1, 3, 6, 8, 10])
_IS_BLACK = np.isin(np.arange(PITCHES) % 12, BLACK_KEYS)


def draw_rects(painter: QPainter, rects: np.ndarray) -> None:
    """Draw every row (x, y, w, h) of `rects` with the painter's current pen and brush."""
    n = len(rects)
    if n == 0:
        return
    rects = np.ascontiguousarray(rects, dtype=np.float64)
    painter.drawRects(shiboken6.wrapInstance(rects.ctypes.data, QRectF), n)


def fill_rects(painter: QPainter, rects: np.ndarray, color: QColor) -> None:
    painter.setBrush(color)
    draw_rects(painter, rects)


def note_rects(geom: ViewGeometry, cols: TrackColumns, idx: np.ndarray, dt: float = 0,
               dp: int = 0, d_dur: float = 0, min_dur: float = 1) -> np.ndarray:
    """Screen rectangles of notes `idx` of `cols` on whole pixels, moved by dt ticks / dp
    semitones and lengthened by d_dur ticks (previews of a drag). At least 2 pixels wide."""
    start = cols.start[idx] + dt
    dur = np.maximum(cols.end[idx] - cols.start[idx] + d_dur, min_dur)
    x0 = np.floor((start - geom.left_tick) * geom.px_per_tick)
    x1 = np.floor((start + dur - geom.left_tick) * geom.px_per_tick)
    y0 = np.floor((PITCHES - 1 - (cols.pitch[idx] + dp)) * geom.key_height - geom.top)
    rects = np.empty((len(idx), 4), dtype=np.float64)
    rects[:, 0] = x0
    rects[:, 1] = y0
    rects[:, 2] = np.maximum(x1 - x0, 2.0)
    rects[:, 3] = np.floor(y0 + geom.key_height) - y0
    return rects


def paint_selected(painter: QPainter, rects: np.ndarray) -> None:
    """Selected notes: a bright edge around a bright fill, over everything else."""
    if len(rects):
        outer = rects.copy()
        outer[outer[:, 2] >= 4, 2] -= 1.0
        outer[outer[:, 3] >= 5, 3] -= 1.0
        fill_rects(painter, outer, palette.SELECTED_EDGE)
        inner = outer + (1.0, 1.0, -2.0, -2.0)
        inner[:, 2:] = np.maximum(inner[:, 2:], 1.0)
        fill_rects(painter, inner, palette.SELECTED_FILL)


def time_grid(song: Song, t0: float, t1: float, step: int) -> tuple[np.ndarray, np.ndarray,
                                                                    np.ndarray]:
    """Ticks of bar lines, beat lines and grid lines (by `step`) within [t0, t1], following the
    song's time signatures."""
    sigs = sorted(song.time_signatures, key=lambda s: s.tick) or []
    if not sigs or sigs[0].tick > 0:
        from studio.music.song import TimeSignature

        sigs = [TimeSignature(0, *(sigs[0][1:] if sigs else (4, 4))), *sigs]
    bars, beats, grid = [], [], []
    for i, ts in enumerate(sigs):
        seg_end = sigs[i + 1].tick if i + 1 < len(sigs) else np.inf
        lo, hi = max(t0, ts.tick), min(t1, seg_end)
        if hi < lo:
            continue
        bar = max(1, ts.bar_ticks)
        beat = max(1, PPQ * 4 // max(1, ts.denominator))
        for period, out in ((bar, bars), (beat, beats), (step, grid)):
            if period <= 0:
                continue
            first = ts.tick + np.ceil((lo - ts.tick) / period) * period
            last = min(hi, seg_end - 1)
            if first <= last:
                out.append(np.arange(first, last + 1, period))
    cat = [np.concatenate(x) if x else np.zeros(0) for x in (bars, beats, grid)]
    return cat[0], cat[1], cat[2]


def vertical_lines(geom: ViewGeometry, ticks: np.ndarray, top: float, height: float
                   ) -> np.ndarray:
    rects = np.empty((len(ticks), 4), dtype=np.float64)
    rects[:, 0] = np.floor((ticks - geom.left_tick) * geom.px_per_tick)
    rects[:, 1] = top
    rects[:, 2] = 1.0
    rects[:, 3] = height
    return rects


ROW_PLAIN, ROW_BLACK_KEY, ROW_C_LINE = 0, 1, 2


@dataclass
class Background:
    """The grid behind the notes, as three template pixel rows (white-key row, black-key row, the
    line under each C; each with the bar/beat/grid lines in it) and, for every pixel row of the
    canvas, which template it shows and which pitch it belongs to. `pixels()` builds the image
    with one gather (vertical lines are slow for a scanline rasterizer; here they cost nothing)."""

    templates: np.ndarray   # (3, W) uint32 RGB32
    kind: np.ndarray        # (H,) template index per pixel row
    pitch: np.ndarray       # (H,) pitch of each pixel row (-1 / 128 outside 0-127)

    def pixels(self) -> np.ndarray:
        return self.templates[self.kind]


def background_rows(geom: ViewGeometry, song: Song, snap_ticks: int, dpr: float = 1.0
                    ) -> Background:
    w, h = max(1, round(geom.width * dpr)), max(1, round(geom.height * dpr))
    y = (np.arange(h) + 0.5) / dpr
    pitch = PITCHES - 1 - np.floor((y + geom.top) / geom.key_height).astype(np.int64)
    inside = (pitch >= 0) & (pitch < PITCHES)
    kind = np.where(inside & _IS_BLACK[np.clip(pitch, 0, PITCHES - 1)], ROW_BLACK_KEY, ROW_PLAIN)
    lo, hi = geom.visible_pitches()
    cs = np.arange(lo - lo % 12, hi + 1, 12)
    c_lines = (np.floor(((PITCHES - cs) * geom.key_height - geom.top) * dpr) - 1).astype(int)
    kind[c_lines[(c_lines >= 0) & (c_lines < h)]] = ROW_C_LINE
    templates = np.empty((3, w), dtype=np.uint32)
    templates[ROW_PLAIN] = palette.argb(palette.BACKGROUND)
    templates[ROW_BLACK_KEY] = palette.argb(palette.BLACK_KEY_ROW)
    templates[ROW_C_LINE] = palette.argb(palette.C_ROW_LINE)
    t0, t1 = geom.visible_ticks()
    step = snap_ticks
    while step and step * geom.px_per_tick < 5:   # never draw grid lines closer than 5 px
        step *= 2
    bars, beats, grid = time_grid(song, t0, t1, step)
    if len(beats) > 1 and (beats[1] - beats[0]) * geom.px_per_tick < 6:
        beats = np.zeros(0)
    if len(bars) > 1 and (bars[1] - bars[0]) * geom.px_per_tick < 4:
        bars = bars[:: int(np.ceil(4 / ((bars[1] - bars[0]) * geom.px_per_tick)))]
    for ticks, colour in ((grid, palette.GRID_LINE), (beats, palette.BEAT_LINE),
                          (bars, palette.BAR_LINE)):
        xs = np.floor((ticks - geom.left_tick) * geom.px_per_tick * dpr).astype(np.int64)
        xs = xs[(xs >= 0) & (xs < w)]
        if len(xs):
            templates[:, xs] = palette.argb(colour)
    return Background(templates, kind, pitch)


def paint_span(painter: QPainter, geom: ViewGeometry, span: tuple[int, int] | None,
               fill: QColor, edge: QColor | None = None) -> None:
    """A shaded time span over the full height (loop region, ruler range selection)."""
    if span is None:
        return
    x0, x1 = geom.x_of(span[0]), geom.x_of(span[1])
    if x1 < 0 or x0 > geom.width:
        return
    painter.fillRect(QRectF(x0, 0, x1 - x0, geom.height), fill)
    if edge is not None:
        painter.fillRect(QRectF(x0, 0, 1, geom.height), edge)
        painter.fillRect(QRectF(x1 - 1, 0, 1, geom.height), edge)


def paint_playhead(painter: QPainter, geom: ViewGeometry, tick: int | None, height: float
                   ) -> None:
    if tick is None:
        return
    x = geom.x_of(tick)
    if -2 <= x <= geom.width + 2:
        painter.fillRect(QRectF(np.floor(x) - 0.5, 0, 2, height), palette.PLAYHEAD)


def no_pen(painter: QPainter) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
