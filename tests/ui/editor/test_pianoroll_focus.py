"""Focus and the editor's keys in the real window: the first click into the roll only focuses it
(no note drawn); the editor's shortcuts work from buttons and panels, never while typing in a
text or number field, and the arrows stay with a table that has the focus."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton

from tests.ui.editor_driver import at, click, make_window, notes_of

CTRL = Qt.KeyboardModifier.ControlModifier


def focus(qtbot, widget) -> None:
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() in (widget, widget.focusProxy()))


def key(qtbot, k, mods=Qt.KeyboardModifier.NoModifier) -> None:
    """A key typed into whatever has the focus, as the keyboard would."""
    qtbot.keyClick(QApplication.focusWidget(), k, mods)


def test_the_first_click_into_the_roll_focuses_it_without_drawing(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, doc = w.piano_roll, w.document
    assert roll.tool == "draw"
    focus(qtbot, w.transport_bar.tempo)
    click(roll.canvas, at(roll, 2400, 70))
    assert QApplication.focusWidget() is roll.canvas
    assert doc.undo_stack.count() == 0 and "click again" in w.statusBar().currentMessage()
    click(roll.canvas, at(roll, 2400, 70))            # now it draws
    assert doc.undo_stack.count() == 1 and (70, 2400, 240, 85) in notes_of(doc.song.tracks[0])
    # a first click on a note still selects it (selecting changes nothing)
    focus(qtbot, w.transport_bar.tempo)
    click(roll.canvas, at(roll, 100, 60))
    assert [doc.song.find_note(i)[1].pitch for i in doc.selected_note_ids] == [60]
    assert doc.undo_stack.count() == 1


def test_editor_keys_work_from_buttons_but_not_while_typing(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, doc = w.piano_roll, w.document
    piano = doc.song.tracks[0]
    doc.select([piano.notes[0].id])                   # C4 at 0
    before = notes_of(piano)

    # typing in the tempo box (a number field): Up goes to the box, Q / Ctrl+D / Delete do nothing
    tempo = w.transport_bar.tempo
    focus(qtbot, tempo)
    value = tempo.value()
    for k, mods in ((Qt.Key.Key_Up, Qt.KeyboardModifier.NoModifier),
                    (Qt.Key.Key_Q, Qt.KeyboardModifier.NoModifier), (Qt.Key.Key_D, CTRL),
                    (Qt.Key.Key_L, CTRL), (Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier),
                    (Qt.Key.Key_Right, Qt.KeyboardModifier.NoModifier)):
        key(qtbot, k, mods)
    assert tempo.value() == value + tempo.singleStep()     # the tempo edit: one undo step
    assert notes_of(piano) == before and doc.undo_stack.count() == 1
    assert roll.loop_region() is None
    doc.undo_stack.clear()
    # a text field: "g" and "d" are letters there, not the ghost toggle or the draw tool
    field = QLineEdit(w)
    w.statusBar().addWidget(field)
    field.show()
    focus(qtbot, field)
    roll.set_tool("select")
    for k in (Qt.Key.Key_G, Qt.Key.Key_D, Qt.Key.Key_Q):
        key(qtbot, k)
    key(qtbot, Qt.Key.Key_Up, CTRL)
    assert field.text() == "gdq" and roll.tool == "select" and roll.ghost_visible
    assert doc.undo_stack.count() == 0

    # from a button of the track list (not a text field): the editor's keys work
    button = next(b for b in w.track_list.findChildren(QPushButton) if b.isVisible())
    focus(qtbot, button)
    key(qtbot, Qt.Key.Key_Up)                         # transpose up a semitone
    key(qtbot, Qt.Key.Key_Right)                      # one grid step later
    key(qtbot, Qt.Key.Key_L, CTRL)                    # loop the selection
    key(qtbot, Qt.Key.Key_D, CTRL)                    # duplicate
    assert {(61, 120, 480, 100), (61, 600, 480, 100)} < set(notes_of(piano))
    assert doc.undo_stack.count() == 3 and roll.loop_region() == (120, 600)
    key(qtbot, Qt.Key.Key_Delete)                     # the copy (selected) goes
    assert doc.undo_stack.count() == 4 and (61, 600, 480, 100) not in notes_of(piano)
    key(qtbot, Qt.Key.Key_D)
    assert roll.tool == "draw"

    # a table (the track list): the arrows move through its rows, they do not transpose
    table = w.track_list.table
    focus(qtbot, table)
    doc.select([piano.notes[0].id])
    count = doc.undo_stack.count()
    key(qtbot, Qt.Key.Key_Down)
    assert doc.undo_stack.count() == count
    key(qtbot, Qt.Key.Key_D, CTRL)                    # not a key a table uses: duplicate
    assert doc.undo_stack.count() == count + 1
    doc.undo_stack.setClean()
