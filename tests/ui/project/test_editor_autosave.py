"""Autosave and recovery inside one process: the timer writes only after changes, saving or a
clean exit removes the autosave, a running session is never offered, and the recovery dialog's
Discard / Not Now do what they say."""

from PySide6.QtCore import QSettings, Qt

from studio.music.project import load_project
from studio.paths import recovery_dir
from studio.ui.main_window import MainWindow
from studio.ui.project.recovery import find_recoverable
from tests.ui.editor_driver import make_window, notes_of


def edit(window, semitones=1):
    doc = window.document
    doc.select([doc.song.tracks[0].notes[0].id])
    window.piano_roll.nudge(0, semitones)


def test_autosave_writes_after_changes_only_and_saving_removes_it(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, autosave_interval_ms=20)
    qtbot.wait(80)
    assert w.autosave.saves == 0 and not w.autosave.path.exists()
    edit(w, 3)
    qtbot.waitUntil(lambda: w.autosave.saves == 1, timeout=2000)
    saved = load_project(w.autosave.path)
    assert (63, 0, 480, 100) in notes_of(saved.song.tracks[0])
    assert saved.settings["recovery"]["title"] == "Known"
    qtbot.wait(80)
    assert w.autosave.saves == 1          # nothing changed since: no new write
    assert w.save_project_to(tmp_path / "p.studio")
    assert not w.autosave.path.exists()   # saved work needs no recovery
    edit(w)
    qtbot.waitUntil(lambda: w.autosave.path.exists(), timeout=2000)
    w.document.undo_stack.setClean()
    w.close()
    assert list(recovery_dir().glob("session-*")) == []   # a clean exit leaves nothing


def test_a_running_session_is_not_offered_to_another_window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, autosave_interval_ms=20)
    edit(w)
    qtbot.waitUntil(lambda: w.autosave.saves >= 1, timeout=2000)
    assert find_recoverable() == []
    w2 = MainWindow(QSettings(str(tmp_path / "2.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w2)
    w2.show()
    qtbot.wait(50)
    assert w2.recovery_dialog is None
    w.document.undo_stack.setClean()


def orphan_autosave(qtbot, tmp_path, semitones):
    """A window that autosaved changes and then vanished without closing (its lock released as
    a dead process's would be)."""
    w = make_window(qtbot, tmp_path, autosave_interval_ms=20)
    edit(w, semitones)
    qtbot.waitUntil(lambda: w.autosave.saves >= 1, timeout=2000)
    w.autosave.timer.stop()
    w.autosave.lock.unlock()
    w.autosave.discard = lambda: None   # the "crashed" window must not tidy up
    w.document.undo_stack.setClean()
    return w.autosave.path


def new_window(qtbot, tmp_path, name):
    w = MainWindow(QSettings(str(tmp_path / name), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.recovery_dialog is not None and w.recovery_dialog.isVisible())
    return w


def test_not_now_keeps_the_autosave_and_discard_removes_it(qtbot, tmp_path):
    path = orphan_autosave(qtbot, tmp_path, 4)
    w = new_window(qtbot, tmp_path, "a.ini")
    assert w.recovery_dialog.list.count() == 1
    assert "Known (6 notes)" in w.recovery_dialog.list.item(0).text()
    qtbot.mouseClick(w.recovery_dialog.later_button, Qt.MouseButton.LeftButton)
    assert path.exists() and w.document.song.note_count == 0
    w2 = new_window(qtbot, tmp_path, "b.ini")      # offered again at the next launch
    qtbot.mouseClick(w2.recovery_dialog.discard_button, Qt.MouseButton.LeftButton)
    assert not path.exists() and find_recoverable() == []


def test_recover_restores_the_song_as_unsaved_work(qtbot, tmp_path):
    orphan_autosave(qtbot, tmp_path, 7)
    w = new_window(qtbot, tmp_path, "c.ini")
    qtbot.mouseClick(w.recovery_dialog.recover_button, Qt.MouseButton.LeftButton)
    assert (67, 0, 480, 100) in notes_of(w.document.song.tracks[0])
    assert w.document.is_modified and "Recovered" in w.statusBar().currentMessage()
    assert w.autosave.path.exists()
    w.document.undo_stack.setClean()
