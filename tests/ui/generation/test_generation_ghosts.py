"""The variation selected in the Generation panel shows in the piano roll as ghost notes before it
enters the song (real window, real harmonizer); accepting or discarding it clears them."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.editor_driver import snapshot
from tests.ui.generation.test_generation_panel import close, demo_window, start, wait_done


def test_the_selected_variation_is_shown_as_ghost_notes_until_accepted(qtbot, tmp_path):
    w = demo_window(qtbot, tmp_path)
    panel, doc, roll = w.generation_panel, w.document, w.piano_roll
    before, steps = snapshot(doc.song), doc.undo_stack.index()
    start(qtbot, panel, count=2)
    wait_done(qtbot, panel)
    chosen = panel.candidates.current()
    assert chosen is not None
    # the three new voices, as ghosts; the song itself is untouched
    assert sorted(g.track_id for g in roll.ghosts) == sorted(chosen.new_track_ids)
    assert sum(len(g) for g in roll.ghosts) == sum(
        len(t.notes) for t in chosen.preview.tracks if t.id in chosen.new_track_ids)
    assert "variation" in roll.ghost_label
    assert snapshot(doc.song) == before and doc.undo_stack.index() == steps
    other = panel.candidates.candidates[1 - chosen.index]
    panel.candidates.select(other.index)
    assert sorted(g.track_id for g in roll.ghosts) == sorted(other.new_track_ids)
    qtbot.mouseClick(panel.candidates.accept_button, Qt.MouseButton.LeftButton)
    assert roll.ghosts == [] and doc.undo_stack.index() == steps + 1
    w.undo_action.trigger()
    panel.candidates.select(chosen.index)
    assert roll.ghosts
    qtbot.mouseClick(panel.candidates.discard_button, Qt.MouseButton.LeftButton)
    assert roll.ghosts == [] and snapshot(doc.song) == before
    close(w)
