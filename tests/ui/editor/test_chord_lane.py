"""The chord lane in the real window: symbols drawn over their bars (scrolling and zooming with
the notes), added, changed, deleted and moved with the mouse and the keyboard, a bad symbol
named and the song untouched, undo and redo, View > Chord Lane, Song > Suggest Chords with the
shipped pop accompanist on a real POP909 melody, and the Accompany form following the lane."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.data.pop909 import pop909_song
from studio.music.chord_lane import SetChords, symbol
from studio.ui.editor.chord_lane import CHORD_FILL
from studio.ui.editor.pianoroll_geometry import ViewGeometry  # noqa: F401 (the roll's geometry)
from tests.ui.editor_driver import make_window, snapshot

BAR = 1920
CTRL = Qt.KeyboardModifier.ControlModifier


def lane_of(w) -> list[tuple[int, str]]:
    return [(c.tick, c.label) for c in w.document.song.chords]


def point(lane, tick: float, dx: int = 6) -> QPoint:
    return QPoint(round(lane.roll.geom.x_of(tick)) + dx, lane.height() // 2)


def double_click(widget, pos: QPoint, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mouseDClick(widget, Qt.MouseButton.LeftButton, modifiers, pos)


def type_chord(qtbot, lane, text: str) -> None:
    editor = lane.editor
    assert editor.isVisible() and QApplication.focusWidget() is editor
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)


def with_chords(qtbot, tmp_path, chords):
    w = make_window(qtbot, tmp_path)
    SetChords(tuple(symbol(t, x) for t, x in chords)).apply(w.document.song)
    w.piano_roll.refresh()
    return w


def test_symbols_are_drawn_over_their_bars_and_follow_scroll_and_zoom(qtbot, tmp_path):
    w = with_chords(qtbot, tmp_path, [(0, "C"), (960, "Am7"), (BAR + 480, "F")])
    lane = w.piano_roll.chord_lane
    assert lane.isVisible() and lane.height() >= 20
    g = w.piano_roll.geom
    assert lane.width() == w.piano_roll.canvas.width() and g.x_of(2900) < lane.width()

    def colour_at(tick: float):
        image = lane.grab().toImage()
        return image.pixelColor(round(g.x_of(tick)), lane.height() // 2 + 6)

    for tick in (600, 1500, 2000, 2800):            # inside the blocks
        assert colour_at(tick) == CHORD_FILL, tick
    assert colour_at(960 - 10) != CHORD_FILL         # the gap between two blocks
    assert lane.symbol_at(g.x_of(1500)) == 960
    assert lane.symbol_at(g.x_of(2000)) == 960       # Am7 lasts until F
    assert lane.symbol_at(g.x_of(2500)) == BAR + 480
    g.zoom_x(2.0, 0)                                 # zoom and scroll with the roll
    g.set_left_tick(960)
    assert abs(g.x_of(960)) < 1
    assert colour_at(1300) == CHORD_FILL and lane.symbol_at(g.x_of(1300)) == 960
    assert colour_at(BAR + 480 - 5) != CHORD_FILL


def test_add_change_delete_move_with_mouse_and_keys_undo_redo(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, doc = w.piano_roll, w.document
    lane = roll.chord_lane
    notes_before = snapshot(doc.song)
    # add: double-click an empty place inside beat 3 of bar 1 -> the chord sits on beat 3
    double_click(lane, point(lane, 960 + 200))
    type_chord(qtbot, lane, "Am7")
    assert lane_of(w) == [(960, "Am7")]
    # add a second one further on, with Bb spelled as typed
    double_click(lane, point(lane, 2 * BAR + 100))
    type_chord(qtbot, lane, "Bb")
    assert lane_of(w) == [(960, "Am7"), (2 * BAR, "Bb")]
    # change: double-click the chord
    double_click(lane, point(lane, 960))
    assert lane.editor.text() == "Am7"
    type_chord(qtbot, lane, "G7/B")
    assert lane_of(w) == [(960, "G7/B"), (2 * BAR, "Bb")]
    # move: drag it later by about a beat and a bit -> snapped to the beat
    start, end = point(lane, 960), point(lane, 960 + 480 + 100)
    QTest.mousePress(lane, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for k in range(1, 5):
        QTest.mouseMove(lane, start + (end - start) * (k / 4))
    QTest.mouseRelease(lane, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    assert lane_of(w) == [(1440, "G7/B"), (2 * BAR, "Bb")]
    # keys: the selected chord moves a beat with the arrows (not the notes), Delete deletes it
    assert lane.selected == 1440 and lane.hasFocus()
    doc.select({n.id for n in doc.song.tracks[0].notes})     # notes selected too: untouched
    qtbot.keyClick(lane, Qt.Key.Key_Right)
    assert lane_of(w) == [(1920, "G7/B"), (2 * BAR, "Bb")]
    qtbot.keyClick(lane, Qt.Key.Key_Left)
    qtbot.keyClick(lane, Qt.Key.Key_Delete)
    assert lane_of(w) == [(2 * BAR, "Bb")]
    assert snapshot(doc.song) == notes_before
    # Enter with nothing selected adds at the playhead's beat; F2 edits the selected chord
    roll.set_playhead(3 * BAR + 500)
    qtbot.keyClick(lane, Qt.Key.Key_Return)
    type_chord(qtbot, lane, "Dm")
    assert lane_of(w) == [(2 * BAR, "Bb"), (3 * BAR + 480, "Dm")]
    qtbot.keyClick(lane, Qt.Key.Key_F2)
    qtbot.keyClick(lane.editor, Qt.Key.Key_Escape)        # Escape: nothing changes
    assert not lane.editor.isVisible() and lane_of(w)[-1] == (3 * BAR + 480, "Dm")
    # every step undoes and redoes (Ctrl+Z from the lane)
    steps = doc.undo_stack.count()
    assert [doc.undo_stack.text(i) for i in range(steps)] == [
        "Add chord Am7", "Add chord Bb", "Change chord to G7/B", "Move chord G7/B",
        "Move chord G7/B", "Move chord G7/B", "Delete chord", "Add chord Dm"]
    for _ in range(steps):
        qtbot.keyClick(lane, Qt.Key.Key_Z, CTRL)
    assert lane_of(w) == []
    for _ in range(steps):
        qtbot.keyClick(lane, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert lane_of(w) == [(2 * BAR, "Bb"), (3 * BAR + 480, "Dm")]


def test_a_bad_symbol_is_named_and_changes_nothing(qtbot, tmp_path):
    w = with_chords(qtbot, tmp_path, [(0, "C")])
    lane = w.piano_roll.chord_lane
    stack = w.document.undo_stack.count()
    double_click(lane, point(lane, BAR + 10))
    type_chord(qtbot, lane, "H7")
    assert "'H7'" in w.statusBar().currentMessage()
    assert "'H7'" in lane.editor.toolTip() and lane.editor.isVisible()   # still open to fix
    assert lane_of(w) == [(0, "C")] and w.document.undo_stack.count() == stack
    # typing in the editor never fires the editor's note shortcuts (q, Delete, arrows)
    notes = snapshot(w.document.song)
    w.document.select({n.id for n in w.document.song.tracks[0].notes})
    lane.editor.selectAll()
    for key in (Qt.Key.Key_Q, Qt.Key.Key_Delete, Qt.Key.Key_Left, Qt.Key.Key_Up):
        qtbot.keyClick(lane.editor, key)
    assert snapshot(w.document.song) == notes
    type_chord(qtbot, lane, "Em")
    assert lane_of(w) == [(0, "C"), (BAR, "Em")]


def test_view_menu_hides_and_shows_the_lane_and_the_project_keeps_it(qtbot, tmp_path):
    w = with_chords(qtbot, tmp_path, [(0, "C"), (BAR, "G")])
    action = w.piano_roll.chord_lane_action
    assert action in w.menus["View"].actions()
    action.trigger()
    assert not w.piano_roll.chord_lane.isVisible() and not action.isChecked()
    w.document.undo_stack.resetClean()
    path = tmp_path / "song.studio"
    assert w.save_project_to(path)
    action.trigger()
    assert w.piano_roll.chord_lane.isVisible()
    w.document.undo_stack.setClean()
    assert w.open_path(path)
    assert lane_of(w) == [(0, "C"), (BAR, "G")]
    assert not w.piano_roll.chord_lane.isVisible()     # the project remembers the view


def test_suggest_chords_fills_the_lane_from_a_pop909_melody(qtbot, tmp_path):
    song = pop909_song(20).song()
    w = make_window(qtbot, tmp_path, song)
    doc, roll = w.document, w.piano_roll
    melody = doc.song.tracks[0]
    first = min(n.start for n in melody.notes)
    from studio.ml.generation.material import bar_start

    start = bar_start(doc.song, first)
    roll.set_time_range((start, start + 4 * BAR))
    before = snapshot(doc.song)
    doc.set_current_track(doc.song.tracks[2].id)      # the piano part: chords, not a melody
    w.chord_suggester.action.trigger()
    qtbot.waitUntil(lambda: not w.chord_suggester.runner.is_running(), timeout=30_000)
    assert "PIANO is not a melody" in w.chord_suggester.last_message and not doc.song.chords
    doc.set_current_track(melody.id)
    roll.suggest_chords_action.trigger()          # the lane's own button menu, same job
    qtbot.waitUntil(lambda: bool(doc.song.chords), timeout=30_000)
    chords = lane_of(w)
    assert chords[0][0] == start and all(start <= t < start + 4 * BAR for t, _ in chords)
    assert snapshot(doc.song) == before                 # only the lane changed
    assert "Suggested chords for bars" in w.statusBar().currentMessage()
    w.undo_action.trigger()                             # one step
    assert lane_of(w) == []
    w.redo_action.trigger()
    assert lane_of(w) == chords


def test_accompany_form_follows_the_lane_when_its_text_is_empty(qtbot, tmp_path):
    w = with_chords(qtbot, tmp_path, [(0, "C"), (BAR, "G"), (BAR + 960, "Am")])
    from studio.ui.generation.generation_pop_forms import AccompanyForm

    form = AccompanyForm()
    qtbot.addWidget(form)
    form.refresh(w)
    assert form.chords.placeholderText() == "chords from the chord lane"
    w.piano_roll.set_time_range((0, 2 * BAR))
    form.only_range.setChecked(True)
    fields = form.fields(w)
    assert fields["chords"] is None  # empty text: the core reads the song's lane
    from studio.ml.generation import GenerationRequest, generate

    [c] = generate(GenerationRequest("accompany", "pop-accompanist", w.document.song, **fields))
    assert "the chord lane's chords: | C | G Am |" in c.description
    form.chords.setText("F")                            # typed text wins
    assert form.fields(w)["chords"] == "F"


def test_ctrl_k_types_a_chord_at_the_playhead_from_anywhere(qtbot, tmp_path):
    """Song > Chord at Playhead… (Ctrl+K) from the notes: the lane's editor opens at the
    playhead's beat (shown again if it was hidden), empty to add or holding the chord there."""
    w = with_chords(qtbot, tmp_path, [(0, "C")])
    roll, lane = w.piano_roll, w.piano_roll.chord_lane
    action = w.findChild(type(roll.chord_lane_action), "action_chord_at_playhead")
    assert action is not None and action.shortcut().toString() == "Ctrl+K"
    assert action in w.menus["Song"].actions()
    roll.chord_lane_action.setChecked(False)
    assert not lane.isVisible()
    roll.set_playhead(BAR + 1000)                      # inside beat 3 of bar 2
    roll.canvas.setFocus()
    qtbot.keyClick(roll.canvas, Qt.Key.Key_K, CTRL)
    assert lane.isVisible() and lane.editor.text() == ""
    type_chord(qtbot, lane, "F#m7b5")
    assert lane_of(w) == [(0, "C"), (BAR + 960, "F#m7b5")]
    roll.set_playhead(BAR + 1100)                      # the same beat: changes that chord
    roll.canvas.setFocus()
    qtbot.keyClick(roll.canvas, Qt.Key.Key_K, CTRL)
    assert lane.editor.text() == "F#m7b5"
    type_chord(qtbot, lane, "D7/F#")
    assert lane_of(w) == [(0, "C"), (BAR + 960, "D7/F#")]
    assert w.document.undo_stack.text(w.document.undo_stack.count() - 1) == "Change chord to D7/F#"
