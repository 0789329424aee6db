"""The four-voice roll representation: soprano, alto, tenor and bass on a 16th grid, each step
of each voice one class: 0 = silent, 1..46 = MIDI pitches 36..81 (the JSB chorales' range).

Chorales come with their arrays; other pieces are reduced to four voices by
`studio.music.grids.song_to_satb`, notes outside the range moved by octaves into it. Encoded
arrays are cached per dataset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from studio.ml.errors import DatasetTooSmallError, is_unreadable_piece
from studio.ml.family import Examples
from studio.music.grids import song_to_satb

if TYPE_CHECKING:
    from studio.data import Dataset

LOWEST, HIGHEST = 36, 81
PITCHES = HIGHEST - LOWEST + 1
CLASSES = PITCHES + 1  # class 0 = silent
VOICES = 4


def to_classes(satb: np.ndarray) -> np.ndarray:
    """(steps, 4) pitches (-1 silent) -> classes (int8); out-of-range pitches folded by octaves."""
    p = np.asarray(satb, dtype=np.int16)
    sounding = p >= 0
    q = p.copy()
    while ((q < LOWEST) & sounding).any():
        q = np.where(sounding & (q < LOWEST), q + 12, q)
    while ((q > HIGHEST) & sounding).any():
        q = np.where(sounding & (q > HIGHEST), q - 12, q)
    return np.where(sounding, q - LOWEST + 1, 0).astype(np.int8)


def to_pitches(classes: np.ndarray | torch.Tensor) -> np.ndarray:
    """Classes -> pitches (int8, -1 silent)."""
    c = np.asarray(classes.cpu() if isinstance(classes, torch.Tensor) else classes,
                   dtype=np.int16)
    return np.where(c > 0, c + LOWEST - 1, -1).astype(np.int8)


def out_of_range(pitches: np.ndarray) -> np.ndarray:
    """The sounding pitches the representation cannot hold."""
    p = np.asarray(pitches)
    return p[(p >= 0) & ((p < LOWEST) | (p > HIGHEST))]


def encode_dataset(dataset: Dataset) -> dict[str, np.ndarray]:
    def compute() -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for split in ("train", "valid", "test"):
            arrays, offsets, failed = [], [0], 0
            for piece in dataset.split(split):
                try:
                    satb = piece.satb if piece.satb is not None else song_to_satb(piece.song())
                except Exception as e:  # an unreadable piece is skipped, never fatal
                    if not is_unreadable_piece(e):
                        raise
                    failed += 1
                    continue
                if len(satb) == 0 or not (np.asarray(satb) >= 0).any():
                    continue
                arrays.append(to_classes(satb))
                offsets.append(offsets[-1] + len(satb))
            out[f"{split}_classes"] = (np.concatenate(arrays) if arrays
                                       else np.zeros((0, VOICES), np.int8))
            out[f"{split}_offsets"] = np.asarray(offsets, dtype=np.int64)
            out[f"{split}_failed"] = np.asarray(failed)
        return out

    return dataset.cached_arrays("satb-roll/1", compute)


def pieces(dataset: Dataset, split: str) -> list[np.ndarray]:
    a = encode_dataset(dataset)
    cls, off = a[f"{split}_classes"], a[f"{split}_offsets"]
    return [cls[off[i]:off[i + 1]] for i in range(len(off) - 1)]


def crops(dataset: Dataset, split: str, window: int, *, training: bool) -> Examples:
    """`classes` (n, window, 4) crops and `valid` (n, window) steps that count.

    Training crops start every quarter of a window, plus one that ends with the piece (so the
    model learns how chorales end: the final cadence, then nothing); pieces shorter than a
    window are skipped. Evaluation crops tile each piece, the last one padded with silence that
    does not count.
    """
    stride = max(1, window // 4) if training else window
    out, valid, used, skipped = [], [], 0, 0
    all_pieces = pieces(dataset, split)
    for c in all_pieces:
        n = len(c)
        if training and n < window:
            skipped += 1
            continue
        used += 1
        last = n - window if training else n - 1
        starts = list(range(0, last + 1, stride))
        if training and starts[-1] != last:
            starts.append(last)
        for s in starts:
            e = min(s + window, n)
            crop = np.zeros((window, VOICES), np.int8)
            crop[:e - s] = c[s:e]
            v = np.zeros(window, bool)
            v[:e - s] = True
            out.append(crop)
            valid.append(v)
    if not out:
        if not all_pieces:
            raise DatasetTooSmallError(f"the {split} split of dataset {dataset.name!r} has no "
                                       "four-voice music to learn from")
        longest = max(len(c) for c in all_pieces)
        raise DatasetTooSmallError(
            f"no piece in the {split} split of {dataset.name!r} is as long as the model's window "
            f"of {window} steps (the longest has {longest}); choose a shorter window")
    a = encode_dataset(dataset)
    return Examples({"classes": torch.from_numpy(np.stack(out)),
                     "valid": torch.from_numpy(np.stack(valid))}, used, skipped,
                    int(a[f"{split}_failed"]))


def transpose_batch(batch: dict[str, torch.Tensor], semitones: int,
                    generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Each crop shifted by its own random interval within +-semitones, kept in range."""
    c = batch["classes"]
    sounding = c > 0
    flat = c.reshape(len(c), -1)
    s_flat = sounding.reshape(len(c), -1)
    low = torch.where(s_flat, flat, torch.full_like(flat, 127)).amin(1).long()
    high = torch.where(s_flat, flat, torch.zeros_like(flat)).amax(1).long()
    lo = torch.clamp(1 - low, min=-semitones).clamp(max=0)
    hi = torch.clamp(PITCHES - high, max=semitones).clamp(min=0)
    u = torch.rand(len(c), generator=generator).to(c.device)
    shift = (lo + (u * (hi - lo + 1).float()).long()).clamp(max=hi)
    shifted = torch.where(sounding, c.long() + shift[:, None, None], 0).to(c.dtype)
    return {**batch, "classes": shifted}
