"""What the piano roll shows and its view controls: pixels of a known song rendered offscreen,
the ruler (seek, loop, time range), the keyboard's audition, the playhead that follows, and the
numpy columns behind the drawing (culling and per-track refresh)."""

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from studio.music.song import Note, Song, Track
from studio.ui import palette
from studio.ui.editor.note_columns import TrackColumns
from studio.ui.editor.pianoroll_canvas import OTHER_TRACK_STRENGTH
from studio.ui.editor.pianoroll_ruler import LOOP_STRIP
from tests.ui.editor_driver import at, click, drag, make_window


def pixel(image, point: QPoint) -> QColor:
    return QColor(image.pixel(point))


def close(a: QColor, b: QColor, tol: int = 3) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a.getRgb()[:3], b.getRgb()[:3]))


def test_screenshot_has_each_note_where_it_must_be(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, doc = w.piano_roll, w.document
    piano, bass = doc.song.tracks
    image = roll.canvas.grab().toImage()
    piano_shades = palette.velocity_shades(palette.track_color(0))
    for n in piano.notes:   # the current track: opaque, shaded by velocity
        p = at(roll, n.start + n.duration / 2, n.pitch)
        assert close(pixel(image, p), piano_shades[n.velocity * 8 // 128]), (n, pixel(image, p))
    bass_shades = palette.velocity_shades(palette.track_color(1), OTHER_TRACK_STRENGTH)
    for n in bass.notes:    # another track: dimmed
        p = at(roll, n.start + n.duration / 2, n.pitch)
        assert close(pixel(image, p), bass_shades[n.velocity * 8 // 128]), n
        assert not close(pixel(image, p), piano_shades[n.velocity * 8 // 128], 20)
    # an empty white-key row, a black-key row, and a bar line
    assert close(pixel(image, at(roll, 2400 + 30, 62)), palette.BACKGROUND)
    assert close(pixel(image, at(roll, 2400 + 30, 61)), palette.BLACK_KEY_ROW)
    bar2 = QPoint(int(np.floor(roll.geom.x_of(1920))), at(roll, 0, 62).y())
    assert close(pixel(image, bar2), palette.BAR_LINE)
    # selection, hidden tracks and the playhead change the picture
    doc.select([piano.notes[1].id])
    doc.set_track_flag("hidden", bass.id, True)
    roll.set_playhead(2880)
    image = roll.canvas.grab().toImage()
    assert close(pixel(image, at(roll, 720, 64)), palette.SELECTED_FILL)
    assert close(pixel(image, at(roll, 530, 48)), palette.BACKGROUND)
    x = int(np.floor(roll.geom.x_of(2880)))
    assert close(pixel(image, QPoint(x, 50)), palette.PLAYHEAD)


def test_ruler_click_seeks_and_drags_set_loop_and_time_range(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, ruler, doc = w.piano_roll, w.piano_roll.ruler, w.document
    seeks, loops = [], []
    roll.seek_requested.connect(seeks.append)
    roll.loop_changed.connect(lambda: loops.append(roll.loop_region()))
    y_time, y_loop = LOOP_STRIP + 10, LOOP_STRIP // 2
    x = lambda tick: round(roll.geom.x_of(tick))  # noqa: E731
    QTest.mouseClick(ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(x(1000), y_time))
    assert seeks == [960] and roll.playhead == 960     # on the 1/16 grid (120 ticks)
    QTest.mouseClick(ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier,
                     QPoint(x(1000), y_time))
    assert seeks[-1] == 1000 and roll.playhead == 1000  # Alt: where clicked
    drag(ruler, QPoint(x(965), y_loop), QPoint(x(2870), y_loop))
    assert roll.loop_region() == (960, 2880) and loops[-1] == (960, 2880)
    QTest.mouseDClick(ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      QPoint(x(1500), y_loop))
    assert roll.loop_region() is None and loops[-1] is None
    # a time range on the ruler selects the notes that start in it, for generation
    drag(ruler, QPoint(x(470), y_time), QPoint(x(1450), y_time))
    assert roll.selection_range() == (480, 1440)
    starts = sorted(doc.song.find_note(i)[1].start for i in doc.selected_note_ids)
    assert starts == [480, 960, 960]
    # a click on a note replaces the range by the selected notes' extent
    click(roll.canvas, at(roll, 1500, 72))
    assert roll.selection_range() == (1440, 1920)
    doc.clear_selection()
    assert roll.selection_range() is None
    roll.edit_actions["select_all"].trigger()
    roll.edit_actions["loop_selection"].trigger()
    assert roll.loop_region() == (0, 1920)


def test_keyboard_click_auditions_the_key(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll = w.piano_roll
    heard = []
    roll.audition_requested.connect(lambda p, v: heard.append((p, v)))
    y = at(roll, 0, 60).y()
    QTest.mouseClick(roll.keyboard, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(10, y))
    assert heard == [(60, 100)]


def test_playhead_follows_only_when_asked(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, g = w.piano_roll, w.piano_roll.geom
    end_of_view = g.tick_at(g.width)
    roll.follow_box.setChecked(False)
    roll.set_playhead(int(end_of_view + 4000))
    assert g.left_tick == 0
    roll.follow_box.setChecked(True)
    roll.set_playhead(int(end_of_view + 4000))
    assert g.left_tick < end_of_view + 4000 < g.tick_at(g.width)
    roll.set_playhead(None)
    assert roll.playhead is None


def brute_visible(track, t0, t1, lo, hi):
    return sorted(n.id for n in track.notes if (n.end > t0 or n.start >= t0) and n.start < t1
                  and lo <= n.pitch <= hi)


def test_columns_cull_exactly_like_a_full_scan():
    rng = np.random.default_rng(5)
    track = Track("T", notes=[Note(int(p), int(s), int(d), 64) for p, s, d in zip(
        rng.integers(20, 100, 3000), rng.integers(0, 200_000, 3000),
        rng.choice([0, 10, 480, 50_000], 3000))])
    cols = TrackColumns.of(track)
    assert np.all(np.diff(cols.start) >= 0)
    for _ in range(200):
        t0 = float(rng.integers(0, 200_000))
        t1 = t0 + float(rng.integers(1, 30_000))
        lo = int(rng.integers(0, 100))
        hi = lo + int(rng.integers(0, 40))
        got = sorted(cols.id[cols.visible(t0, t1, lo, hi)].tolist())
        assert got == brute_visible(track, t0, t1, lo, hi)


def test_an_edit_rebuilds_only_the_columns_of_the_tracks_it_touched(qtbot, tmp_path):
    tracks = [Track(f"T{i}", notes=[Note(60 + i, j * 480, 240) for j in range(50)])
              for i in range(4)]
    w = make_window(qtbot, tmp_path, Song(tracks))
    doc, columns = w.document, w.piano_roll.columns
    before = [columns.of(t) for t in doc.song.tracks]
    doc.select([doc.song.tracks[2].notes[5].id])
    w.piano_roll.nudge(480, 1)
    after = [columns.of(t) for t in doc.song.tracks]
    assert [a is b for a, b in zip(before, after)] == [True, True, False, True]
    fresh = TrackColumns.of(doc.song.tracks[2])
    assert np.array_equal(after[2].start, fresh.start)
    assert np.array_equal(after[2].pitch, fresh.pitch)
    doc.undo_stack.undo()
    assert np.array_equal(columns.of(doc.song.tracks[2]).pitch, before[2].pitch)


def test_grid_lines_follow_the_snap_value(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, Song([Track("Empty")]))
    roll = w.piano_roll
    y = at(roll, 0, 62).y()   # a white-key row with no notes

    def is_line(tick):
        image = roll.canvas.grab().toImage()
        return not close(pixel(image, QPoint(int(np.floor(roll.geom.x_of(tick))), y)),
                         palette.BACKGROUND)

    roll.snap.set_name("1/16")                  # 120 ticks = 12 px apart
    assert is_line(120) and is_line(360) and not is_line(160)
    roll.snap.set_name("1/8T")                  # eighth-note triplets: 160 ticks
    assert is_line(160) and is_line(320) and not is_line(120)
    roll.snap.set_name("1/4")
    assert is_line(480) and not is_line(120) and not is_line(160)
