"""Rasterizing thousands of notes with numpy, into a pixel buffer that QImage then wraps.

Every note of a piano roll is a horizontal bar in the band of its pitch row, so the notes of all
tracks are first written into one strip per pitch (128 x width colours, later tracks over earlier
ones), and each strip is then copied down its band of pixel rows at once. The cost is one numpy
write per covered pixel of a strip, not one rasterizer call per note: 10,000 notes take a few
milliseconds. A one-pixel gap on the right and at the bottom of each note keeps touching notes
apart. (Selected and dragged notes, a few at a time, are drawn with QPainter over this.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QColor, QImage

from studio.ui.note_columns import TrackColumns
from studio.ui.pianoroll_geometry import PITCHES, ViewGeometry


def argb(c: QColor) -> int:
    return 0xFF000000 | (c.red() << 16) | (c.green() << 8) | c.blue()


def shade_table(shades: list[QColor]) -> np.ndarray:
    return np.array([argb(c) for c in shades], dtype=np.uint32)


@dataclass
class NoteLayer:
    """Notes `idx` of one track's columns, coloured by velocity through `shades`."""

    cols: TrackColumns
    idx: np.ndarray
    shades: np.ndarray   # uint32 ARGB per velocity bucket


def image_of(pixels: np.ndarray, dpr: float) -> QImage:
    """A QImage over `pixels` (H, W uint32), without copying: keep `pixels` alive with it."""
    h, w = pixels.shape
    image = QImage(pixels.data, w, h, w * 4, QImage.Format.Format_RGB32)
    image.setDevicePixelRatio(dpr)
    return image


def raster_notes(pixels: np.ndarray, geom: ViewGeometry, layers: list[NoteLayer],
                 dpr: float = 1.0) -> None:
    """Draw the notes of `layers` (in order: later layers on top) into `pixels`."""
    h, w = pixels.shape
    strips = np.zeros((PITCHES, w), dtype=np.uint32)
    covered = np.zeros((PITCHES, w), dtype=bool)
    scale = geom.px_per_tick * dpr
    for layer in layers:
        cols, idx = layer.cols, layer.idx
        if not len(idx):
            continue
        x0 = np.floor((cols.start[idx] - geom.left_tick) * scale).astype(np.int64)
        x1 = np.floor((cols.end[idx] - geom.left_tick) * scale).astype(np.int64)
        width = np.maximum(x1 - x0, 2)
        width[width >= 4] -= 1
        left = np.maximum(x0, 0)
        right = np.minimum(x0 + width, w)
        keep = right > left
        if not keep.all():
            left, right, idx = left[keep], right[keep], idx[keep]
        n = right - left
        total = int(n.sum())
        if total == 0:
            continue
        buckets = len(layer.shades)
        colour = layer.shades[np.minimum(cols.velocity[idx] * buckets // 128, buckets - 1)]
        which = np.repeat(np.arange(len(idx)), n)
        first = np.cumsum(n) - n
        xs = np.arange(total) - first[which] + left[which]
        flat = cols.pitch[idx][which] * w + xs
        strips.reshape(-1)[flat] = colour[which]
        covered.reshape(-1)[flat] = True
    _copy_strips(pixels, geom, strips, covered, dpr)


def _copy_strips(pixels: np.ndarray, geom: ViewGeometry, strips: np.ndarray,
                 covered: np.ndarray, dpr: float) -> None:
    h = pixels.shape[0]
    gap = 1 if geom.key_height * dpr >= 5 else 0
    for pitch in np.flatnonzero(covered.any(axis=1)).tolist():
        y0 = int(np.floor(((PITCHES - 1 - pitch) * geom.key_height - geom.top) * dpr))
        y1 = int(np.floor(((PITCHES - pitch) * geom.key_height - geom.top) * dpr)) - gap
        y0, y1 = max(y0, 0), min(y1, h)
        if y1 <= y0:
            continue
        mask = covered[pitch]
        pixels[y0:y1, mask] = strips[pitch, mask]
