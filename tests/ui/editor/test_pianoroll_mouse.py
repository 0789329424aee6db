"""The piano roll under the mouse: draw, select (click, Shift, rubber band), move (snap, Alt,
Ctrl copies), resize, delete, velocity lane; each gesture is one undo step and undo/redo restore
the exact song."""

from PySide6.QtCore import QPoint, Qt

from tests.ui.editor_driver import at, click, drag, make_window, notes_of, snapshot

ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def piano(window):
    return window.document.song.tracks[0]


def note_id(window, pitch, start):
    return next(n.id for t in window.document.song.tracks for n in t.notes
                if (n.pitch, n.start) == (pitch, start))


def test_draw_click_and_drag_adds_notes_on_the_grid(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, canvas = w.piano_roll, w.piano_roll.canvas
    heard = []
    roll.audition_requested.connect(lambda p, v: heard.append(p))
    before = snapshot(w.document.song)
    # a click at beat 5 + a bit, pitch 62 in the current (piano) track: snapped to the 1/16 grid
    click(canvas, at(roll, 1920 + 50, 62))
    new = [n for n in piano(w).notes if n.pitch == 62]
    assert [(n.start, n.duration) for n in new] == [(1920, canvas.draw_length)]
    assert w.document.selected_note_ids == {new[0].id}
    assert heard == [62]
    # a drag from bar 3 to 1.5 beats later gives a note of that length
    drag(canvas, at(roll, 3840 + 10, 65), at(roll, 3840 + 720 + 5, 65))
    drawn = [n for n in piano(w).notes if n.pitch == 65]
    assert [(n.start, n.duration) for n in drawn] == [(3840, 720)]
    assert w.document.undo_stack.count() == 2
    w.document.undo_stack.undo()
    w.document.undo_stack.undo()
    assert snapshot(w.document.song) == before


def test_click_selects_shift_adds_and_removes(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, canvas, doc = w.piano_roll, w.piano_roll.canvas, w.document
    click(canvas, at(roll, 100, 60))
    assert doc.selected_note_ids == {note_id(w, 60, 0)}
    click(canvas, at(roll, 600, 64), SHIFT)
    assert doc.selected_note_ids == {note_id(w, 60, 0), note_id(w, 64, 480)}
    click(canvas, at(roll, 100, 60), SHIFT)
    assert doc.selected_note_ids == {note_id(w, 64, 480)}
    # a click on a note of the bass track selects it and makes that track current
    click(canvas, at(roll, 100, 48))
    assert doc.selected_note_ids == {note_id(w, 48, 0)}
    assert doc.current_track_id == doc.song.tracks[1].id
    assert doc.undo_stack.count() == 0


def test_rubber_band_selects_inside_and_shift_adds(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, canvas, doc = w.piano_roll, w.piano_roll.canvas, w.document
    roll.set_tool("select")
    # a band over beats 1-2 and pitches 59-65 catches C4 and E4 only
    drag(canvas, at(roll, 10, 65) - QPoint(0, 5), at(roll, 900, 59) + QPoint(0, 5))
    assert doc.selected_note_ids == {note_id(w, 60, 0), note_id(w, 64, 480)}
    drag(canvas, at(roll, 1000, 74), at(roll, 1900, 70), SHIFT)
    assert doc.selected_note_ids == {note_id(w, 60, 0), note_id(w, 64, 480),
                                     note_id(w, 72, 1440)}
    click(canvas, at(roll, 3000, 90))  # a click on empty space clears the selection
    assert doc.selected_note_ids == set()


def test_drag_moves_selection_snapped_and_undoes_as_one_step(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, canvas, doc = w.piano_roll, w.piano_roll.canvas, w.document
    before = snapshot(doc.song)
    heard = []
    roll.audition_requested.connect(lambda p, v: heard.append(p))
    click(canvas, at(roll, 100, 60))
    click(canvas, at(roll, 600, 64), SHIFT)
    # drag C4 by 250 ticks right (snaps to 240 = one 1/16... no: to the nearest 1/16 = 240)
    # and 2 rows up, in several mouse moves
    drag(canvas, at(roll, 100, 60), at(roll, 100 + 250, 62), steps=8)
    assert notes_of(piano(w))[:2] == [(62, 240, 480, 100), (66, 720, 480, 90)]
    assert 62 in heard
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert snapshot(doc.song) == before
    doc.undo_stack.redo()
    assert notes_of(piano(w))[:2] == [(62, 240, 480, 100), (66, 720, 480, 90)]


def test_alt_drag_moves_off_the_grid(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, canvas = w.piano_roll, w.piano_roll.canvas
    drag(canvas, at(roll, 100, 60), at(roll, 100 + 130, 60), ALT)
    start = next(n.start for n in piano(w).notes if n.pitch == 60)
    assert start not in (0, 240) and abs(start - 130) <= 10  # 1 px = 10 ticks


def test_ctrl_drag_copies(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, canvas, doc = w.piano_roll, w.piano_roll.canvas, w.document
    original = note_id(w, 67, 960)
    drag(canvas, at(roll, 1000, 67), at(roll, 1000 + 960, 67), CTRL)
    assert notes_of(piano(w)).count((67, 960, 480, 80)) == 1
    assert (67, 1920, 480, 80) in notes_of(piano(w))
    copy = note_id(w, 67, 1920)
    assert copy != original and doc.selected_note_ids == {copy}
    doc.undo_stack.undo()
    assert (67, 1920, 480, 80) not in notes_of(piano(w))


def test_resize_from_the_right_edge(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, canvas, doc = w.piano_roll, w.piano_roll.canvas, w.document
    edge = at(roll, 480, 60, dx=-2)  # 2 px inside the right edge of C4 (0..480)
    drag(canvas, edge, edge + QPoint(round(240 * 0.1), 0))
    assert (60, 0, 720, 100) in notes_of(piano(w))
    # shrinking stops at one grid step
    edge = at(roll, 720, 60, dx=-2)
    drag(canvas, edge, edge - QPoint(200, 0))
    assert (60, 0, 120, 100) in notes_of(piano(w))
    assert doc.undo_stack.count() == 2


def test_delete_by_key_and_by_right_click(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, canvas, doc = w.piano_roll, w.piano_roll.canvas, w.document
    before = snapshot(doc.song)
    click(canvas, at(roll, 100, 60))
    click(canvas, at(roll, 600, 64), SHIFT)
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert [n[0] for n in notes_of(piano(w))] == [67, 72]
    assert doc.selected_note_ids == set()
    click(canvas, at(roll, 1000, 67), button=Qt.MouseButton.RightButton)  # draw tool erases
    assert [n[0] for n in notes_of(piano(w))] == [72]
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert snapshot(doc.song) == before


def test_velocity_lane_drag_changes_selected_together_and_sweeps(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, lane, doc = w.piano_roll, w.piano_roll.velocity_lane, w.document
    before = snapshot(doc.song)
    click(roll.canvas, at(roll, 100, 60))
    click(roll.canvas, at(roll, 600, 64), SHIFT)
    x = round(roll.geom.x_of(480)) + 1
    y = round(lane.y_of(90))
    # drag E4's bar (selected) up by about 20 velocity steps: both selected notes follow
    dy = round(20 / 127 * (lane.height() - 4))
    drag(lane, QPoint(x, y), QPoint(x, y - dy))
    vel = {n.pitch: n.velocity for n in piano(w).notes}
    assert vel[64] - 90 == vel[60] - 100 and 15 <= vel[64] - 90 <= 25
    assert vel[67] == 80
    assert doc.undo_stack.count() == 1
    # with nothing selected, a sweep sets the bars under the mouse to the mouse height
    doc.clear_selection()
    y10 = round(lane.y_of(10))
    drag(lane, QPoint(round(roll.geom.x_of(960)) + 1, y10),
         QPoint(round(roll.geom.x_of(1440)) + 1, y10), steps=10)
    vel = {n.pitch: n.velocity for n in piano(w).notes}
    assert abs(vel[67] - 10) <= 3 and abs(vel[72] - 10) <= 3
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert snapshot(doc.song) == before


def test_a_long_session_undoes_and_redoes_exactly(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, canvas, doc = w.piano_roll, w.piano_roll.canvas, w.document
    states = [snapshot(doc.song)]
    click(canvas, at(roll, 2400, 70))
    states.append(snapshot(doc.song))
    drag(canvas, at(roll, 100, 60), at(roll, 600, 58))
    states.append(snapshot(doc.song))
    drag(canvas, at(roll, 1000, 67), at(roll, 1500, 67), CTRL)
    states.append(snapshot(doc.song))
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    states.append(snapshot(doc.song))
    edge = at(roll, 1920, 72, dx=-2)
    drag(canvas, edge, edge + QPoint(48, 0))
    states.append(snapshot(doc.song))
    for a, b in zip(states, states[1:]):
        assert a != b  # every step changed the song
    for expected in reversed(states[:-1]):
        doc.undo_stack.undo()
        assert snapshot(doc.song) == expected
    for expected in states[1:]:
        doc.undo_stack.redo()
        assert snapshot(doc.song) == expected


def test_triplet_grid_places_notes_on_triplets(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, canvas = w.piano_roll, w.piano_roll.canvas
    roll.snap.set_name("1/8T")                           # 160 ticks
    drag(canvas, at(roll, 2400 + 100, 70), at(roll, 2400 + 350, 70))
    n = next(n for n in piano(w).notes if n.pitch == 70)
    assert n.start % 160 == 0 and n.end % 160 == 0 and (n.start, n.duration) == (2400, 320)


def test_drawing_into_a_song_without_tracks_creates_one(qtbot, tmp_path):
    from studio.music.song import Song

    w = make_window(qtbot, tmp_path, Song())
    roll, doc = w.piano_roll, w.document
    click(roll.canvas, at(roll, 480, 60))
    assert [t.name for t in doc.song.tracks] == ["Piano"]
    assert notes_of(doc.song.tracks[0]) == [(60, 480, roll.canvas.draw_length, 100)]
    assert doc.current_track_id == doc.song.tracks[0].id and w.track_list.table.rowCount() == 1
    doc.undo_stack.undo()       # one step: the note and its track
    assert doc.song.tracks == [] and w.track_list.table.rowCount() == 0
