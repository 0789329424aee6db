"""Crash safety with a real process: a Studio window saving and autosaving an 80,000-note project
over and over is killed with SIGKILL at random moments. The project file must always load, as the
old or the new version (never damaged), and the next launch must offer the autosave back and
recover it."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt

from studio.music.project import backup_path, load_project
from studio.paths import recovery_dir
from studio.ui.main_window import MainWindow

BASE_NOTES = 16 * 5000

CHILD = r"""
import os, sys
import numpy as np
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from studio.music.edits import AddNotes, ChangeSong, Compound
from studio.music.song import Note, Song, Track, new_id
from studio.ui.main_window import MainWindow

path, ini, stop_after_autosaves = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = QApplication([])
rng = np.random.default_rng(0)
song = Song(title="v0")
for i in range(16):
    starts = np.sort(rng.integers(0, 480 * 4 * 400, 5000))
    song.tracks.append(Track(f"T{i}", notes=[
        Note(int(p), int(s), int(d), int(v)) for p, s, d, v in zip(
            rng.integers(30, 90, 5000), starts, rng.integers(30, 960, 5000),
            rng.integers(1, 128, 5000))]))
w = MainWindow(QSettings(ini, QSettings.Format.IniFormat), autosave_interval_ms=10)
w.open_song(song)
state = {"i": 0}

def step():
    # odd steps change the song and wait for an autosave; even steps change it and save
    i = state["i"] = state["i"] + 1
    track = w.document.song.tracks[i % 16]
    w.document.apply(Compound((ChangeSong((("title", f"v{i}"),)),
                               AddNotes(((track.id, (new_id(), 60, i, 10, 64)),)))))
    if i % 2 == 0:
        w.save_project_to(path)
        print(f"saved {i}", flush=True)
        QTimer.singleShot(0, step)
    else:
        wait_for_autosave(w.autosave.saves, i)

def wait_for_autosave(before, i):
    if w.autosave.saves == before:
        QTimer.singleShot(2, lambda: wait_for_autosave(before, i))
        return
    print(f"autosaved {i}", flush=True)
    if stop_after_autosaves and w.autosave.saves >= stop_after_autosaves:
        print("idle", flush=True)   # unsaved changes, autosaved: wait to be killed
        return
    QTimer.singleShot(0, step)

print("ready", flush=True)
QTimer.singleShot(0, step)
app.exec()
"""


def run_child(tmp_path: Path, project: Path, stop_after_autosaves: int = 0):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(project), str(tmp_path / "child.ini"),
         str(stop_after_autosaves)], stdout=subprocess.PIPE, text=True, env=env,
        cwd=Path(__file__).resolve().parents[3])


def read_until(proc, predicate, timeout=60.0) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"the child ended early: {lines[-5:]}")
        lines.append(line.strip())
        if predicate(lines[-1]):
            return lines
    raise AssertionError("the child took too long")


def version(song) -> int:
    k = int(song.title[1:])
    assert song.note_count == BASE_NOTES + k, "title and notes are from different versions"
    return k


def test_sigkill_during_saves_and_autosaves_never_damages_and_recovery_works(qtbot, tmp_path):
    rng = random.Random(1234)
    for r in range(3):   # killed at random moments while saving and autosaving
        project = tmp_path / f"big{r}.studio"
        child = run_child(tmp_path, project)
        lines = read_until(child, lambda s: s.startswith("saved"))
        time.sleep(rng.uniform(0.05, 0.6))
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate(timeout=30)
        lines += rest.splitlines()
        saved = [int(s.split()[1]) for s in lines if s.startswith("saved")]
        k = version(load_project(project).song)
        # the old version or the one being written when the kill came
        assert k in (saved[-1], saved[-1] + 2), (k, saved[-3:])
        if backup_path(project).exists():
            assert version(load_project(backup_path(project)).song) <= k
        for autosave in recovery_dir().glob("session-*.studio"):
            assert version(load_project(autosave).song) % 2 == 1   # complete, from an odd step

    # killed after autosaving unsaved changes: the next launch offers them back
    child = run_child(tmp_path, project, stop_after_autosaves=3)
    lines = read_until(child, lambda s: s == "idle")
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    last = max(int(s.split()[1]) for s in lines if s.startswith("autosaved"))

    window = MainWindow(QSettings(str(tmp_path / "pytest.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.recovery_dialog is not None and
                    window.recovery_dialog.isVisible())
    dialog = window.recovery_dialog
    assert dialog.list.count() >= 1
    assert f"v{last}" in dialog.list.item(0).text()
    offered_path = dialog.items[0].path
    qtbot.mouseClick(dialog.recover_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    song = window.document.song
    assert song.title == f"v{last}" and song.note_count == BASE_NOTES + last
    assert window.document.is_modified and window.isWindowModified()
    # the recovered work is autosaved by this session at once; the old autosave is gone
    assert window.autosave.path.exists()
    assert not offered_path.exists()
    assert version(load_project(window.autosave.path).song) == last
    window.document.undo_stack.setClean()
