"""Monophonic token sequences: one token per grid step, a pitch (0-127), HOLD or REST.

This is the representation of the melody models (RNN / LSTM / GRU, autoencoders, VAE). A
polyphonic track is reduced to its highest sounding line (the "skyline"). A note that starts
while a higher note sounds is hidden; a hold continues the note that last started.
"""

from __future__ import annotations

import numpy as np

from studio.music.grids import SIXTEENTH, note_steps
from studio.music.song import Note, Track

HOLD = 128
REST = 129
VOCAB_SIZE = 130


def track_to_tokens(track: Track, step: int = SIXTEENTH, start: int = 0,
                    steps: int | None = None) -> np.ndarray:
    """Tokens (int16) of the track's skyline from tick `start`, `steps` long (default: to its end)."""
    first = int(round(start / step))
    last = max((note_steps(n, step)[1] for n in track.notes), default=first)
    total = steps if steps is not None else max(0, last - first)
    pitch_at = np.full(total, -1, dtype=np.int16)
    begin_at = np.full(total, -1, dtype=np.int64)
    for n in sorted(track.notes, key=lambda n: (n.pitch, n.start)):  # higher pitches paint last
        s, e = note_steps(n, step)
        s, e = s - first, e - first
        if e <= 0 or s >= total:
            continue
        lo, hi = max(0, s), min(total, e)
        pitch_at[lo:hi] = n.pitch
        begin_at[lo:hi] = s
    tokens = np.full(total, REST, dtype=np.int16)
    sounding = pitch_at >= 0
    idx = np.arange(total)
    onset = sounding & ((begin_at == idx) | (idx == 0))
    # A step whose note differs from the previous step's is an onset too (a higher note ended).
    changed = np.ones(total, dtype=bool)
    changed[1:] = (pitch_at[1:] != pitch_at[:-1]) | (begin_at[1:] != begin_at[:-1])
    onset |= sounding & changed
    tokens[sounding] = HOLD
    tokens[onset] = pitch_at[onset]
    return tokens


def tokens_to_track(tokens: np.ndarray, step: int = SIXTEENTH, start: int = 0, name: str = "",
                    program: int = 0, velocity: int = 80) -> Track:
    """A track from tokens; a HOLD with no sounding note is a rest."""
    track = Track(name=name, program=program)
    current: Note | None = None
    for i, tok in enumerate(np.asarray(tokens).tolist()):
        if tok == HOLD and current is not None:
            current.duration += step
        elif 0 <= tok < 128:
            current = Note(int(tok), start + i * step, step, velocity)
            track.notes.append(current)
        else:
            current = None
    return track


def pitches_to_tokens(voice: np.ndarray) -> np.ndarray:
    """Tokens from a per-step pitch array (-1 = silent), a repeated pitch read as a hold."""
    voice = np.asarray(voice, dtype=np.int16)
    tokens = np.where(voice >= 0, voice, REST).astype(np.int16)
    repeat = np.zeros(len(voice), dtype=bool)
    repeat[1:] = (voice[1:] == voice[:-1]) & (voice[1:] >= 0)
    tokens[repeat] = HOLD
    return tokens


def tokens_to_pitches(tokens: np.ndarray) -> np.ndarray:
    """Per-step pitch (-1 silent) from tokens; holds repeat the last pitch."""
    out = np.full(len(tokens), -1, dtype=np.int16)
    current = -1
    for i, tok in enumerate(np.asarray(tokens).tolist()):
        if tok == HOLD:
            out[i] = current
        elif 0 <= tok < 128:
            current = int(tok)
            out[i] = current
        else:
            current = -1
    return out
