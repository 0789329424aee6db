"""The piano roll's keys and wheel: arrows, Ctrl+Up/Down, Shift+arrows, Ctrl+D, Q, Delete,
Esc, Ctrl+A, the clipboard, Ctrl+Z / Ctrl+Shift+Z, wheel scrolling and Ctrl+wheel zoom."""

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from studio.music.song import Note, Song, Track
from tests.ui.editor_driver import at, click, make_window, notes_of, snapshot

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def select_first_two(w):
    roll = w.piano_roll
    click(roll.canvas, at(roll, 100, 60))
    click(roll.canvas, at(roll, 600, 64), SHIFT)


def test_arrows_move_by_grid_and_semitone_ctrl_by_octave(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    canvas, doc = w.piano_roll.canvas, w.document
    before = snapshot(doc.song)
    select_first_two(w)
    heard = []
    w.piano_roll.audition_requested.connect(lambda p, v: heard.append(p))
    qtbot.keyClick(canvas, Qt.Key.Key_Right)          # one 1/16 step = 120 ticks
    qtbot.keyClick(canvas, Qt.Key.Key_Up)
    qtbot.keyClick(canvas, Qt.Key.Key_Up, CTRL)
    qtbot.keyClick(canvas, Qt.Key.Key_Down)
    piano = doc.song.tracks[0]
    assert {(72, 120, 480, 100), (76, 600, 480, 90)} < set(notes_of(piano))
    qtbot.keyClick(canvas, Qt.Key.Key_Down, CTRL)
    qtbot.keyClick(canvas, Qt.Key.Key_Left)
    qtbot.keyClick(canvas, Qt.Key.Key_Left)           # would go below tick 0: refused
    assert notes_of(piano)[:2] == [(60, 0, 480, 100), (64, 480, 480, 90)]
    assert doc.undo_stack.count() == 6
    for _ in range(6):
        qtbot.keyClick(w, Qt.Key.Key_Z, CTRL)
    assert snapshot(doc.song) == before
    for _ in range(6):
        qtbot.keyClick(w, Qt.Key.Key_Z, CTRL | SHIFT)
    assert notes_of(piano)[:2] == [(60, 0, 480, 100), (64, 480, 480, 90)]
    assert doc.undo_stack.index() == 6


def test_shift_arrows_change_length(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    select_first_two(w)
    qtbot.keyClick(w.piano_roll.canvas, Qt.Key.Key_Right, SHIFT)
    assert notes_of(w.document.song.tracks[0])[:2] == [(60, 0, 600, 100), (64, 480, 600, 90)]


def test_ctrl_d_duplicates_after_the_selection(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    doc = w.document
    select_first_two(w)
    old = set(doc.selected_note_ids)
    qtbot.keyClick(w.piano_roll.canvas, Qt.Key.Key_D, CTRL)
    piano = doc.song.tracks[0]
    # the selection spans 0-960: the copies start at 960
    assert (60, 960, 480, 100) in notes_of(piano) and (64, 1440, 480, 90) in notes_of(piano)
    assert len(doc.selected_note_ids) == 2 and not doc.selected_note_ids & old
    assert doc.undo_stack.count() == 1


def test_q_quantizes_the_selection_to_the_grid(qtbot, tmp_path):
    song = Song([Track("Piano", notes=[Note(60, 130, 350, 90), Note(62, 470, 200, 90),
                                       Note(64, 1000, 200, 90)])])
    w = make_window(qtbot, tmp_path, song)
    roll, doc = w.piano_roll, w.document
    before = snapshot(doc.song)
    roll.snap.set_name("1/8")                          # 240 ticks
    doc.select([n.id for n in doc.song.tracks[0].notes if n.pitch in (60, 62)])
    qtbot.keyClick(roll.canvas, Qt.Key.Key_Q)
    assert notes_of(doc.song.tracks[0]) == [(60, 240, 240, 90), (62, 480, 240, 90),
                                            (64, 1000, 200, 90)]
    doc.undo_stack.undo()
    assert snapshot(doc.song) == before
    doc.clear_selection()                              # nothing selected: the whole track
    qtbot.keyClick(roll.canvas, Qt.Key.Key_Q)
    assert [n[1] for n in notes_of(doc.song.tracks[0])] == [240, 480, 960]


def test_escape_clears_ctrl_a_selects_all_delete_removes(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    canvas, doc = w.piano_roll.canvas, w.document
    qtbot.keyClick(canvas, Qt.Key.Key_A, CTRL)
    assert len(doc.selected_note_ids) == 6
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert doc.selected_note_ids == set()
    doc.set_track_flag("hidden", doc.song.tracks[1].id, True)   # hidden tracks are not selected
    qtbot.keyClick(canvas, Qt.Key.Key_A, CTRL)
    assert len(doc.selected_note_ids) == 4
    qtbot.keyClick(canvas, Qt.Key.Key_Backspace)
    assert doc.song.tracks[0].notes == [] and len(doc.song.tracks[1].notes) == 2


def test_cut_and_paste_at_the_playhead(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, canvas, doc = w.piano_roll, w.piano_roll.canvas, w.document
    select_first_two(w)
    qtbot.keyClick(canvas, Qt.Key.Key_X, CTRL)
    assert [n[0] for n in notes_of(doc.song.tracks[0])] == [67, 72]
    roll.set_playhead(3840)
    qtbot.keyClick(canvas, Qt.Key.Key_V, CTRL)
    assert {(60, 3840, 480, 100), (64, 4320, 480, 90)} < set(notes_of(doc.song.tracks[0]))
    assert len(doc.selected_note_ids) == 2
    assert QApplication.clipboard().mimeData().hasFormat("application/x-studio-notes")


def test_menu_transpose_reports_notes_that_cannot_move(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, Song([Track("Hi", notes=[Note(126, 0, 480)])]))
    doc = w.document
    doc.select([doc.song.tracks[0].notes[0].id])
    w.piano_roll.edit_actions["octave_up"].trigger()
    assert doc.song.tracks[0].notes[0].pitch == 126 and doc.undo_stack.count() == 0
    assert "cannot move" in w.statusBar().currentMessage()
    w.piano_roll.edit_actions["transpose_up"].trigger()
    assert doc.song.tracks[0].notes[0].pitch == 127


def wheel(widget, pos: QPoint, dy: int, mods=Qt.KeyboardModifier.NoModifier) -> None:
    event = QWheelEvent(QPointF(pos), QPointF(widget.mapToGlobal(pos)), QPoint(0, 0),
                        QPoint(0, dy), Qt.MouseButton.NoButton, mods,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_ctrl_wheel_zooms_around_the_mouse_and_wheel_scrolls(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, canvas, g = w.piano_roll, w.piano_roll.canvas, w.piano_roll.geom
    g.set_left_tick(960)
    pos = at(roll, 1920, 60)
    ppt = g.px_per_tick
    wheel(canvas, pos, 120, CTRL)
    assert g.px_per_tick > ppt * 1.1
    assert abs(g.tick_at(pos.x()) - 1920) < 1 / g.px_per_tick + 1   # the tick under the mouse
    wheel(canvas, pos, -240, CTRL)
    assert g.px_per_tick < ppt
    kh = g.key_height
    wheel(canvas, pos, 120, CTRL | SHIFT)
    assert g.key_height > kh
    top, left = g.top, g.left_tick
    wheel(canvas, pos, -120)
    assert g.top > top and g.left_tick == left
    wheel(canvas, pos, -120, SHIFT)
    assert g.left_tick > left
    assert roll.hbar.value() == int(g.left_tick) and roll.vbar.value() == int(g.top)
