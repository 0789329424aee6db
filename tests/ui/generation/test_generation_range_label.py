"""The Generation panel names a selection inside one beat by its length (issue 20: it read
"bar 1 beat 3 to bar 1 beat 3"), in the real window with the last drawn note selected."""

from __future__ import annotations

from tests.ui.editor_driver import at, click, make_window


def test_a_sub_beat_selection_is_named_by_its_length(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, panel = w.piano_roll, w.generation_panel
    roll.snap.set_name("1/16")
    roll.canvas.draw_length = 120
    click(roll.canvas, at(roll, 970, 74))              # a 1/16 note on beat 3, selected
    assert roll.selection_range() == (960, 1080)
    panel.refresh_forms()
    assert panel.forms["harmonize"].only_range.text() == "Only bar 1 beat 3 (a 1/16 note)"
    panel.set_mode("infill")
    roll.set_time_range((1920, 3 * 1920 + 480))
    panel.refresh_forms()
    assert panel.forms["infill"].range_text.text() == "bar 2 to bar 4 beat 2"
    w.document.undo_stack.setClean()
