"""Grid search from the panel (a 2 x 1 grid: a table of runs, the best highlighted, a click shows
a run's curves, the best model in the library), and closing the window in the middle of a run
(training stops, the model is saved, the thread has ended)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio.ml.checkpoint import card_path, read_card, weights_path
from studio.ml.errors import ConfigError
from studio.ml.train_state import state_path
from studio.ui.training.training_grid import BEST_BRUSH
from studio.ui.training.training_worker import TrainingThread
from tests.ui.training.test_training_panel import WAIT_MS, Reports, data, training_window


def test_grid_search_table_best_run_and_curves(qtbot, tmp_path):
    window, panel = training_window(qtbot, tmp_path, training={"epochs": 2})
    grid = panel.grid
    assert grid.model == "lstm"
    grid.set_grid({"hidden": [8, 32], "dropout": [0.0]})
    assert grid.grid() == {"hidden": [8, 32], "dropout": [0.0]}
    assert "2 runs will be trained" in grid.count_label.text()
    grid.add_setting("hidden", "8")
    assert "twice" in grid.count_label.text()
    grid.form.setCurrentCell(2, 0)
    grid.remove_setting()
    grid.form.cellWidget(1, 1).setText("0.0, 5")  # out of range
    assert "dropout must be at most 0.8" in grid.count_label.text()
    with pytest.raises(ConfigError, match="dropout must be at most 0.8"):
        grid.grid()
    grid.form.cellWidget(1, 1).setText("0")
    reports = Reports(panel.runner)
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        grid.start_button.click()
    assert finished.args == ["completed"] and panel.tabs.currentIndex() == 2 and grid.isVisible()
    assert [i.run_index for i in reports.infos] == [0, 1]

    table = grid.table
    assert table.rowCount() == 2
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[:3] == ["#", "hidden", "dropout"] and "valid loss" in headers
    status = headers.index("status")
    losses = [float(table.item(r, headers.index("valid loss")).text()) for r in range(2)]
    assert [table.item(r, status).text() for r in range(2)] == ["completed"] * 2
    assert [table.item(r, 1).text() for r in range(2)] == ["8", "32"]
    best = grid.best_index()
    assert best == int(np.argmin(losses))
    assert losses[best] == round(grid.rows[best].metrics["valid_loss"], 4)
    for c in range(table.columnCount()):
        assert table.item(best, c).font().bold() and \
            table.item(best, c).background() == BEST_BRUSH
        assert not table.item(1 - best, c).font().bold()
    assert table.item(best, 0).text() == f"★ {best + 1}"

    # a click on the other run shows its curves, here and in the Curves tab
    other = 1 - best
    rect = table.visualItemRect(table.item(other, 1))
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(
        rect.center().x(), rect.center().y()))
    shown = grid.curves[other]
    assert grid.run_curves.run is shown and panel.curves.run is shown
    epochs_of_other = [e for e in reports.epochs if e.run_index == other]
    assert [e["valid_loss"] for e in shown.epochs] == \
        [e.metrics["valid_loss"] for e in epochs_of_other]
    x, y = data(grid.run_curves.items["valid"])
    assert list(y) == [e.metrics["valid_loss"] for e in epochs_of_other]
    assert math.isclose(min(y), grid.rows[other].metrics["valid_loss"])

    # the best run is the library's model, its card telling the grid
    entry = panel.library.current_entry()
    assert entry.name == panel.job.name and entry.card["config"]["hidden"] == [8, 32][best]
    assert len(entry.card["grid"]["runs"]) == 2
    assert "best of 2 runs" in panel.library.card.toHtml()
    assert panel.history.list.count() == 2  # one log per run


def test_closing_the_window_mid_run_stops_saves_and_joins(qtbot, tmp_path):
    window, panel = training_window(qtbot, tmp_path, training={"epochs": 1000})
    reports = Reports(panel.runner)
    assert panel.start()
    thread = panel.runner.thread
    output = panel.job.output
    qtbot.waitUntil(lambda: len(reports.epochs) >= 1, timeout=WAIT_MS)
    assert thread.isRunning() and thread in TrainingThread._live
    window.close()
    assert not window.isVisible() and not panel.is_running()
    assert thread.isFinished() and not thread.isRunning()
    card = read_card(card_path(output))
    assert card["status"] == "cancelled" and len(card["metrics"]) >= 1
    assert weights_path(output).exists() and state_path(output).exists()
    qtbot.waitUntil(lambda: thread not in TrainingThread._live, timeout=WAIT_MS)
