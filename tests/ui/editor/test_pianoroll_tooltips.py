"""The note under the mouse tells its name, start (bar:beat:tick), length and velocity; a drum
track's keyboard names the General MIDI drums (real window, real tooltip events)."""

from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QColor, QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from studio.music.positions import length_text, note_value, position_text, range_text
from studio.music.song import KeySignature, Note, Song, TimeSignature, Track
from studio.ui.editor.pianoroll_keyboard import DRUM_STUB, DRUM_WIDTH, WIDTH
from tests.ui.editor_driver import at, make_window


def hover(qtbot, widget, pos: QPoint) -> str:
    """Hold the mouse still over `pos`: the tooltip's text ('' when none shows)."""
    event = QHelpEvent(QEvent.Type.ToolTip, pos, widget.mapToGlobal(pos))
    QApplication.sendEvent(widget, event)
    return QToolTip.text() if event.isAccepted() and QToolTip.isVisible() else ""


def song() -> Song:
    keys = Track("Keys", program=0, channel=0, notes=[Note(61, 2040, 240, 77),
                                                      Note(70, 0, 300, 50)])
    drums = Track("Drums", is_drum=True, channel=9, notes=[Note(36, 0, 120, 110),
                                                           Note(38, 480, 120, 90)])
    return Song([keys, drums], key_signatures=[KeySignature(0, 0), KeySignature(1920, -2)])


def test_hovering_a_note_names_it(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, song())
    roll = w.piano_roll
    text = hover(qtbot, roll.canvas, at(roll, 2100, 61))
    # bar 2 in B flat major: spelled with flats; an eighth note, 120 ticks into beat 1
    assert text.splitlines() == ["Db4 (61) — Keys", "Start: 2:1:120 (bar:beat:tick)",
                                 "Length: 1/8 (240 ticks)", "Velocity: 77"]
    assert "A#4 (70)" in hover(qtbot, roll.canvas, at(roll, 100, 70))   # C major: sharps
    assert "Length: 300 ticks" in QToolTip.text()
    assert hover(qtbot, roll.canvas, at(roll, 3000, 65)) == ""          # empty space
    # a drum note says its drum
    assert hover(qtbot, roll.canvas, at(roll, 500, 38)).startswith("38 Acoustic Snare — Drums")


def dark_pixels(keyboard, pitch: int) -> int:
    """Dark (text) pixels in the name area of a row of the keyboard."""
    image = keyboard.grab().toImage()
    g = keyboard.roll.geom
    y0, y1 = round(g.y_of(pitch)) + 2, round(g.y_of(pitch) + g.key_height) - 2
    x0 = round(keyboard.width() * DRUM_STUB) + 4
    return sum(QColor(image.pixel(x, y)).lightness() < 120
               for x in range(x0, keyboard.width() - 4) for y in range(y0, y1))


def test_a_drum_track_shows_drum_names_on_the_keyboard(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, song())
    roll, doc = w.piano_roll, w.document
    keys, drums = doc.song.tracks
    assert roll.keyboard.width() == WIDTH
    assert hover(qtbot, roll.keyboard, at(roll, 0, 38)).startswith("D2 (38)")
    assert dark_pixels(roll.keyboard, 38) == 0          # a white key, no name
    doc.set_current_track(drums.id)
    qtbot.waitUntil(lambda: roll.keyboard.width() == DRUM_WIDTH)
    assert hover(qtbot, roll.keyboard, at(roll, 0, 38)).startswith("38 Acoustic Snare")
    assert hover(qtbot, roll.keyboard, at(roll, 0, 36)).startswith("36 Bass Drum 1")
    assert dark_pixels(roll.keyboard, 38) > 20           # its name is written on the row
    doc.set_current_track(keys.id)
    qtbot.waitUntil(lambda: roll.keyboard.width() == WIDTH)


def test_positions_lengths_and_ranges_in_words():
    waltz = [TimeSignature(0, 3, 4)]
    assert position_text(1440 + 480 + 60, waltz) == "2:2:60"
    assert [note_value(t) for t in (1920, 720, 160, 120, 100)] == [
        "1/1", "dotted 1/4", "1/8 triplet", "1/16", None]
    assert length_text(480) == "1/4 (480 ticks)" and length_text(100) == "100 ticks"
    four = [TimeSignature(0, 4, 4)]
    assert range_text(3840, 7680, four) == "bar 3 to bar 5"
    # a range inside one beat no longer reads "bar 1 beat 3 to bar 1 beat 3"
    assert range_text(960, 1080, four) == "bar 1 beat 3 (a 1/16 note)"
    assert range_text(1020, 1080, four) == "bar 1 beat 3 + 60 ticks (a 1/32 note)"
    assert range_text(960, 1440, four) == "bar 1 beat 3 to bar 1 beat 4"
