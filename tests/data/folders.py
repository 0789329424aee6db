"""Real MIDI folders for the dataset tests: copies of the shared files and generated songs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from studio.midi import write_song
from studio.music import KeySignature, Note, Song, TempoChange, TimeSignature, Track
from tests.conftest import MIDI_DIR, shared_midi_files


def generated_song(seed: int, tracks: int = 3, notes: int = 200, meter=(4, 4),
                   drums: bool = False, qpm: float = 120.0) -> Song:
    rng = np.random.default_rng(seed)
    song = Song(tempos=[TempoChange(0, qpm)], time_signatures=[TimeSignature(0, *meter)],
                key_signatures=[KeySignature(0, int(rng.integers(-3, 4)), False)],
                title=f"song {seed}")
    for i in range(tracks):
        base = 40 + 12 * i
        starts = np.sort(rng.integers(0, notes * 120, notes))
        song.tracks.append(Track(f"Part {i + 1}", program=int(rng.integers(0, 128)), notes=[
            Note(int(base + rng.integers(0, 24)), int(s), int(rng.choice([60, 120, 240, 480])),
                 int(rng.integers(40, 120))) for s in starts]))
    if drums:
        song.tracks.append(Track("Drums", is_drum=True, channel=9, notes=[
            Note(36 + (k % 3) * 2, k * 240, 60, 100) for k in range(notes // 2)]))
    return song


def write_generated(folder: Path, count: int, start_seed: int = 0, **kwargs) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        p = folder / f"gen_{start_seed + i:04d}.mid"
        write_song(generated_song(start_seed + i, **kwargs), p)
        out.append(p)
    return out


def copy_shared(folder: Path) -> list[Path]:
    """The 21 shared files with their sub-folders (made writable)."""
    out = []
    for p in shared_midi_files():
        dest = folder / p.relative_to(MIDI_DIR)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest)
        out.append(dest)
    return out
