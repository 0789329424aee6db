"""Installs playback in the main window: `window.playback`, the transport bar, a Playback menu,
File > Export Audio (WAV), Playback > Mixer, the MIDI & Audio preferences page, and the piano roll's hooks
(playhead, loop region, seek, audition) when the editor is there.

On close: a running export is cancelled and waited for, a recording is kept, playback stops with a
panic, and ports and the audio device are closed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication

from studio.ui.playback.mixer_dialog import MixerDialog
from studio.ui.playback.playback_controller import Playback
from studio.ui.playback.playback_export import AudioExport
from studio.ui.playback.playback_preferences import TITLE, page_factory, show_dialog
from studio.ui.playback.transport_bar import TransportBar

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


class _CloseWatcher(QObject):
    """Shuts playback down when the window closes (or the application quits)."""

    def __init__(self, window, playback: Playback, export: AudioExport) -> None:
        super().__init__(window)
        self.playback, self.export = playback, export
        self._closing = False
        window.installEventFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        # An accepted close hides the window right away; a close refused by the window (unsaved
        # changes, Cancel) does not. Minimizing sends only spontaneous hide events.
        kind = event.type()
        if kind == QEvent.Type.Close:
            self._closing = True
        elif kind == QEvent.Type.Hide and self._closing and not event.spontaneous():
            self.shutdown()
        elif kind == QEvent.Type.Show:
            self._closing = False
        return False

    def shutdown(self) -> None:
        self.export.shutdown()
        self.playback.shutdown()


def show_mixer(window: MainWindow) -> MixerDialog:
    """The mixer (one per window, brought to the front when open)."""
    dialog = getattr(window, "mixer_dialog", None)
    if dialog is None:
        dialog = MixerDialog(window.document, window.playback, window)
        window.mixer_dialog = dialog
    dialog.show()
    dialog.raise_()
    return dialog


def install(window: MainWindow) -> None:
    playback = Playback(window.document, window.settings, parent=window)
    window.playback = playback
    playback.message.connect(window.show_status)
    playback.start()
    window.transport_bar = TransportBar(window.transport_area, playback, window)

    export = AudioExport(window, playback)
    window.audio_export = export
    export_action = QAction("Export &Audio (WAV)…", window)
    export_action.setToolTip("Render the song with the built-in synth to a WAV file")
    export_action.triggered.connect(export.ask_and_export)
    file_menu = window.menus["File"]
    # beside Export MIDI, before the separator and Quit (Quit stays last)
    items = file_menu.actions()
    files = getattr(window, "files", None)
    export_midi = files.actions.get("export_midi") if files is not None else None
    after = items.index(export_midi) + 1 if export_midi in items else len(items)
    if after < len(items):
        file_menu.insertAction(items[after], export_action)
    else:
        file_menu.addAction(export_action)

    menu = window.menus.get("Playback")
    if menu is None:
        menu = window.menuBar().addMenu("&Playback")
        help_menu = window.menus.get("Help")
        if help_menu is not None:  # keep Help last
            window.menuBar().insertMenu(help_menu.menuAction(), menu)
        window.menus["Playback"] = menu
    bar = window.transport_bar
    for action in (bar.play_action, bar.record_action, bar.loop_action, bar.panic_action):
        menu.addAction(action)
    menu.addSeparator()
    mixer_action = menu.addAction("&Mixer…")
    mixer_action.setObjectName("action_mixer")
    mixer_action.setToolTip("Volume and pan of each track")
    mixer_action.triggered.connect(lambda: show_mixer(window))
    settings_action = menu.addAction(f"{TITLE.replace('&', '&&')} Settings…")
    settings_action.triggered.connect(lambda: show_dialog(playback, window))

    window.preferences_pages.append((TITLE, page_factory(playback)))

    playback.attach_piano_roll(window.piano_roll)
    window._playback_close_watcher = _CloseWatcher(window, playback, export)
