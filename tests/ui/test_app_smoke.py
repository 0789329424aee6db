"""The window opens (offscreen) and a file given on the command line is loaded."""

from studio.ui.main_window import MainWindow


def test_main_window_opens_with_docks(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    assert w.isVisible()
    titles = {d.windowTitle() for d in w.findChildren(__import__("PySide6.QtWidgets",
                                                                  fromlist=["QDockWidget"]).QDockWidget)}
    assert {"Dataset", "Training", "Generation"} <= titles
