"""The shared Document: one undo step per apply, merge keys, refused edits change nothing, the
selection forgets deleted notes, handlers can read the change, track flags."""

import pytest

from studio.music.edits import AddNotes, ChangeNotes, EditError, RemoveNotes
from studio.music.song import Note, Song, Track
from studio.ui.document import Document
from tests.ui.editor_driver import snapshot


def song():
    return Song([Track("A", notes=[Note(60, 0, 480), Note(62, 480, 480)]), Track("B")])


def test_apply_undo_redo_and_merge_keys(qtbot):
    doc = Document(song())
    before = snapshot(doc.song)
    nid = doc.song.tracks[0].notes[0].id
    for pitch in (61, 63, 65):   # a drag sending several edits with one key: one undo step
        doc.apply(ChangeNotes.of({nid: {"pitch": pitch}}), merge_key=("drag", 1))
    assert doc.undo_stack.count() == 1 and doc.song.tracks[0].notes[0].pitch == 65
    doc.apply(ChangeNotes.of({nid: {"pitch": 70}}), merge_key=("drag", 2))
    assert doc.undo_stack.count() == 2
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert snapshot(doc.song) == before
    doc.undo_stack.redo()
    assert doc.song.tracks[0].notes[0].pitch == 65


def test_a_refused_edit_changes_nothing(qtbot):
    doc = Document(song())
    before = snapshot(doc.song)
    with pytest.raises(EditError):
        doc.apply(ChangeNotes.of({doc.song.tracks[0].notes[0].id: {"pitch": 200}}))
    with pytest.raises(KeyError):
        doc.apply(RemoveNotes((999_999,)))
    assert snapshot(doc.song) == before and doc.undo_stack.count() == 0
    assert not doc.is_modified


def test_changed_handlers_see_the_change_and_selection_forgets_deleted(qtbot):
    doc = Document(song())
    a, b = doc.song.tracks[0].notes
    doc.select([a.id, b.id])
    seen = []
    doc.changed.connect(lambda: seen.append(doc.last_change))
    doc.apply(RemoveNotes((a.id,)))
    applied, inverse = seen[0]
    assert isinstance(applied, RemoveNotes) and isinstance(inverse, AddNotes)
    assert doc.selected_note_ids == {b.id} and doc.last_change is None
    doc.undo_stack.undo()
    assert isinstance(seen[1][0], AddNotes)


def test_track_flags_and_current_track(qtbot):
    doc = Document(song())
    a, b = doc.song.tracks
    flags = []
    doc.track_flags_changed.connect(lambda: flags.append(1))
    doc.set_track_flag("soloed", b.id, True)
    doc.set_track_flag("soloed", b.id, True)      # no change, no signal
    doc.set_track_flag("muted", b.id, True)
    assert doc.audible_track_ids() == set() and len(flags) == 2
    doc.set_current_track(b.id)
    assert doc.current_track() is b and len(flags) == 3
    doc.set_song(Song())
    assert doc.current_track() is None and doc.muted == set() and doc.soloed == set()
