"""Chord measures of four-part harmony on hand-written chords and on Bach's chorales."""

from __future__ import annotations

import numpy as np

from studio.data import load_dataset
from studio.music.chord_stats import ROOTS, corpus_chord_rates, count, pitch_class_mask


def held(*chords: tuple[int, int, int, int], beats: int = 1) -> np.ndarray:
    """Chords (S, A, T, B) each held for `beats` quarter notes."""
    return np.repeat(np.array(chords, np.int64), 4 * beats, axis=0)


def test_chords_roots_clashes_and_cadence():
    # C major: IV - V7 - I, root position, in C (the soprano's key)
    piece = held((72, 69, 65, 53), (71, 67, 62, 55), (74, 65, 59, 55), (72, 67, 64, 48))
    c = count(piece)
    assert c.beats == 4 and c.chord_beats == 4 and c.root_bass_beats == 4
    assert c.clash_beats == 0  # the seventh G-F is a minor seventh, no rub
    assert c.tonic_endings == 1 and c.cadences == 1
    assert ROOTS[pitch_class_mask([60, 64, 67])] == {0}
    # B-D-F: the diminished triad on B, or a diminished seventh on D without its fifth
    assert ROOTS[pitch_class_mask([59, 62, 65])] == {2, 11}
    rub = count(held((72, 71, 64, 48)))  # C over B: a major seventh
    assert rub.clash_beats == 1 and rub.chord_beats == 1  # C-E-G-B is a major seventh chord
    assert pitch_class_mask([60, 48, 72]) == 1  # octaves are one pitch class


def test_sixteenths_and_notes_per_bar():
    piece = held((72, 67, 64, 48), beats=4)
    piece[4, 1] = 69  # one 16th neighbour note in the alto
    c = count(piece)
    assert c.voice_notes == [3, 1, 1] and c.lower_sixteenths == 1 and c.lower_notes == 5
    assert c.rates()["alto_notes_per_bar"] == 3.0


def test_bach_sounds_like_bach():
    pieces = [p.satb.astype(np.int64) for p in load_dataset("jsb").split("test")]
    r = corpus_chord_rates(pieces)
    assert r["clash_beats_pct"] < 5 and r["chord_beats_pct"] > 80
    assert r["root_bass_pct"] > 55 and r["cadence_pct"] > 50 and 2 < r["sixteenths_pct"] < 8
