"""Meter, key and mix from the window: Song > Time Signature… and Key Signature… put a change at
the playhead's bar as one undo step; Playback > Mixer sets a track's volume and pan (one undo
step each), heard in the render and written to MIDI files; Export Audio can normalize the peak
to -1 dBFS, and so can `studio render --normalize`."""

from __future__ import annotations

import wave

import numpy as np
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog

from studio.cli import main as cli_main
from studio.midi import read_song, write_song
from studio.midi.render import render_array
from studio.music.mix_and_meter import PAN, VOLUME, track_pan, track_volume
from studio.music.song import KeySignature, TempoChange, TimeSignature
from tests.realtime_fixtures import JackReceiver, jack_server  # noqa: F401
from tests.ui.editor_driver import known_song, make_window

BAR = 1920


def wav_peak_dbfs(path) -> float:
    with wave.open(str(path)) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    return 20 * np.log10(np.abs(samples).max() / 32767)


def menu_action(window, menu: str, name: str):
    return next(a for a in window.menus[menu].actions() if a.objectName() == name)


def test_time_and_key_signature_at_the_playhead(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    doc = w.document
    ruler, g = w.piano_roll.ruler, w.piano_roll.geom
    qtbot.mouseClick(ruler, Qt.MouseButton.LeftButton,
                     pos=QPoint(round(g.x_of(2 * BAR + 100)), ruler.height() - 4))
    steps = doc.undo_stack.count()
    menu_action(w, "Song", "action_time_signature").trigger()
    dialog = _open_dialog(w, "Time Signature")
    assert dialog.numerator.value() == 4
    dialog.numerator.setValue(3)
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok),
                     Qt.MouseButton.LeftButton)
    assert doc.song.time_signatures == [TimeSignature(0, 4, 4), TimeSignature(2 * BAR, 3, 4)]
    assert doc.undo_stack.count() == steps + 1
    # at bar 1: the song's key
    w.piano_roll.set_playhead(0)
    menu_action(w, "Song", "action_key_signature").trigger()
    dialog = _open_dialog(w, "Key Signature")
    dialog.key.setCurrentIndex(dialog.key.findText("A minor"))
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok),
                     Qt.MouseButton.LeftButton)
    assert doc.song.key_signatures == [KeySignature(0, 0, True)]
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.song.time_signatures == [TimeSignature(0, 4, 4)] and not doc.song.key_signatures
    doc.undo_stack.setClean()
    w.close()


def _open_dialog(window, title: str):
    QApplication.processEvents()
    return next(d for d in window.findChildren(QDialog) if d.windowTitle() == title
                and d.isVisible())


def test_mixer_volume_and_pan_heard_and_exported(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    doc = w.document
    menu_action(w, "Playback", "action_mixer").trigger()
    mixer = w.mixer_dialog
    qtbot.waitExposed(mixer)
    piano = doc.song.tracks[0]
    volume, pan = mixer.rows[piano.id][:2]
    assert volume.objectName() == f"volume_{piano.id}"
    assert volume.value() == 100 and pan.value() == 64
    steps = doc.undo_stack.count()
    volume.setFocus()
    for _ in range(8):
        QTest.keyClick(volume, Qt.Key.Key_PageDown)     # 8 steps of 8: 100 -> 36
    assert track_volume(doc.song.tracks[0]) == 36 and doc.undo_stack.count() == steps + 8
    pan.setFocus()
    QTest.keyClick(pan, Qt.Key.Key_Home)                 # hard left
    assert track_pan(doc.song.tracks[0]) == 0
    doc.undo_stack.undo()
    assert track_pan(doc.song.tracks[0]) == 64
    qtbot.waitUntil(lambda: pan.value() == 64, timeout=1000)   # the slider follows undo
    doc.undo_stack.redo()

    # heard: the piano alone, quieter and on the left
    solo = doc.song.copy()
    solo.tracks = solo.tracks[:1]
    mixed = render_array(solo)
    plain = solo.copy()
    plain.tracks[0].controls = []
    flat = render_array(plain)
    rms = lambda a: float(np.sqrt(np.mean(a.astype(np.float64) ** 2)))  # noqa: E731
    assert rms(mixed) < 0.5 * rms(flat)
    assert rms(mixed[:, 0]) > 10 * rms(mixed[:, 1]), "panned left"

    # written to MIDI
    w.files.export_midi(tmp_path / "mix.mid")
    back = read_song(tmp_path / "mix.mid")
    controls = {(c.number, c.value) for c in back.tracks[0].controls if c.tick == 0}
    assert {(VOLUME, 36), (PAN, 0)} <= controls
    doc.undo_stack.setClean()
    w.close()


def test_export_audio_normalized_and_the_cli(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    export = w.audio_export
    dialog = export.ask_and_export()
    assert dialog.normalize_box.isChecked(), "normalize is offered, on by default"
    with qtbot.waitSignal(export.finished, timeout=30_000) as done:
        dialog.selectFile(str(tmp_path / "loud.wav"))
        dialog.accept()
    assert done.args == [str(tmp_path / "loud.wav")]
    assert abs(wav_peak_dbfs(tmp_path / "loud.wav") - (-1.0)) < 0.1

    dialog = export.ask_and_export()
    dialog.normalize_box.setChecked(False)
    with qtbot.waitSignal(export.finished, timeout=30_000):
        dialog.selectFile(str(tmp_path / "plain.wav"))
        dialog.accept()
    assert wav_peak_dbfs(tmp_path / "plain.wav") < -3.0
    assert not export.ask_and_export().normalize_box.isChecked(), "the choice is remembered"
    doc = w.document
    doc.undo_stack.setClean()
    w.close()

    write_song(known_song(), tmp_path / "song.mid")
    assert cli_main(["render", str(tmp_path / "song.mid"), "-o", str(tmp_path / "cli.wav"),
                     "--normalize"]) == 0
    assert abs(wav_peak_dbfs(tmp_path / "cli.wav") - (-1.0)) < 0.1
    assert cli_main(["render", str(tmp_path / "song.mid"), "-o", str(tmp_path / "cli6.wav"),
                     "--normalize", "-6"]) == 0
    assert abs(wav_peak_dbfs(tmp_path / "cli6.wav") - (-6.0)) < 0.1


def test_the_mixer_is_heard_while_playing(qtbot, tmp_path, jack_server):  # noqa: F811
    """A volume moved during playback reaches the MIDI output at once (real JACK port)."""
    port = JackReceiver("MixerSynth")
    try:
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        settings.setValue("playback/output", port.port_name)   # the file make_window reads
        settings.sync()
        song = known_song()
        song.tempos = [TempoChange(0, 60.0)]     # 4 s of music: time to move a slider
        w = make_window(qtbot, tmp_path, song)
        w.playback.play(0)
        qtbot.waitUntil(lambda: w.playback.is_playing, timeout=2000)
        menu_action(w, "Playback", "action_mixer").trigger()
        bass = w.document.song.tracks[1]
        volume = w.mixer_dialog.rows[bass.id][0]
        volume.setFocus()
        QTest.keyClick(volume, Qt.Key.Key_End)
        assert port.wait_for(lambda r: any(m[0] & 0xF0 == 0xB0 and m[1] == VOLUME and m[2] == 127
                                           for m in r.messages()), 2), "heard at once"
        assert w.playback.is_playing
        w.playback.stop()
        w.document.undo_stack.setClean()
        w.close()
    finally:
        port.close()
