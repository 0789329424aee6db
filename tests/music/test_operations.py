"""Transpose, quantize, slice and merge on real music."""

import pytest

from studio.midi import read_song
from studio.music import EditError, Note, Song, Track
from studio.music.operations import (
    GRIDS,
    merge_songs,
    quantize_edit,
    quantized,
    slice_song,
    transpose,
    transpose_edit,
)
from studio.music.song import KeySignature
from tests.conftest import MIDI_DIR


@pytest.fixture(scope="module")
def menuet():
    return read_song(MIDI_DIR / "debussy" / "menuet.mid")


def test_transpose_edit_and_inverse(menuet):
    song = menuet.copy()
    ids = [n.id for n in song.tracks[0].notes]
    before = [n.pitch for n in song.tracks[0].notes]
    inv = transpose_edit(song, ids, 5).apply(song)
    assert [n.pitch for n in song.tracks[0].notes] == [p + 5 for p in before]
    inv.apply(song)
    assert [n.pitch for n in song.tracks[0].notes] == before


def test_transpose_refuses_to_leave_midi_range():
    song = Song([Track(notes=[Note(120, 0, 10)])])
    with pytest.raises(EditError):
        transpose_edit(song, [song.tracks[0].notes[0].id], 12)


def test_transpose_song_moves_key_signature():
    song = Song([Track(notes=[Note(60, 0, 480)])], key_signatures=[KeySignature(0, 0, False)])
    up = transpose(song, 2)
    assert up.tracks[0].notes[0].pitch == 62
    assert up.key_signature.name == "D major"
    assert song.tracks[0].notes[0].pitch == 60


def test_quantize_full_and_partial_strength():
    song = Song([Track(notes=[Note(60, 130, 100), Note(62, 470, 250)])])
    a, b = song.tracks[0].notes
    quantize_edit(song, [a.id, b.id], GRIDS["1/16"], 1.0).apply(song)
    assert (a.start, a.end) == (120, 240)
    assert (b.start, b.end) == (480, 720)
    song2 = Song([Track(notes=[Note(60, 100, 100)])])
    n = song2.tracks[0].notes[0]
    quantize_edit(song2, [n.id], 120, 0.5, ends=False).apply(song2)
    assert n.start == 110 and n.duration == 100


def test_quantized_real_file_lands_on_grid(menuet):
    q = quantized(menuet, GRIDS["1/8"])
    assert all(n.start % 240 == 0 for _, n in q.iter_notes())
    assert q.note_count == menuet.note_count


def test_slice_and_merge_recompose_the_song(menuet):
    cut = 8 * 480 * 3  # eight bars of 3/4
    head = slice_song(menuet, 0, cut, clip=False)
    tail = slice_song(menuet, cut, menuet.end + 1, clip=False)
    # Unclipped, a note ringing across the cut is in both halves (negative start in the tail).
    for t in tail.tracks:
        t.notes = [n for n in t.notes if n.start >= 0]
    assert 0 < head.note_count < menuet.note_count
    merged = merge_songs(head, tail, at_tick=cut)
    assert merged.same_content(menuet)


def test_slice_clips_notes_to_range():
    song = Song([Track(notes=[Note(60, 0, 1000), Note(62, 500, 100), Note(64, 2000, 10)])])
    part = slice_song(song, 400, 1200)
    assert sorted((n.pitch, n.start, n.duration) for n in part.tracks[0].notes) == [
        (60, 0, 600), (62, 100, 100)]


def test_slice_keeps_the_chord_symbols_in_force():
    from studio.data.pop909 import pop909_songs
    from studio.music.chords import parse_label
    from studio.music.song import ChordSymbol

    real = pop909_songs()[0]
    song = real.song()
    labels = [(tick, parse_label(x)) for tick, _, x in real.chords]
    song.chords = [ChordSymbol(tick, c) for tick, c in labels if c is not None]
    bar = 4 * song.ppq
    start, end = song.chords[5].tick + bar // 2, song.chords[5].tick + 8 * bar
    part = slice_song(song, start, end)
    inside = [c for c in song.chords if start < c.tick < end]
    sounding = [c for c in song.chords if c.tick <= start][-1]
    assert part.chords[0] == sounding._replace(tick=0)  # the chord sounding at the start
    assert part.chords[1:] == [c._replace(tick=c.tick - start) for c in inside]
    assert len(part.chords) >= 3
