"""Augmentation by transposition, kept within pitch ranges.

A four-voice piece is shifted only as far as every voice stays inside its range (the JSB voice
ranges by default); any other piece as far as its pitched notes stay inside `song_range` (the
piano's 21-108 by default). Transposed pieces keep the split of their original, so augmented
copies of a training piece never leak into validation or test.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from studio.data.dataset import Dataset, Piece
from studio.music.grids import VOICE_RANGES

PIANO_RANGE = (21, 108)


def allowed_shifts(piece: Piece, shifts: Iterable[int],
                   voice_ranges: Sequence[tuple[int, int]] = VOICE_RANGES,
                   song_range: tuple[int, int] = PIANO_RANGE) -> list[int]:
    """The shifts (semitones) that keep the piece inside the ranges."""
    shifts = list(shifts)
    if piece.satb is not None:
        ok = []
        for s in shifts:
            fits = True
            for v in range(min(piece.satb.shape[1], len(voice_ranges))):
                voice = piece.satb[:, v]
                sounding = voice[voice >= 0]
                if len(sounding) and (sounding.min() + s < voice_ranges[v][0]
                                      or sounding.max() + s > voice_ranges[v][1]):
                    fits = False
                    break
            if fits:
                ok.append(s)
        return ok
    lo, hi = piece.metadata.get("pitch_min"), piece.metadata.get("pitch_max")
    if lo is None or hi is None:
        pitches = [n.pitch for t in piece.song().tracks if not t.is_drum for n in t.notes]
        if not pitches:
            return [s for s in shifts if s == 0]
        lo, hi = min(pitches), max(pitches)
    return [s for s in shifts if lo + s >= song_range[0] and hi + s <= song_range[1]]


def transposed(piece: Piece, semitones: int) -> Piece:
    """A copy of the piece shifted by `semitones` (drums untouched), named 'name (+2)'."""
    if semitones == 0:
        return piece
    meta = {k: v for k, v in piece.metadata.items()
            if k not in ("key", "key_signature", "key_estimated", "_hists")}
    for k in ("pitch_min", "pitch_max"):
        if meta.get(k) is not None:
            meta[k] += semitones
    meta["transposed"] = semitones
    name = f"{piece.name} ({semitones:+d})"
    if piece.satb is not None:
        satb = np.where(piece.satb >= 0, piece.satb + semitones, -1).astype(np.int8)
        satb.setflags(write=False)
        return Piece(name, piece.split, piece.source, satb, meta)

    def load():
        from studio.music.operations import transpose

        song = transpose(piece.song(), semitones)
        song.title = name
        return song
    return Piece(name, piece.split, piece.source, None, meta, load)


def augment_transpositions(pieces: Iterable[Piece], shifts: Iterable[int] = range(-5, 7),
                           voice_ranges: Sequence[tuple[int, int]] = VOICE_RANGES,
                           song_range: tuple[int, int] = PIANO_RANGE) -> list[Piece]:
    """Each piece followed by its transpositions that fit (the original counts as shift 0)."""
    shifts = sorted(set(shifts) | {0})
    out: list[Piece] = []
    for p in pieces:
        for s in allowed_shifts(p, shifts, voice_ranges, song_range):
            out.append(transposed(p, s))
    return out


def with_transpositions(dataset: Dataset, shifts: Iterable[int] = range(-5, 7),
                        splits: Sequence[str] = ("train",), **ranges) -> Dataset:
    """The dataset with transposed copies added to `splits` (training only, by default)."""
    shifts = list(shifts)
    pieces: list[Piece] = []
    for p in dataset.pieces:
        pieces.extend(augment_transpositions([p], shifts, **ranges) if p.split in splits
                      else [p])
    return Dataset(f"{dataset.name}+transpose", pieces, dataset.description, dataset.builtin,
                   None)
