"""Installs the style map and style critic: a tab of the dataset panel when that panel offers
`add_tab(widget, title)`, otherwise a dock of its own ("Style map", tabbed with the Dataset dock).

Publishes `window.style_map` (a `StyleMapPanel`): generation calls
`window.style_map.add_songs([(name, song), ...], label="generated")` to show its variations on the
map. Closing the window cancels any analysis still running and waits for it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget, QScrollArea

from studio.ui.style_map_panel import StyleMapPanel

TITLE = "Style map"


class _ShutdownOnClose(QObject):
    """Stops the panel's worker thread when the window closes."""

    def __init__(self, panel: StyleMapPanel, parent: QObject) -> None:
        super().__init__(parent)
        self.panel = panel

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close:
            self.panel.shutdown()
        return False


def install(window) -> StyleMapPanel:
    panel = StyleMapPanel(window)
    panel.setObjectName("style_map_panel")
    dataset_panel = getattr(window, "dataset_panel", None)
    if dataset_panel is not None and callable(getattr(dataset_panel, "add_tab", None)):
        # A tab of the dataset dock: it scrolls when the dock is small rather than forcing the
        # window's minimum size, and fills the dock when it is big.
        holder = QScrollArea()
        holder.setWidgetResizable(True)
        holder.setWidget(panel)
        holder.setMinimumSize(120, 100)
        dataset_panel.add_tab(holder, TITLE)
    else:
        dock = QDockWidget(TITLE, window)
        dock.setObjectName("style_map_dock")
        dock.setWidget(panel)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        docks = getattr(window, "docks", None)
        if isinstance(docks, dict):
            if "Dataset" in docks:
                window.tabifyDockWidget(docks["Dataset"], dock)
                docks["Dataset"].raise_()
            docks[TITLE] = dock
        view_menu = getattr(window, "menus", {}).get("View")
        if view_menu is not None:
            view_menu.addAction(dock.toggleViewAction())
    about_to_close = getattr(window, "about_to_close", None)
    if about_to_close is not None:  # a signal: no Python call on every event of the window
        about_to_close.connect(panel.shutdown)
    else:
        window.installEventFilter(_ShutdownOnClose(panel, window))
    window.style_map = panel
    return panel
