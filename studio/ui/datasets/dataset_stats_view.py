"""Statistics plots of a dataset (pyqtgraph): pitch histogram, note lengths, pieces per key."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.data.statistics import DatasetStatistics
from studio.music.keys import pitch_name


def _bar_plot(title: str, left: str) -> pg.PlotWidget:
    w = pg.PlotWidget(background="w")
    w.setTitle(title, color="#333", size="10pt")
    w.setLabel("left", left)
    w.setMouseEnabled(x=False, y=False)
    w.hideButtons()
    w.setMinimumHeight(70)  # small: the panel shares a dock beside the piano roll
    return w


class StatisticsView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.pitch_plot = _bar_plot("Pitches", "notes")
        self.length_plot = _bar_plot("Note lengths", "notes")
        self.key_plot = _bar_plot("Pieces per key", "pieces")
        for w in (self.pitch_plot, self.length_plot, self.key_plot):
            layout.addWidget(w)
        self.statistics: DatasetStatistics | None = None

    def show_statistics(self, s: DatasetStatistics | None) -> None:
        self.statistics = s
        for w in (self.pitch_plot, self.length_plot, self.key_plot):
            w.clear()
        if s is None:
            self.summary.setText("")
            return
        hours, rest = divmod(int(s.seconds), 3600)
        rng = s.pitch_range()
        self.summary.setText(
            f"{s.pieces} pieces ({s.splits.get('train', 0)} train, {s.splits.get('valid', 0)} "
            f"valid, {s.splits.get('test', 0)} test), {s.notes:,} notes, "
            f"{hours}:{rest // 60:02d} h of music"
            + (f", pitches {pitch_name(rng[0])} to {pitch_name(rng[1])}" if rng else ""))
        x = np.arange(128)
        self.pitch_plot.addItem(pg.BarGraphItem(x=x, height=s.pitch_hist, width=0.9,
                                                brush="#4a7ab5"))
        self.pitch_plot.getAxis("bottom").setTicks(
            [[(p, pitch_name(p)) for p in range(12, 128, 12)]])
        if rng:
            self.pitch_plot.setXRange(rng[0] - 2, rng[1] + 2, padding=0)
        xs = np.arange(len(s.length_hist))
        self.length_plot.addItem(pg.BarGraphItem(x=xs, height=s.length_hist, width=0.7,
                                                 brush="#6a9f58"))
        self.length_plot.getAxis("bottom").setTicks([list(enumerate(s.length_labels))])
        keys = s.keys.most_common(14)
        if keys:
            xk = np.arange(len(keys))
            self.key_plot.addItem(pg.BarGraphItem(x=xk, height=[n for _, n in keys], width=0.7,
                                                  brush="#c0803a"))
            self.key_plot.getAxis("bottom").setTicks(
                [[(i, k.replace(" major", "").replace(" minor", "m")) for i, (k, _) in
                  enumerate(keys)]])
