"""The Dataset feature: puts the Dataset panel in the window's "Dataset" dock.

Publishes `window.dataset_panel` (a `DatasetPanel`: `add_tab(widget, title)`,
`current_dataset()`, signal `dataset_loaded(Dataset)`). Closing the window cancels a running
import and waits for the panel's threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication

from studio.ui.datasets.dataset_panel import CloseWatcher, DatasetPanel

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


def install(window: MainWindow) -> DatasetPanel:
    panel = DatasetPanel(window)
    window.docks["Dataset"].setWidget(panel)
    window.dataset_panel = panel
    watcher = CloseWatcher(panel)
    window.installEventFilter(watcher)
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(panel.shutdown)
    if "File" in window.menus:
        action = window.menus["File"].addAction("New Dataset from Folder…")
        action.triggered.connect(panel.new_dataset)
    return panel
