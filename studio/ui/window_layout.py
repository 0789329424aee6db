"""The window's default arrangement of docks, and View > Reset Layout.

Two designs, chosen by the window's width:

- up to WIDE_WINDOW (a 1280x800 laptop): Tracks alone at the left, narrow; Generation,
  Training and Dataset as tabs of one dock at the right, each with the window's full height
  (the demo's Harmonize button, the training curves and the style map fit without scrolling),
  Generation in front;
- from WIDE_WINDOW on (1920x1080): Tracks above Dataset at the left, wide enough for the pieces
  table's columns; Generation and Training as tabs at the right.

The piano roll takes the rest. Reset Layout brings back this arrangement for the window's size:
every panel shown, docked and untabbed from wherever it was dragged (two panels tabbed
together by accident come apart). A saved layout from an older design (LAYOUT_VERSION) is not
restored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

LAYOUT_VERSION = 2      # saveState / restoreState version: older layouts are dropped
WIDE_WINDOW = 1600      # from this width on, the dataset panel sits under the tracks
LEFT, RIGHT = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea


def dock_widths(width: int) -> tuple[int, int]:
    """(left, right) dock widths for a window `width` pixels wide."""
    if width >= WIDE_WINDOW:
        return round(width * 0.27), round(width * 0.25)   # 518 and 480 at 1920
    return max(240, round(width * 0.19)), max(340, round(width * 0.35))   # 243 and 448 at 1280


def apply_default_layout(window: MainWindow, width: int | None = None) -> None:
    """Arrange the docks as designed for a window `width` wide (its own width by default)."""
    width = width or window.width()
    wide = width >= WIDE_WINDOW
    docks = window.docks
    tracks, dataset = docks.get("Tracks"), docks.get("Dataset")
    right = [docks[n] for n in ("Generation", "Training") if n in docks]
    if not wide and dataset is not None:
        right.append(dataset)
    left = [d for d in (tracks, dataset if wide else None) if d is not None]
    for dock in docks.values():
        dock.setFloating(False)
        window.removeDockWidget(dock)
    for dock in left:
        window.addDockWidget(LEFT, dock, Qt.Orientation.Vertical)
    if right:
        window.addDockWidget(RIGHT, right[0])
        for dock in right[1:]:
            window.tabifyDockWidget(right[0], dock)
    for dock in docks.values():
        if dock not in left and dock not in right:   # a feature's own dock: with the tabs
            window.addDockWidget(RIGHT, dock)
            if right:
                window.tabifyDockWidget(right[0], dock)
        dock.show()
    if right:
        right[0].raise_()
    left_width, right_width = dock_widths(width)
    if left and right:
        window.resizeDocks([left[0], right[0]], [left_width, right_width],
                           Qt.Orientation.Horizontal)
    if wide and tracks is not None and dataset is not None:
        window.resizeDocks([tracks, dataset], [260, 700], Qt.Orientation.Vertical)
    window.transport_area.show()
    window.layout_width = width


def install_reset_action(window: MainWindow) -> None:
    """View > Reset Layout."""
    action = window.menus["View"].addAction("&Reset Layout")
    action.setObjectName("action_reset_layout")
    action.setShortcut(QKeySequence("Ctrl+Shift+R"))
    action.setToolTip("Bring every panel back to its place for this window size (also "
                      "separates panels tabbed together by accident)")
    action.triggered.connect(lambda: apply_default_layout(window))
    window.reset_layout_action = action
