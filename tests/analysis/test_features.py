"""Hand-crafted features: what they measure, transposition invariance, segments, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from studio.ml.analysis.corpus import corpus_from_songs, items, segment_song
from studio.ml.analysis.errors import AnalysisError
from studio.ml.analysis.features import (
    FeatureExtractor,
    HandcraftedFeatures,
    featurize,
    song_features,
)
from studio.music.operations import transpose
from studio.music.song import Note, Song, TimeSignature, Track


def _named(extractor, vec, name):
    return vec[extractor.names.index(name)]


def test_transposed_copies_have_equal_invariant_features(piano_corpus):
    inv, absolute = HandcraftedFeatures(), HandcraftedFeatures(invariant=False)
    assert isinstance(inv, FeatureExtractor)
    for name, song in piano_corpus.pieces[:4]:
        copies = [song, transpose(song, 3), transpose(song, -5)]
        x = inv.features(copies)
        assert x.shape == (3, len(inv.names))
        np.testing.assert_allclose(x[1], x[0], atol=1e-9, err_msg=name)
        np.testing.assert_allclose(x[2], x[0], atol=1e-9, err_msg=name)
        y = absolute.features(copies)
        assert np.abs(y[1] - y[0]).max() > 0.01  # absolute pitch does see the transposition


def test_features_measure_what_they_say():
    # C major scale in quarter notes, one voice, 4/4: steps of 1-2 semitones, all on the beat.
    t = Track("melody")
    for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72]):
        t.notes.append(Note(p, i * 480, 480))
    song = Song([t], time_signatures=[TimeSignature(0, 4, 4)])
    f = HandcraftedFeatures()
    v = song_features(song)
    assert _named(f, v, "pc_in_key[0]") > 0.2  # tonic C (rotated to index 0) appears twice
    assert _named(f, v, "minor") == 0.0
    steps = _named(f, v, "melodic_interval[1]") + _named(f, v, "melodic_interval[2]")
    assert steps == pytest.approx(1.0)
    assert _named(f, v, "melodic_up_share") == 1.0
    assert _named(f, v, "onset_in_beat[0]") == 1.0
    assert _named(f, v, "pitch_range") == pytest.approx(12 / 48)
    assert _named(f, v, "polyphony_mean") == pytest.approx(1 / 4)
    assert _named(f, v, "silence_share") == 0.0
    # Add a held chord under it: polyphony goes up, harmonic intervals appear.
    chord = Track("chord", notes=[Note(48, 0, 3840), Note(52, 0, 3840), Note(55, 0, 3840)])
    w = song_features(Song([t, chord]))
    assert _named(f, w, "polyphony_mean") == pytest.approx(4 / 4)
    assert _named(f, w, "harmonic_interval[4]") > 0 and _named(f, w, "harmonic_interval[7]") > 0


def test_segments_cover_the_piece_and_follow_the_meter(piano_corpus):
    name, song = piano_corpus.pieces[0]
    segs = segment_song(song, 4)
    bar = song.time_signatures[0].bar_ticks
    assert len(segs) > 10
    assert all(s % bar == 0 for s, _ in segs[:5])
    first_start, first = segs[0]
    assert max(n.end for _, n in first.iter_notes()) <= 4 * bar
    notes = [n for t, n in song.iter_notes() if not t.is_drum]
    bounds = [s for s, _ in segs[1:]]
    crossings = sum(1 for n in notes for b in bounds if n.start < b < n.end)
    # every note is in the segment where it starts, plus the held part in the next ones
    assert sum(seg.note_count for _, seg in segs) == len(notes) + crossings
    its = items([piano_corpus], segment_bars=4, max_per_piece=5)
    assert {i.piece for i in its} == {n for n, _ in piano_corpus.pieces}
    assert max(sum(1 for i in its if i.piece == p) for p in {i.piece for i in its}) <= 5
    assert its[0].song.title.startswith(f"{its[0].piece} bars ")


def test_songs_without_notes_are_skipped_or_refused():
    empty = Song([Track("nothing")])
    drums = Song([Track("kit", is_drum=True, notes=[Note(36, 0, 120)])])
    c = corpus_from_songs("mixed", [("empty", empty), ("drums", drums)])
    assert c.pieces == [] and [n for n, _ in c.skipped] == ["empty", "drums"]
    assert c.skipped[0][1] == "no notes"
    with pytest.raises(AnalysisError, match="no notes"):
        HandcraftedFeatures().features([empty])


def test_featurize_checks_the_extractor_output():
    class Broken:
        name = "broken"

        def features(self, songs):
            return np.full((len(songs), 3), np.nan)

    song = Song([Track("x", notes=[Note(60, 0, 480)])])
    with pytest.raises(AnalysisError, match="NaN"):
        featurize(Broken(), [song])
