"""The main window: piano roll in the centre, the track list and the docks for datasets, training
and generation, a transport bar, menus, status bar; projects, autosave and crash recovery.

The window is the common part that the feature packages of studio.ui plug into; the features
never import each other (an import-linter contract), they talk through the window and signals.
Features plug in through `FEATURE_MODULES`: each module has `install(window)`, called once after
the menus, docks and the piano roll exist. A feature may use `window.document` (the song, undo
stack, selection), `window.piano_roll` (the editor: see studio.ui.editor.pianoroll),
`window.menus[name]` ("File", "Edit", "View", "Song", "Help"), `window.docks[name]` ("Tracks", "Dataset",
"Training", "Generation"; `window.dock_panel(title, panel, shutdown)` fills one),
`window.transport_area` (a toolbar), `window.settings` (QSettings),
`window.preferences_pages` (append (title, factory) to add a Preferences tab),
`window.show_status(text)`, `window.show_error(title, text)`, `window.open_song(song, path)` and
the `about_to_close` signal (cancel and wait for worker threads there). What features publish for
the others is declared here as typed attributes (`window.playback`, `window.dataset_panel`,
`window.style_map`, `window.training_panel`, `window.generation_panel`): None until, or unless,
the feature that sets it is installed.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QToolBar,
    QWidget,
)

from studio import __version__
from studio.music.project import Project
from studio.music.song import Song
from studio.ui.document import Document
from studio.ui.editor.pianoroll import PianoRoll
from studio.ui.editor.track_list import TrackList
from studio.ui.help_dialogs import ShortcutsDialog, show_about
from studio.ui.main_thread_gc import install as collect_on_gui_thread
from studio.ui.project.file_menu import ProjectFiles
from studio.ui.project.preferences import PreferencesDialog, editor_page
from studio.ui.project.recovery import Autosave, RecoveryDialog, find_recoverable
from studio.ui.project.song_menu import install as install_song_menu
from studio.ui.window_keys import WindowKeys
from studio.ui.window_layout import LAYOUT_VERSION, apply_default_layout, install_reset_action

if TYPE_CHECKING:  # the features' classes, for the typed attributes only (not imported at run time)
    from PySide6.QtGui import QAction

    from studio.ui.datasets.dataset_panel import DatasetPanel
    from studio.ui.generation.generation_panel import GenerationPanel
    from studio.ui.playback.playback_controller import Playback
    from studio.ui.playback.playback_export import AudioExport
    from studio.ui.playback.transport_bar import TransportBar
    from studio.ui.style_map.style_map_panel import StyleMapPanel
    from studio.ui.training.training_panel import TrainingPanel

# Each module's install(window) is called in this order after the window is built.
FEATURE_MODULES: list[str] = [
    "studio.ui.playback.playback_feature",  # first: other features use window.playback
    "studio.ui.datasets.dataset_feature",
    "studio.ui.style_map.style_map_feature",  # after the dataset panel: the map is its tab
    "studio.ui.training.training_feature",
    "studio.ui.generation.generation_feature",
]


class MainWindow(QMainWindow):
    about_to_close = Signal()

    # Published by the features (FEATURE_MODULES); None while the feature is not installed.
    playback: Playback | None = None                # playback_feature
    transport_bar: TransportBar | None = None       # playback_feature
    audio_export: AudioExport | None = None         # playback_feature
    dataset_panel: DatasetPanel | None = None       # dataset_feature
    style_map: StyleMapPanel | None = None          # style_map_feature
    training_panel: TrainingPanel | None = None     # training_feature
    generation_panel: GenerationPanel | None = None  # generation_feature
    open_demo_action: QAction | None = None         # generation_feature
    selected_model_name: str | None = None          # the library model chosen for generation
    layout_restored = False                         # a saved dock layout was restored
    layout_width = 0                                # the width the default layout was made for

    def __init__(self, settings: QSettings | None = None,
                 autosave_interval_ms: int | None = None) -> None:
        super().__init__()
        collect_on_gui_thread()
        self.resize(1280, 800)
        self.settings = settings or QSettings("Studio", "Studio")
        self.ask_when_headless = False   # see ProjectFiles.confirm_discard
        self.document = Document(parent=self)
        self.piano_roll = PianoRoll(self.document, self)
        self.setCentralWidget(self.piano_roll)
        self.menus: dict[str, QMenu] = {}
        for name in ("File", "Edit", "View", "Help"):
            self.menus[name] = self.menuBar().addMenu(f"&{name}")
        self.transport_area = QToolBar("Transport", self)
        self.transport_area.setObjectName("transport_toolbar")
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.transport_area)
        self.docks: dict[str, QDockWidget] = {}
        self.track_list = TrackList(self.document, self)
        for title, area, widget in (
                ("Tracks", Qt.DockWidgetArea.LeftDockWidgetArea, self.track_list),
                ("Dataset", Qt.DockWidgetArea.LeftDockWidgetArea, None),
                ("Training", Qt.DockWidgetArea.RightDockWidgetArea, None),
                ("Generation", Qt.DockWidgetArea.RightDockWidgetArea, None)):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{title.lower()}_dock")
            dock.setWidget(widget or self._placeholder(title))
            self.addDockWidget(area, dock)
            self.docks[title] = dock
        self.preferences_pages: list[tuple[str, Callable[[QWidget], QWidget]]] = [
            ("Editor", editor_page(self))]
        self.files = ProjectFiles(self)
        self._build_edit_menu()
        self._build_view_menu()
        install_song_menu(self)
        self._build_help_menu()
        self.counts = QLabel(self)
        self.statusBar().addPermanentWidget(self.counts)
        self.statusBar().showMessage("Ready")
        interval = autosave_interval_ms or self.autosave_minutes() * 60_000
        self.autosave = Autosave(self, interval)
        self.recovery_dialog: RecoveryDialog | None = None
        self.error_box: QMessageBox | None = None
        self.piano_roll.message.connect(self.show_status)
        self.track_list.message.connect(self.show_status)
        self.document.changed.connect(self._update_counts)
        self.document.song_replaced.connect(self._update_title)
        self.document.path_changed.connect(self._update_title)
        self.document.undo_stack.cleanChanged.connect(self._update_title)
        self._update_title()
        for name in FEATURE_MODULES:
            importlib.import_module(name).install(self)
        self._quit_last()
        self.window_keys = WindowKeys(self)   # Space plays from number boxes too
        apply_default_layout(self)
        self._restore_layout()
        self.piano_roll.canvas.setFocus()
        QTimer.singleShot(0, self.offer_recovery)

    @staticmethod
    def _placeholder(title: str) -> QLabel:
        label = QLabel(f"{title} panel")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setEnabled(False)
        return label

    # ---- menus -----------------------------------------------------------------------------------
    def _build_edit_menu(self) -> None:
        menu, actions = self.menus["Edit"], self.piano_roll.edit_actions
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        undo.setObjectName("action_undo")
        redo.setObjectName("action_redo")
        self.undo_action, self.redo_action = undo, redo
        menu.addActions([undo, redo])
        menu.addSeparator()
        menu.addActions([actions[n] for n in ("cut", "copy", "paste", "delete", "select_all")])
        menu.addSeparator()
        menu.addActions([actions["quantize"], actions["duplicate"]])
        transpose = menu.addMenu("&Transpose")
        transpose.addActions([actions[n] for n in ("transpose_up", "transpose_down", "octave_up",
                                                   "octave_down", "transpose_by")])
        menu.addAction(actions["loop_selection"])
        menu.addSeparator()
        prefs = menu.addAction("&Preferences…", self.show_preferences)
        prefs.setShortcut(QKeySequence.StandardKey.Preferences)
        prefs.setObjectName("action_preferences")

    def _build_view_menu(self) -> None:
        menu, actions = self.menus["View"], self.piano_roll.edit_actions
        menu.addActions([actions[n] for n in ("zoom_in", "zoom_out", "zoom_fit")])
        menu.addAction(actions["ghost_notes"])  # G: the variation under audition, as ghosts
        menu.addSeparator()
        tools = menu.addMenu("&Tool")
        tools.addActions([actions["tool_draw"], actions["tool_select"]])
        follow = menu.addAction("&Follow Playhead")
        follow.setCheckable(True)
        follow.setChecked(self.piano_roll.follow_playhead)
        follow.toggled.connect(self.piano_roll.follow_box.setChecked)
        self.piano_roll.follow_box.toggled.connect(follow.setChecked)
        menu.addSeparator()
        self.panels_menu = menu.addMenu("&Panels")
        for dock in self.docks.values():
            self.panels_menu.addAction(dock.toggleViewAction())
        self.panels_menu.addAction(self.transport_area.toggleViewAction())
        install_reset_action(self)

    def _quit_last(self) -> None:
        """Features add their File entries after the menu is built; Quit goes back to the end,
        after a separator."""
        menu, quit_action = self.menus["File"], self.files.actions["quit"]
        menu.removeAction(quit_action)
        while menu.actions() and menu.actions()[-1].isSeparator():
            menu.removeAction(menu.actions()[-1])
        menu.addSeparator()
        menu.addAction(quit_action)

    def _build_help_menu(self) -> None:
        menu = self.menus["Help"]
        keys = menu.addAction("&Keyboard Shortcuts", self.show_shortcuts)
        keys.setShortcut(QKeySequence("F1"))
        menu.addAction("&About Studio", lambda: show_about(self))

    def dock_panel(self, title: str, panel: QWidget, shutdown: Callable[[], None]) -> None:
        """Put a feature's panel in the dock `title`; `shutdown` (cancel and wait for its
        threads) runs when the window closes or the application quits."""
        self.docks[title].setWidget(panel)
        self.about_to_close.connect(shutdown)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(shutdown)

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self)
        dialog.open()
        return dialog

    def show_preferences(self) -> PreferencesDialog:
        dialog = PreferencesDialog(self)
        dialog.open()
        return dialog

    def autosave_minutes(self) -> int:
        try:
            return max(1, int(self.settings.value("autosave_minutes", 2)))
        except (TypeError, ValueError):
            return 2

    def set_autosave_minutes(self, minutes: int) -> None:
        self.settings.setValue("autosave_minutes", int(minutes))
        self.autosave.set_interval(int(minutes) * 60_000)

    # ---- messages --------------------------------------------------------------------------------
    def show_status(self, text: str, timeout_ms: int = 5000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def show_error(self, title: str, text: str) -> None:
        """A warning dialog that does not block the caller (window-modal)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                          self)
        box.setObjectName("error_box")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.error_box = box
        box.open()
        self.show_status(text.splitlines()[0] if text else title)

    def document_name(self) -> str:
        doc = self.document
        return doc.song.title or (doc.path.stem if doc.path else "Untitled")

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document_name()}[*] — Studio {__version__}")
        self.setWindowModified(self.document.is_modified)
        self._update_counts()

    def _update_counts(self) -> None:
        song = self.document.song
        self.counts.setText(f"{song.note_count:,} notes · {len(song.tracks)} tracks")

    # ---- songs and projects ----------------------------------------------------------------------
    def open_song(self, song: Song, path: str | Path | None = None) -> bool:
        """Make `song` the open document (a dataset piece, a generated song, a file). Unsaved
        changes are offered to be saved first; returns False when the user cancels."""
        if not self.files.confirm_discard("opening another song"):
            return False
        self.document.set_song(song, path)
        self.autosave.discard()
        return True

    def open_path(self, path: str | Path) -> bool:
        """Open a project (.studio) or a MIDI file, as File > Open does."""
        return self.files.open_path(path)

    def save_project_to(self, path: str | Path) -> bool:
        return self.files.save_to(path)

    def project_snapshot(self, recovery: bool = False) -> Project:
        """The open document as a `Project` (song, track view state, settings)."""
        doc = self.document
        views = [{"color": doc.track_colors.get(t.id), "muted": t.id in doc.muted,
                  "soloed": t.id in doc.soloed, "hidden": t.id in doc.hidden}
                 for t in doc.song.tracks]
        settings = dict(doc.project_settings)
        settings["editor"] = self.piano_roll.view_state()
        current = next((i for i, t in enumerate(doc.song.tracks)
                        if t.id == doc.current_track_id), 0)
        settings["editor"]["current_track"] = current
        if recovery:
            settings["recovery"] = {"source_path": str(doc.path) if doc.path else None,
                                    "saved_at": time.time(), "title": self.document_name()}
        return Project(doc.song, views, settings)

    def apply_project_view(self, project: Project) -> None:
        """Restore what a project keeps besides the song: track colours and switches, settings."""
        doc = self.document
        for track, view in zip(doc.song.tracks, project.track_views):
            if view.get("color"):
                doc.track_colors[track.id] = str(view["color"])
            for flag, key in (("muted", "muted"), ("soloed", "soloed"), ("hidden", "hidden")):
                if view.get(key):
                    getattr(doc, flag).add(track.id)
        settings = dict(project.settings)
        editor = settings.pop("editor", {})
        settings.pop("recovery", None)
        doc.project_settings = settings
        if isinstance(editor, dict):
            self.piano_roll.restore_view_state(editor)
            index = editor.get("current_track")
            if isinstance(index, int) and 0 <= index < len(doc.song.tracks):
                doc.current_track_id = doc.song.tracks[index].id
        doc.track_flags_changed.emit()

    def offer_recovery(self) -> RecoveryDialog | None:
        """Offer the autosaves of sessions that did not exit cleanly (called after launch)."""
        items = find_recoverable()
        if not items:
            return None
        self.recovery_dialog = RecoveryDialog(self, items)
        self.recovery_dialog.open()
        return self.recovery_dialog

    def has_recoverable_work(self) -> bool:
        """Autosaves of sessions that did not exit cleanly are waiting to be offered back."""
        return bool(find_recoverable())

    def recover_project(self, project: Project) -> bool:
        source = project.settings.get("recovery", {}).get("source_path")
        if not self.open_song(project.song, source):
            return False
        self.apply_project_view(project)
        self.document.undo_stack.resetClean()   # recovered work is not saved yet
        self.autosave.dirty = True
        self.autosave.save_now()
        self.show_status(f"Recovered {self.document_name()}: save it to keep it")
        return True

    # ---- layout and closing ----------------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        # a layout saved by an older design (another LAYOUT_VERSION) is dropped
        self.layout_restored = state is not None and self.restoreState(state, LAYOUT_VERSION)

    def fit_screen(self) -> None:
        """On a first launch (no saved size) on a big screen, open at 1920x1080 (the layout
        for wide windows); otherwise keep the 1280x800 the window starts with."""
        if self.settings.value("window/geometry") is not None or self.screen() is None:
            return
        available = self.screen().availableGeometry()
        if available.width() >= 1900 and available.height() >= 1000:
            self.resize(min(1920, available.width()), min(1080, available.height()))

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        # the default layout follows the size the window is shown at (tests and scripts resize
        # it after building it), unless a saved layout was restored
        if not self.layout_restored and not getattr(self, "_shown_once", False):
            self._shown_once = True
            apply_default_layout(self)
        super().showEvent(event)

    def save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        self.settings.sync()

    def closeEvent(self, e: QCloseEvent) -> None:  # noqa: N802
        if not self.files.confirm_discard("closing"):
            e.ignore()
            return
        self.about_to_close.emit()
        self.save_layout()
        self.autosave.close()
        e.accept()
