"""Installs the style map and style critic: a tab of the dataset panel when the Dataset feature
is installed (`window.dataset_panel.add_tab(widget, title)`), otherwise a dock of its own ("Style
map", tabbed with the Dataset dock).

Publishes `window.style_map` (a `StyleMapPanel`): generation calls
`window.style_map.add_songs([(name, song), ...], label="generated")` to show its variations on the
map. Closing the window cancels any analysis still running and waits for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QScrollArea

from studio.ui.style_map.style_map_panel import StyleMapPanel

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

TITLE = "Style map"


def install(window: MainWindow) -> StyleMapPanel:
    panel = StyleMapPanel(window)
    panel.setObjectName("style_map_panel")
    dataset_panel = window.dataset_panel
    if dataset_panel is not None:
        # A tab of the dataset dock: it scrolls when the dock is small rather than forcing the
        # window's minimum size, and fills the dock when it is big.
        holder = QScrollArea()
        holder.setWidgetResizable(True)
        holder.setWidget(panel)
        holder.setMinimumSize(120, 100)
        dataset_panel.add_tab(holder, TITLE)
        # an import adds a dataset the map should offer at once (no restart)
        finished = getattr(dataset_panel, "import_finished", None)
        if finished is not None:
            finished.connect(lambda _report: panel.refresh_sources())
    else:
        dock = QDockWidget(TITLE, window)
        dock.setObjectName("style_map_dock")
        dock.setWidget(panel)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        docks = window.docks
        if "Dataset" in docks:
            window.tabifyDockWidget(docks["Dataset"], dock)
            docks["Dataset"].raise_()
        docks[TITLE] = dock
        view_menu = window.menus.get("View")
        if view_menu is not None:
            view_menu.addAction(dock.toggleViewAction())
    window.about_to_close.connect(panel.shutdown)  # a signal, not a filter on every event
    window.style_map = panel
    return panel
