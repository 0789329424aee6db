"""MIDI file reading speed: `read_song` beside raw pretty_midi, mido and symusic, in one run.

Reads every file of tests/fixtures/midi (the real-world test files) and a generated 16-track file of 80,000 notes.
Targets (issue 2): the 80,000-note file in under 0.3 s end to end (read_song: isolated parser
process, checks, Song objects); the total over all files at least 10x faster than raw pretty_midi.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import symusic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import best_of, machine, midi_files  # noqa: E402
from studio.midi import read_song, write_song  # noqa: E402
from studio.music import Note, Song, Track  # noqa: E402


def make_big(path: Path, tracks: int = 16, per_track: int = 5000) -> None:
    rng = np.random.default_rng(0)
    song = Song()
    for i in range(tracks):
        t = Track(f"Track {i + 1}", program=(i * 8) % 128, is_drum=(i == tracks - 1))
        starts = np.sort(rng.integers(0, 480 * 4 * 400, per_track))
        for s in starts:
            t.notes.append(Note(int(rng.integers(30, 90)), int(s), int(rng.integers(30, 960)),
                                int(rng.integers(1, 128))))
        song.tracks.append(t)
    write_song(song, path)


def main() -> None:
    files = midi_files()
    tmp = Path(tempfile.mkdtemp())
    big = tmp / "big_16x5000.mid"
    make_big(big)
    read_song(files[0])  # start the parser process once, as the app does at launch

    readers = {
        "read_song": lambda p: read_song(p),
        "raw symusic": lambda p: symusic.Score(str(p)),
        "raw mido": lambda p: mido.MidiFile(str(p)),
        "raw pretty_midi": lambda p: pretty_midi.PrettyMIDI(str(p)),
    }
    print(f"Machine: {machine()}")
    print(f"{len(files)} shared files ({sum(p.stat().st_size for p in files) / 1024:.0f} KiB) "
          f"and a generated file of 16 tracks x 5,000 notes ({big.stat().st_size / 1024:.0f} KiB)\n")
    totals, bigs = {}, {}
    for name, fn in readers.items():
        totals[name] = sum(best_of(lambda p=p, fn=fn: fn(p), repeat=3) for p in files)
        bigs[name] = best_of(lambda fn=fn: fn(big), repeat=3)
    ref = totals["raw pretty_midi"]
    print("| reader | all shared files (s) | x faster than pretty_midi | 80,000-note file (s) |")
    print("|---|---|---|---|")
    for name in readers:
        print(f"| {name} | {totals[name]:.4f} | {ref / totals[name]:.1f} | {bigs[name]:.4f} |")
    ok_big = bigs["read_song"] < 0.3
    ok_ratio = ref / totals["read_song"] >= 10
    print(f"\nTarget 80,000 notes < 0.3 s: {'met' if ok_big else 'MISSED'} "
          f"({bigs['read_song']:.3f} s); total >= 10x pretty_midi: "
          f"{'met' if ok_ratio else 'MISSED'} ({ref / totals['read_song']:.1f}x)")


if __name__ == "__main__":
    main()
