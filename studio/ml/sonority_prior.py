"""How often Bach's chorales sound each sonority: a prior over whole chords, for decoders that
must hear chords rather than multiply independent per-voice guesses.

A sonority is the set of pitch classes sounding in one 16th frame, read relative to the bass
(so C-E-G over C and F-A-C over F are the same root-position triad, and C-E-G over E is its
first inversion). Counted on every frame of the JSB chorales' training split in all twelve
transpositions, add-half smoothed: `log_prior()[mask]` is the log-probability of the 12-bit mask
(bit i: the pitch class i semitones above the bass; bit 0 always set when a bass sounds).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

SETS = 1 << 12


def rotate_masks(masks: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """12-bit pitch-class masks turned down by `shift` semitones (so `shift` becomes bit 0)."""
    s = shift % 12
    return ((masks >> s) | (masks << (12 - s))) & (SETS - 1)


def frame_masks(pitches: np.ndarray) -> np.ndarray:
    """(T, voices) MIDI pitches (-1 silent) -> (T,) masks relative to the lowest sounding voice
    (0 where nothing sounds)."""
    p = np.asarray(pitches, np.int64)
    sounding = p >= 0
    bits = np.where(sounding, 1 << (p % 12), 0)
    masks = np.bitwise_or.reduce(bits, axis=1)
    low = np.where(sounding, p, 999).min(axis=1)
    out = rotate_masks(torch.as_tensor(masks), torch.as_tensor(np.where(low < 999, low, 0)))
    return np.where(sounding.any(axis=1), out.numpy(), 0)


def count_sonorities(pieces: list[np.ndarray]) -> np.ndarray:
    """(4096,) log-probabilities of sonorities over the frames of (T, 4) pitch arrays."""
    counts = np.full(SETS, 0.5)
    for p in pieces:
        m = frame_masks(p)
        np.add.at(counts, m[m > 0], 1.0)
    return np.log(counts / counts.sum()).astype(np.float32)


@lru_cache(maxsize=1)
def log_prior() -> torch.Tensor:
    """The JSB training split's sonority log-probabilities (computed once, then cached).
    Sets relative to the bass are transposition-invariant, so the twelve transpositions add
    nothing beyond the counts themselves."""
    from studio.data import load_dataset

    pieces = [np.asarray(p.satb) for p in load_dataset("jsb").split("train")]
    return torch.as_tensor(count_sonorities(pieces))


def final_notes(melody: np.ndarray) -> tuple[slice, slice] | None:
    """The frames of a melody's last note and of the note before it (runs of one sounding
    pitch; trailing rests skipped); None for fewer than two notes."""
    m = np.asarray(melody)
    sounding = np.nonzero(m >= 0)[0]
    if not len(sounding):
        return None
    end = int(sounding[-1]) + 1
    start = end - 1
    while start > 0 and m[start - 1] == m[end - 1]:
        start -= 1
    before = start - 1
    while before >= 0 and m[before] < 0:
        before -= 1
    if before < 0:
        return None
    first = before
    while first > 0 and m[first - 1] == m[before]:
        first -= 1
    return slice(first, before + 1), slice(start, end)


def count_cadences(pieces: list[np.ndarray]) -> np.ndarray:
    """(2, 12) log-probabilities of the bass's degree (pitch class above the tonic of the
    soprano's key) under the soprano's last note (row 0) and the note before it (row 1)."""
    from studio.music.keys import estimate_key, pitch_class_histogram

    counts = np.full((2, 12), 0.5)
    for p in pieces:
        p = np.asarray(p)
        spans = final_notes(p[:, 0])
        if spans is None:
            continue
        tonic = estimate_key(pitch_class_histogram(p[:, 0][p[:, 0] >= 0]))[0]
        for row, span in ((0, spans[1]), (1, spans[0])):
            bass = p[span, 3]
            np.add.at(counts[row], (bass[bass >= 0] - tonic) % 12, 1.0)
    return np.log(counts / counts.sum(1, keepdims=True)).astype(np.float32)


@lru_cache(maxsize=1)
def cadence_prior() -> np.ndarray:
    """`count_cadences` on the JSB training split (computed once, then cached)."""
    from studio.data import load_dataset

    return count_cadences([np.asarray(p.satb) for p in load_dataset("jsb").split("train")])
