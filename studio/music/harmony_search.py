"""Voice-leading-aware decoding of four-part harmony from per-step pitch probabilities.

A harmonizing model (Coconet-style CNN, MiniBach MLP, ...) gives, for every 16th step, a
probability for each pitch of each free voice. Taking each voice's most likely pitch on its own
ignores how voices move together, which is where parallel fifths, crossings and wide spacings
come from. This module finds the whole four-voice path that maximises

    sum over steps of log p(pitches)  -  penalties(chord)  -  penalties(move between chords)

by dynamic programming (Viterbi) over the top-k pitches of each free voice per step. Chord
penalties: voice crossing, more than an octave between soprano-alto or alto-tenor, notes out of
range or out of the key. Move penalties: parallel fifths and octaves between any two voices, leaps
over an octave. With `sample_temperature > 0`, Gumbel noise perturbs the emissions, so repeated
calls give different, still well-led harmonizations (perturb-and-MAP), which is how variations are
made.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from studio.music.grids import VOICE_RANGES


@dataclass(frozen=True)
class VoiceLeadingPenalties:
    """Costs in nats (the units of log-probabilities)."""

    parallel_fifth: float = 12.0
    parallel_octave: float = 12.0
    crossing: float = 6.0
    spacing: float = 4.0
    out_of_range: float = 6.0
    out_of_key: float = 1.5
    leap_over_octave: float = 4.0
    leap_over_fifth: float = 0.7
    # A voice changing pitch costs a little, more off the beat: chorale voices move mostly in
    # quarters and eighths, and a 16th-step model left alone tends to flicker.
    change: float = 0.3
    change_off_eighth: float = 1.5
    change_off_quarter: float = 0.3
    steps_per_quarter: int = 4


def _candidates(logp: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k pitch indices and their log-probs: (steps, k) each."""
    k = min(k, logp.shape[1])
    idx = np.argpartition(-logp, k - 1, axis=1)[:, :k]
    return idx, np.take_along_axis(logp, idx, axis=1)


def decode(soprano: np.ndarray, logp: np.ndarray, fixed: np.ndarray | None = None,
           top_k: int = 5, penalties: VoiceLeadingPenalties = VoiceLeadingPenalties(),
           scale: frozenset[int] | None = None, sample_temperature: float = 0.0,
           rng: np.random.Generator | None = None) -> np.ndarray:
    """Best (steps, 4) SATB path.

    soprano: (steps,) given melody pitches (-1 for rests; a rest frame leaves all voices silent
      unless `fixed` says otherwise).
    logp: (steps, 3, 128) log-probabilities of alto, tenor, bass pitches per step.
    fixed: optional (steps, 4) pitches that must be kept (-2 = free, -1 = silent, else a pitch);
      fixed voices are outside the search (infill keeps every note outside the region).
    """
    soprano = np.asarray(soprano, dtype=np.int64)
    steps = len(soprano)
    out = np.full((steps, 4), -1, dtype=np.int64)
    out[:, 0] = soprano
    if steps == 0:
        return out
    if fixed is None:
        fixed = np.full((steps, 4), -2, dtype=np.int64)
        fixed[:, 0] = soprano
    rng = rng or np.random.default_rng()
    lp = np.array(logp, dtype=np.float64)
    if sample_temperature > 0:
        lp = lp + sample_temperature * rng.gumbel(size=lp.shape)
    # Per step and voice: candidate pitches (fixed voices get their one pitch, cost 0).
    cand, cand_lp = [], []
    for v in range(1, 4):
        idx, val = _candidates(lp[:, v - 1, :], top_k)
        f = fixed[:, v]
        is_fixed = f != -2
        idx = np.where(is_fixed[:, None], f[:, None], idx)
        val = np.where(is_fixed[:, None], 0.0, val)
        cand.append(idx)
        cand_lp.append(val)
    k = cand[0].shape[1]
    combos = np.array(list(itertools.product(range(k), repeat=3)))  # (k^3, 3)
    # chords[t]: (S, 4) pitches of every state at step t; emit[t]: (S,) score
    chords = np.empty((steps, len(combos), 4), dtype=np.int64)
    emit = np.zeros((steps, len(combos)))
    sop = np.where(fixed[:, 0] != -2, fixed[:, 0], soprano)
    chords[:, :, 0] = sop[:, None]
    for v in range(3):
        chords[:, :, v + 1] = cand[v][:, combos[:, v]]
        emit += cand_lp[v][:, combos[:, v]]
    emit -= _chord_cost(chords, penalties, scale)
    # Duplicate states (fixed voices make many combos equal) are harmless for the max.
    score = emit[0].copy()
    back = np.zeros((steps, len(combos)), dtype=np.int64)
    for t in range(1, steps):
        trans = _move_cost(chords[t - 1], chords[t], penalties, t)  # (S_prev, S_next)
        total = score[:, None] - trans
        back[t] = np.argmax(total, axis=0)
        score = total[back[t], np.arange(len(combos))] + emit[t]
    path = np.empty(steps, dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for t in range(steps - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    out = chords[np.arange(steps), path]
    return out


def _chord_cost(ch: np.ndarray, pen: VoiceLeadingPenalties, scale) -> np.ndarray:
    """ch: (..., 4) -> (...) cost of each chord on its own."""
    cost = np.zeros(ch.shape[:-1])
    sounding = ch >= 0
    for v in range(3):
        both = sounding[..., v] & sounding[..., v + 1]
        cost += pen.crossing * (both & (ch[..., v] < ch[..., v + 1]))
    for v in range(2):
        both = sounding[..., v] & sounding[..., v + 1]
        cost += pen.spacing * (both & (ch[..., v] - ch[..., v + 1] > 12))
    for v in range(1, 4):
        lo, hi = VOICE_RANGES[v]
        p = ch[..., v]
        cost += pen.out_of_range * ((p >= 0) & ((p < lo) | (p > hi)))
    if scale is not None:
        in_scale = np.isin(ch % 12, np.array(sorted(scale)))
        cost += pen.out_of_key * (sounding[..., 1:] & ~in_scale[..., 1:]).sum(axis=-1)
    return cost


def _move_cost(a: np.ndarray, b: np.ndarray, pen: VoiceLeadingPenalties, t: int) -> np.ndarray:
    """a: (S, 4) chords at step t-1, b: (R, 4) at t -> (S, R) cost of moving from each to each."""
    A, B = a[:, None, :], b[None, :, :]
    present = (A >= 0) & (B >= 0)
    d = np.where(present, B - A, 0)
    cost = np.zeros((len(a), len(b)))
    changes = (A[..., 1:] != B[..., 1:]).sum(axis=-1)
    per_change = pen.change
    q = pen.steps_per_quarter
    if t % q:
        per_change += pen.change_off_quarter
        if t % max(1, q // 2):
            per_change += pen.change_off_eighth
    cost += per_change * changes
    leap = np.abs(d[..., 1:])
    cost += pen.leap_over_octave * (leap > 12).sum(axis=-1)
    cost += pen.leap_over_fifth * ((leap > 7) & (leap <= 12)).sum(axis=-1)
    for i in range(4):
        for j in range(i + 1, 4):
            both = present[..., i] & present[..., j]
            di, dj = np.sign(d[..., i]), np.sign(d[..., j])
            similar = both & (di == dj) & (di != 0)
            before = (A[..., i] - A[..., j]) % 12
            after = (B[..., i] - B[..., j]) % 12
            cost += pen.parallel_fifth * (similar & (before == 7) & (after == 7))
            cost += pen.parallel_octave * (similar & (before == 0) & (after == 0))
    return cost
