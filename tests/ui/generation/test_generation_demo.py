"""The first-launch demo: the very first window opens on a Bach chorale melody with the harmonizer
chosen; later launches do not; a song given on the command line wins; Help > Open Demo brings it
back (asking about unsaved work first)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from studio.data.builtin import jsb_chorales
from studio.midi import read_song
from studio.music.edits import ChangeSong
from studio.music.project import load_project
from studio.paths import recovery_dir
from studio.ui.app import create_window
from studio.ui.generation.generation_demo import DEMO_INDEX, DEMO_SPLIT, SHOWN_KEY, TITLE
from studio.ui.main_window import MainWindow
from tests.ui.editor_driver import known_song


def launch(qtbot, ini) -> MainWindow:
    w = MainWindow(QSettings(str(ini), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    qtbot.wait(50)   # the demo opens once the event loop runs
    return w


def test_the_demo_opens_on_the_first_launch_only(qtbot, tmp_path):
    ini = tmp_path / "settings.ini"
    w = launch(qtbot, ini)
    song = w.document.song
    assert song.title == TITLE and len(song.tracks) == 1
    soprano = jsb_chorales().split(DEMO_SPLIT)[DEMO_INDEX].satb[:, 0]
    pitches = [n.pitch for n in song.tracks[0].notes]
    assert pitches[0] == soprano[0] and set(pitches) == set(soprano[soprano >= 0].tolist())
    assert not w.document.is_modified and w.document.current_track_id == song.tracks[0].id
    panel = w.generation_panel
    assert panel.mode() == "harmonize" and "Press Harmonize" in panel.message.text()
    qtbot.waitUntil(lambda: panel.model_combo.model_name() == "cnn-harmonizer", timeout=30_000)
    assert QSettings(str(ini), QSettings.Format.IniFormat).value(SHOWN_KEY, type=bool)
    w.close()

    again = launch(qtbot, ini)
    assert again.document.song.title != TITLE and not again.document.song.tracks
    # Help > Open Demo brings it back; unsaved work is kept first (asked about on a desktop).
    again.open_song(known_song())
    again.document.apply(ChangeSong((("title", "Work in progress"),)))
    help_actions = {a.objectName(): a for a in again.menus["Help"].actions()}
    help_actions["action_open_demo"].trigger()
    assert again.document.song.title == TITLE and again.generation_panel.mode() == "harmonize"
    kept = [load_project(p).song.title for p in recovery_dir().glob("session-*.studio")]
    assert "Work in progress" in kept
    again.close()


def test_a_song_from_the_command_line_opens_instead_of_the_demo(qtbot, midi_files):
    w = create_window(midi_files[0])
    qtbot.addWidget(w)
    qtbot.wait(50)
    assert w.document.path == midi_files[0] and w.document.song.title != TITLE
    assert w.document.song.note_count == read_song(midi_files[0]).note_count
    assert w.settings.value(SHOWN_KEY, type=bool), "the first launch is over"
    w.close()
