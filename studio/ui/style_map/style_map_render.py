"""Drawing a style map into an image with QPainter: for `studio map -o map.png` (no display
needed, Qt's offscreen platform) and for the view's "Save image" action.

The picture: a title, the points coloured by dataset or key, added songs (the open song,
generated results) as larger outlined diamonds with their names, axis captions and a legend with
the number of points per entry.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPolygonF

from studio.ml.analysis.errors import AnalysisError
from studio.ml.analysis.style_map import StyleMap
from studio.storage import atomic_path
from studio.ui.style_map.style_map_colours import point_colours


def _diamond(centre: QPointF, r: float) -> QPolygonF:
    return QPolygonF([QPointF(centre.x(), centre.y() - r), QPointF(centre.x() + r, centre.y()),
                      QPointF(centre.x(), centre.y() + r), QPointF(centre.x() - r, centre.y())])


def render_style_map(style_map: StyleMap, colour_by: str = "dataset", width: int = 1200,
                     height: int = 850, title: str | None = None) -> QImage:
    """The map as an ARGB image of `width` x `height` pixels."""
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    p = QPainter(image)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        _paint(p, style_map, colour_by, width, height, title)
    finally:
        p.end()
    return image


def _paint(p: QPainter, m: StyleMap, colour_by: str, width: int, height: int,
           title: str | None) -> None:
    font = QFont()
    font.setPixelSize(max(11, height // 60))
    p.setFont(font)
    line = p.fontMetrics().height()
    labels = m.labels
    colours, legend = point_colours(labels, m.keys, colour_by)
    legend_w = min(width // 3, max(160, 24 + max((p.fontMetrics().horizontalAdvance(t)
                                                  for t, _ in legend), default=80) + 60))
    plot = QRectF(60, 2.5 * line + 10, width - legend_w - 90, height - 5 * line - 30)

    big = QFont(font)
    big.setPixelSize(int(font.pixelSize() * 1.35))
    big.setBold(True)
    p.setFont(big)
    p.setPen(QColor("#222222"))
    heading = title or f"Style map: {m.title}"
    p.drawText(QRectF(20, 8, width - 40, 2 * line), Qt.AlignmentFlag.AlignLeft, heading)
    p.setFont(font)

    p.setPen(QPen(QColor("#c8c8c8"), 1))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRect(plot)
    xcap, ycap = m.axis_titles()
    p.setPen(QColor("#555555"))
    p.drawText(QRectF(plot.left(), plot.bottom() + 6, plot.width(), line),
               Qt.AlignmentFlag.AlignHCenter, xcap)
    p.save()
    p.translate(plot.left() - 12 - line, plot.bottom())
    p.rotate(-90)
    p.drawText(QRectF(0, 0, plot.height(), line), Qt.AlignmentFlag.AlignHCenter, ycap)
    p.restore()

    xy = m.coords
    if len(xy):
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        span = np.where(hi - lo > 1e-12, hi - lo, 1.0)
        pad = 0.05
        sx = (xy[:, 0] - lo[0]) / span[0] * (1 - 2 * pad) + pad
        sy = (xy[:, 1] - lo[1]) / span[1] * (1 - 2 * pad) + pad
        px = plot.left() + sx * plot.width()
        py = plot.bottom() - sy * plot.height()
        added = set(m.added)
        radius = max(3.0, min(width, height) / 260)
        p.setPen(Qt.PenStyle.NoPen)
        for i in range(len(xy)):
            if i in added:
                continue
            c = QColor(colours[i])
            c.setAlpha(190)
            p.setBrush(c)
            p.drawEllipse(QPointF(px[i], py[i]), radius, radius)
        for i in sorted(added):
            centre = QPointF(px[i], py[i])
            p.setPen(QPen(QColor("black"), 2))
            p.setBrush(QColor(colours[i]))
            p.drawPolygon(_diamond(centre, radius * 2.6))
            p.setPen(QColor("black"))
            p.drawText(centre + QPointF(radius * 3, -radius), m.items[i].name)

    counts = Counter(labels if colour_by != "key" else m.keys)
    x0, y = plot.right() + 24, plot.top()
    p.setPen(QColor("#222222"))
    p.drawText(QPointF(x0, y + line * 0.8), "Key" if colour_by == "key" else "Dataset")
    y += line * 1.4
    for text, colour in legend:
        if y > plot.bottom() - line:
            p.drawText(QPointF(x0, y + line * 0.8), "...")
            break
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawEllipse(QPointF(x0 + 6, y + line / 2), 6, 6)
        p.setPen(QColor("#222222"))
        p.drawText(QPointF(x0 + 20, y + line * 0.8), f"{text} ({counts.get(text, 0)})")
        y += line * 1.25


def save_style_map_png(style_map: StyleMap, path: str | Path, colour_by: str = "dataset",
                       width: int = 1200, height: int = 850, title: str | None = None) -> Path:
    """Render and write a PNG atomically (a temporary file renamed over `path`)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise AnalysisError(f"cannot write {path}: the folder {path.parent} does not exist")
    image = render_style_map(style_map, colour_by, width, height, title)
    with atomic_path(path) as tmp:  # studio.storage: fsync, umask mode, no debris
        if not image.save(str(tmp), "PNG"):
            raise AnalysisError(f"cannot write {path} (is the folder writable?)")
    return path
