"""The main window: piano roll in the centre, docks for datasets, training and generation."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox

from studio import __version__


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(f"Studio {__version__}")
        self.resize(1280, 800)
        centre = QLabel("Piano roll")
        centre.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(centre)
        for title, area in (("Dataset", Qt.DockWidgetArea.LeftDockWidgetArea),
                            ("Training", Qt.DockWidgetArea.RightDockWidgetArea),
                            ("Generation", Qt.DockWidgetArea.RightDockWidgetArea)):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{title.lower()}_dock")
            dock.setWidget(QLabel(title))
            self.addDockWidget(area, dock)
        self.statusBar().showMessage("Ready")

    def open_path(self, path: str) -> None:
        from studio.midi import MidiReadError, read_song

        try:
            song = read_song(path)
        except MidiReadError as e:
            QMessageBox.warning(self, "Cannot open", str(e))
            return
        self.statusBar().showMessage(f"{Path(path).name}: {song.note_count} notes")
