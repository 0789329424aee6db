"""Snapping in the real piano roll: ruler clicks put the playhead on the grid (Alt: anywhere), a
paste lands on the grid, and Ctrl+D copies a bar's worth of music to the next bar line (a short
figure to the next grid line; a ruler range exactly after itself), in any meter."""

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio.music.song import Note, Song, TimeSignature, Track
from studio.music.timing import bar_at
from studio.ui.editor.pianoroll_ruler import LOOP_STRIP
from tests.ui.editor_driver import at, click, drag, make_window, notes_of

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def test_a_ruler_click_snaps_the_playhead_and_a_paste_lands_on_the_grid(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, doc = w.piano_roll, w.document
    roll.snap.set_name("1/4")
    y = LOOP_STRIP + 10
    QTest.mouseClick(roll.ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(round(roll.geom.x_of(5674)), y))
    assert roll.playhead == 5760                           # the nearest quarter
    click(roll.canvas, at(roll, 100, 60))
    qtbot.keyClick(roll.canvas, Qt.Key.Key_C, CTRL)
    roll.set_playhead(5674)                                # e.g. where playback stopped
    qtbot.keyClick(roll.canvas, Qt.Key.Key_V, CTRL)
    assert (60, 5760, 480, 100) in notes_of(doc.song.tracks[0])
    roll.snap.set_name("Off")                              # no grid: exactly at the playhead
    qtbot.keyClick(roll.canvas, Qt.Key.Key_V, CTRL)
    assert (60, 5674, 480, 100) in notes_of(doc.song.tracks[0])
    doc.undo_stack.setClean()


def test_duplicate_goes_to_the_next_bar_line(qtbot, tmp_path):
    # a bar of 4/4 whose last note ends on beat 4, then a one-beat fill
    melody = Track("Melody", notes=[Note(60, 0, 480, 90), Note(62, 480, 480, 90),
                                    Note(64, 960, 480, 90), Note(67, 3840, 240, 90),
                                    Note(65, 4080, 240, 90)])
    w = make_window(qtbot, tmp_path, Song([melody]))
    roll, doc = w.piano_roll, w.document
    track = doc.song.tracks[0]
    click(roll.canvas, at(roll, 100, 60))
    click(roll.canvas, at(roll, 600, 62), SHIFT)
    click(roll.canvas, at(roll, 1100, 64), SHIFT)
    qtbot.keyClick(roll.canvas, Qt.Key.Key_D, CTRL)
    # three beats of music: the copy starts at bar 2, not right after the last note (1440)
    assert {(60, 1920, 480, 90), (62, 2400, 480, 90), (64, 2880, 480, 90)} < set(
        notes_of(track))
    qtbot.keyClick(roll.canvas, Qt.Key.Key_D, CTRL)       # and again at bar 3
    assert {n[1] for n in notes_of(track) if n[0] == 60} == {0, 1920, 3840}
    # a short figure (two 1/8 notes at bar 3): right after itself, on the grid
    doc.select([n.id for n in track.notes if n.pitch in (65, 67) and n.start >= 3840])
    qtbot.keyClick(roll.canvas, Qt.Key.Key_D, CTRL)
    assert {(67, 4320, 240, 90), (65, 4560, 240, 90)} < set(notes_of(track))
    # a range dragged on the ruler is repeated exactly after itself
    y = LOOP_STRIP + 10
    drag(roll.ruler, QPoint(round(roll.geom.x_of(0)), y),
         QPoint(round(roll.geom.x_of(960)), y))
    assert roll.time_range() == (0, 960)
    qtbot.keyClick(roll.canvas, Qt.Key.Key_D, CTRL)
    starts = sorted(doc.song.find_note(i)[1].start for i in doc.selected_note_ids)
    assert starts == [960, 1440]
    doc.undo_stack.setClean()


def test_duplicate_uses_the_bar_of_the_meter(qtbot, tmp_path):
    waltz = Song([Track("Waltz", notes=[Note(55, 0, 480, 80), Note(59, 480, 480, 80)])],
                 time_signatures=[TimeSignature(0, 3, 4)])
    assert bar_at(2000, waltz.time_signatures) == (1440, 1440)
    w = make_window(qtbot, tmp_path, waltz)
    roll, doc = w.piano_roll, w.document
    qtbot.keyClick(roll.canvas, Qt.Key.Key_A, CTRL)
    qtbot.keyClick(roll.canvas, Qt.Key.Key_D, CTRL)        # two beats of a 3/4 bar: next bar
    assert {(55, 1440, 480, 80), (59, 1920, 480, 80)} < set(notes_of(doc.song.tracks[0]))
    doc.undo_stack.setClean()
