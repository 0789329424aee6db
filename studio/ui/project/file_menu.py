"""The File menu and what it does: new, open (projects and MIDI files), recent files, save,
save as, export MIDI, quit; and the "save your changes?" question before work would be lost.

Files enter through `studio.midi.read_song` / `studio.music.project.load_project` and leave
through `write_song` / `save_project`; a file that cannot be read shows a dialog with the reason
and leaves the open song untouched.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from studio.midi import MidiReadError, MidiWriteError, read_song, write_song
from studio.music.project import SUFFIX, ProjectError, load_project, save_project
from studio.music.song import Song

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

MAX_RECENT = 10
MIDI_FILTER = "MIDI files (*.mid *.midi *.MID)"
PROJECT_FILTER = f"Studio projects (*{SUFFIX})"
HEADLESS_PLATFORMS = ("offscreen", "minimal")


def is_midi(path: str | Path) -> bool:
    return Path(path).suffix.lower() in (".mid", ".midi", ".kar")


class ProjectFiles:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        menu = window.menus["File"]
        self.actions: dict[str, QAction] = {}
        self._add(menu, "new", "&New", QKeySequence.StandardKey.New, self.new)
        self._add(menu, "open_project", "&Open Project…", QKeySequence.StandardKey.Open,
                  lambda: self.open_dialog(PROJECT_FILTER))
        self._add(menu, "open_midi", "Open &MIDI…", "Ctrl+Shift+O",
                  lambda: self.open_dialog(MIDI_FILTER))
        self.recent_menu = QMenu("Open &Recent", menu)
        self.recent_menu.setObjectName("recent_menu")
        menu.addMenu(self.recent_menu)
        menu.addSeparator()
        self._add(menu, "save", "&Save", QKeySequence.StandardKey.Save, self.save)
        self._add(menu, "save_as", "Save &As…", QKeySequence.StandardKey.SaveAs, self.save_as)
        self._add(menu, "export_midi", "&Export MIDI…", "Ctrl+E", self.export_dialog)
        menu.addSeparator()
        self._add(menu, "quit", "&Quit", QKeySequence.StandardKey.Quit, window.close)
        self.rebuild_recent()

    def _add(self, menu: QMenu, name: str, text: str, shortcut, slot) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(f"action_{name}")
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        self.actions[name] = action
        return action

    # ---- recent files ----------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.window.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        files = [path] + [p for p in self.recent_files() if p != path]
        self.window.settings.setValue("recent_files", files[:MAX_RECENT])
        self.rebuild_recent()

    def rebuild_recent(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for i, path in enumerate(files):
            action = self.recent_menu.addAction(f"&{(i + 1) % 10} {Path(path).name}")
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if files:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear the List", self._clear_recent)
        self.recent_menu.setEnabled(bool(files))

    def _clear_recent(self) -> None:
        self.window.settings.setValue("recent_files", [])
        self.rebuild_recent()

    # ---- unsaved changes -------------------------------------------------------------------------
    def confirm_discard(self, doing: str) -> bool:
        """Before the open song is replaced or closed: Save / Discard / Cancel. True = go on.

        Where nobody can answer (the offscreen platform of tests and scripts) and the window was
        not told to ask anyway, the song is kept as a recovery file instead of asking."""
        window = self.window
        if not window.document.is_modified:
            return True
        if QGuiApplication.platformName() in HEADLESS_PLATFORMS and not window.ask_when_headless:
            window.autosave.keep_copy()
            return True
        box = QMessageBox(window)
        box.setObjectName("unsaved_changes_box")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Unsaved changes")
        box.setText(f"Save the changes to {window.document_name()} before {doing}?")
        box.setInformativeText("If you don't save, your changes will be lost.")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # ---- opening ---------------------------------------------------------------------------------
    def new(self) -> bool:
        from studio.music.song import Track

        return self.window.open_song(Song([Track("Piano", program=0)], title=""))

    def open_dialog(self, name_filter: str) -> None:
        start = str(Path(self.recent_files()[0]).parent) if self.recent_files() else ""
        filters = f"{name_filter};;{PROJECT_FILTER if name_filter == MIDI_FILTER else MIDI_FILTER}" \
                  ";;All files (*)"
        path, _ = QFileDialog.getOpenFileName(self.window, "Open", start, filters)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        """Open a project (.studio) or a MIDI file; a bad file is explained and changes nothing."""
        path = Path(path)
        window = self.window
        try:
            if is_midi(path):
                song = read_song(path)
                project = None
            else:
                project = load_project(path)
                song = project.song
        except (MidiReadError, ProjectError) as e:
            window.show_error("Cannot open the file", f"{path.name} cannot be opened.\n\n"
                              f"{getattr(e, 'reason', str(e))}")
            return False
        if not window.open_song(song, path):
            return False
        if project is not None:
            window.apply_project_view(project)
        self.add_recent(path)
        window.show_status(f"{path.name}: {song.note_count:,} notes in "
                           f"{len(song.tracks)} tracks")
        return True

    # ---- saving ----------------------------------------------------------------------------------
    def save(self) -> bool:
        path = self.window.document.path
        if path is None or path.suffix != SUFFIX:
            return self.save_as()
        return self.save_to(path)

    def save_as(self) -> bool:
        doc = self.window.document
        start = doc.path.with_suffix(SUFFIX) if doc.path else Path.home() / "Untitled.studio"
        path, _ = QFileDialog.getSaveFileName(self.window, "Save project", str(start),
                                              PROJECT_FILTER)
        if not path:
            return False
        if not path.endswith(SUFFIX):
            path += SUFFIX
        return self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        """Save the project to `path` (atomically, keeping the previous version as .bak)."""
        path = Path(path)
        window = self.window
        try:
            save_project(path, window.project_snapshot())
        except ProjectError as e:
            window.show_error("Cannot save", f"{path.name} was not saved.\n\n{e.reason}")
            return False
        doc = window.document
        if doc.path != path:
            doc.path = path
            doc.path_changed.emit()
        doc.undo_stack.setClean()
        self.add_recent(path)
        window.show_status(f"Saved {path.name}")
        return True

    def export_dialog(self) -> None:
        doc = self.window.document
        start = doc.path.with_suffix(".mid") if doc.path else Path.home() / "Untitled.mid"
        path, _ = QFileDialog.getSaveFileName(self.window, "Export MIDI", str(start), MIDI_FILTER)
        if path:
            if not is_midi(path):
                path += ".mid"
            self.export_midi(path)

    def export_midi(self, path: str | Path) -> bool:
        path = Path(path)
        try:
            write_song(self.window.document.song, path)
        except (MidiWriteError, OSError) as e:
            self.window.show_error("Cannot export", f"{path.name} was not written.\n\n{e}")
            return False
        self.window.show_status(f"Exported {path.name}")
        return True
