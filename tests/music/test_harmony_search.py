"""Voice-leading-aware decoding beats independent argmax on real chorale melodies."""

import numpy as np
import pytest

from studio.data import load_dataset
from studio.ml.ngram import soprano_conditional
from studio.music.harmony_search import decode
from studio.music.keys import scale_pitch_classes
from studio.music.voice_leading import corpus_rates, count


@pytest.fixture(scope="module")
def conditional_model():
    """P(voice pitch | soprano pitch) counted on the JSB training split (add-one smoothed)."""
    return soprano_conditional([p.satb for p in load_dataset("jsb").split("train")])


def test_decoding_removes_parallels_that_argmax_makes(conditional_model):
    test = [p.satb.astype(np.int64) for p in load_dataset("jsb").split("test")[:6]]
    greedy, decoded = [], []
    for a in test:
        lp = conditional_model(a[:, 0])
        g = np.full_like(a, -1)
        g[:, 0] = a[:, 0]
        g[:, 1:] = np.where(a[:, :1] >= 0, lp.argmax(axis=2), -1)
        greedy.append(g)
        d = decode(a[:, 0], lp)
        np.testing.assert_array_equal(d[:, 0], a[:, 0])  # the melody is kept
        decoded.append(d)
    g, d = corpus_rates(greedy), corpus_rates(decoded)
    assert g["parallel_fifths_per_1000"] > 20 and g["parallel_octaves_per_1000"] > 10
    assert d["parallel_fifths_per_1000"] < 2 and d["parallel_octaves_per_1000"] < 2
    assert d["crossing_frames_pct"] < 2 and d["spacing_frames_pct"] < 2


def test_fixed_notes_are_kept_and_sampling_varies(conditional_model):
    a = load_dataset("jsb").split("valid")[0].satb.astype(np.int64)[:64]
    fixed = np.full_like(a, -2)
    fixed[:, 0] = a[:, 0]
    fixed[:32, 1:] = a[:32, 1:]  # infill: only the second half is free
    lp = conditional_model(a[:, 0])
    out = decode(a[:, 0], lp, fixed=fixed)
    np.testing.assert_array_equal(out[:32], a[:32])
    rng = np.random.default_rng(1)
    samples = {decode(a[:, 0], lp, sample_temperature=1.0, rng=rng).tobytes() for _ in range(4)}
    assert len(samples) >= 3
    # A key constraint pulls the free voices toward that scale (here a remote one, A major).
    plain = decode(a[:, 0], lp)
    keyed = decode(a[:, 0], lp, scale=scale_pitch_classes(9, False))

    def in_a_major(x):
        c = count(x, key=(9, False))
        return c.in_key_notes / c.notes

    assert in_a_major(keyed) > in_a_major(plain)
