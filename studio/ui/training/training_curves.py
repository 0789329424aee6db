"""Live learning curves (pyqtgraph): loss, accuracy / F1 and learning rate of one run, with
earlier runs overlaid for comparison.

The loss plot holds the training loss and the validation loss together, by step (each report,
raw and smoothed, with the epochs' losses at the step where each epoch ended) or by epoch. A
slider smooths the step curve (debiased EMA, as in TensorBoard), a box turns on a log scale, the
best epoch is marked with a line and a star, the point where early stopping ended the run with a
dashed line. `set_run(curves)` shows a `RunCurves`; `refresh()` redraws it after new points;
`set_overlays([...])` draws earlier runs faintly behind it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from studio.ui.training.training_curve_data import RunCurves, RunningEma

# Colours that read well on the studio's dark background (studio.ui.palette).
BACKGROUND, TEXT, AXIS = "#262a30", "#d6dae0", "#8a929e"
TRAIN, TRAIN_RAW, VALID, LR = "#4fa3e0", "#2f5a7d", "#e0754f", "#b07be0"
ACCURACY, F1, BEST, STOP, STAR = "#6cc070", "#e05f8d", "#6cc070", "#ff5a4f", "#f2c200"
OVERLAY_COLOURS = ("#c9c94f", "#4fc9c0", "#d07bc0", "#9fb84a", "#7a8ee8", "#e09a4f")
AXIS_WIDTH = 46  # fixed, so the plots line up and a new tick label never re-lays them out


def _plot(layout: pg.GraphicsLayoutWidget, row: int, title: str) -> pg.PlotItem:
    plot = layout.addPlot(row=row, col=0)
    plot.setTitle(title, color=TEXT, size="9pt")
    plot.setMenuEnabled(False)
    plot.hideButtons()
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(AXIS)
        axis.setTextPen(AXIS)
    plot.getAxis("left").setWidth(AXIS_WIDTH)
    return plot


def coloured(*parts: tuple[str, str]) -> str:
    """A plot title whose words carry the colours of their curves (instead of a legend, which
    would cover the curves in a narrow dock)."""
    return " · ".join(f"<span style='color:{c}'>{t}</span>" for t, c in parts)


def _line(plot: pg.PlotItem, colour: str, name: str | None = None, *, width: float = 1.6,
          style=Qt.PenStyle.SolidLine, symbol: str | None = None) -> pg.PlotDataItem:
    pen = pg.mkPen(colour, width=width, style=style)
    item = plot.plot([], [], pen=pen, name=name, symbol=symbol, symbolSize=6,
                     symbolBrush=colour, symbolPen=None)
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)
    return item


class CurvesView(QWidget):
    """The curves of one run (see the module docstring). `compact` shows only the loss."""

    options_changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, compact: bool = False) -> None:
        super().__init__(parent)
        self.run: RunCurves | None = None
        self.overlays: list[RunCurves] = []
        self._stale = False
        self._drawn: tuple | None = None  # what the epoch curves show (see refresh)
        self._x_limit = -1.0
        self._lr_top = 0.0
        self._ema = RunningEma()
        self.axis = QComboBox()
        self.axis.addItem("by step", "step")
        self.axis.addItem("by epoch", "epoch")
        self.axis.setToolTip("Show the curves against optimizer steps (every report) or against "
                             "epochs (one point per pass over the training pieces).")
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 99)
        self.smoothing.setValue(60)
        self.smoothing.setToolTip("Smooths the noisy step-by-step training loss (a debiased "
                                  "moving average, as in TensorBoard); the raw curve stays faint "
                                  "behind it.")
        self.smoothing_label = QLabel()
        self.smoothing_label.setMinimumWidth(28)
        self.log_scale = QCheckBox("log")
        self.log_scale.setToolTip("A logarithmic loss axis: small late improvements stay "
                                  "visible.")
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.axis)
        controls.addWidget(QLabel("smooth"))
        controls.addWidget(self.smoothing, 1)
        controls.addWidget(self.smoothing_label)
        controls.addWidget(self.log_scale)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(BACKGROUND)
        self.graphics.setMinimumHeight(160 if compact else 300)
        self.loss_plot = _plot(self.graphics, 0, "Loss: " + coloured(
            ("training", TRAIN), ("validation", VALID)))
        self.items: dict[str, pg.PlotDataItem] = {
            "train_raw": _line(self.loss_plot, TRAIN_RAW, width=1.0),
            "train_smooth": _line(self.loss_plot, TRAIN, "train"),
            "train_epoch": _line(self.loss_plot, TRAIN, style=Qt.PenStyle.NoPen, symbol="o"),
            "valid": _line(self.loss_plot, VALID, "validation", symbol="o"),
        }
        self.best_star = self.loss_plot.plot([], [], pen=None, symbol="star", symbolSize=16,
                                             symbolBrush=STAR, symbolPen="#806600")
        # labels to the left of their lines: the best epoch is often the last one drawn
        left = [(1, 0.5), (1, 0.5)]
        self.best_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(BEST, width=1.2), label="best",
                                         labelOpts={"position": 0.92, "color": BEST,
                                                    "anchors": left})
        self.stop_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(
            STOP, width=1.2, style=Qt.PenStyle.DashLine), label="early stop",
            labelOpts={"position": 0.78, "color": STOP, "anchors": left})
        for line in (self.best_line, self.stop_line):
            self.loss_plot.addItem(line, ignoreBounds=True)
            line.hide()
        self.metric_plot = self.lr_plot = None
        if not compact:
            self.metric_plot = _plot(self.graphics, 1, coloured(
                ("accuracy", ACCURACY), ("F1", F1)) + " (validation)")
            self.items["accuracy"] = _line(self.metric_plot, ACCURACY, "accuracy", symbol="o")
            self.items["f1"] = _line(self.metric_plot, F1, "F1", symbol="t")
            self.lr_plot = _plot(self.graphics, 2, coloured(("learning rate", LR)))
            self.items["lr"] = _line(self.lr_plot, LR)
            self.metric_plot.setXLink(self.loss_plot)
            self.lr_plot.setXLink(self.loss_plot)
            self.graphics.ci.layout.setRowStretchFactor(0, 3)
            self.graphics.ci.layout.setRowStretchFactor(1, 2)
            self.graphics.ci.layout.setRowStretchFactor(2, 1)
        self._overlay_items: list[tuple[pg.PlotItem, pg.PlotDataItem]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.graphics, 1)
        self.axis.currentIndexChanged.connect(self._options_changed)
        self.smoothing.valueChanged.connect(self._options_changed)
        self.log_scale.toggled.connect(self._options_changed)
        self._options_changed()

    # -- options --------------------------------------------------------------------------------
    @property
    def by_step(self) -> bool:
        return self.axis.currentData() == "step"

    @property
    def smoothing_weight(self) -> float:
        return self.smoothing.value() / 100

    def set_axis(self, axis: str) -> None:
        self.axis.setCurrentIndex(self.axis.findData(axis))

    def _options_changed(self, *_) -> None:
        self.smoothing_label.setText(f"{self.smoothing_weight:.2f}")
        self.loss_plot.setLogMode(y=self.log_scale.isChecked())
        label = "step" if self.by_step else "epoch"
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            if plot is not None:
                plot.setLabel("bottom", label)
        self._drawn, self._x_limit, self._lr_top = None, -1.0, 0.0
        self.refresh()
        self._draw_overlays()
        self.options_changed.emit()

    # -- the current run ------------------------------------------------------------------------
    def set_run(self, curves: RunCurves | None) -> None:
        self.run = curves
        self._drawn, self._x_limit, self._lr_top = None, -1.0, 0.0
        self.refresh()

    def _x(self, run: RunCurves, epochs: np.ndarray) -> np.ndarray:
        return epochs * run.steps_per_epoch if self.by_step else epochs

    def refresh(self) -> None:
        """Redraw the current run from its points (later, when shown, if hidden now). Only
        what changed is set again: the step curves at every report, the epoch curves when an
        epoch was added."""
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        run = self.run
        empty = np.empty(0)
        if run is None:
            for item in self.items.values():
                item.setData(empty, empty)
            self.best_star.setData([], [])
            self.best_line.hide()
            self.stop_line.hide()
            self._drawn = None
            self._set_x_limit()
            return
        steps, losses = run.steps, run.step_losses
        if self.by_step:
            self.items["train_raw"].setData(steps, losses)
            self.items["train_smooth"].setData(steps, self._ema(losses, self.smoothing_weight,
                                                                run))
            if "lr" in self.items:
                self.items["lr"].setData(steps, run.step_lrs)
                self._lr_range(run.step_lrs)
        drawn = (id(run), self.by_step, len(run.epochs), run.status, run.best_epoch)
        if drawn != self._drawn:
            self._drawn = drawn
            self._draw_epochs(run)
        self._set_x_limit()

    def _draw_epochs(self, run: RunCurves) -> None:
        empty = np.empty(0)
        x, y = run.epoch_series("train_loss")
        if self.by_step:
            self.items["train_epoch"].setData(self._x(run, x), y)
        else:
            self.items["train_raw"].setData(empty, empty)
            self.items["train_smooth"].setData(x, y)
            self.items["train_epoch"].setData(empty, empty)
            if "lr" in self.items:
                x, y = run.epoch_series("lr")
                self.items["lr"].setData(x, y)
                self._lr_range(y)
        x, y = run.epoch_series("valid_loss")
        self.items["valid"].setData(self._x(run, x), y)
        if "accuracy" in self.items:
            for key, metric in (("accuracy", "valid_accuracy"), ("f1", "valid_f1")):
                x, y = run.epoch_series(metric)
                self.items[key].setData(self._x(run, x), y)
        self._draw_markers(run)

    def _lr_range(self, rates: np.ndarray) -> None:
        """From zero to the highest rate: a constant rate is a flat line near the top, a
        schedule shows how far it falls."""
        top = float(np.max(rates)) if len(rates) else 0.0
        if top > 0 and top != self._lr_top:
            self._lr_top = top
            self.lr_plot.setYRange(0, top * 1.15, padding=0)

    def _set_x_limit(self) -> None:
        """The x axis spans the whole planned run (so it does not rescale, and the plots do not
        re-render their axes, at every report) and every overlaid run."""
        ends = [self._x_end(r) for r in [self.run, *self.overlays] if r is not None]
        limit = max([e for e in ends if e > 0], default=0.0)
        if limit != self._x_limit:
            self._x_limit = limit
            if limit > 0:
                self.loss_plot.setXRange(0, limit, padding=0.02)
            else:
                self.loss_plot.enableAutoRange(axis="x")

    def _x_end(self, run: RunCurves) -> float:
        if run.status == "running" and run.info:
            return float(run.info.get("total_steps" if self.by_step else "epochs", 0))
        last_epoch = float(run.epochs[-1]["epoch"]) if run.epochs else 0.0
        if self.by_step:
            return max(float(run.steps[-1]) if len(run.steps) else 0.0,
                       last_epoch * run.steps_per_epoch)
        return last_epoch

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _draw_markers(self, run: RunCurves) -> None:
        best = run.best_metrics
        if best:
            x = float(self._x(run, np.array([float(run.best_epoch)]))[0])
            self.best_star.setData([x], [best["valid_loss"]])
            self.best_line.setValue(x)
            self.best_line.label.setFormat(f"best: epoch {run.best_epoch}")
            self.best_line.show()
        else:
            self.best_star.setData([], [])
            self.best_line.hide()
        stop = run.stop_epoch
        if stop:
            self.stop_line.setValue(float(self._x(run, np.array([float(stop)]))[0]))
            self.stop_line.show()
        else:
            self.stop_line.hide()

    # -- earlier runs -------------------------------------------------------------------------
    def set_overlays(self, runs: list[RunCurves]) -> None:
        self.overlays = list(runs)
        self._draw_overlays()
        self._set_x_limit()

    def _draw_overlays(self) -> None:
        for plot, item in self._overlay_items:
            plot.removeItem(item)
        self._overlay_items = []
        for i, run in enumerate(self.overlays):
            colour = OVERLAY_COLOURS[i % len(OVERLAY_COLOURS)]
            name = run.label or f"run {i + 1}"
            if self.by_step and len(run.steps):
                x, y = run.steps, RunningEma()(run.step_losses, self.smoothing_weight, run)
            else:
                x, y = run.epoch_series("train_loss")
            self._overlay(self.loss_plot, colour, f"{name} train", x, y, Qt.PenStyle.DashLine)
            x, y = run.epoch_series("valid_loss")
            self._overlay(self.loss_plot, colour, f"{name} valid", self._x(run, x), y,
                          Qt.PenStyle.DotLine)
            if self.metric_plot is not None:
                x, y = run.epoch_series("valid_accuracy")
                self._overlay(self.metric_plot, colour, f"{name} accuracy", self._x(run, x), y,
                              Qt.PenStyle.DashLine)

    def _overlay(self, plot: pg.PlotItem, colour: str, name: str, x, y, style) -> None:
        item = _line(plot, colour, name, width=1.2, style=style)
        item.setData(x, y)
        item.setZValue(-10)
        self._overlay_items.append((plot, item))
