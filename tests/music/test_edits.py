"""Invertible edits: applying an edit and then its inverse restores the exact song."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.music import (
    AddNotes,
    AddTrack,
    ChangeNotes,
    ChangeSong,
    ChangeTrack,
    Compound,
    EditError,
    MoveNotesToTrack,
    Note,
    RemoveNotes,
    RemoveTrack,
    Song,
    TempoChange,
    Track,
    TrackValues,
)
from studio.music.edits import MoveTrack


def snapshot(song: Song):
    return ([(t.id, t.name, t.program, t.is_drum, t.channel,
              sorted((n.id, n.pitch, n.start, n.duration, n.velocity) for n in t.notes))
             for t in song.tracks], list(song.tempos), list(song.time_signatures),
            list(song.key_signatures), song.title)


def make_song():
    a = Track("Piano", notes=[Note(60, 0, 480, 90), Note(64, 480, 240, 70)])
    b = Track("Bass", program=33, notes=[Note(36, 0, 960, 100)])
    return Song([a, b])


def test_add_then_undo_restores_exactly():
    song = make_song()
    before = snapshot(song)
    inv = AddNotes.of(song.tracks[0], [Note(67, 960, 480)]).apply(song)
    assert song.note_count == 4
    redo = inv.apply(song)
    assert snapshot(song) == before
    redo.apply(song)
    assert song.note_count == 4 and any(n.pitch == 67 for n in song.tracks[0].notes)


def test_remove_keeps_ids_for_undo():
    song = make_song()
    before = snapshot(song)
    target = song.tracks[0].notes[1]
    inv = RemoveNotes((target.id,)).apply(song)
    assert song.note_count == 2
    with pytest.raises(KeyError):
        song.find_note(target.id)
    inv.apply(song)
    assert snapshot(song) == before
    assert song.find_note(target.id)[1].pitch == 64


def test_change_out_of_range_is_refused_and_changes_nothing():
    song = make_song()
    before = snapshot(song)
    n0, n1 = song.tracks[0].notes
    with pytest.raises(EditError):
        ChangeNotes.of({n0.id: {"pitch": 61}, n1.id: {"pitch": 200}}).apply(song)
    assert snapshot(song) == before


def test_compound_rolls_back_on_failure():
    song = make_song()
    before = snapshot(song)
    n0 = song.tracks[0].notes[0]
    bad = Compound((ChangeNotes.of({n0.id: {"pitch": 62}}), RemoveNotes((999_999_999,))))
    with pytest.raises(KeyError):
        bad.apply(song)
    assert snapshot(song) == before


def test_track_edits_invert():
    song = make_song()
    before = snapshot(song)
    edits = [
        AddTrack(TrackValues.of(Track("Strings", program=48, notes=[Note(72, 0, 100)]))),
        RemoveTrack(song.tracks[1].id),
        ChangeTrack(song.tracks[0].id, (("name", "Lead"), ("program", 80))),
        MoveTrack(song.tracks[1].id, 0),
        ChangeSong((("tempos", [TempoChange(0, 90.0)]), ("title", "x"))),
        MoveNotesToTrack((song.tracks[0].notes[0].id,), song.tracks[1].id),
    ]
    for e in edits:
        inv = e.apply(song)
        assert snapshot(song) != before
        inv.apply(song)
        assert snapshot(song) == before


note_st = st.tuples(st.integers(0, 127), st.integers(0, 10_000), st.integers(0, 2000),
                    st.integers(0, 127))


@settings(max_examples=60, deadline=None)
@given(initial=st.lists(note_st, max_size=20), ops=st.lists(
    st.tuples(st.sampled_from(["add", "remove", "change"]), note_st, st.integers(0, 50)),
    max_size=15))
def test_any_sequence_of_edits_undoes_to_the_start(initial, ops):
    song = Song([Track("A", notes=[Note(*v) for v in initial]), Track("B")])
    start = snapshot(song)
    undo = []
    for kind, values, pick in ops:
        notes = [n for _, n in song.iter_notes()]
        if kind == "add":
            edit = AddNotes.of(song.tracks[pick % 2], [Note(*values)])
        elif not notes:
            continue
        elif kind == "remove":
            edit = RemoveNotes((notes[pick % len(notes)].id,))
        else:
            p, s, d, v = values
            edit = ChangeNotes.of({notes[pick % len(notes)].id:
                                   {"pitch": p, "start": s, "duration": d, "velocity": v}})
        undo.append(edit.apply(song))
    for inv in reversed(undo):
        inv.apply(song)
    assert snapshot(song) == start
