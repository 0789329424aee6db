"""Invertible edits of a `Song`: the only way the editor changes music.

Each edit is a small immutable value that names notes and tracks by id and carries plain values,
never live objects. `edit.apply(song)` changes the song and returns the inverse edit, so an undo
stack only needs to keep edits: undo applies the inverse, redo applies the inverse's inverse.

    inverse = AddNotes.of(track, [Note(60, 0, 480)]).apply(song)
    inverse.apply(song)            # the song is as before
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from studio.music.song import (
    ControlChange,
    KeySignature,
    Note,
    PitchBend,
    Song,
    TempoChange,
    TimeSignature,
    Track,
)

NOTE_FIELDS = ("pitch", "start", "duration", "velocity")
TRACK_FIELDS = ("name", "program", "is_drum", "channel", "controls")
SONG_FIELDS = ("tempos", "time_signatures", "key_signatures", "title")


class EditError(ValueError):
    """An edit that does not fit the song (unknown id, value out of range)."""


class Edit(Protocol):
    description: str

    def apply(self, song: Song) -> Edit: ...


# A note as plain values: (id, pitch, start, duration, velocity).
NoteValues = tuple[int, int, int, int, int]


def note_values(note: Note) -> NoteValues:
    return (note.id, note.pitch, note.start, note.duration, note.velocity)


def _check_note(pitch: int, start: int, duration: int, velocity: int) -> None:
    if not 0 <= pitch <= 127:
        raise EditError(f"pitch {pitch} is outside 0-127")
    if start < 0:
        raise EditError(f"start {start} is before the beginning of the song")
    if duration < 0:
        raise EditError(f"duration {duration} is negative")
    if not 0 <= velocity <= 127:
        raise EditError(f"velocity {velocity} is outside 0-127")


@dataclass(frozen=True)
class AddNotes:
    """Add notes (with the given ids) to tracks: items are (track_id, note values)."""

    items: tuple[tuple[int, NoteValues], ...]
    description: str = "Add notes"

    @classmethod
    def of(cls, track: Track, notes: Iterable[Note], description: str = "Add notes") -> AddNotes:
        return cls(tuple((track.id, note_values(n)) for n in notes), description)

    def apply(self, song: Song) -> Edit:
        by_track: dict[int, list[Note]] = {}
        for track_id, (nid, pitch, start, duration, velocity) in self.items:
            _check_note(pitch, start, duration, velocity)
            by_track.setdefault(track_id, []).append(Note(pitch, start, duration, velocity, nid))
        tracks = {tid: song.track(tid) for tid in by_track}  # raises before changing anything
        for tid, notes in by_track.items():
            song.add_notes(tracks[tid], notes)
        return RemoveNotes(tuple(v[0] for _, v in self.items), _undo_name(self.description))


@dataclass(frozen=True)
class RemoveNotes:
    """Remove the notes with these ids."""

    note_ids: tuple[int, ...]
    description: str = "Delete notes"

    def apply(self, song: Song) -> Edit:
        for i in self.note_ids:
            song.find_note(i)  # raises KeyError before changing anything
        removed = song.remove_notes(self.note_ids)
        return AddNotes(tuple((t.id, note_values(n)) for t, n in removed),
                        _undo_name(self.description))


@dataclass(frozen=True)
class ChangeNotes:
    """Set fields of notes: changes are (note_id, ((field, value), ...))."""

    changes: tuple[tuple[int, tuple[tuple[str, int], ...]], ...]
    description: str = "Change notes"

    @classmethod
    def of(cls, changes: Mapping[int, Mapping[str, int]], description: str = "Change notes"
           ) -> ChangeNotes:
        return cls(tuple((nid, tuple(sorted(c.items()))) for nid, c in changes.items()),
                   description)

    def apply(self, song: Song) -> Edit:
        resolved = []
        for nid, fields in self.changes:
            _, note = song.find_note(nid)
            values = {f: getattr(note, f) for f in NOTE_FIELDS}
            for f, v in fields:
                if f not in NOTE_FIELDS:
                    raise EditError(f"notes have no field {f!r}")
                values[f] = int(v)
            _check_note(values["pitch"], values["start"], values["duration"], values["velocity"])
            resolved.append((note, fields))
        inverse = []
        for note, fields in resolved:
            inverse.append((note.id, tuple((f, getattr(note, f)) for f, _ in fields)))
            for f, v in fields:
                setattr(note, f, int(v))
        return ChangeNotes(tuple(inverse), self.description)


@dataclass(frozen=True)
class MoveNotesToTrack:
    """Move notes (keeping their ids) to another track."""

    note_ids: tuple[int, ...]
    track_id: int
    description: str = "Move notes to track"

    def apply(self, song: Song) -> Edit:
        target = song.track(self.track_id)
        found = [song.find_note(i) for i in self.note_ids]
        song.remove_notes(self.note_ids)
        song.add_notes(target, [n for _, n in found])
        groups: dict[int, list[int]] = {}
        for t, n in found:
            groups.setdefault(t.id, []).append(n.id)
        return Compound(tuple(MoveNotesToTrack(tuple(ids), tid, self.description)
                              for tid, ids in groups.items()), self.description)


@dataclass(frozen=True)
class TrackValues:
    """A whole track as plain values, so it can be re-created with the same ids."""

    id: int
    name: str
    program: int
    is_drum: bool
    channel: int
    notes: tuple[NoteValues, ...]
    controls: tuple[ControlChange, ...] = ()
    pitch_bends: tuple[PitchBend, ...] = ()

    @classmethod
    def of(cls, track: Track) -> TrackValues:
        return cls(track.id, track.name, track.program, track.is_drum, track.channel,
                   tuple(note_values(n) for n in track.notes), tuple(track.controls),
                   tuple(track.pitch_bends))

    def build(self) -> Track:
        return Track(self.name, self.program, self.is_drum, self.channel,
                     [Note(p, s, d, v, i) for i, p, s, d, v in self.notes],
                     list(self.controls), list(self.pitch_bends), self.id)


@dataclass(frozen=True)
class AddTrack:
    track: TrackValues
    index: int = -1
    description: str = "Add track"

    def apply(self, song: Song) -> Edit:
        if any(t.id == self.track.id for t in song.tracks):
            raise EditError(f"track id {self.track.id} already exists")
        index = len(song.tracks) if self.index < 0 else min(self.index, len(song.tracks))
        song.tracks.insert(index, self.track.build())
        song.invalidate()
        return RemoveTrack(self.track.id, _undo_name(self.description))


@dataclass(frozen=True)
class RemoveTrack:
    track_id: int
    description: str = "Delete track"

    def apply(self, song: Song) -> Edit:
        track = song.track(self.track_id)
        index = song.tracks.index(track)
        song.tracks.remove(track)
        song.invalidate()
        return AddTrack(TrackValues.of(track), index, _undo_name(self.description))


@dataclass(frozen=True)
class ChangeTrack:
    track_id: int
    fields: tuple[tuple[str, Any], ...]
    description: str = "Change track"

    def apply(self, song: Song) -> Edit:
        track = song.track(self.track_id)
        for f, _ in self.fields:
            if f not in TRACK_FIELDS:
                raise EditError(f"tracks have no field {f!r}")
        old = tuple((f, getattr(track, f)) for f, _ in self.fields)
        for f, v in self.fields:
            setattr(track, f, v)
        return ChangeTrack(self.track_id, old, self.description)


@dataclass(frozen=True)
class MoveTrack:
    track_id: int
    index: int
    description: str = "Move track"

    def apply(self, song: Song) -> Edit:
        track = song.track(self.track_id)
        old = song.tracks.index(track)
        song.tracks.remove(track)
        song.tracks.insert(self.index, track)
        return MoveTrack(self.track_id, old, self.description)


@dataclass(frozen=True)
class ChangeSong:
    """Replace song-wide values: tempos, time_signatures, key_signatures, title."""

    fields: tuple[tuple[str, Any], ...]
    description: str = "Change song"

    def apply(self, song: Song) -> Edit:
        for f, v in self.fields:
            if f not in SONG_FIELDS:
                raise EditError(f"songs have no field {f!r}")
            if f == "tempos" and any(t.qpm <= 0 for t in v):
                raise EditError("a tempo must be above 0")
        old = tuple((f, _copy_value(getattr(song, f))) for f, _ in self.fields)
        for f, v in self.fields:
            setattr(song, f, _copy_value(v))
        return ChangeSong(old, self.description)


def _copy_value(v: Any) -> Any:
    return list(v) if isinstance(v, (list, tuple)) else v


@dataclass(frozen=True)
class Compound:
    """Several edits applied in order as one (one undo step)."""

    edits: tuple[Edit, ...]
    description: str = "Edit"

    def apply(self, song: Song) -> Edit:
        inverses: list[Edit] = []
        try:
            for e in self.edits:
                inverses.append(e.apply(song))
        except Exception:
            for inv in reversed(inverses):  # leave the song as it was
                inv.apply(song)
            raise
        return Compound(tuple(reversed(inverses)), self.description)


def _undo_name(description: str) -> str:
    return description


# Re-exported for typing convenience.
__all__ = [
    "AddNotes", "RemoveNotes", "ChangeNotes", "MoveNotesToTrack", "AddTrack", "RemoveTrack",
    "ChangeTrack", "MoveTrack", "ChangeSong", "Compound", "TrackValues", "Edit", "EditError",
    "note_values", "NoteValues", "TempoChange", "TimeSignature", "KeySignature",
]
