"""Fixed-length melody segments: the representation of the autoencoders and the VAE.

A segment is a few bars of one melody as melody tokens (`studio.music.tokens`: a pitch, HOLD or
REST per 16th note), cut from the cached token arrays of `studio.ml.melody_tokens`. A segment
stands on its own: a first step that holds a note begun before the segment becomes that note's
pitch, so every segment starts with a note or a rest.

The models built on segments predict a distribution over the 130 tokens at every step at once;
`draw_tokens` turns such per-step logits into a valid melody (no hold without a sounding note,
only allowed pitches), by sampling or by taking the most likely token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from studio.ml import melody_tokens as mt
from studio.ml.errors import DatasetTooSmallError, GenerationError
from studio.ml.family import Examples
from studio.ml.sampling import constrain_tokens, sample_next
from studio.music.tokens import HOLD, REST, VOCAB_SIZE, tokens_to_pitches

if TYPE_CHECKING:
    from studio.data import Dataset

STEPS_PER_BAR = 16  # a bar of 4/4 on the 16th grid


def standalone(tokens: np.ndarray, pitch_at_start: int) -> np.ndarray:
    """The segment with a leading HOLD replaced by the pitch it holds (or a rest)."""
    out = np.array(tokens, dtype=np.int16)
    if len(out) and out[0] == HOLD:
        out[0] = pitch_at_start if pitch_at_start >= 0 else REST
    return out


def segments(dataset: Dataset, split: str, voices: str, length: int, *,
             training: bool) -> Examples:
    """`tokens` (n, length) segments and `valid` (n, length) steps that count.

    Training segments start at every bar (every half segment if shorter than a bar), skip
    melodies shorter than a segment and segments that are all rest; evaluation segments tile
    each melody, the last one ending with the melody (so that every segment is whole; a
    melody shorter than a segment is padded with rests that do not count).
    """
    melodies = mt.sequences(dataset, split, voices)
    stride = min(STEPS_PER_BAR, max(1, length // 2)) if training else length
    out, valid, used, skipped = [], [], 0, 0
    for melody in melodies:
        n = len(melody)
        if training and n < length:
            skipped += 1
            continue
        used += 1
        pitch = tokens_to_pitches(melody)
        starts = list(range(0, max(1, n - length + 1), stride))
        if not training and starts[-1] + length < n:
            starts.append(n - length)
        for s in starts:
            e = min(s + length, n)
            seg = np.full(length, REST, np.int16)
            seg[:e - s] = standalone(melody[s:e], int(pitch[s]))
            if training and not (seg != REST).any():
                continue
            mask = np.zeros(length, bool)
            mask[:e - s] = True
            out.append(seg)
            valid.append(mask)
    if not out:
        if not melodies:
            raise DatasetTooSmallError(f"the {split} split of dataset {dataset.name!r} has no "
                                       "melodies to learn from")
        longest = max(len(m) for m in melodies)
        raise DatasetTooSmallError(
            f"no melody in the {split} split of {dataset.name!r} is as long as the model's "
            f"segment of {length} steps (the longest has {longest}); choose shorter segments")
    return Examples({"tokens": torch.from_numpy(np.stack(out)),
                     "valid": torch.from_numpy(np.stack(valid))}, used, skipped)


def transpose_tokens(batch: dict[str, torch.Tensor], semitones: int,
                     generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Each segment shifted by its own random interval within +-semitones, kept in 0-127."""
    tokens = batch["tokens"]
    pitched = tokens < HOLD
    big = torch.tensor(1000, dtype=tokens.dtype, device=tokens.device)
    low = torch.where(pitched, tokens, big).amin(1)
    high = torch.where(pitched, tokens, -big).amax(1)
    lo = torch.clamp(-low, min=-semitones).clamp(max=0)
    hi = torch.clamp(127 - high, max=semitones).clamp(min=0)
    u = torch.rand(len(tokens), generator=generator).to(tokens.device)
    shift = (lo + (u * (hi - lo + 1).float()).long().to(lo.dtype)).clamp(max=hi)[:, None]
    return {**batch, "tokens": torch.where(pitched, tokens + shift, tokens)}


