"""Ghost notes: a candidate drawn over the song in the real piano roll (translucent, in its track's
colour), never selectable, never in the song or the undo stack; G hides and shows them; a new
song clears them."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from studio.music.song import Note, Track
from studio.ui import palette
from studio.ui.editor.note_raster import GHOST_FILL_ALPHA
from tests.ui.editor_driver import at, click, known_song, make_window, snapshot

CTRL = Qt.KeyboardModifier.ControlModifier


def pixel(roll, tick, pitch) -> QColor:
    return QColor(roll.canvas.grab().toImage().pixel(at(roll, tick, pitch)))


def blend(under: QColor, colour: QColor, alpha: int) -> tuple[int, int, int]:
    a = alpha / 255
    return tuple(round(u + (c - u) * a) for u, c in zip(under.getRgb()[:3], colour.getRgb()[:3]))


def close(c: QColor, rgb, tol: int = 4) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(c.getRgb()[:3], rgb))


def preview_of(song):
    """The song as a harmonizer would leave it: one new track, one note of the piano changed."""
    preview = song.copy()
    preview.tracks[0].notes[3].pitch = 74            # 72 -> 74 at 1440
    preview.tracks.append(Track("Alto", program=0, channel=2,
                                notes=[Note(55, 0, 960, 80), Note(57, 960, 960, 80)]))
    return preview


def test_a_candidate_is_drawn_as_ghost_notes_that_are_not_in_the_song(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    roll, doc = w.piano_roll, w.document
    before = snapshot(doc.song)
    empty_alto, empty_changed = pixel(roll, 610, 55), pixel(roll, 1700, 74)
    assert close(empty_alto, palette.BACKGROUND.getRgb()[:3])

    roll.set_ghost(preview_of(doc.song), "variation 1")
    # only what differs from the song: the new track (2 notes) and the changed note
    assert sorted(len(g) for g in roll.ghosts) == [1, 2]
    alto_colour = palette.track_color(2)             # a new track: the colour of its place
    assert close(pixel(roll, 610, 55), blend(palette.BACKGROUND, alto_colour, GHOST_FILL_ALPHA))
    piano_colour = palette.track_color(0)
    assert close(pixel(roll, 1700, 74), blend(empty_changed, piano_colour, GHOST_FILL_ALPHA))
    # the unchanged notes are not drawn twice: the real note looks as before
    real = palette.velocity_shades(piano_colour)[100 * 8 // 128]
    assert close(pixel(roll, 250, 60), real.getRgb()[:3])

    # not selectable: a click on a ghost in Select mode selects nothing, Ctrl+A skips them
    roll.set_tool("select")
    click(roll.canvas, at(roll, 610, 55))
    assert doc.selected_note_ids == set()
    qtbot.keyClick(roll.canvas, Qt.Key.Key_A, CTRL)
    assert len(doc.selected_note_ids) == 6
    # ... nor drawn into the song: not in the song, not in undo
    assert snapshot(doc.song) == before and doc.undo_stack.count() == 0

    # G hides and shows them (the candidate is kept)
    qtbot.keyClick(roll.canvas, Qt.Key.Key_G)
    assert not roll.ghost_visible and close(pixel(roll, 610, 55), empty_alto.getRgb()[:3])
    assert not roll.edit_actions["ghost_notes"].isChecked()
    qtbot.keyClick(roll.canvas, Qt.Key.Key_G)
    assert close(pixel(roll, 610, 55), blend(palette.BACKGROUND, alto_colour, GHOST_FILL_ALPHA))

    # hidden tracks hide their ghosts too; None clears; a new song clears them
    doc.set_track_flag("hidden", doc.song.tracks[0].id, True)
    assert close(pixel(roll, 1700, 74), empty_changed.getRgb()[:3])
    doc.set_track_flag("hidden", doc.song.tracks[0].id, False)
    roll.set_ghost(None)
    assert roll.ghosts == [] and close(pixel(roll, 610, 55), empty_alto.getRgb()[:3])
    roll.set_ghost({doc.song.tracks[1].id: [Note(50, 0, 480)]})
    assert len(roll.ghosts) == 1
    w.open_song(known_song())
    assert roll.ghosts == [] and roll.ghost_label == ""
    w.document.undo_stack.setClean()
