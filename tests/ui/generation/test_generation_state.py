"""The Generation panel forgets what belonged to the song before: a drum-track refusal and a ticked
time range are gone after File > New, and after Ctrl+Z takes an accepted variation out the panel
says so; the harmonize key of a drawn melody with F naturals is C major, not E minor; the bar
spin boxes speak the song's own meter."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.music.song import Note, Song, TimeSignature, Track
from tests.ui.editor_driver import make_window

GENERATION_TIMEOUT = 60_000


def drums_and_melody() -> Song:
    melody = Track("Melody", program=0, notes=[Note(p, i * 480, 480, 90) for i, p in
                                                enumerate((64, 67, 65, 64, 62, 64, 65, 67))])
    drums = Track("Drums", is_drum=True, channel=9,
                  notes=[Note(36, i * 480, 120, 100) for i in range(8)])
    return Song([melody, drums], title="Drums")


def ready(qtbot, w):
    panel = w.generation_panel
    panel.prepare()
    qtbot.waitUntil(panel.generate_button.isEnabled, timeout=30_000)
    return panel


def close(w) -> None:
    w.document.undo_stack.setClean()
    w.close()


def test_new_song_forgets_the_drum_refusal_and_the_ticked_range(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, drums_and_melody())
    panel = ready(qtbot, w)
    doc = w.document
    doc.current_track_id = doc.song.tracks[1].id       # the drum track
    panel.set_mode("harmonize")
    form = panel.forms["harmonize"]
    form.only_range.setChecked(True)
    form.only_range.setChecked(False)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.runner.is_running(), timeout=GENERATION_TIMEOUT)
    assert "drum track" in panel.message.text() and panel.message.property("error")
    form.only_range.setChecked(True)

    w.piano_roll.canvas.setFocus()
    QTest.keyClick(w.piano_roll.canvas, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: doc.song.title == "" and len(doc.song.tracks) == 1)
    assert panel.message.text() == "" and not panel.message.property("error")
    assert not form.only_range.isChecked()
    close(w)


def test_undo_of_an_accepted_variation_is_said(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, drums_and_melody())
    panel = ready(qtbot, w)
    doc = w.document
    doc.current_track_id = doc.song.tracks[0].id
    panel.set_mode("harmonize")
    panel.sampling.count.setValue(1)
    panel.sampling.seed.setValue(3)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.runner.is_running(), timeout=GENERATION_TIMEOUT)
    assert panel.candidates.candidates, panel.message.text()
    qtbot.mouseClick(panel.candidates.accept_button, Qt.MouseButton.LeftButton)
    assert "Variation 1 is in the song" in panel.message.text()
    tracks = len(doc.song.tracks)
    w.piano_roll.canvas.setFocus()
    QTest.keyClick(w.piano_roll.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(doc.song.tracks) < tracks
    assert "is in the song" not in panel.message.text()
    assert "taken out" in panel.message.text()
    close(w)


def test_harmonize_key_of_a_drawn_melody_with_f_naturals(qtbot, tmp_path):
    # E G F E D E F G: by profile alone the best match is E minor, which has no F natural
    w = make_window(qtbot, tmp_path, drums_and_melody())
    panel = w.generation_panel
    panel.set_mode("harmonize")
    w.document.current_track_id = w.document.song.tracks[0].id
    panel.refresh_forms()
    form = panel.forms["harmonize"]
    assert form.key.key() == (0, False)
    assert "C major" in form.key.currentText()
    close(w)


def test_bar_boxes_use_the_songs_meter(qtbot, tmp_path):
    song = drums_and_melody()
    song.time_signatures = [TimeSignature(0, 2, 4)]
    w = make_window(qtbot, tmp_path, song)
    panel = w.generation_panel
    panel.set_mode("melody")
    assert panel.forms["melody"].bars.suffix() == " bars of 2/4"
    panel.set_mode("continue")
    assert panel.forms["continue"].bars.suffix() == " bars of 2/4"
    panel.set_mode("harmonize")
    # 8 quarter notes = 4 bars of 2/4 (2 bars of 4/4)
    assert "4 bars of 2/4" in panel.forms["harmonize"].track.text()
    QTest.keyClick(w.piano_roll.canvas, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    panel.set_mode("melody")
    assert panel.forms["melody"].bars.suffix() == " bars"
    close(w)
