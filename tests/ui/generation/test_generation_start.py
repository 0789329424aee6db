"""Where new music begins: New melody starts in the bar of the playhead (or after the end of the
song), not at bar 1 on top of what is there; Continue can go on from the end of the track
without selecting anything (the default)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from studio.music.song import Note, Song, Track
from tests.ui.editor_driver import make_window

BAR = 1920
GENERATION_TIMEOUT = 60_000


def four_bars() -> Song:
    melody = Track("Tune", program=0, notes=[Note(p, i * 480, 480, 90) for i, p in
                                             enumerate([60, 62, 64, 65, 67, 65, 64, 62] * 2)])
    return Song([melody], title="Four bars")


def generate_one(qtbot, panel) -> None:
    panel.sampling.count.setValue(1)
    panel.sampling.seed.setValue(5)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.runner.is_running(), timeout=GENERATION_TIMEOUT)
    assert panel.candidates.candidates, panel.message.text()
    qtbot.mouseClick(panel.candidates.accept_button, Qt.MouseButton.LeftButton)


def test_new_melody_at_the_playhead_and_continue_from_the_end(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, four_bars())
    panel, doc = w.generation_panel, w.document
    panel.prepare()
    qtbot.waitUntil(lambda: panel.catalog.ready, timeout=30_000)
    assert panel.select_model("lstm-melody") and panel.mode() == "melody"
    form = panel.forms["melody"]
    form.bars.setValue(2)
    ruler, g = w.piano_roll.ruler, w.piano_roll.geom
    qtbot.mouseClick(ruler, Qt.MouseButton.LeftButton, pos=QPoint(round(g.x_of(2 * BAR + 240)),
                                                                   ruler.height() - 4))
    assert 2 * BAR <= w.piano_roll.playhead < 3 * BAR
    panel.refresh_forms()
    assert form.start.currentText() == "The playhead (bar 3)"
    generate_one(qtbot, panel)
    new = doc.song.tracks[-1]
    assert new is not doc.song.tracks[0]
    assert min(n.start for n in new.notes) >= 2 * BAR, "from the playhead's bar, not bar 1"
    doc.undo_stack.undo()

    form.start.setCurrentIndex(form.start.findData("end"))
    generate_one(qtbot, panel)
    assert min(n.start for n in doc.song.tracks[-1].notes) >= 4 * BAR, "after the song"
    doc.undo_stack.undo()

    panel.set_mode("continue")
    cont = panel.forms["continue"]
    assert cont.start.currentData() == "end"
    cont.bars.setValue(2)
    doc.set_current_track(doc.song.tracks[0].id)
    doc.select([])
    before = {n.id for n in doc.song.tracks[0].notes}
    generate_one(qtbot, panel)
    assert panel.session.audition_start(panel.candidates.current()) == 2 * BAR, \
        "the audition starts two bars before the new ones"
    added = [n for n in doc.song.tracks[0].notes if n.id not in before]
    assert added and min(n.start for n in added) >= 4 * BAR - 1
    assert max(n.start for n in added) < 6 * BAR
    doc.undo_stack.setClean()
    w.close()
