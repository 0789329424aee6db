"""The default layout at 1280x800 and 1920x1080 on a first launch (the demo open): Harmonize
visible without scrolling, training curves tall, the pieces table's columns all shown, the style
map without scrolling; View > Reset Layout separates panels tabbed together by accident and
docks a floating one."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from studio.ui.generation.generation_demo import TITLE
from studio.ui.main_window import MainWindow


def first_launch(qtbot, tmp_path, size) -> MainWindow:
    w = MainWindow(QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.document.song.title == TITLE, timeout=5000)
    return w


def shown_whole(widget, window) -> bool:
    """Every pixel of `widget` is on screen, nothing scrolled or clipped away."""
    QApplication.processEvents()
    region = widget.visibleRegion()
    return (widget.isVisible() and region.boundingRect() == widget.rect()
            and window.rect().contains(widget.mapTo(window, widget.rect().bottomRight())))


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_default_layout_fits_the_window(qtbot, tmp_path, size):
    w = first_launch(qtbot, tmp_path, size)
    panel = w.generation_panel
    assert shown_whole(panel.generate_button, w), "Harmonize below the fold"
    assert panel.generate_button.text() == "Harmonize"
    assert w.piano_roll.width() >= 0.4 * size[0]

    w.docks["Training"].raise_()
    w.training_panel.tabs.setCurrentIndex(1)   # Curves
    QApplication.processEvents()
    assert w.training_panel.curves.graphics.height() >= 300

    w.docks["Dataset"].raise_()
    data = w.dataset_panel
    qtbot.waitUntil(lambda: data.dataset is not None and data.model.rowCount() > 0,
                    timeout=10_000)
    table = data.table
    QApplication.processEvents()
    header = table.horizontalHeader()
    widths = [header.sectionSize(c) for c in range(header.count())]
    assert sum(widths) <= table.viewport().width() + 1, widths   # no column off the side
    assert widths[0] >= table.fontMetrics().horizontalAdvance("jsb-test-000"), widths
    for column in range(1, header.count()):
        assert widths[column] >= table.sizeHintForColumn(column), (column, widths)

    tabs = data.tabs
    tabs.setCurrentIndex(next(k for k in range(tabs.count()) if tabs.tabText(k) == "Style map"))
    QApplication.processEvents()
    holder = tabs.currentWidget()
    assert holder.verticalScrollBar().maximum() == 0 and \
        holder.horizontalScrollBar().maximum() == 0, "the style map needs scrolling"
    w.document.undo_stack.setClean()
    w.close()


def test_reset_layout_separates_tabbed_panels(qtbot, tmp_path):
    w = first_launch(qtbot, tmp_path, (1280, 800))
    tracks, training, generation = (w.docks[n] for n in ("Tracks", "Training", "Generation"))
    w.tabifyDockWidget(tracks, training)      # dropped on the wrong dock by accident
    generation.setFloating(True)
    tracks.hide()
    assert training in w.tabifiedDockWidgets(tracks)
    action = next(a for a in w.menus["View"].actions() if a.text() == "&Reset Layout")
    action.trigger()
    QApplication.processEvents()
    assert w.tabifiedDockWidgets(tracks) == [] and tracks.isVisible()
    assert not generation.isFloating()
    assert w.dockWidgetArea(tracks) != w.dockWidgetArea(training)
    assert set(w.tabifiedDockWidgets(generation)) == {training, w.docks["Dataset"]}
    assert shown_whole(w.generation_panel.generate_button, w)
    w.document.undo_stack.setClean()
    w.close()
