"""The main window: menus, docks, every shared MIDI file opens, bad files are explained and change
nothing, projects save and reopen with their view, unsaved changes are asked about, the layout and
recent files persist, preferences and feature modules plug in."""

import json
import sys
import types

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.midi import read_song
from studio.music.project import FORMAT_VERSION, Project, project_to_dict
from studio.music.song import Note, Song, Track
from studio.paths import recovery_dir
from studio.ui import main_window as main_window_module
from studio.ui.app import create_window
from studio.ui.main_window import MainWindow
from studio.ui.project.recovery import find_recoverable
from tests.ui.editor_driver import known_song, make_window, notes_of, snapshot


def menu_texts(menu):
    out = []
    for a in menu.actions():
        out.append(a.text().replace("&", ""))
        if a.menu():
            out += menu_texts(a.menu())
    return out


def test_menus_docks_and_status_bar(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    file_, edit = menu_texts(w.menus["File"]), menu_texts(w.menus["Edit"])
    for text in ("New", "Open Project…", "Open MIDI…", "Open Recent", "Save", "Save As…",
                 "Export MIDI…", "Quit"):
        assert text in file_
    for text in ("Cut", "Copy", "Paste", "Delete", "Select All", "Quantize", "Transpose",
                 "Up a Semitone", "Duplicate", "Preferences…"):
        assert text in edit
    assert any(t.startswith("Undo") for t in edit) and any(t.startswith("Redo") for t in edit)
    view, help_ = menu_texts(w.menus["View"]), menu_texts(w.menus["Help"])
    assert {"Zoom In", "Zoom Out", "Zoom to Fit", "Tracks", "Follow Playhead"} <= set(view)
    assert {"About Studio", "Keyboard Shortcuts"} <= set(help_)
    assert set(w.docks) >= {"Tracks", "Dataset", "Training", "Generation"}
    assert w.piano_roll is w.centralWidget() and w.transport_area.isVisible()
    assert "6 notes · 2 tracks" in w.counts.text()


def test_every_shared_midi_file_opens_and_paints(qtbot, tmp_path, midi_files):
    w = make_window(qtbot, tmp_path)
    for f in midi_files:
        assert w.open_path(f), f.name
        assert w.document.song.note_count == read_song(f).note_count
        assert f.stem in w.windowTitle() and not w.isWindowModified()
        before = w.piano_roll.canvas.paint_count
        w.piano_roll.canvas.repaint()
        assert w.piano_roll.canvas.paint_count == before + 1
    assert len(w.files.recent_files()) == 10


def test_bad_files_show_the_reason_and_leave_the_song_untouched(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    w.piano_roll.set_tool("draw")
    w.document.select([w.document.song.tracks[0].notes[0].id])
    w.piano_roll.nudge(0, 1)
    before, path = snapshot(w.document.song), w.document.path
    bad_midi = tmp_path / "broken.mid"
    bad_midi.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\xff\xff\xff\xff")
    newer = tmp_path / "future.studio"
    doc = project_to_dict(Project(Song(title="future")))
    doc["version"] = FORMAT_VERSION + 1
    newer.write_text(json.dumps(doc))
    junk = tmp_path / "junk.studio"
    junk.write_bytes(b"\x89PNG not a project")
    for bad, reason in ((bad_midi, "broken.mid"), (newer, "newer version of Studio"),
                        (junk, "not a Studio project"), (tmp_path / "gone.mid", "does not exist")):
        assert not w.open_path(bad)
        assert w.error_box is not None and w.error_box.isVisible()
        assert reason in w.error_box.text()
        w.error_box.close()
        assert snapshot(w.document.song) == before and w.document.path == path
        assert w.document.undo_stack.count() == 1 and w.document.is_modified


def test_project_save_and_reopen_keeps_song_view_and_track_state(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    doc, roll = w.document, w.piano_roll
    piano, bass = doc.song.tracks
    doc.track_colors[bass.id] = "#ff00ff"
    doc.set_track_flag("muted", piano.id, True)
    doc.set_track_flag("hidden", bass.id, True)
    doc.set_current_track(bass.id)
    doc.project_settings["generation"] = {"temperature": 0.8}
    roll.snap.set_name("1/8T")
    roll.set_loop_region((960, 2880))
    roll.geom.zoom_x(2.0)
    path = tmp_path / "mine.studio"
    assert w.save_project_to(path)
    assert not w.isWindowModified() and "mine" in w.files.recent_files()[0]
    other = tmp_path / "other"
    other.mkdir()
    w2 = make_window(qtbot, other, Song())
    assert w2.open_path(path)
    d2 = w2.document
    assert [notes_of(t) for t in d2.song.tracks] == [notes_of(piano), notes_of(bass)]
    p2, b2 = d2.song.tracks
    assert (b2.name, b2.program, b2.channel) == ("Bass", 33, 1)
    assert d2.muted == {p2.id} and d2.hidden == {b2.id} and d2.track_colors == {b2.id: "#ff00ff"}
    assert d2.current_track_id == b2.id and d2.project_settings == {
        "generation": {"temperature": 0.8}}
    assert w2.piano_roll.snap.name == "1/8T" and w2.piano_roll.loop_region() == (960, 2880)
    assert abs(w2.piano_roll.geom.px_per_tick - roll.geom.px_per_tick) < 1e-9
    assert d2.path == path and not d2.is_modified


def test_export_midi_writes_the_song(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    path = tmp_path / "out.mid"
    assert w.files.export_midi(path)
    back = read_song(path)
    assert [notes_of(t) for t in back.tracks] == [notes_of(t) for t in w.document.song.tracks]
    assert [(t.name, t.program) for t in back.tracks] == [("Piano", 0), ("Bass", 33)]
    assert not w.files.export_midi(tmp_path / "no" / "such" / "dir.mid")
    assert w.error_box is not None and "dir.mid" in w.error_box.text()


def answer_next_question(qtbot, button):
    """Click `button` of the next modal message box."""
    def press():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            box.button(button).click()
        else:
            QTimer.singleShot(10, press)
    QTimer.singleShot(0, press)


def test_open_song_asks_to_save_unsaved_changes(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    w.ask_when_headless = True
    doc = w.document
    doc.select([doc.song.tracks[0].notes[0].id])
    w.piano_roll.nudge(0, 2)
    edited = snapshot(doc.song)
    other = Song([Track("Other", notes=[Note(50, 0, 100)])], title="Other")
    answer_next_question(qtbot, QMessageBox.StandardButton.Cancel)
    assert not w.open_song(other)
    assert snapshot(doc.song) == edited
    path = tmp_path / "kept.studio"
    doc.path = path
    answer_next_question(qtbot, QMessageBox.StandardButton.Save)
    assert w.open_song(other)
    assert doc.song.title == "Other" and not doc.is_modified
    from studio.music.project import load_project

    assert notes_of(load_project(path).song.tracks[0])[0] == (62, 0, 480, 100)
    doc.select([doc.song.tracks[0].notes[0].id])
    w.piano_roll.nudge(0, 2)
    answer_next_question(qtbot, QMessageBox.StandardButton.Discard)
    assert w.open_song(known_song())
    assert doc.song.title == "Known"


def test_closing_headless_with_changes_keeps_them_for_recovery(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    w.document.select([w.document.song.tracks[0].notes[0].id])
    w.piano_roll.nudge(0, 5)
    assert w.close()
    items = find_recoverable()
    assert [i.project.song.title for i in items] == ["Known"]
    assert (65, 0, 480, 100) in notes_of(items[0].project.song.tracks[0])
    for item in items:
        item.remove()
    assert list(recovery_dir().iterdir()) == []


def test_layout_and_recent_files_persist(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    w.docks["Training"].hide()
    size = w.minimumSizeHint()
    wanted = (size.width() + 20, size.height() + 10)  # any size the window accepts
    w.resize(*wanted)
    w.files.add_recent(tmp_path / "a.mid")
    w.close()
    w2 = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w2)
    w2.show()
    assert not w2.docks["Training"].isVisible() and w2.docks["Tracks"].isVisible()
    assert (w2.width(), w2.height()) == wanted
    assert w2.files.recent_menu.actions()[0].text().endswith("a.mid")


def test_preferences_dialog_shows_feature_pages(qtbot, tmp_path):
    from PySide6.QtWidgets import QLabel, QSpinBox

    w = make_window(qtbot, tmp_path)
    w.preferences_pages.append(("Playback", lambda parent: QLabel("port", parent)))
    dialog = w.show_preferences()
    tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert tabs[0] == "Editor" and tabs[-1] == "Playback"  # features add theirs in between
    spin = dialog.findChild(QSpinBox, "autosave_minutes")
    spin.setValue(7)
    assert w.autosave.timer.interval() == 7 * 60_000 and w.autosave_minutes() == 7
    dialog.close()
    shortcuts = w.show_shortcuts()
    assert shortcuts.table.rowCount() > 20
    shortcuts.close()


def test_feature_modules_install_after_the_piano_roll(qtbot, tmp_path, monkeypatch):
    seen = []
    module = types.ModuleType("studio_test_feature")
    module.install = lambda window: seen.append((window.piano_roll, window.menus["View"]))
    monkeypatch.setitem(sys.modules, "studio_test_feature", module)
    monkeypatch.setattr(main_window_module, "FEATURE_MODULES", ["studio_test_feature"])
    w = make_window(qtbot, tmp_path)
    assert seen == [(w.piano_roll, w.menus["View"])]


def test_the_command_line_file_opens_in_the_window(qtbot, tmp_path, midi_files):
    w = create_window(midi_files[0])
    qtbot.addWidget(w)
    assert w.document.song.note_count == read_song(midi_files[0]).note_count
    path = tmp_path / "x.studio"
    assert w.save_project_to(path)
    w2 = create_window(str(path))
    qtbot.addWidget(w2)
    assert w2.document.path == path and w2.document.song.note_count == w.document.song.note_count


def test_a_window_never_closed_still_lets_the_process_exit_cleanly(tmp_path):
    """A script that builds the window and exits without closing it: the background threads
    the window started (the generation engine's import) are joined at exit, not destroyed while
    running (which makes Qt abort the process)."""
    import os
    import subprocess
    from pathlib import Path

    script = (
        "import sys\n"
        "from PySide6.QtCore import QSettings\n"
        "from studio.ui.app import application\n"
        "from studio.ui.main_window import MainWindow\n"
        "app = application()\n"
        f"w = MainWindow(QSettings({str(tmp_path / 's.ini')!r}, QSettings.Format.IniFormat))\n"
        "w.show()\n"
        "app.processEvents()\n"
        "print('built', flush=True)\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert "built" in done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Destroyed while thread" not in done.stderr
