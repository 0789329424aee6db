"""Rasterizing thousands of notes with numpy, into a pixel buffer that QImage then wraps.

Every note of a piano roll is a horizontal bar in the band of its pitch row, so the notes of all
tracks are first written into one strip per pitch (128 x width colours, later tracks over earlier
ones); each strip laid over its grid row gives the one pixel row that the whole band repeats, and
the canvas is then gathered from those rows in one step. The cost is one numpy write per covered
pixel of a strip plus one copy of the canvas, not one rasterizer call per note: 10,000 notes take
a few milliseconds. A one-pixel gap on the right and at the bottom of each note keeps touching notes
apart. (Selected and dragged notes, a few at a time, are drawn with QPainter over this.)

Ghost notes (a candidate under audition) go through the same strips: a second strip per pitch
holds their colour and where their fill and their left/right edges are; each pitch row that has
ghosts is blended (translucent fill, near-opaque edges) over its composed row, and one more row
variant per such pitch, all edge, gives the top and bottom outline of the band. So an outlined,
translucent ghost costs about what a note costs, not a QPainter stroke per rectangle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QColor, QImage

from studio.ui.editor.note_columns import TrackColumns
from studio.ui.editor.pianoroll_geometry import PITCHES, ViewGeometry
from studio.ui.editor.pianoroll_paint import ROW_BLACK_KEY, ROW_C_LINE, ROW_PLAIN, Background
from studio.ui.palette import argb

_BLACK = np.array([1, 3, 6, 8, 10])
GHOST_FILL_ALPHA = 70      # translucent: the grid and real notes show through
GHOST_EDGE_ALPHA = 230
NO_GHOST, GHOST_FILL, GHOST_EDGE = 0, 1, 2


def shade_table(shades: list[QColor]) -> np.ndarray:
    return np.array([argb(c) for c in shades], dtype=np.uint32)


@dataclass
class NoteLayer:
    """Notes `idx` of one track's columns, coloured by velocity through `shades`."""

    cols: TrackColumns
    idx: np.ndarray
    shades: np.ndarray   # uint32 ARGB per velocity bucket


@dataclass
class GhostLayer:
    """Ghost notes `idx` of some columns, drawn outlined and translucent in `colour` (ARGB)."""

    cols: TrackColumns
    idx: np.ndarray
    colour: int


def _pixel_spans(start: np.ndarray, end: np.ndarray, geom: ViewGeometry, scale: float,
                 width: int):
    """Pixel spans [left, right) on a strip of notes from `start` to `end` (ticks), clipped to
    the strip: (kept: which notes are on it, left, right, x0, w) of those kept."""
    x0 = np.floor((start - geom.left_tick) * scale).astype(np.int64)
    x1 = np.floor((end - geom.left_tick) * scale).astype(np.int64)
    w = np.maximum(x1 - x0, 2)
    w[w >= 4] -= 1
    left = np.maximum(x0, 0)
    right = np.minimum(x0 + w, width)
    keep = np.flatnonzero(right > left)
    if len(keep) < len(left):
        left, right, x0, w = left[keep], right[keep], x0[keep], w[keep]
    return keep, left, right, x0, w


def _spans(cols: TrackColumns, idx: np.ndarray, geom: ViewGeometry, scale: float, width: int):
    """Pixel spans of notes idx of `cols`: (idx kept, left, right, x0, w)."""
    keep, left, right, x0, w = _pixel_spans(cols.start[idx], cols.end[idx], geom, scale, width)
    return idx[keep], left, right, x0, w


