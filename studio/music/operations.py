"""Musical operations: transpose, quantize, slice a time range, merge songs.

Each operation on a selection returns an invertible edit (so the editor can undo it); the
whole-song forms return a new `Song` and leave their input alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from studio.music.edits import ChangeNotes, EditError
from studio.music.song import (
    PPQ,
    ChordSymbol,
    ControlChange,
    KeySignature,
    Note,
    PitchBend,
    Song,
    TempoChange,
    TimeSignature,
    Track,
)

# Grid sizes by name, in ticks at 480 PPQ ("1/8T" is an eighth-note triplet).
GRIDS: dict[str, int] = {
    "1/1": PPQ * 4, "1/2": PPQ * 2, "1/4": PPQ, "1/8": PPQ // 2, "1/16": PPQ // 4,
    "1/32": PPQ // 8, "1/4T": PPQ * 2 // 3, "1/8T": PPQ // 3, "1/16T": PPQ // 6,
    "1/32T": PPQ // 12,
}


def transpose_edit(song: Song, note_ids: Iterable[int], semitones: int) -> ChangeNotes:
    """Shift pitches; refuses (EditError) when a note would leave 0-127."""
    changes = {}
    for nid in note_ids:
        _, note = song.find_note(nid)
        pitch = note.pitch + semitones
        if not 0 <= pitch <= 127:
            raise EditError(f"transposing by {semitones} would move a note outside 0-127")
        changes[nid] = {"pitch": pitch}
    return ChangeNotes.of(changes, f"Transpose {semitones:+d}")


def quantize_value(tick: int, grid: int, strength: float = 1.0) -> int:
    target = round(tick / grid) * grid
    return int(round(tick + (target - tick) * strength))


def quantize_edit(song: Song, note_ids: Iterable[int], grid: int, strength: float = 1.0,
                  ends: bool = True) -> ChangeNotes:
    """Move starts (and ends) toward the nearest grid line by `strength` (0..1).

    A note never shrinks below one grid step when its end is quantized.
    """
    if grid <= 0:
        raise EditError("the grid must be at least one tick")
    if not 0.0 <= strength <= 1.0:
        raise EditError("quantize strength must be between 0 and 1")
    changes = {}
    for nid in note_ids:
        _, note = song.find_note(nid)
        start = max(0, quantize_value(note.start, grid, strength))
        if ends:
            end = quantize_value(note.end, grid, strength)
            min_len = max(1, int(round(grid * strength))) if strength > 0 else 1
            duration = max(end - start, min(min_len, note.duration) if note.duration else 0)
        else:
            duration = note.duration
        if (start, duration) != (note.start, note.duration):
            changes[nid] = {"start": start, "duration": duration}
    return ChangeNotes.of(changes, "Quantize")


def transpose(song: Song, semitones: int, include_drums: bool = False) -> Song:
    """A transposed copy (new ids); notes pushed outside 0-127 are dropped."""
    out = song.copy(keep_ids=False)
    for t in out.tracks:
        if t.is_drum and not include_drums:
            continue
        t.notes = [n for n in t.notes if 0 <= n.pitch + semitones <= 127]
        for n in t.notes:
            n.pitch += semitones
    if not song.tracks or include_drums or any(not t.is_drum for t in song.tracks):
        out.key_signatures = [_transpose_key(k, semitones) for k in out.key_signatures]
    out.invalidate()
    return out


def _transpose_key(k: KeySignature, semitones: int) -> KeySignature:
    from studio.music.keys import sharps_for

    return KeySignature(k.tick, sharps_for((k.tonic + semitones) % 12, k.minor), k.minor)


def quantized(song: Song, grid: int, strength: float = 1.0) -> Song:
    """A quantized copy of the whole song (same ids)."""
    out = song.copy()
    ids = [n.id for _, n in out.iter_notes()]
    quantize_edit(out, ids, grid, strength).apply(out)
    return out


def slice_song(song: Song, start: int, end: int, clip: bool = True) -> Song:
    """The range [start, end) as a new song starting at tick 0 (new ids).

    Notes that overlap the range are kept; with `clip` they are cut to it. Tempo, meter, key
    and the chord symbol in force at `start` are carried to tick 0, with the chords inside.
    """
    if end <= start:
        raise EditError("the end of a slice must come after its start")
    out = Song(title=song.title)
    out.tempos = _meta_slice(song.tempos, start, end, TempoChange)
    out.time_signatures = _meta_slice(song.time_signatures, start, end, TimeSignature)
    out.key_signatures = _meta_slice(song.key_signatures, start, end, KeySignature)
    out.chords = _meta_slice(song.chords, start, end, ChordSymbol)
    for t in song.tracks:
        nt = Track(t.name, t.program, t.is_drum, t.channel)
        for n in t.notes:
            if n.end <= start or n.start >= end:
                if not (n.duration == 0 and start <= n.start < end):
                    continue
            s, e = n.start, n.end
            if clip:
                s, e = max(s, start), min(e, end)
            nt.notes.append(Note(n.pitch, s - start, e - s, n.velocity))
        nt.controls = [ControlChange(c.tick - start, c.number, c.value)
                       for c in t.controls if start <= c.tick < end]
        nt.pitch_bends = [PitchBend(b.tick - start, b.value)
                          for b in t.pitch_bends if start <= b.tick < end]
        out.tracks.append(nt)
    return out


def _meta_slice(events: Sequence, start: int, end: int, kind: type) -> list:
    events = sorted(events, key=lambda e: e.tick)
    before = [e for e in events if e.tick <= start]
    inside = [e._replace(tick=e.tick - start) for e in events if start < e.tick < end]
    head = [before[-1]._replace(tick=0)] if before else []
    return head + inside


def merge_songs(base: Song, other: Song, at_tick: int = 0, by_name: bool = True) -> Song:
    """`other` laid over `base` starting at `at_tick` (new ids).

    With `by_name`, a track of `other` joins the track of `base` with the same name, program and
    drum flag; otherwise it becomes a new track. Tempo, meter and key come from `base`.
    """
    out = base.copy(keep_ids=False)
    for t in other.tracks:
        target = None
        if by_name:
            target = next((x for x in out.tracks if (x.name, x.program, x.is_drum)
                           == (t.name, t.program, t.is_drum)), None)
        if target is None:
            target = Track(t.name, t.program, t.is_drum, t.channel)
            out.tracks.append(target)
        target.notes.extend(Note(n.pitch, n.start + at_tick, n.duration, n.velocity)
                            for n in t.notes)
        target.controls.extend(ControlChange(c.tick + at_tick, c.number, c.value)
                               for c in t.controls)
        target.pitch_bends.extend(PitchBend(b.tick + at_tick, b.value) for b in t.pitch_bends)
        target.sort()
    out.invalidate()
    return out
