"""The track list: current track, rename and instrument as undoable edits, mute / solo /
visibility switches, colour, add and remove tracks."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from studio.ui.editor.track_list import MUTE, NAME, PROGRAM, SOLO, VISIBLE
from tests.ui.editor_driver import at, click, make_window, notes_of, snapshot


def test_rows_and_current_track(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    tl, doc = w.track_list, w.document
    assert tl.table.rowCount() == 2
    assert [tl.table.item(r, NAME).text() for r in range(2)] == ["Piano", "Bass"]
    assert tl.table.cellWidget(1, PROGRAM).currentIndex() == 33
    tl.table.setCurrentCell(1, NAME)
    assert doc.current_track_id == doc.song.tracks[1].id
    click(w.piano_roll.canvas, at(w.piano_roll, 2400, 70))   # new notes go to the current track
    # ... at the velocity of that track (the median of the bass's 110 and 60)
    assert (70, 2400, w.piano_roll.canvas.draw_length, 85) in notes_of(doc.song.tracks[1])


def test_rename_and_instrument_are_undoable(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    tl, doc = w.track_list, w.document
    before = snapshot(doc.song)
    tl.table.item(0, NAME).setText("Melody")
    tl.table.cellWidget(0, PROGRAM).setCurrentIndex(40)          # violin
    tl.table.cellWidget(1, PROGRAM).setCurrentIndex(128)         # drums
    piano, bass = doc.song.tracks
    assert (piano.name, piano.program, bass.is_drum) == ("Melody", 40, True)
    assert doc.undo_stack.count() == 3
    for _ in range(3):
        doc.undo_stack.undo()
    assert snapshot(doc.song) == before
    assert tl.table.item(0, NAME).text() == "Piano"
    assert tl.table.cellWidget(1, PROGRAM).currentIndex() == 33


def test_mute_solo_and_visibility_switches(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    tl, doc = w.track_list, w.document
    piano, bass = doc.song.tracks
    left = Qt.MouseButton.LeftButton
    qtbot.mouseClick(tl.flag_button(0, MUTE), left)
    assert doc.muted == {piano.id} and doc.audible_track_ids() == {bass.id}
    qtbot.mouseClick(tl.flag_button(0, SOLO), left)
    assert doc.audible_track_ids() == set()
    qtbot.mouseClick(tl.flag_button(0, MUTE), left)
    assert doc.audible_track_ids() == {piano.id}
    assert tl.flag_button(1, VISIBLE).isChecked()
    qtbot.mouseClick(tl.flag_button(1, VISIBLE), left)
    assert doc.hidden == {bass.id}
    # hidden notes can be neither seen nor clicked
    w.piano_roll.set_tool("select")
    click(w.piano_roll.canvas, at(w.piano_roll, 100, 48))
    assert doc.selected_note_ids == set()
    doc.set_track_flag("hidden", bass.id, False)    # the switches follow the document
    assert tl.flag_button(1, VISIBLE).isChecked()
    assert doc.undo_stack.count() == 0


def test_colour_add_and_remove(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    tl, doc = w.track_list, w.document
    bass = doc.song.tracks[1]
    tl.set_color(bass.id, QColor("#00ff00"))
    assert w.piano_roll.track_color(bass).name() == "#00ff00"
    tl.add_button.click()
    assert len(doc.song.tracks) == 3 and doc.current_track_id == doc.song.tracks[2].id
    assert doc.song.tracks[2].channel not in (0, 1, 9)
    assert tl.table.rowCount() == 3
    tl.remove_button.click()
    tl.table.setCurrentCell(0, NAME)
    tl.remove_button.click()
    assert [t.name for t in doc.song.tracks] == ["Bass"] and tl.table.rowCount() == 1
    doc.undo_stack.undo()
    assert [t.name for t in doc.song.tracks] == ["Piano", "Bass"]
    assert len(doc.song.tracks[0].notes) == 4
