"""The melody-token representation: one token per 16th note (a pitch, HOLD or REST, from
`studio.music.tokens`) with the position of each step in its bar.

Four-voice pieces (the chorales) give their soprano, or all four voices, as melodies; other
pieces give the highest line of their pitched tracks (or every track with `voices="all"`).
Encoded arrays are cached per dataset (`Dataset.cached_arrays`). Windows add a start token
(`BOS`) so that the first note of a piece is predicted too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from studio.ml.errors import DatasetTooSmallError, is_unreadable_piece
from studio.ml.family import Examples
from studio.music.grids import SIXTEENTH
from studio.music.song import Song, Track
from studio.music.timing import step_positions
from studio.music.tokens import HOLD, REST, VOCAB_SIZE, pitches_to_tokens, track_to_tokens

if TYPE_CHECKING:
    from studio.data import Dataset, Piece

BOS = VOCAB_SIZE  # input-only start token
INPUT_VOCAB = VOCAB_SIZE + 1
MAX_POSITIONS = 32  # steps per bar up to 8/4 (or 16/8)
IGNORE = -100


def steps_per_bar(song: Song) -> int:
    """16th steps in a bar of the song's meter (after a pickup bar: the bar that follows)."""
    sigs = sorted(song.time_signatures, key=lambda s: s.tick)
    ts = sigs[0] if sigs else None
    if len(sigs) >= 2 and sigs[1].tick == sigs[0].bar_ticks < sigs[1].bar_ticks:
        ts = sigs[1]  # the first bar is a pickup
    return max(1, min(MAX_POSITIONS, (ts.bar_ticks if ts else 1920) // SIXTEENTH))


def piece_melodies(piece: Piece, voices: str) -> tuple[list[np.ndarray], int | np.ndarray]:
    """The melodies (token arrays) of one piece and its steps per bar, or (songs with a
    pickup or a change of meter) the bar position of every step."""
    if piece.satb is not None:
        cols = range(piece.satb.shape[1]) if voices == "all" else [0]
        return [pitches_to_tokens(piece.satb[:, v]) for v in cols], 16
    song = piece.song()
    melodies = song_melodies(song, voices)
    if len(song.time_signatures) <= 1 or not melodies:
        return melodies, steps_per_bar(song)
    longest = max(len(m) for m in melodies)
    pos = step_positions(song.time_signatures, longest, SIXTEENTH)
    return melodies, np.minimum(pos, MAX_POSITIONS - 1)


def song_melodies(song: Song, voices: str = "soprano") -> list[np.ndarray]:
    """The melodies (token arrays) of a song: the highest line of all its pitched tracks
    (`voices="soprano"`), one per pitched track (`"all"`), or the track named Melody
    (`"melody"`, or the track whose name starts with NAME for `"melody:NAME"`; the highest line
    when there is none)."""
    pitched = [t for t in song.tracks if not t.is_drum and t.notes]
    if voices == "melody" or voices.startswith("melody:"):  # a multi-track song's melody track
        prefix = voices.partition(":")[2].strip().lower() or "melody"
        named = [t for t in pitched if t.name.strip().lower().startswith(prefix)]
        if named:
            return [track_to_tokens(named[0])]
        voices = "soprano"
    if voices == "soprano":
        merged = Track(name="melody")
        merged.notes = [n for t in pitched for n in t.notes]
        pitched = [merged] if merged.notes else []
    return [track_to_tokens(t) for t in pitched]


def encode_dataset(dataset: Dataset, voices: str) -> dict[str, np.ndarray]:
    """Tokens, bar positions and offsets per split, cached with the dataset."""

    def compute() -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for split in ("train", "valid", "test"):
            tokens, positions, offsets, failed = [], [], [0], 0
            for piece in dataset.split(split):
                try:
                    melodies, bar = piece_melodies(piece, voices)
                except Exception as e:  # an unreadable piece is skipped, never fatal
                    if not is_unreadable_piece(e):
                        raise
                    failed += 1
                    continue
                for m in melodies:
                    if not (m != REST).any():
                        continue
                    tokens.append(m.astype(np.int16))
                    where = (np.arange(len(m)) % bar if isinstance(bar, int)
                             else bar[:len(m)])
                    positions.append(where.astype(np.int16))
                    offsets.append(offsets[-1] + len(m))
            out[f"{split}_tokens"] = np.concatenate(tokens) if tokens else np.zeros(0, np.int16)
            out[f"{split}_positions"] = (np.concatenate(positions) if positions
                                         else np.zeros(0, np.int16))
            out[f"{split}_offsets"] = np.asarray(offsets, dtype=np.int64)
            out[f"{split}_failed"] = np.asarray(failed)
        return out

    # /2: bar positions follow pickups and changes of meter
    return dataset.cached_arrays(f"melody-tokens/2/voices={voices}", compute)


def sequences(dataset: Dataset, split: str, voices: str) -> list[np.ndarray]:
    arrays = encode_dataset(dataset, voices)
    tok, off = arrays[f"{split}_tokens"], arrays[f"{split}_offsets"]
    return [tok[off[i]:off[i + 1]] for i in range(len(off) - 1)]


def windows(dataset: Dataset, split: str, voices: str, window: int, *,
            training: bool) -> Examples:
    """Examples of `window` steps: `inputs` (previous token, BOS first), `positions` (bar
    position of the predicted step) and `targets`.

    Training windows overlap by half and skip melodies shorter than the window; evaluation
    windows tile each melody and pad the last one (targets IGNORE), so every token counts once.
    """
    arrays = encode_dataset(dataset, voices)
    tok, pos, off = (arrays[f"{split}_{k}"] for k in ("tokens", "positions", "offsets"))
    stride = max(1, window // 2) if training else window
    ins, poss, tgts, used, skipped = [], [], [], 0, 0
    for i in range(len(off) - 1):
        t, p = tok[off[i]:off[i + 1]], pos[off[i]:off[i + 1]]
        n = len(t)
        if training and n < window:
            skipped += 1
            continue
        used += 1
        x = np.concatenate(([BOS], t)).astype(np.int16)
        last = n - window if training else n - 1
        for s in range(0, last + 1, stride):
            e = min(s + window, n)
            a = np.full(window, REST, np.int16)
            b = np.zeros(window, np.int16)
            c = np.full(window, IGNORE, np.int16)
            a[:e - s], b[:e - s], c[:e - s] = x[s:e], p[s:e], t[s:e]
            ins.append(a)
            poss.append(b)
            tgts.append(c)
    if not ins:
        total = len(off) - 1
        longest = max((off[i + 1] - off[i] for i in range(total)), default=0)
        if total == 0:
            raise DatasetTooSmallError(f"the {split} split of dataset {dataset.name!r} has no "
                                       "melodies to learn from")
        raise DatasetTooSmallError(
            f"no melody in the {split} split of {dataset.name!r} is as long as the model's window "
            f"of {window} steps (the longest has {longest}); choose a shorter window")
    return Examples({"inputs": torch.from_numpy(np.stack(ins)),
                     "positions": torch.from_numpy(np.stack(poss)),
                     "targets": torch.from_numpy(np.stack(tgts))}, used, skipped,
                    int(arrays[f"{split}_failed"]))


def transpose_batch(batch: dict[str, torch.Tensor], semitones: int,
                    generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Each window shifted by its own random interval within +-semitones, kept in 0-127."""
    inputs, targets = batch["inputs"], batch["targets"]
    pitched_in = inputs < 128
    pitched_t = (targets >= 0) & (targets < 128)
    big = torch.tensor(1000, dtype=inputs.dtype, device=inputs.device)
    low = torch.minimum(torch.where(pitched_in, inputs, big).amin(1),
                        torch.where(pitched_t, targets, big).amin(1))
    high = torch.maximum(torch.where(pitched_in, inputs, -big).amax(1),
                         torch.where(pitched_t, targets, -big).amax(1))
    lo = torch.clamp(-low, min=-semitones).clamp(max=0)
    hi = torch.clamp(127 - high, max=semitones).clamp(min=0)
    u = torch.rand(len(inputs), generator=generator).to(inputs.device)
    shift = (lo + (u * (hi - lo + 1).float()).long().to(lo.dtype)).clamp(max=hi)[:, None]
    return {**batch, "inputs": torch.where(pitched_in, inputs + shift, inputs),
            "targets": torch.where(pitched_t, targets + shift, targets)}


def melody_song(tokens: np.ndarray, qpm: float = 90.0, name: str = "Melody",
                program: int = 0) -> Song:
    """A one-track song from melody tokens (4/4, 16th grid)."""
    from studio.music.song import TempoChange, TimeSignature
    from studio.music.tokens import tokens_to_track

    song = Song(tempos=[TempoChange(0, qpm)], time_signatures=[TimeSignature(0, 4, 4)])
    song.tracks.append(tokens_to_track(np.asarray(tokens), name=name, program=program))
    return song


def onset_of(tokens: torch.Tensor) -> torch.Tensor:
    """True where a token starts a note (a pitch token)."""
    return tokens < HOLD
