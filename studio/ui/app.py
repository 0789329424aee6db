"""Starting the application: QApplication, the theme, the main window (with a file from the
command line: `studio SONG.mid` or `studio SONG.studio`)."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from studio.ui.main_window import MainWindow


def application() -> QApplication:
    """The QApplication (created once), named and themed."""
    from studio.ui.palette import apply_theme

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        apply_theme(app)
    app.setApplicationName("Studio")
    app.setOrganizationName("Studio")
    return app


def create_window(open_path: str | Path | None = None) -> MainWindow:
    """The main window, shown, with `open_path` (a MIDI file or a project) loaded."""
    from studio.midi.isolation import shared_parser

    shared_parser().warm_up()   # the MIDI parser process starts while the window appears
    window = MainWindow()
    window.fit_screen()
    window.show()
    if open_path:
        window.open_path(open_path)
    return window


def run_app(open_path: str | None = None) -> int:
    app = application()
    window = create_window(open_path)
    code = app.exec()
    # Join the background workers now, before the interpreter's exit handlers: torch registers
    # its own, and a worker still importing torch while they run printed a traceback when the
    # window was closed a moment after launch.
    from studio.ui.worker_thread import join_running_threads

    join_running_threads()
    del window
    return code