def split_melody(tokens: np.ndarray, length: int) -> tuple[np.ndarray, int]:
    """(segments, length) tokens covering the melody (the last padded with rests), and the
    melody's length."""
    tokens = np.asarray(tokens, dtype=np.int64).reshape(-1)
    if len(tokens) == 0:
        raise GenerationError("the melody is empty")
    if tokens.min() < 0 or tokens.max() >= VOCAB_SIZE:
        raise GenerationError("the melody holds tokens outside 0-129")
    count = -(-len(tokens) // length)
    padded = np.full(count * length, REST, np.int64)
    padded[:len(tokens)] = tokens
    pitch = tokens_to_pitches(padded)
    segs = padded.reshape(count, length)
    return np.stack([standalone(s, int(pitch[i * length])) for i, s in enumerate(segs)]), \
        len(tokens)


def allowed_tensor(allowed_pitches: Sequence[int] | None) -> torch.Tensor | None:
    """The allowed pitches as a tensor for `constrain_tokens` (None = every pitch)."""
    if allowed_pitches is None:
        return None
    pitches = sorted({int(p) for p in allowed_pitches if 0 <= int(p) < 128})
    if not pitches:
        raise GenerationError("no allowed pitch is left; widen the pitch range or the scale")
    return torch.as_tensor(pitches, dtype=torch.long)


def draw_tokens(logits: torch.Tensor, *, temperature: float = 1.0, top_k: int = 0,
                top_p: float = 1.0, generator: torch.Generator | None = None,
                allowed_pitches: Sequence[int] | None = None, greedy: bool = False
                ) -> np.ndarray:
    """(rows, steps) melody tokens from per-step logits (rows, steps, 130), left to right, so
    that a HOLD only follows a sounding note; `greedy` takes the most likely event (a new
    note, a hold or a rest), then for a new note its most likely pitch. (The single most
    likely token would nearly always be HOLD: a model unsure which pitch comes next spreads
    the new note's chance over several pitches, each less likely than holding.)"""
    logits = logits.detach().float().cpu()
    rows, steps, _ = logits.shape
    allowed = allowed_tensor(allowed_pitches)
    sounding = torch.zeros(rows, dtype=torch.bool)
    out = torch.empty((rows, steps), dtype=torch.long)
    for t in range(steps):
        masked = constrain_tokens(logits[:, t], allowed, sounding)
        if greedy:
            token = _most_likely(masked)
        else:
            token = sample_next(masked, temperature, top_k, top_p, generator)
        out[:, t] = token
        sounding = (token < HOLD) | (sounding & (token == HOLD))
    return out.numpy().astype(np.int16)



def _most_likely(logits: torch.Tensor) -> torch.Tensor:
    probs = torch.softmax(logits, -1)
    note = probs[:, :HOLD].sum(-1)
    token = torch.where(probs[:, HOLD] >= probs[:, REST], HOLD, REST)
    best = torch.maximum(probs[:, HOLD], probs[:, REST])
    return torch.where(note > best, probs[:, :HOLD].argmax(-1), token)


def morph_rhythms(first: np.ndarray, last: np.ndarray, count: int,
                  steps_per_bar: int = STEPS_PER_BAR) -> np.ndarray:
    """(count, steps) rhythm templates from melody `first` to `last` (tokens, padded with rests
    to the longer): template i takes the rhythm of `last` in its first round(i / (count - 1) *
    bars) bars and that of `first` in the others, so the rhythm too changes bar by bar."""
    steps = max(len(first), len(last))
    a, b = (np.concatenate([np.asarray(x, np.int64), np.full(steps - len(x), REST)])
            for x in (first, last))
    bars = -(-steps // steps_per_bar)
    out = np.empty((count, steps), np.int64)
    for i in range(count):
        switch = round(i / max(1, count - 1) * bars) * steps_per_bar
        out[i] = np.concatenate([b[:switch], a[switch:]])
    return out


def draw_with_rhythm(logits: torch.Tensor, rhythm: np.ndarray) -> np.ndarray:
    """(rows, steps) tokens with the rhythm of `rhythm` (rows, steps): a note starts where the
    template starts one (its pitch the one the model finds likeliest there, or its second
    choice where that would repeat the last note while the template moves on), holds where it
    holds, rests where it rests. Decoding the model's own rhythm from a code between two
    melodies' codes tends to an even pulse of the commonest notes (quarter notes on G4 and A4);
    the two melodies' rhythms carry what the ears follow."""
    logits = logits.detach().float().cpu()[:, :rhythm.shape[1]]
    ranked = logits[..., :HOLD].topk(2, dim=-1).indices.numpy()   # (rows, steps, 2)
    rhythm = np.asarray(rhythm, np.int64)
    out = np.array(rhythm)
    for r, row in enumerate(out):
        sounding, last, last_given = False, -1, -1
        for t in range(len(row)):
            given = rhythm[r, t]
            if given < HOLD or (given == HOLD and not sounding):
                # A new note (also where a hold follows a rest: two rhythms meeting at a bar
                # line). Where the template moves to another pitch and the model's first
                # choice would repeat the last note, its second choice keeps the line moving
                # (a code between two melodies' codes holds one pitch long after the onset).
                best, second = ranked[r, t]
                moves = given < HOLD and last_given >= 0 and given != last_given
                row[t] = second if moves and best == last else best
                last = int(row[t])
                last_given = int(given) if given < HOLD else last_given
            sounding = row[t] < HOLD or (sounding and row[t] == HOLD)
    return out.astype(np.int16)
