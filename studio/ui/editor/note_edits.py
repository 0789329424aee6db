"""The edits the piano roll makes, built from plain values: move, copy, resize, duplicate, nudge,
set velocities, add a note (creating a track when the song has none). Each returns one invertible
edit from `studio.music.edits`, so a whole gesture is one undo step. No Qt here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from studio.music.edits import (
    AddNotes,
    AddTrack,
    ChangeNotes,
    Compound,
    Edit,
    EditError,
    RemoveNotes,
    TrackValues,
)
from studio.music.song import Note, Song, Track, new_id
from studio.music.timing import bar_at


def _notes(song: Song, ids: Iterable[int]) -> list[tuple[Track, Note]]:
    return [song.find_note(i) for i in ids]


def clamp_move(song: Song, ids: Iterable[int], dt: int, dp: int) -> tuple[int, int]:
    """The closest move to (dt, dp) that keeps every note at tick >= 0 and pitch in 0-127."""
    found = _notes(song, ids)
    if not found:
        return 0, 0
    first = min(n.start for _, n in found)
    lo = min(n.pitch for _, n in found)
    hi = max(n.pitch for _, n in found)
    return max(dt, -first), min(max(dp, -lo), 127 - hi)


def move_edit(song: Song, ids: Iterable[int], dt: int, dp: int) -> ChangeNotes:
    changes = {}
    for _, n in _notes(song, ids):
        c = {}
        if dt:
            c["start"] = n.start + dt
        if dp:
            c["pitch"] = n.pitch + dp
        if c:
            changes[n.id] = c
    what = "Transpose" if dp and not dt else "Move notes"
    return ChangeNotes.of(changes, what)


def copy_edit(song: Song, ids: Iterable[int], dt: int, dp: int,
              description: str = "Copy notes") -> tuple[AddNotes, list[int]]:
    """Copies (new ids) of the notes moved by (dt, dp), in the same tracks; and the new ids."""
    items, new_ids = [], []
    for track, n in _notes(song, ids):
        nid = new_id()
        new_ids.append(nid)
        items.append((track.id, (nid, n.pitch + dp, n.start + dt, n.duration, n.velocity)))
    return AddNotes(tuple(items), description), new_ids


def resize_edit(song: Song, ids: Iterable[int], d_dur: int, min_dur: int) -> ChangeNotes:
    changes = {}
    for _, n in _notes(song, ids):
        dur = n.duration + d_dur
        if d_dur < 0:  # shrinking stops at min_dur (a note already shorter keeps its length)
            dur = max(dur, min(min_dur, n.duration))
        if dur != n.duration:
            changes[n.id] = {"duration": dur}
    return ChangeNotes.of(changes, "Resize notes")


def duplicate_offset(song: Song, first: int, last: int, step: int) -> int:
    """How far a copy of material from `first` to `last` goes. More than half a bar of music
    moves by whole bars (a bar of notes whose last note ends on beat 3 is copied to the next
    bar, each note keeping its place in the bar); shorter figures go right after themselves,
    on the next grid line (`step` ticks; a beat-long fill repeats on the next beat)."""
    span = max(1, last - first)
    _, bar = bar_at(first, song.time_signatures)
    if 2 * span > bar:
        return -(-span // bar) * bar
    return -(-span // step) * step if step > 0 else span


def duplicate_edit(song: Song, ids: Iterable[int], step: int,
                   span: tuple[int, int] | None = None) -> tuple[AddNotes, list[int]]:
    """Copies of the notes placed after them (see `duplicate_offset`); `span`, a time range
    chosen on the ruler, is repeated exactly (the copy starts where the range ends)."""
    found = _notes(song, ids)
    if not found:
        raise EditError("select notes to duplicate")
    if span is not None:
        offset = max(1, span[1] - span[0])
    else:
        offset = duplicate_offset(song, min(n.start for _, n in found),
                                  max(n.end for _, n in found), step)
    return copy_edit(song, [n.id for _, n in found], offset, 0, "Duplicate notes")


def velocity_edit(song: Song, values: Mapping[int, int]) -> ChangeNotes:
    changes = {}
    for nid, v in values.items():
        _, n = song.find_note(nid)
        v = int(min(127, max(1, v)))
        if v != n.velocity:
            changes[nid] = {"velocity": v}
    return ChangeNotes.of(changes, "Change velocity")


def add_note_edit(song: Song, track_id: int | None, note: Note) -> tuple[Edit, int]:
    """Add `note` to the track (a new "Piano" track when the song has none); returns the edit and
    the id of the track it lands in."""
    if track_id is not None and any(t.id == track_id for t in song.tracks):
        return AddNotes(((track_id, (note.id, note.pitch, note.start, note.duration,
                                     note.velocity)),), "Add note"), track_id
    if song.tracks:
        tid = song.tracks[0].id
        return AddNotes(((tid, (note.id, note.pitch, note.start, note.duration,
                                note.velocity)),), "Add note"), tid
    track = Track("Piano", program=0)
    values = TrackValues.of(track)
    add_track = AddTrack(values, description="Add track")
    add = AddNotes(((track.id, (note.id, note.pitch, note.start, note.duration,
                                note.velocity)),), "Add note")
    return Compound((add_track, add), "Add note"), track.id


def delete_edit(ids: Iterable[int]) -> RemoveNotes:
    return RemoveNotes(tuple(ids), "Delete notes")
