"""Chord symbols: what musicians type, corpus labels, bad symbols named with their place, and
recognising a chord from pitch classes."""

import numpy as np
import pytest

from studio.music.chords import (
    Chord,
    ChordSymbolError,
    parse_chord,
    parse_label,
    parse_progression,
    recognise_chord,
)


def test_typed_symbols():
    assert parse_chord("Am") == Chord(9, "min")
    assert parse_chord("F#m7b5") == Chord(6, "hdim7")
    assert parse_chord("Bbmaj7") == Chord(10, "maj7")
    assert parse_chord("G7/B") == Chord(7, "7", 11)
    assert parse_chord("Csus4").pitch_classes == (0, 5, 7)
    assert parse_chord("E♭+") == Chord(3, "aug")
    assert parse_chord("Dm7").name() == "Dm7" and Chord(10, "maj").name(True) == "Bb"
    assert parse_chord("C7").same_harmony(parse_chord("Cmaj7"))
    assert not parse_chord("C").same_harmony(parse_chord("Cm"))


def test_corpus_labels():
    assert parse_label("A:min7/b7") == Chord(9, "min7")
    assert parse_label("G:sus4(b7)") == Chord(7, "7sus4")
    assert parse_label("Db:maj") == Chord(1, "maj")
    assert parse_label("N") is None


def test_progressions_with_and_without_bar_lines():
    assert parse_progression("C G Am F") == [[Chord(0)], [Chord(7)], [Chord(9, "min")],
                                             [Chord(5)]]
    bars = parse_progression("| C G | Am % | F |")
    assert bars == [[Chord(0), Chord(7)], [Chord(9, "min"), Chord(9, "min")], [Chord(5)]]


@pytest.mark.parametrize("text, words", [
    ("C G Hm F", ["'Hm'", "bar 3"]),
    ("| C | G Amx7 | F |", ["'Amx7'", "bar 2, chord 2", "unknown chord type"]),
    ("| % | C |", ["'%'", "bar 1", "no"]),
    ("C/X", ["'C/X'", "bass"]),
    ("   ", ["empty"]),
    ("| | |", ["only bar lines"]),
])
def test_bad_text_names_the_symbol_and_where(text, words):
    with pytest.raises(ChordSymbolError) as info:
        parse_progression(text)
    for w in words:
        assert w in str(info.value), str(info.value)


def test_recognising_chords_from_pitch_classes():
    w = np.zeros(12)
    w[[9, 0, 4]] = 1
    assert recognise_chord(w, bass=9) == Chord(9, "min")
    w[7] = 1  # A C E G: Am7, or C6 over A; with A in the bass, A minor family
    assert recognise_chord(w, bass=9).family == "min" and recognise_chord(w, 9).root == 9
    assert recognise_chord(np.zeros(12)) is None
