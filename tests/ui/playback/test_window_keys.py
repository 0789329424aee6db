"""Global commands from anywhere but a text field: Space plays from a number box of a panel (the
Temperature box) and Ctrl+S / Ctrl+E from the tempo box and the panels, while a text field
keeps its spaces; Enter in the tempo box sets the tempo and gives the keyboard back to the
piano roll."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit

from tests.ui.editor_driver import make_window


def counter(action) -> list:
    hits: list = []
    action.triggered.connect(lambda *_: hits.append(1))
    return hits


def press(widget, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    widget.setFocus()
    QApplication.processEvents()
    assert QApplication.focusWidget() in (widget, getattr(widget, "lineEdit", lambda: None)())
    QTest.keyClick(QApplication.focusWidget(), key, modifiers)
    QApplication.processEvents()


def test_space_and_file_keys_work_from_the_panels_but_not_in_text(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    w.save_project_to(tmp_path / "song.studio")   # Ctrl+S saves without a dialog now
    bar, panel = w.transport_bar, w.generation_panel
    play, save = counter(bar.play_action), counter(w.files.actions["save"])
    for box in (panel.sampling.temperature, panel.sampling.count, bar.tempo):
        press(box, Qt.Key.Key_Space)
        assert w.playback.is_playing or play, box
        w.playback.stop()
        played = len(play)
        press(box, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
        assert len(save) == played, box
        del play[:], save[:]
    for widget in (panel.candidates.table, panel.mode_combo, w.dataset_panel.dataset_list):
        press(widget, Qt.Key.Key_Space)
        assert play, widget
        w.playback.stop()
        del play[:]

    text = QLineEdit(w.generation_panel)   # any text field of the window
    text.show()
    press(text, Qt.Key.Key_A)
    press(text, Qt.Key.Key_Space)
    assert text.text() == "a " and not play
    w.document.undo_stack.setClean()
    w.close()


def test_enter_in_the_tempo_box_gives_the_keyboard_back(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    bar = w.transport_bar
    qtbot.mouseClick(bar.tempo.lineEdit(), Qt.MouseButton.LeftButton)
    assert bar.tempo.hasFocus()
    bar.tempo.lineEdit().selectAll()
    QTest.keyClicks(bar.tempo.lineEdit(), "96")
    QTest.keyClick(bar.tempo.lineEdit(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.piano_roll.canvas.hasFocus(), timeout=2000)
    assert w.document.song.tempos[0].qpm == 96.0
    # and Escape leaves it unchanged
    qtbot.mouseClick(bar.tempo.lineEdit(), Qt.MouseButton.LeftButton)
    bar.tempo.lineEdit().selectAll()
    QTest.keyClicks(bar.tempo.lineEdit(), "150")
    QTest.keyClick(bar.tempo.lineEdit(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: w.piano_roll.canvas.hasFocus(), timeout=2000)
    assert w.document.song.tempos[0].qpm == 96.0 and bar.tempo.value() == 96.0
    w.document.undo_stack.setClean()
    w.close()
