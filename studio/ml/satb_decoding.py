"""From a four-voice model's per-step chances for alto, tenor and bass to well-led harmony: the
bridge between the SATB-roll models (MiniBach, the RBM) and `studio.music.harmony_search`.

Classes are those of `studio.ml.satb_roll` (0 silent, 1-46 = MIDI 36-81). The search picks, for
the whole piece at once, the path of chords that is likely for the model and avoids parallel
fifths and octaves, crossings, wide spacing, and notes out of range or out of the key; the key
is the one given by the allowed pitches, else the one that best fits the melody.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from studio.ml import satb_roll as sr
from studio.ml.errors import GenerationError
from studio.music import harmony_search
from studio.music.grids import VOICE_RANGES
from studio.music.keys import estimate_key, pitch_class_histogram, scale_pitch_classes

IMPOSSIBLE = -1e4  # the log-probability given to what a voice may not sing


def allowed_classes(allowed_pitches: Sequence[int] | None) -> torch.Tensor:
    """(4, classes) bool: each voice within its JSB range (and the allowed pitches); silence
    always allowed."""
    keep = torch.zeros(sr.VOICES, sr.CLASSES, dtype=torch.bool)
    keep[:, 0] = True
    scale = None if allowed_pitches is None else {int(p) for p in allowed_pitches}
    for v, (lo, hi) in enumerate(VOICE_RANGES):
        for p in range(max(lo, sr.LOWEST), min(hi, sr.HIGHEST) + 1):
            if scale is None or p in scale:
                keep[v, p - sr.LOWEST + 1] = True
    if not keep[:, 1:].any(-1).all():
        raise GenerationError("the allowed pitches leave a voice with no note to sing")
    return keep


def key_scale(soprano: np.ndarray, allowed_pitches: Sequence[int] | None) -> frozenset[int]:
    """The pitch classes the search prefers: those allowed, else the melody's key."""
    if allowed_pitches is not None:
        return frozenset(int(p) % 12 for p in allowed_pitches)
    soprano = np.asarray(soprano)
    tonic, minor, _ = estimate_key(pitch_class_histogram(soprano[soprano >= 0]))
    return scale_pitch_classes(tonic, minor)


def decode_lower_voices(soprano: np.ndarray, logp: np.ndarray, fixed: np.ndarray,
                        allowed: torch.Tensor, scale: frozenset[int], *, top_k: int = 5,
                        sample_temperature: float = 0.0,
                        rng: np.random.Generator | None = None) -> np.ndarray:
    """(steps, 4) pitches (int8, -1 silent): the best-led path under `soprano` (steps,).

    logp: (steps, 3, classes) log-probabilities of alto, tenor and bass (silence is left to
    the soprano: where it rests, everyone rests); fixed: (steps, 4) pitches to keep, -2 where
    free; allowed: `allowed_classes(...)`; sample_temperature > 0 perturbs the search (Gumbel
    noise) to make variations."""
    logp = np.asarray(logp, dtype=np.float64)
    emissions = np.full((len(soprano), 3, 128), IMPOSSIBLE)
    penalty = np.where(allowed[1:, 1:].numpy(), 0.0, IMPOSSIBLE)
    emissions[:, :, sr.LOWEST:sr.HIGHEST + 1] = logp[:, :, 1:] + penalty
    path = harmony_search.decode(np.asarray(soprano, np.int64), emissions,
                                 np.asarray(fixed, np.int64), top_k=top_k, scale=scale,
                                 sample_temperature=sample_temperature, rng=rng)
    return path.astype(np.int8)
