"""The sonority prior counted on Bach's chorales."""

from __future__ import annotations

import numpy as np

from studio.data import load_dataset
from studio.ml.sonority_prior import count_sonorities, frame_masks


def test_sonority_prior_prefers_triads_to_clusters():
    pieces = [p.satb for p in load_dataset("jsb").split("train")[:40]]
    prior = count_sonorities(pieces)
    triad = frame_masks(np.array([[67, 64, 60, 48]]))[0]  # C major over C: bits 0, 4, 7
    assert triad == 1 + (1 << 4) + (1 << 7)
    cluster = frame_masks(np.array([[62, 61, 60, 48]]))[0]
    assert prior[triad] > prior[cluster] + 3
