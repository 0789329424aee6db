"""The Qt-free score model: `Note`, `Track`, `Song`, and the song-wide meta events (tempo, meter,
key, and the chord symbols of the chord lane).

Times are integer ticks at `PPQ` = 480 ticks per quarter note everywhere in the studio; a MIDI file
with another resolution is rescaled when it is read. Every note and track carries a stable `id`
(unique in the process) so that edits and undo commands can name them without holding objects.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from studio.music.chords import Chord

PPQ = 480
# The latest tick a song may use: over 24 hours at 120 qpm (480 PPQ). Later times come from
# corrupt delta times or hostile files; the MIDI reader and the project loader refuse them.
MAX_TICK = 480 * 2 * 60 * 60 * 24
# The tempo range a MIDI file can express (1 to 2**24 - 1 microseconds per quarter note).
MIN_QPM, MAX_QPM = 60_000_000 / 0xFFFFFF, 60_000_000.0

_next_id = itertools.count(1).__next__


def new_id() -> int:
    """A fresh id, unique within this process."""
    return _next_id()


@dataclass(slots=True)
class Note:
    """One note: MIDI pitch, start and duration in ticks, velocity 1-127."""

    pitch: int
    start: int
    duration: int
    velocity: int = 80
    id: int = field(default_factory=new_id, compare=False)

    @property
    def end(self) -> int:
        return self.start + self.duration

    def key(self) -> tuple[int, int, int, int]:
        """What makes two notes musically equal (the id is ignored)."""
        return (self.start, self.pitch, self.duration, self.velocity)

    def copy(self, keep_id: bool = True) -> Note:
        return Note(self.pitch, self.start, self.duration, self.velocity,
                    self.id if keep_id else new_id())


class ControlChange(NamedTuple):
    tick: int
    number: int
    value: int


class PitchBend(NamedTuple):
    tick: int
    value: int  # -8192 .. 8191


class TempoChange(NamedTuple):
    tick: int
    qpm: float  # quarter notes per minute

    @property
    def microseconds_per_quarter(self) -> int:
        return round(60_000_000 / self.qpm)


class TimeSignature(NamedTuple):
    tick: int
    numerator: int = 4
    denominator: int = 4

    @property
    def bar_ticks(self) -> int:
        return PPQ * 4 * self.numerator // self.denominator


class KeySignature(NamedTuple):
    tick: int
    sharps: int = 0  # -7 (7 flats) .. 7 (7 sharps)
    minor: bool = False

    @property
    def tonic(self) -> int:
        """Pitch class of the tonic (0 = C)."""
        major_tonic = (self.sharps * 7) % 12
        return (major_tonic + 9) % 12 if self.minor else major_tonic

    @property
    def name(self) -> str:
        from studio.music.keys import key_name

        return key_name(self.tonic, self.minor, prefer_flats=self.sharps < 0)


class ChordSymbol(NamedTuple):
    """A chord symbol of the chord lane: it starts at `tick` and lasts until the next one.
    `flats`: spelled with flats (Bb, not A#), as the musician wrote it or the key has it."""

    tick: int
    chord: Chord
    flats: bool = False

    @property
    def label(self) -> str:
        return self.chord.name(self.flats)


@dataclass(eq=False)
class Track:
    """An instrument part: its notes (kept sorted by start on demand), program and channel."""

    name: str = ""
    program: int = 0
    is_drum: bool = False
    channel: int = 0
    notes: list[Note] = field(default_factory=list)
    controls: list[ControlChange] = field(default_factory=list)
    pitch_bends: list[PitchBend] = field(default_factory=list)
    id: int = field(default_factory=new_id)

    def sort(self) -> None:
        self.notes.sort(key=Note.key)

    @property
    def end(self) -> int:
        return max((n.end for n in self.notes), default=0)

    def arrays(self) -> dict[str, np.ndarray]:
        """The notes as columns (`pitch`, `start`, `duration`, `velocity`, `id`), in list order."""
        n = len(self.notes)
        out = {k: np.empty(n, dtype=np.int64) for k in ("pitch", "start", "duration", "velocity", "id")}
        if n:
            cols = np.array([(x.pitch, x.start, x.duration, x.velocity, x.id) for x in self.notes],
                            dtype=np.int64)
            for i, k in enumerate(("pitch", "start", "duration", "velocity", "id")):
                out[k] = cols[:, i]
        return out

    def copy(self, keep_ids: bool = True) -> Track:
        return Track(self.name, self.program, self.is_drum, self.channel,
                     [n.copy(keep_ids) for n in self.notes], list(self.controls),
                     list(self.pitch_bends), self.id if keep_ids else new_id())

    def same_content(self, other: Track) -> bool:
        """Equal name, program, drum flag and notes (ids and order ignored)."""
        return (self.name == other.name and self.program == other.program
                and self.is_drum == other.is_drum
                and sorted(n.key() for n in self.notes) == sorted(n.key() for n in other.notes))


@dataclass(eq=False)
class Song:
    """A piece: tracks plus the tempo map, time signatures, key signatures and chord symbols
    (all in ticks; `chords` sorted by tick, at most one per tick)."""

    tracks: list[Track] = field(default_factory=list)
    tempos: list[TempoChange] = field(default_factory=lambda: [TempoChange(0, 120.0)])
    time_signatures: list[TimeSignature] = field(default_factory=lambda: [TimeSignature(0, 4, 4)])
    key_signatures: list[KeySignature] = field(default_factory=list)
    title: str = ""
    chords: list[ChordSymbol] = field(default_factory=list)

    ppq = PPQ

    # ---- lookups -------------------------------------------------------------------------------
    def __post_init__(self) -> None:
        self._index: dict[int, tuple[Track, Note]] | None = None

    def invalidate(self) -> None:
        """Forget the id index; call after changing `track.notes` lists by hand."""
        self._index = None

    def _note_index(self) -> dict[int, tuple[Track, Note]]:
        if self._index is None:
            self._index = {n.id: (t, n) for t in self.tracks for n in t.notes}
        return self._index

    def find_note(self, note_id: int) -> tuple[Track, Note]:
        """The track and note with this id; KeyError when there is none."""
        hit = self._note_index().get(note_id)
        if hit is None or hit[0] not in self.tracks:
            self._index = None
            hit = self._note_index().get(note_id)
            if hit is None:
                raise KeyError(f"no note with id {note_id}")
        return hit

    def track(self, track_id: int) -> Track:
        for t in self.tracks:
            if t.id == track_id:
                return t
        raise KeyError(f"no track with id {track_id}")

    def iter_notes(self) -> Iterator[tuple[Track, Note]]:
        for t in self.tracks:
            for n in t.notes:
                yield t, n

    # ---- structural changes that keep the index right -------------------------------------------
    def add_notes(self, track: Track, notes: Iterable[Note]) -> None:
        notes = list(notes)
        track.notes.extend(notes)
        if self._index is not None:
            for n in notes:
                self._index[n.id] = (track, n)

    def remove_notes(self, note_ids: Iterable[int]) -> list[tuple[Track, Note]]:
        """Remove these notes; returns what was removed. Unknown ids raise KeyError."""
        found = [self.find_note(i) for i in note_ids]
        by_track: dict[int, set[int]] = {}
        for t, n in found:
            by_track.setdefault(id(t), set()).add(n.id)
        for t in self.tracks:
            ids = by_track.get(id(t))
            if ids:
                t.notes = [n for n in t.notes if n.id not in ids]
        if self._index is not None:
            for _, n in found:
                self._index.pop(n.id, None)
        return found

    # ---- whole-song facts ---------------------------------------------------------------------
    @property
    def end(self) -> int:
        return max((t.end for t in self.tracks), default=0)

    @property
    def note_count(self) -> int:
        return sum(len(t.notes) for t in self.tracks)

    @property
    def key_signature(self) -> KeySignature | None:
        return self.key_signatures[0] if self.key_signatures else None

    def time_signature_at(self, tick: int) -> TimeSignature:
        current = self.time_signatures[0] if self.time_signatures else TimeSignature(0)
        for ts in self.time_signatures:
            if ts.tick <= tick:
                current = ts
        return current

    def chord_at(self, tick: int) -> ChordSymbol | None:
        """The chord symbol in force at `tick` (the last one at or before it), None before the
        first."""
        current = None
        for c in self.chords:
            if c.tick > tick:
                break
            current = c
        return current

    def copy(self, keep_ids: bool = True) -> Song:
        return Song([t.copy(keep_ids) for t in self.tracks], list(self.tempos),
                    list(self.time_signatures), list(self.key_signatures), self.title,
                    list(self.chords))

    def same_content(self, other: Song) -> bool:
        return (len(self.tracks) == len(other.tracks)
                and all(a.same_content(b) for a, b in zip(self.tracks, other.tracks)))
