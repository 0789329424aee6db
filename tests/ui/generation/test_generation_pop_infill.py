"""The Generation panel's pop-infill and melody-over-chords forms in the real window, with the
shipped pop-lstm and pop accompanist on a real POP909 song: the ticked tracks and the bars
selected on the ruler become the request; candidates keep everything outside the bars; a chord
text that does not parse is explained and the song stays as it was."""

from __future__ import annotations

from PySide6.QtCore import Qt

from studio.commands.generate import bar_tick
from studio.data.pop909 import pop909_song
from tests.ui.editor_driver import make_window, snapshot

TIMEOUT = 60_000


def run(qtbot, panel) -> None:
    panel.sampling.seed.setValue(3)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.runner.is_running(), timeout=TIMEOUT)


def test_pop_infill_form_writes_candidates_inside_the_selected_bars(qtbot, tmp_path):
    song = pop909_song(20).song()
    w = make_window(qtbot, tmp_path, song)
    panel, doc = w.generation_panel, w.document
    qtbot.waitUntil(lambda: not panel.catalog.busy, timeout=30_000)
    assert panel.select_model("pop-lstm")
    panel.set_mode("pop-infill")
    assert panel.mode() == "pop-infill"
    a, b = bar_tick(doc.song, 20), bar_tick(doc.song, 24)
    w.piano_roll.set_time_range((a, b))
    panel.refresh_forms()
    form = panel.forms["pop-infill"]
    melody, piano = doc.song.tracks[0].id, doc.song.tracks[2].id
    form.set_checked((melody, piano))
    assert form.range_text.text().startswith("bar 20")
    before = snapshot(doc.song)
    panel.sampling.count.setValue(2)
    run(qtbot, panel)
    assert len(panel.candidates.candidates) == 2, panel.message.text()
    assert snapshot(doc.song) == before
    c = panel.candidates.candidates[0]
    assert "bars of the song's own piano part" in c.description
    for old, new in zip(doc.song.tracks, c.preview.tracks):
        kept = [n.key() for n in old.notes if old.id not in (melody, piano)
                or not a <= n.start < b]
        assert kept == [n.key() for n in new.notes if old.id not in (melody, piano)
                        or not a <= n.start < b]
    qtbot.mouseClick(panel.candidates.accept_button, Qt.MouseButton.LeftButton)
    assert snapshot(doc.song) != before
    doc.undo_stack.undo()
    assert snapshot(doc.song) == before

    # The piano alone, in the network's own voicings (on the 16ths).
    form.set_checked((piano,))
    form.texture.setCurrentIndex(form.texture.findData("model"))
    panel.sampling.count.setValue(1)
    run(qtbot, panel)
    assert len(panel.candidates.candidates) == 1, panel.message.text()
    c = panel.candidates.candidates[0]
    assert "the network's own voicings" in c.description
    fresh = [n for n in c.preview.tracks[2].notes if a <= n.start < b]
    assert fresh and all(n.start % 120 == 0 for n in fresh)
    form.texture.setCurrentIndex(form.texture.findData("songs"))
    assert snapshot(doc.song) == before

    # Bad chord text: the reason on screen, no candidate, the song as it was.
    form.chords.setText("| C | Gx |")
    run(qtbot, panel)
    assert "'Gx'" in panel.message.text() and "bar 2" in panel.message.text()
    assert snapshot(doc.song) == before

    # A new melody over chords from the melody form.
    form.chords.clear()
    panel.set_mode("melody")
    panel.forms["melody"].bars.setValue(4)
    panel.forms["melody"].chords.setText("| Am | F | C | G |")
    panel.sampling.count.setValue(1)
    run(qtbot, panel)
    assert len(panel.candidates.candidates) == 1, panel.message.text()
    assert "over the chords | Am | F | C | G |" in panel.candidates.candidates[0].description
    doc.undo_stack.setClean()
    w.close()
