"""What the piano roll says about the note under the mouse (its tooltip) and about a key of its
keyboard: the note's name (C#4, spelled with flats in a flat key) or, on a drum track, its
General MIDI drum sound (38 Acoustic Snare); where it starts (bar:beat:tick), how long it is (as
a note value where it is one) and how loud."""

from __future__ import annotations

from studio.music.gm_drums import drum_name
from studio.music.keys import pitch_name
from studio.music.positions import length_text, position_text
from studio.music.song import Note, Song, Track


def key_text(pitch: int, drums: bool, prefer_flats: bool = False) -> str:
    """'C#4 (61)', or on a drum track '38 Acoustic Snare' (the key number where GM has none)."""
    if drums:
        name = drum_name(pitch)
        return f"{pitch} {name}" if name else f"{pitch} (no General MIDI drum)"
    return f"{pitch_name(pitch, prefer_flats)} ({pitch})"


def flats_at(song: Song, tick: int) -> bool:
    """Does the key signature in force at `tick` have flats?"""
    sigs = [k for k in sorted(song.key_signatures, key=lambda k: k.tick) if k.tick <= tick]
    return bool(sigs) and sigs[-1].sharps < 0


def note_text(song: Song, track: Track, note: Note) -> str:
    """Several lines: name, start, length, velocity, track."""
    sigs = song.time_signatures
    return "\n".join((
        f"{key_text(note.pitch, track.is_drum, flats_at(song, note.start))}"
        f" — {track.name or 'Untitled track'}",
        f"Start: {position_text(note.start, sigs)} (bar:beat:tick)",
        f"Length: {length_text(note.duration)}",
        f"Velocity: {note.velocity}"))
