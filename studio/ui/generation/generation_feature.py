"""The Generation feature: the Generation panel in the window's "Generation" dock, Help > Open
Demo, and the first-launch demo (a chorale melody with the harmonizer chosen).

Publishes `window.generation_panel` (a `GenerationPanel`): `select_model(name)` chooses a library
model (the training panel's "use for generation"), `set_mode(mode)`, `generate()`. Closing the
window cancels a running generation and waits for its thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from studio.ui.generation.generation_demo import open_demo, open_demo_on_first_launch
from studio.ui.generation.generation_panel import GenerationPanel

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


def install(window: MainWindow) -> GenerationPanel:
    panel = GenerationPanel(window)
    panel.setObjectName("generation_panel")
    window.dock_panel("Generation", panel, panel.shutdown)
    window.generation_panel = panel
    help_menu = window.menus.get("Help")
    if help_menu is not None:
        action = help_menu.addAction("Open &Demo (Chorale to Harmonize)")
        action.setObjectName("action_open_demo")
        action.setToolTip("Open a Bach chorale melody with the harmonizer ready")
        action.triggered.connect(lambda: open_demo(window))
        window.open_demo_action = action
    # Once the window runs its event loop: by then a song from the command line is open
    # (create_window opens it right after construction), and any song opened first wins.
    opened: list[bool] = []
    window.document.song_replaced.connect(lambda: opened.append(True))
    QTimer.singleShot(0, window, lambda: open_demo_on_first_launch(window, bool(opened)))
    return panel
