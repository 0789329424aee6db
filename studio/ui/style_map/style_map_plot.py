"""The style map's plot: one dot per piece or segment, added songs as outlined diamonds.

Hovering a dot shows its name, dataset and key (tool tip and `hovered` signal); a click emits
`clicked(index)`, a double-click `double_clicked(index)`; the panel turns them into play and open.
"""

from __future__ import annotations

import html
import time
from collections import Counter

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QScrollArea, QWidget

from studio.ml.analysis.style_map import StyleMap
from studio.ui.style_map.style_map_colours import point_colours


class StyleMapPlot(QWidget):
    clicked = Signal(int)
    double_clicked = Signal(int)
    hovered = Signal(int)  # -1 when the mouse leaves all points

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.style_map: StyleMap | None = None
        self.colour_by = "dataset"
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=False, y=False)
        self.plot.hideButtons()
        self.plot.getPlotItem().getViewBox().setDefaultPadding(0.04)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.legend.setStyleSheet("background: white; color: #222; padding: 6px;")
        legend_box = QScrollArea()
        legend_box.setWidget(self.legend)
        legend_box.setWidgetResizable(True)
        legend_box.setFixedWidth(170)
        legend_box.setFrameShape(QFrame.Shape.NoFrame)
        self.dots = pg.ScatterPlotItem(size=8, pen=None, hoverable=True, tip=self._tip,
                                       hoverSize=13, hoverPen=pg.mkPen("#222222", width=1.5))
        self.diamonds = pg.ScatterPlotItem(size=18, symbol="d", pen=pg.mkPen("k", width=2),
                                           hoverable=True, tip=self._tip)
        self.plot.addItem(self.dots)
        self.plot.addItem(self.diamonds)
        self._names: list[pg.TextItem] = []
        for item in (self.dots, self.diamonds):
            item.sigClicked.connect(self._on_click)
            item.sigHovered.connect(self._on_hover)
        self._last_hover = -1
        self._last_click = (-1, 0.0)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(legend_box)
        self.set_map(None)

    # ---- content ---------------------------------------------------------------------------
    def set_map(self, style_map: StyleMap | None, colour_by: str | None = None) -> None:
        self.style_map = style_map
        if colour_by is not None:
            self.colour_by = colour_by
        self.redraw()

    def redraw(self) -> None:
        m = self.style_map
        self.legend.setText("")
        for t in self._names:
            self.plot.removeItem(t)
        self._names = []
        pi = self.plot.getPlotItem()
        if m is None or not len(m.coords):
            self.dots.setData([])
            self.diamonds.setData([])
            pi.setLabel("bottom", "")
            pi.setLabel("left", "")
            pi.setTitle("Choose datasets and press Draw map")
            return
        colours, legend = point_colours(m.labels, m.keys, self.colour_by)
        added = set(m.added)
        base = [i for i in range(len(m.items)) if i not in added]
        spots = []
        for i in base:
            c = QColor(colours[i])
            c.setAlpha(200)
            spots.append({"pos": m.coords[i], "brush": pg.mkBrush(c), "data": i})
        self.dots.setData(spots)
        self.diamonds.setData([{"pos": m.coords[i], "brush": pg.mkBrush(colours[i]), "data": i}
                               for i in sorted(added)])
        for i in sorted(added):
            text = pg.TextItem(m.items[i].name, color="#111111", anchor=(-0.15, 1.1))
            text.setPos(*m.coords[i])
            self.plot.addItem(text)
            self._names.append(text)
        counts = Counter(m.keys if self.colour_by == "key" else m.labels)
        self.legend.setText("<br>".join(
            f'<span style="color:{colour.name()}; font-size:14px">&#9679;</span> '
            f"{html.escape(name)} <span style='color:#777'>({counts.get(name, 0)})</span>"
            for name, colour in legend))
        xcap, ycap = m.axis_titles()
        pi.setLabel("bottom", xcap)
        pi.setLabel("left", ycap)
        pi.setTitle(m.title)
        pi.enableAutoRange()

    def set_colour_by(self, mode: str) -> None:
        self.colour_by = mode
        self.redraw()

    # ---- interaction -----------------------------------------------------------------------
    def _tip(self, x: float, y: float, data) -> str:
        return self.describe(int(data))

    def describe(self, index: int) -> str:
        m = self.style_map
        if m is None or not 0 <= index < len(m.items):
            return ""
        item = m.items[index]
        key = f", {m.keys[index]}" if m.keys[index] else ""
        return f"{item.name}\n{item.label}{key}"

    def _on_click(self, _item, points, ev) -> None:
        if not len(points):
            return
        index = int(points[0].data())
        now = time.monotonic()
        interval = QApplication.doubleClickInterval() / 1000.0
        # A second click on the same point soon after the first is a double-click, however the
        # platform delivered it (some send a double-click event, some two plain clicks).
        double = ev.double() or (index == self._last_click[0]
                                 and now - self._last_click[1] < interval)
        self._last_click = (-1, 0.0) if double else (index, now)
        (self.double_clicked if double else self.clicked).emit(index)

    def _on_hover(self, _item, points, _ev) -> None:
        index = int(points[0].data()) if len(points) else -1
        if index != self._last_hover:
            self._last_hover = index
            self.hovered.emit(index)

    def point_position(self, index: int) -> QPoint:
        """Where point `index` is drawn, in the plot viewport's pixel coordinates."""
        assert self.style_map is not None
        x, y = (float(v) for v in np.asarray(self.style_map.coords[index]))
        vb = self.plot.getPlotItem().getViewBox()
        return self.plot.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
