"""Voice-leading statistics of four-voice music (SATB arrays, see `studio.music.grids`).

The harmony benchmark and the generation panel compare harmonizations with Bach's own by these
rates, the textbook faults of chorale writing:

- parallel fifths and octaves per 1,000 voice-pair moves: between consecutive chords, two voices
  that both move in the same direction from a perfect fifth (or octave/unison) into the same
  perfect interval;
- frames with voice crossing (a lower voice above a higher one);
- frames with more than an octave between soprano and alto, or alto and tenor;
- notes outside each voice's range;
- notes in the scale of the key that best fits the piece (Krumhansl-Schmuckler).

A "chord" is a frame that differs from the one before it (held frames are one chord).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from studio.music.grids import VOICE_RANGES
from studio.music.keys import estimate_key, pitch_class_histogram, scale_pitch_classes

PAIRS = [(i, j) for i in range(4) for j in range(i + 1, 4)]


@dataclass
class VoiceLeadingCounts:
    pair_moves: int = 0
    parallel_fifths: int = 0
    parallel_octaves: int = 0
    frames: int = 0
    crossing_frames: int = 0
    spacing_frames: int = 0
    notes: int = 0
    out_of_range_notes: int = 0
    in_key_notes: int = 0

    def __iadd__(self, other: VoiceLeadingCounts) -> VoiceLeadingCounts:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)
        return self

    def rates(self) -> dict[str, float]:
        moves = max(1, self.pair_moves)
        frames = max(1, self.frames)
        notes = max(1, self.notes)
        return {
            "parallel_fifths_per_1000": 1000 * self.parallel_fifths / moves,
            "parallel_octaves_per_1000": 1000 * self.parallel_octaves / moves,
            "crossing_frames_pct": 100 * self.crossing_frames / frames,
            "spacing_frames_pct": 100 * self.spacing_frames / frames,
            "out_of_range_pct": 100 * self.out_of_range_notes / notes,
            "in_key_pct": 100 * self.in_key_notes / notes,
        }


def chords(satb: np.ndarray) -> np.ndarray:
    """The frames where anything changes (consecutive equal frames collapsed)."""
    satb = np.asarray(satb)
    if len(satb) == 0:
        return satb
    keep = np.ones(len(satb), dtype=bool)
    keep[1:] = np.any(satb[1:] != satb[:-1], axis=1)
    return satb[keep]


def onsets(satb: np.ndarray) -> np.ndarray:
    """(steps, 4) bool: a voice starts a note (pitch differs from the step before)."""
    satb = np.asarray(satb)
    on = satb >= 0
    on[1:] &= satb[1:] != satb[:-1]
    return on


def count(satb: np.ndarray, key: tuple[int, bool] | None = None) -> VoiceLeadingCounts:
    """Voice-leading counts of one piece (steps, 4) with -1 for silence."""
    satb = np.asarray(satb, dtype=np.int64)
    c = VoiceLeadingCounts()
    ch = chords(satb)
    for i, j in PAIRS:
        a0, a1, b0, b1 = ch[:-1, i], ch[1:, i], ch[:-1, j], ch[1:, j]
        present = (a0 >= 0) & (a1 >= 0) & (b0 >= 0) & (b1 >= 0)
        moving = present & ((a0 != a1) | (b0 != b1))
        c.pair_moves += int(moving.sum())
        da, db = np.sign(a1 - a0), np.sign(b1 - b0)
        similar = moving & (da == db) & (da != 0)
        before, after = (a0 - b0) % 12, (a1 - b1) % 12
        c.parallel_fifths += int((similar & (before == 7) & (after == 7)).sum())
        c.parallel_octaves += int((similar & (before == 0) & (after == 0)).sum())
    sounding = satb >= 0
    c.frames = len(satb)
    cross = np.zeros(len(satb), dtype=bool)
    for v in range(3):
        both = sounding[:, v] & sounding[:, v + 1]
        cross |= both & (satb[:, v] < satb[:, v + 1])
    c.crossing_frames = int(cross.sum())
    spacing = np.zeros(len(satb), dtype=bool)
    for v in range(2):
        both = sounding[:, v] & sounding[:, v + 1]
        spacing |= both & (satb[:, v] - satb[:, v + 1] > 12)
    c.spacing_frames = int(spacing.sum())
    on = onsets(satb)
    c.notes = int(on.sum())
    for v, (lo, hi) in enumerate(VOICE_RANGES):
        p = satb[on[:, v], v]
        c.out_of_range_notes += int(((p < lo) | (p > hi)).sum())
    pitches = satb[on]
    if key is None:
        key = estimate_key(pitch_class_histogram(satb[sounding]))[:2]
    scale = np.array(sorted(scale_pitch_classes(*key)))
    c.in_key_notes = int(np.isin(pitches % 12, scale).sum())
    return c


def corpus_rates(pieces: list[np.ndarray]) -> dict[str, float]:
    """Rates over many pieces (counts summed, then divided)."""
    total = VoiceLeadingCounts()
    for p in pieces:
        total += count(p)
    return total.rates()
