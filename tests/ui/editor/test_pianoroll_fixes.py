"""Bugs found by trying the piano roll as a musician would (issue 20), on the real window:
Zoom to Fit (Ctrl+0) shows the whole of a long song; a velocity set in one track's lane does not
leak into new notes of other tracks (each track keeps its own, shown beside the lane)."""

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.music.song import Note, Song, Track
from studio.ui.editor.pianoroll_canvas import DEFAULT_VELOCITY
from tests.ui.editor_driver import at, click, make_window, notes_of

CTRL = Qt.KeyboardModifier.ControlModifier


def long_song(bars: int = 130) -> Song:
    """A Funkytown-length song: a bass note on every beat for `bars` bars of 4/4."""
    bass = Track("Bass", program=33, notes=[Note(40 + (b % 5), b * 480, 240, 96)
                                            for b in range(bars * 4)])
    return Song([bass], title="Long")


def test_zoom_to_fit_shows_the_whole_of_a_long_song(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, long_song())
    roll, g = w.piano_roll, w.piano_roll.geom
    song_end = w.document.song.end
    assert song_end > 129 * 1920
    qtbot.keyClick(roll.canvas, Qt.Key.Key_0, CTRL)
    assert g.left_tick == 0 and g.visible_ticks()[1] >= song_end
    assert g.x_of(song_end) > 0.9 * g.width, "the song fills the view"
    # and the last note is painted: its pixel is not the background of its row
    last = w.document.song.tracks[0].notes[-1]
    g.centre_on_pitch(last.pitch)
    image = roll.canvas.grab().toImage()
    x = int(g.x_of(last.start)) + 1
    y = int(g.y_of(last.pitch) + g.key_height / 2)
    empty = image.pixel(x, int(g.y_of(last.pitch + 2) + g.key_height / 2))
    assert image.pixel(x, y) != empty


def set_velocity_in_lane(w, tick: int, velocity: int) -> int:
    """Drag the lane's bar of the note at `tick` to about `velocity`; the velocity it got."""
    lane, g = w.piano_roll.velocity_lane, w.piano_roll.geom
    x = round(g.x_of(tick)) + 1
    y = round(lane.y_of(velocity))
    QTest.mousePress(lane, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(x, lane.height() - 3))
    QTest.mouseMove(lane, QPoint(x, y))
    QTest.mouseRelease(lane, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(x, y))
    return lane.velocity_at(y)


def test_a_lane_velocity_stays_in_its_track(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, doc = w.piano_roll, w.document
    piano, bass = doc.song.tracks
    label = roll._velocity_label
    # before any lane edit: a track's new notes take the median velocity of its notes
    assert label.text().endswith("new: 85")                     # piano: 100 90 80 70
    click(roll.canvas, at(roll, 2400, 76))
    assert (76, 2400, 240, 85) in notes_of(piano)
    doc.set_current_track(bass.id)
    soft = set_velocity_in_lane(w, 960, 40)    # the bass note at 960 (the current track's bar)
    assert 35 <= soft <= 45 and (43, 960, 960, soft) in notes_of(bass)
    assert label.text().endswith(f"new: {soft}")
    doc.set_current_track(piano.id)
    assert label.text().endswith("new: 85")                     # the piano keeps its own
    QTest.qWait(QApplication.doubleClickInterval() + 50)        # not a double click
    click(roll.canvas, at(roll, 2880, 77))
    assert (77, 2880, 240, 85) in notes_of(piano)
    doc.set_current_track(bass.id)
    QTest.qWait(QApplication.doubleClickInterval() + 50)
    click(roll.canvas, at(roll, 2880, 45))
    assert (45, 2880, 240, soft) in notes_of(bass)
    # an empty track: the default
    w.open_song(Song([Track("Empty")]))
    assert label.text().endswith(f"new: {DEFAULT_VELOCITY}")
    w.document.undo_stack.setClean()


def test_making_another_track_current_leaves_the_focus_in_the_roll(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, doc = w.piano_roll, w.document
    click(roll.canvas, at(roll, 100, 48))             # a bass note: the bass becomes current
    assert doc.current_track_id == doc.song.tracks[1].id
    assert QApplication.focusWidget() is roll.canvas  # not the track list's colour button
    assert w.track_list.table.currentRow() == 1
    click(roll.canvas, at(roll, 2400, 50))            # so the next click draws at once
    assert (50, 2400, 240, 85) in notes_of(doc.song.tracks[1])
    doc.undo_stack.setClean()
