"""Piano roll, SATB and token conversions, on the real JSB chorales."""

import numpy as np

from studio.music import Note, Track
from studio.music.grids import roll_to_track, satb_to_song, song_to_roll, song_to_satb
from studio.music.song import Song
from studio.music.tokens import (
    HOLD,
    REST,
    pitches_to_tokens,
    tokens_to_pitches,
    tokens_to_track,
    track_to_tokens,
)


def chorales(jsb, split="valid"):
    p, o = jsb[f"{split}_pitches"], jsb[f"{split}_offsets"]
    return [p[o[i]:o[i + 1]] for i in range(len(o) - 1)]


def test_satb_round_trip_every_valid_chorale(jsb):
    for piece in chorales(jsb):
        song = satb_to_song(piece)
        assert [t.name for t in song.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
        back = song_to_satb(song, steps=len(piece))
        np.testing.assert_array_equal(back, piece)


def test_satb_from_one_chordal_track(jsb):
    piece = chorales(jsb)[0]
    song = satb_to_song(piece)
    merged = Track("Organ", notes=[n for t in song.tracks for n in t.notes])
    flat = Song([merged])
    back = song_to_satb(flat, steps=len(piece))
    # Where the four voices sound in order (no crossing, no unison), splitting recovers them.
    distinct = np.array([r[0] > r[1] > r[2] > r[3] >= 0 for r in piece.tolist()])
    assert distinct.mean() > 0.8
    np.testing.assert_array_equal(back[distinct], piece[distinct])


def test_piano_roll_round_trip_with_onsets():
    track = Track(notes=[Note(60, 0, 240, 100), Note(60, 240, 240, 50), Note(67, 120, 480, 80)])
    roll, onsets = song_to_roll(Song([track]), step=120, with_onsets=True)
    assert roll.shape == (5, 128)
    assert roll[0, 60] == 100 and roll[2, 60] == 50 and roll[1, 67] == 80
    back = roll_to_track(roll, 120, onsets)
    assert sorted(n.key() for n in back.notes) == sorted(n.key() for n in track.notes)
    merged = roll_to_track(roll > 0, 120)  # without onsets, repeated notes merge
    assert sorted((n.pitch, n.start, n.duration) for n in merged.notes) == [(60, 0, 480),
                                                                            (67, 120, 480)]


def test_tokens_round_trip_monophonic_with_rests():
    track = Track(notes=[Note(60, 0, 240), Note(60, 240, 120), Note(72, 600, 360)])
    tokens = track_to_tokens(track, 120)
    assert tokens.tolist() == [60, HOLD, 60, REST, REST, 72, HOLD, HOLD]
    back = tokens_to_track(tokens, 120)
    assert [n.key()[:3] for n in back.notes] == [n.key()[:3] for n in track.notes]


def test_tokens_take_the_skyline_of_chords():
    track = Track(notes=[Note(60, 0, 480), Note(64, 0, 480), Note(67, 0, 240)])
    assert track_to_tokens(track, 120).tolist() == [67, HOLD, 64, HOLD]


def test_voice_tokens_of_jsb(jsb):
    soprano = chorales(jsb)[3][:, 0]
    tokens = pitches_to_tokens(soprano)
    assert set(tokens.tolist()) <= set(range(128)) | {HOLD, REST}
    np.testing.assert_array_equal(tokens_to_pitches(tokens), soprano)
