"""The main window: piano roll in the centre, docks for datasets, training and generation,
a transport bar, menus, status bar.

Features plug in through `FEATURE_MODULES`: each module has `install(window)`, called once after
the menus and docks exist. A feature may use `window.document` (the song, undo stack, selection),
`window.menus[name]` ("File", "Edit", "View", "Help", ...), `window.docks[name]` ("Dataset",
"Training", "Generation"), `window.transport_area` (a toolbar), `window.settings` (QSettings),
`window.show_status(text)`, `window.show_error(title, text)` and `window.open_song(song, path)`.
Features publish what others may use as attributes: `window.piano_roll` (the editor) and
`window.playback` (play_song, stop, audition); check with getattr(window, name, None).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QMessageBox, QToolBar

from studio import __version__
from studio.ui.document import Document

# Each module's install(window) is called in this order after the window is built.
FEATURE_MODULES: list[str] = [
    "studio.ui.playback_feature",
]


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle(f"Studio {__version__}")
        self.resize(1280, 800)
        self.settings = settings or QSettings("Studio", "Studio")
        self.document = Document(parent=self)
        centre = QLabel("Piano roll")
        centre.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(centre)
        self.menus: dict[str, QMenu] = {}
        for name in ("File", "Edit", "View", "Help"):
            self.menus[name] = self.menuBar().addMenu(f"&{name}")
        self.transport_area = QToolBar("Transport", self)
        self.transport_area.setObjectName("transport_toolbar")
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.transport_area)
        self.docks: dict[str, QDockWidget] = {}
        for title, area in (("Dataset", Qt.DockWidgetArea.LeftDockWidgetArea),
                            ("Training", Qt.DockWidgetArea.RightDockWidgetArea),
                            ("Generation", Qt.DockWidgetArea.RightDockWidgetArea)):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{title.lower()}_dock")
            dock.setWidget(QLabel(title))
            self.addDockWidget(area, dock)
            self.docks[title] = dock
        self.statusBar().showMessage("Ready")
        for name in FEATURE_MODULES:
            importlib.import_module(name).install(self)

    def show_status(self, text: str, timeout_ms: int = 5000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def show_error(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    def open_song(self, song, path: str | Path | None = None) -> bool:
        """Make `song` the open document (a dataset piece, a generated song, a file).
        Returns False when the user cancels (e.g. keeps unsaved changes)."""
        self.document.set_song(song, path)
        return True

    def open_path(self, path: str) -> None:
        from studio.midi import MidiReadError, read_song

        try:
            song = read_song(path)
        except MidiReadError as e:
            self.show_error("Cannot open", str(e))
            return
        self.open_song(song, path)
        self.show_status(f"{Path(path).name}: {song.note_count} notes")
