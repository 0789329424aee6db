"""Keys and scales: names, scale membership, and key estimation (Krumhansl-Schmuckler).

Key estimation is used for dataset statistics, for `studio info`, and by the harmony benchmark to
count notes that lie in the scale of the key that best fits a piece.
"""

from __future__ import annotations

import numpy as np

SHARP_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
FLAT_NAMES = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"]
MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
# Harmonic-minor leading tone is common in chorales; natural minor plus the raised 7th.
MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10, 11)

# Krumhansl-Kessler key profiles.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def pitch_name(pitch: int, prefer_flats: bool = False) -> str:
    """'C4' for 60 (middle C is C4)."""
    names = FLAT_NAMES if prefer_flats else SHARP_NAMES
    return f"{names[pitch % 12]}{pitch // 12 - 1}"


def key_name(tonic: int, minor: bool, prefer_flats: bool | None = None) -> str:
    """'D minor'; spelled with flats when the key signature has flats, unless told."""
    if prefer_flats is None:
        prefer_flats = sharps_for(tonic, minor) < 0
    names = FLAT_NAMES if prefer_flats else SHARP_NAMES
    return f"{names[tonic % 12]} {'minor' if minor else 'major'}"


def scale_pitch_classes(tonic: int, minor: bool) -> frozenset[int]:
    steps = MINOR_STEPS if minor else MAJOR_STEPS
    return frozenset((tonic + s) % 12 for s in steps)


def sharps_for(tonic: int, minor: bool) -> int:
    """Key-signature accidentals (-7..7) for a tonic; prefers the spelling with fewer."""
    major_tonic = (tonic + 3) % 12 if minor else tonic % 12
    sharps = (major_tonic * 7) % 12  # circle of fifths position
    return sharps - 12 if sharps > 6 else sharps


def estimate_key(pitch_class_weights: np.ndarray, fit_scale: bool = False
                 ) -> tuple[int, bool, float]:
    """Best (tonic, minor, correlation) for a 12-bin pitch-class histogram (e.g. durations).

    With `fit_scale`, a key loses OUT_OF_SCALE_PENALTY of its score per share of the music that
    lies outside its scale. A short melody (a few bars drawn in the editor) correlates with a
    profile by chance: E G F E D E F G fits E minor's profile best, yet its F naturals are not
    in E minor at all; with `fit_scale` it is C major. Used where the key becomes a constraint
    (harmonizing, the generation forms' "the music's own key")."""
    w = np.asarray(pitch_class_weights, dtype=np.float64)
    if w.shape != (12,) or not np.any(w > 0):
        return 0, False, 0.0
    total = float(w.sum())
    best, best_score = (0, False, -2.0), -np.inf
    for minor, profile in ((False, _MAJOR_PROFILE), (True, _MINOR_PROFILE)):
        for tonic in range(12):
            r = float(np.corrcoef(w, np.roll(profile, tonic))[0, 1])
            if not np.isfinite(r):
                r = -1.0
            score = r
            if fit_scale:
                inside = sorted(scale_pitch_classes(tonic, minor))
                score -= OUT_OF_SCALE_PENALTY * (total - float(w[inside].sum())) / total
            if score > best_score:
                best, best_score = (tonic, minor, r), score
    return best


OUT_OF_SCALE_PENALTY = 2.0


def pitch_class_histogram(pitches: np.ndarray, durations: np.ndarray | None = None) -> np.ndarray:
    pitches = np.asarray(pitches, dtype=np.int64)
    weights = None if durations is None else np.asarray(durations, dtype=np.float64)
    return np.bincount(pitches % 12, weights=weights, minlength=12).astype(np.float64)