def _fill_spans(left: np.ndarray, right: np.ndarray, pitch: np.ndarray, width: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Flat strip positions covered by the spans, and which span each belongs to."""
    n = right - left
    which = np.repeat(np.arange(len(left)), n)
    first = np.cumsum(n) - n
    xs = np.arange(int(n.sum())) - first[which] + left[which]
    return pitch[which] * width + xs, which


def image_of(pixels: np.ndarray, dpr: float) -> QImage:
    """A QImage over `pixels` (H, W uint32), without copying: keep `pixels` alive with it."""
    h, w = pixels.shape
    image = QImage(pixels.data, w, h, w * 4, QImage.Format.Format_RGB32)
    image.setDevicePixelRatio(dpr)
    return image


def ghost_strips(geom: ViewGeometry, ghosts: list[GhostLayer], width: int, dpr: float = 1.0
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """The ghost notes as two strips per pitch: their colour, and where their fill and their
    left/right edges are (NO_GHOST, GHOST_FILL, GHOST_EDGE); None when there are none. They
    depend only on the view and the ghosts, so the canvas keeps them across edits."""
    ghosts = [g for g in ghosts if len(g.idx)]
    if not ghosts:
        return None
    # every ghost track in one pass: few numpy calls, however many tracks
    g_colour = np.zeros((PITCHES, width), dtype=np.uint32)
    g_kind = np.zeros((PITCHES, width), dtype=np.uint8)
    start = np.concatenate([g.cols.start[g.idx] for g in ghosts])
    end = np.concatenate([g.cols.end[g.idx] for g in ghosts])
    pitch = np.concatenate([g.cols.pitch[g.idx] for g in ghosts])
    colour = np.repeat(np.array([g.colour for g in ghosts], dtype=np.uint32),
                       [len(g.idx) for g in ghosts])
    keep, left, right, x0, w = _pixel_spans(start, end, geom, geom.px_per_tick * dpr, width)
    pitch, colour = pitch[keep], colour[keep]
    flat, which = _fill_spans(left, right, pitch, width)
    g_colour.reshape(-1)[flat] = colour[which]
    g_kind.reshape(-1)[flat] = GHOST_FILL
    for edge in (x0, x0 + w - 1):   # the left and right outline, where on screen
        on = (edge >= 0) & (edge < width)
        g_kind.reshape(-1)[pitch[on] * width + edge[on]] = GHOST_EDGE
    return g_colour, g_kind


def raster_notes(background: Background, geom: ViewGeometry, layers: list[NoteLayer],
                 dpr: float = 1.0, ghost: tuple[np.ndarray, np.ndarray] | None = None
                 ) -> np.ndarray:
    """The canvas pixels: `background` with the notes of `layers` (later layers on top) and the
    ghost notes of `ghost` (from `ghost_strips`) over them."""
    width = background.templates.shape[1]
    strips = np.zeros((PITCHES, width), dtype=np.uint32)
    covered = np.zeros((PITCHES, width), dtype=bool)
    scale = geom.px_per_tick * dpr
    for layer in layers:
        if not len(layer.idx):
            continue
        cols = layer.cols
        idx, left, right, _, _ = _spans(cols, layer.idx, geom, scale, width)
        if not len(idx):
            continue
        buckets = len(layer.shades)
        colour = layer.shades[np.minimum(cols.velocity[idx] * buckets // 128, buckets - 1)]
        flat, which = _fill_spans(left, right, cols.pitch[idx], width)
        strips.reshape(-1)[flat] = colour[which]
        covered.reshape(-1)[flat] = True
    return _compose(background, geom, strips, covered, dpr, ghost)


def _blend(under: np.ndarray, over: np.ndarray, alpha: int) -> np.ndarray:
    """`over` at `alpha` (0-255) over opaque `under`, both 1-D RGB32 pixels: the three colour
    bytes of each pixel at once, in 16 bits (x / 255 as (x + 128 + (x + 128) / 256) / 256)."""
    u = under.view(np.uint8).reshape(-1, 4)[:, :3].astype(np.uint16)
    o = over.view(np.uint8).reshape(-1, 4)[:, :3].astype(np.uint16)
    x = o * np.uint16(alpha) + u * np.uint16(255 - alpha) + np.uint16(128)
    out = np.full((len(under), 4), 255, dtype=np.uint8)
    out[:, :3] = (x + (x >> 8)) >> 8
    return out.view(np.uint32).reshape(-1)


def _compose(bg: Background, geom: ViewGeometry, strips: np.ndarray, covered: np.ndarray,
             dpr: float, ghost: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """One pixel row per pitch that has notes (its strip over its template row; ghosts blended
    over that), then every pixel row of the canvas gathered from the templates and those rows
    at once."""
    has = covered.any(axis=1)
    if ghost is not None:
        has |= ghost[1].any(axis=1)
    with_notes = np.flatnonzero(has)
    if not len(with_notes):
        return bg.pixels()
    row_kind = np.where(np.isin(with_notes % 12, _BLACK), ROW_BLACK_KEY, ROW_PLAIN)
    composed = np.where(covered[with_notes], strips[with_notes], bg.templates[row_kind])
    slot = np.full(PITCHES + 2, -1, dtype=np.int64)           # pitch -> row in the bank
    slot[with_notes + 1] = np.arange(len(with_notes)) + len(bg.templates)
    edge_slot = slot.copy()                                   # pitch -> its outline row
    rows = [bg.templates, composed]
    if ghost is not None:   # blend only the ghost pixels (a few percent of the rows)
        width = composed.shape[1]
        kind = ghost[1][with_notes].reshape(-1)
        flat = np.flatnonzero(kind)
        r, c = np.divmod(flat, width)
        under = composed.reshape(-1)[flat]
        over = ghost[0].reshape(-1)[with_notes[r] * width + c]
        edge = _blend(under, over, GHOST_EDGE_ALPHA)
        ghosted = np.flatnonzero(np.bincount(r, minlength=len(with_notes)))
        row_of = np.zeros(len(with_notes), dtype=np.int64)
        row_of[ghosted] = np.arange(len(ghosted))
        outline = composed[ghosted]            # the top and bottom rows of a band: all edge
        outline.reshape(-1)[row_of[r] * width + c] = edge
        composed.reshape(-1)[flat] = np.where(kind[flat] == GHOST_EDGE, edge,
                                              _blend(under, over, GHOST_FILL_ALPHA))
        edge_slot[with_notes[ghosted] + 1] = (np.arange(len(ghosted)) + len(bg.templates)
                                              + len(with_notes))
        rows.append(outline)
    bank = np.concatenate(rows)
    pitch = np.clip(bg.pitch, -1, PITCHES) + 1
    row_slot = slot[pitch]
    y = np.arange(len(bg.pitch))
    band_top = np.ceil(((PITCHES - 1 - bg.pitch) * geom.key_height - geom.top) * dpr)
    if geom.key_height * dpr >= 5:   # the last pixel row of each pitch is a gap
        band_end = np.floor(((PITCHES - bg.pitch) * geom.key_height - geom.top) * dpr) - 1
        gap = y >= band_end
        outline_row = (y <= band_top) | (y == band_end - 1)
    else:
        gap = bg.kind == ROW_C_LINE
        outline_row = np.zeros(len(y), dtype=bool)
    row_slot = np.where(outline_row, edge_slot[pitch], row_slot)
    index = np.where((row_slot >= 0) & ~gap, row_slot, bg.kind)
    return bank[index]
