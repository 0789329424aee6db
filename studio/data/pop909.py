"""The built-in POP909 corpus: 861 pop songs arranged for piano (MELODY, BRIDGE and PIANO tracks)
with their annotated beats, downbeats, chords and keys (resources/data/pop909, MIT licence).

The songs' bars come from the annotated downbeats (`meter_from_downbeats`), never from the time
signatures written in the original files, which are not the real bars. The split is fixed by song
number: numbers ending in 0 are the test songs, numbers ending in 5 the validation songs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from studio.data.dataset import Dataset, Piece
from studio.midi.parse import ParsedMidi, ParsedTrack, song_from_parsed
from studio.music.keys import sharps_for
from studio.music.song import Song
from studio.music.timing import meter_from_downbeats

POP909_PATH = Path(__file__).resolve().parents[2] / "resources" / "data" / "pop909" / "pop909.npz"
# the train songs' piano bars for the accompanist (`studio.ml.bar_bank`), made by
# resources/data/pop909/make_bar_bank.py; rebuilt in memory when it is not this data's
BAR_BANK_PATH = POP909_PATH.with_name("bar_bank.npz")
TRACK_NAMES = ("MELODY", "BRIDGE", "PIANO")
_NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def split_of(number: int) -> str:
    """The fixed split of POP909 song `number`."""
    return {0: "test", 5: "valid"}.get(number % 10, "train")


@dataclass(frozen=True)
class Pop909Song:
    """One song's arrays (read-only views into the shipped file).

    notes: (n, 5) pitch, start, duration, velocity, track (0 MELODY, 1 BRIDGE, 2 PIANO).
    beats: tick of every annotated beat (all on multiples of 480); downbeats: bool per beat.
    chords: (start tick, end tick, label) with labels as published (`C:maj`, `A:min7`, `N`).
    keys: (start tick, end tick, label) from the audio (`Gb:maj`, `E:min`).
    """

    number: int
    notes: np.ndarray
    tempos: list[tuple[int, float]]
    beats: np.ndarray
    downbeats: np.ndarray
    chords: list[tuple[int, int, str]]
    keys: list[tuple[int, int, str]]

    @property
    def name(self) -> str:
        return f"pop909-{self.number:03d}"

    @property
    def split(self) -> str:
        return split_of(self.number)

    def track_notes(self, track: int) -> np.ndarray:
        """(n, 4) pitch, start, duration, velocity of one track (0 MELODY, 1 BRIDGE, 2 PIANO)."""
        return self.notes[self.notes[:, 4] == track, :4]

    def parsed(self) -> ParsedMidi:
        tracks = [ParsedTrack(name, 0, False, self.track_notes(k).astype(np.int32), channel=k)
                  for k, name in enumerate(TRACK_NAMES)]
        meters = meter_from_downbeats(self.beats, self.downbeats)
        keys = []
        if self.keys:
            tonic, minor = key_of(self.keys[0][2])
            keys = [(0, sharps_for(tonic, minor), int(minor))]
        return ParsedMidi(480, 1, tracks, [(t, round(60_000_000 / q)) for t, q in self.tempos],
                          [(m.tick, m.numerator, m.denominator) for m in meters], keys)

    def song(self) -> Song:
        return song_from_parsed(self.parsed(), title=self.name)


def key_of(label: str) -> tuple[int, bool]:
    """(tonic pitch class, minor) of a POP909 key label such as `Gb:maj` or `C#:min`."""
    root, _, mode = label.partition(":")
    pc = _NOTE_NAMES[root[0].upper()] + root[1:].count("#") - root[1:].count("b")
    return pc % 12, mode.startswith("min")


@lru_cache(maxsize=1)
def pop909_songs(path: Path = POP909_PATH) -> tuple[Pop909Song, ...]:
    """Every song of the shipped file, in song-number order (loaded once)."""
    with np.load(path, allow_pickle=False) as z:
        a = {k: z[k] for k in z.files}
    for v in a.values():
        v.setflags(write=False)
    labels = [str(x) for x in a["labels"]]
    notes = np.stack([a["note_pitch"], a["note_start"], a["note_duration"], a["note_velocity"],
                      a["note_track"]], axis=1).astype(np.int64)

    def part(key: str, i: int) -> slice:
        o = a[f"{key}_offsets"]
        return slice(int(o[i]), int(o[i + 1]))

    out = []
    for i, number in enumerate(a["number"].tolist()):
        n, t, b = part("note", i), part("tempo", i), part("beat", i)
        c, k = part("chord", i), part("key", i)
        out.append(Pop909Song(
            int(number), notes[n],
            list(zip(a["tempo_tick"][t].tolist(), a["tempo_qpm"][t].astype(float).tolist())),
            a["beat_tick"][b].astype(np.int64), a["downbeat"][b],
            [(s, e, labels[x]) for s, e, x in zip(a["chord_start"][c].tolist(),
                                                   a["chord_end"][c].tolist(),
                                                   a["chord_label"][c].tolist())],
            [(s, e, labels[x]) for s, e, x in zip(a["key_start"][k].tolist(),
                                                   a["key_end"][k].tolist(),
                                                   a["key_label"][k].tolist())]))
    return tuple(out)


def pop909_song(number: int) -> Pop909Song:
    for s in pop909_songs():
        if s.number == number:
            return s
    raise KeyError(f"POP909 has no song number {number} in this copy")


def pop909() -> Dataset:
    """The POP909 dataset (a new Dataset object each call; the arrays are shared, read-only)."""
    pieces = []
    for s in pop909_songs():
        meta = {"pop909": s.number, "content_hash": f"pop909-{s.number}-{len(s.notes)}"}
        pieces.append(Piece(s.name, s.split, f"builtin:pop909/{s.number:03d}", None, meta,
                            s.song, parsed_loader=s.parsed))
    return Dataset("pop909", pieces, "POP909 pop songs: melody, bridge and piano accompaniment, "
                   "with beat, chord and key annotations", builtin=True)
