"""Starting the application: QApplication, style, the main window."""

from __future__ import annotations

import sys


def run_app(open_path: str | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from studio.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Studio")
    app.setOrganizationName("Studio")
    window = MainWindow()
    window.show()
    if open_path:
        window.open_path(open_path)
    return app.exec()
