"""Shared material of the generation tests: real chorale melodies and real MIDI files."""

from __future__ import annotations

import numpy as np

from studio.data import load_dataset
from studio.music.grids import satb_to_song
from studio.music.song import Song
from tests.conftest import MIDI_DIR

BAR = 1920


def chorale(index: int = 0, bars: int = 8, split: str = "test") -> np.ndarray:
    """The first `bars` bars of a JSB chorale of `split` (steps, 4)."""
    return load_dataset("jsb").split(split)[index].satb[:bars * 16].astype(np.int64)


def melody_song(index: int = 0, bars: int = 8, transpose: int = 0) -> Song:
    """A one-track song holding the soprano of a test chorale."""
    a = chorale(index, bars)
    s = np.where(a[:, :1] >= 0, a[:, :1] + transpose, -1)
    return satb_to_song(s, names=["Melody"])


def chorale_song(index: int = 0, bars: int = 8) -> Song:
    return satb_to_song(chorale(index, bars))


def read_shared(name: str) -> Song:
    from studio.midi import read_song

    return read_song(MIDI_DIR / name)


def snapshot(song: Song) -> list:
    """Everything a generation must not change in the user's song."""
    return [(t.id, t.name, t.program, sorted((n.id, *n.key()) for n in t.notes))
            for t in song.tracks]
