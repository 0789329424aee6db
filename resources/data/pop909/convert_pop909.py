"""Convert the POP909 folder (../shared/data/pop909) into `pop909.npz`, the compact built-in copy.

Run once, from the repository root:

    PYTHONPATH=$PWD python resources/data/pop909/convert_pop909.py /work/shared/data/pop909

What it does to each song (see README.md here for the file layout):
- reads NNN.mid (MELODY, BRIDGE, PIANO) with the studio's own parser (480 PPQ);
- moves every tick by the same small amount (< one beat) so that the annotated beats of
  beat_midi.txt fall on multiples of 480 ticks: the notes then sit on the studio's grid;
- keeps the annotated beats and downbeats as ticks (the bars come from the downbeats, not from
  the files' time signatures, which are not the real bars);
- turns chord_midi.txt and key_audio.txt times (seconds) into ticks through the file's tempo map,
  rounded to the nearest beat; chord labels are kept as published (`C:maj`, `A:min7`, `N`, ...).
Numbers, ticks and labels only: the file loads with `np.load(..., allow_pickle=False)`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from studio.midi.parse import parse_midi_bytes
from studio.music.song import TempoChange
from studio.music.timing import TempoMap

OUT = Path(__file__).resolve().parent / "pop909.npz"
TRACKS = ("MELODY", "BRIDGE", "PIANO")
BEAT = 480


def _seconds_to_ticks(tempo_map: TempoMap, seconds: np.ndarray) -> np.ndarray:
    return np.array([tempo_map.tick_at(float(s)) for s in np.atleast_1d(seconds)])


def _song(folder: Path) -> dict:
    number = int(folder.name)
    parsed = parse_midi_bytes((folder / f"{folder.name}.mid").read_bytes())
    tempos = [TempoChange(t, 60_000_000 / m) for t, m in parsed.tempos] or [TempoChange(0, 120.0)]
    tmap = TempoMap(tempos)
    beats = np.loadtxt(folder / "beat_midi.txt", ndmin=2)
    beat_ticks = _seconds_to_ticks(tmap, beats[:, 0])
    shift = int(round(-beat_ticks[0])) % BEAT  # moves the first beat onto the grid
    beat_ticks = np.round((beat_ticks + shift) / BEAT).astype(np.int64) * BEAT
    downbeat = beats[:, 2] > 0
    notes = []
    by_name = {t.name.strip().upper(): t for t in parsed.tracks}
    for k, name in enumerate(TRACKS):
        t = by_name.get(name)
        if t is None or not len(t.notes):
            continue
        n = t.notes.astype(np.int64)
        notes.append(np.stack([n[:, 0], n[:, 1] + shift, n[:, 2], n[:, 3],
                               np.full(len(n), k)], axis=1))
    notes = np.concatenate(notes) if notes else np.zeros((0, 5), np.int64)
    notes = notes[np.lexsort((notes[:, 0], notes[:, 1], notes[:, 4]))]

    def to_beat(seconds: np.ndarray) -> np.ndarray:
        ticks = _seconds_to_ticks(tmap, seconds) + shift
        return np.maximum(0, np.round(ticks / BEAT).astype(np.int64) * BEAT)

    chords = [line.split("\t") for line in
              (folder / "chord_midi.txt").read_text().splitlines() if line.strip()]
    keys = [line.split() for line in
            (folder / "key_audio.txt").read_text().splitlines() if line.strip()]
    return {
        "number": number,
        "notes": notes,
        "tempo_tick": np.array([0] + [t + shift for t, _ in parsed.tempos[1:]], np.int64)
        if parsed.tempos else np.array([0]),
        "tempo_qpm": np.array([60_000_000 / m for _, m in parsed.tempos] or [120.0]),
        "beat_tick": beat_ticks,
        "downbeat": downbeat,
        "chord_start": to_beat(np.array([float(c[0]) for c in chords])),
        "chord_end": to_beat(np.array([float(c[1]) for c in chords])),
        "chord_label": [c[2].strip() for c in chords],
        "key_start": to_beat(np.array([float(k[0]) for k in keys])),
        "key_end": to_beat(np.array([float(k[1]) for k in keys])),
        "key_label": [k[2].strip() for k in keys],
    }


def convert(source: Path, out: Path = OUT) -> dict[str, np.ndarray]:
    songs = [_song(f) for f in sorted(source.iterdir()) if f.is_dir() and f.name.isdigit()]
    labels = sorted({lab for s in songs for lab in s["chord_label"] + s["key_label"]})
    index = {lab: i for i, lab in enumerate(labels)}

    def cat(key: str, dtype) -> np.ndarray:
        return np.concatenate([np.asarray(s[key]) for s in songs]).astype(dtype)

    def offsets(key: str) -> np.ndarray:
        return np.concatenate([[0], np.cumsum([len(s[key]) for s in songs])]).astype(np.int64)

    notes = np.concatenate([s["notes"] for s in songs])
    arrays = {
        "number": np.array([s["number"] for s in songs], np.int16),
        "note_pitch": notes[:, 0].astype(np.int8), "note_start": notes[:, 1].astype(np.int32),
        "note_duration": notes[:, 2].astype(np.int32), "note_velocity": notes[:, 3].astype(np.int8),
        "note_track": notes[:, 4].astype(np.int8), "note_offsets": offsets("notes"),
        "tempo_tick": cat("tempo_tick", np.int32), "tempo_qpm": cat("tempo_qpm", np.float32),
        "tempo_offsets": offsets("tempo_tick"),
        "beat_tick": cat("beat_tick", np.int32), "downbeat": cat("downbeat", np.bool_),
        "beat_offsets": offsets("beat_tick"),
        "chord_start": cat("chord_start", np.int32), "chord_end": cat("chord_end", np.int32),
        "chord_label": np.array([index[x] for s in songs for x in s["chord_label"]], np.int16),
        "chord_offsets": offsets("chord_label"),
        "key_start": cat("key_start", np.int32), "key_end": cat("key_end", np.int32),
        "key_label": np.array([index[x] for s in songs for x in s["key_label"]], np.int16),
        "key_offsets": offsets("key_label"),
        "labels": np.array(labels, dtype="U16"),
    }
    np.savez_compressed(out, **arrays)
    return arrays


if __name__ == "__main__":
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/pop909")
    a = convert(src)
    print(f"{len(a['number'])} songs, {len(a['note_pitch'])} notes, "
          f"{len(a['chord_label'])} chords -> {OUT} ({OUT.stat().st_size / 2**20:.1f} MiB)")
