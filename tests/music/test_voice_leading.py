"""Voice-leading counts: exact on constructed progressions, and Bach's chorales score as Bach."""

import numpy as np

from studio.music.voice_leading import chords, corpus_rates, count


def test_parallel_fifths_and_octaves_are_counted_exactly():
    # C major to D minor in root position with all voices moving up a step: S-B octave... build
    # S=G4 A=E4 T=C4 B=C3 -> S=A4 A=F4 T=D4 B=D3: T-B octave->octave up (parallel octave),
    # S-T fifth G-C (7) -> A-D (7) up (parallel fifth), S-B G-C (7) -> A-D (7) (parallel fifth).
    satb = np.array([[67, 64, 60, 48], [67, 64, 60, 48], [69, 65, 62, 50]])
    c = count(satb)
    assert c.pair_moves == 6
    assert c.parallel_fifths == 2 and c.parallel_octaves == 1
    # Contrary motion into a fifth is not parallel.
    satb2 = np.array([[67, 64, 60, 55], [69, 64, 60, 50]])
    assert count(satb2).parallel_fifths == 0


def test_crossing_spacing_range_and_key():
    satb = np.array([[72, 74, 66, 48],   # alto above soprano: crossing; F# not in C major
                     [84, 64, 60, 48],   # soprano 20 above alto: spacing; 84 out of range
                     [72, 67, 64, 48]])
    c = count(satb, key=(0, False))
    assert c.crossing_frames == 1 and c.spacing_frames == 1
    assert c.out_of_range_notes == 1
    assert c.notes == 10 and c.in_key_notes == 9
    assert len(chords(np.array([[60, 55, 52, 48]] * 4))) == 1


def test_bach_is_clean_and_random_voices_are_not(jsb):
    p, o = jsb["test_pitches"], jsb["test_offsets"]
    pieces = [p[o[i]:o[i + 1]] for i in range(len(o) - 1)]
    bach = corpus_rates(pieces)
    rng = np.random.default_rng(0)
    noisy = []
    for piece in pieces:
        q = piece.copy()
        ch = np.flatnonzero(np.r_[True, np.any(q[1:] != q[:-1], axis=1)])
        for v in (1, 2, 3):  # random alto/tenor/bass within an octave of Bach's
            shift = rng.integers(-7, 8, size=len(ch))
            seg = np.repeat(shift, np.diff(np.r_[ch, len(q)]))
            q[:, v] = np.where(q[:, v] >= 0, q[:, v] + seg, -1)
        noisy.append(q)
    rnd = corpus_rates(noisy)
    assert bach["in_key_pct"] > 90
    assert bach["parallel_fifths_per_1000"] < 10 and bach["crossing_frames_pct"] < 5
    assert rnd["parallel_fifths_per_1000"] > 3 * bach["parallel_fifths_per_1000"]
    assert rnd["crossing_frames_pct"] > 3 * bach["crossing_frames_pct"]
    assert rnd["in_key_pct"] < bach["in_key_pct"] - 10
