"""Conversions between songs and fixed-step grids: piano rolls and four-voice SATB arrays.

A grid step is a number of ticks (120 = a 16th note at 480 PPQ). A note covers the steps from its
rounded start up to its rounded end, at least one step.

SATB arrays have the layout of the JSB chorales data: shape (steps, 4), MIDI pitch per step for
soprano, alto, tenor and bass, -1 where a voice is silent. They have no hold symbol, so a pitch
repeated over consecutive steps is read as one held note.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from studio.music.song import PPQ, Note, Song, TempoChange, TimeSignature, Track

SIXTEENTH = PPQ // 4
VOICE_NAMES = ("Soprano", "Alto", "Tenor", "Bass")
# Voice ranges of the JSB chorales data (inclusive).
VOICE_RANGES = ((60, 81), (52, 74), (46, 69), (36, 66))


def note_steps(note: Note, step: int) -> tuple[int, int]:
    s = int(round(note.start / step))
    e = max(s + 1, int(round(note.end / step)))
    return s, e


def song_to_roll(song: Song, step: int = SIXTEENTH, tracks: Sequence[Track] | None = None,
                 include_drums: bool = False, steps: int | None = None,
                 with_onsets: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Velocity piano roll of shape (steps, 128), uint8, 0 = silent.

    With `with_onsets`, also returns a bool array marking the step where each note starts.
    """
    chosen = [t for t in (song.tracks if tracks is None else tracks)
              if include_drums or not t.is_drum]
    total = steps if steps is not None else -(-song.end // step) if song.end else 0
    roll = np.zeros((total, 128), dtype=np.uint8)
    onsets = np.zeros((total, 128), dtype=bool)
    for t in chosen:
        for n in t.notes:
            s, e = note_steps(n, step)
            if s >= total:
                continue
            roll[s:e, n.pitch] = np.maximum(roll[s:e, n.pitch], max(1, n.velocity))
            onsets[s, n.pitch] = True
    return (roll, onsets) if with_onsets else roll


def roll_to_track(roll: np.ndarray, step: int = SIXTEENTH, onsets: np.ndarray | None = None,
                  name: str = "", program: int = 0, velocity: int = 80) -> Track:
    """A track from a (steps, 128) roll (velocity or bool). Runs of active steps become notes;
    an onset inside a run splits it (repeated notes)."""
    roll = np.asarray(roll)
    active = roll > 0
    track = Track(name=name, program=program)
    steps = active.shape[0]
    for pitch in np.nonzero(active.any(axis=0))[0]:
        col = active[:, pitch]
        starts = np.nonzero(col & ~np.concatenate(([False], col[:-1])))[0]
        if onsets is not None:
            starts = np.union1d(starts, np.nonzero(col & onsets[:, pitch])[0])
        ends_run = np.nonzero(col & ~np.concatenate((col[1:], [False])))[0] + 1
        for i, s in enumerate(starts):
            run_end = ends_run[np.searchsorted(ends_run, s, side="right")]
            nxt = starts[i + 1] if i + 1 < len(starts) else steps
            e = min(run_end, nxt)
            vel = int(roll[s, pitch]) if roll.dtype != bool and roll[s, pitch] > 1 else velocity
            track.notes.append(Note(int(pitch), int(s) * step, int(e - s) * step, min(127, vel)))
    track.sort()
    return track


def satb_to_song(pitches: np.ndarray, step: int = SIXTEENTH, qpm: float = 90.0,
                 program: int = 0, velocity: int = 80, names: Sequence[str] = VOICE_NAMES
                 ) -> Song:
    """A song with one track per voice from a (steps, voices) pitch array (-1 = silent)."""
    pitches = np.asarray(pitches)
    if pitches.ndim != 2:
        raise ValueError(f"SATB pitches must be 2-D (steps, voices), got shape {pitches.shape}")
    song = Song(tempos=[TempoChange(0, qpm)], time_signatures=[TimeSignature(0, 4, 4)])
    for v in range(pitches.shape[1]):
        name = names[v] if v < len(names) else f"Voice {v + 1}"
        track = Track(name=name, program=program, channel=v)
        track.notes = voice_to_notes(pitches[:, v], step, velocity)
        song.tracks.append(track)
    return song


def voice_to_notes(voice: np.ndarray, step: int = SIXTEENTH, velocity: int = 80,
                   onsets: np.ndarray | None = None) -> list[Note]:
    """Notes from one voice's pitch per step; equal consecutive pitches are one note unless
    `onsets` marks a new attack."""
    voice = np.asarray(voice, dtype=np.int64)
    n = len(voice)
    if n == 0:
        return []
    change = np.ones(n, dtype=bool)
    change[1:] = voice[1:] != voice[:-1]
    if onsets is not None:
        change |= np.asarray(onsets, dtype=bool)
    starts = np.nonzero(change)[0]
    ends = np.append(starts[1:], n)
    return [Note(int(voice[s]), int(s) * step, int(e - s) * step, velocity)
            for s, e in zip(starts, ends) if voice[s] >= 0]


def _voice_tracks(song: Song) -> list[Track | None]:
    tracks = [t for t in song.tracks if not t.is_drum and t.notes]
    by_name: dict[str, Track] = {}
    for t in tracks:
        low = t.name.strip().lower()
        for v in VOICE_NAMES:
            if low.startswith(v.lower()) and v not in by_name:
                by_name[v] = t
    if len(by_name) >= 2:
        return [by_name.get(v) for v in VOICE_NAMES]
    if len(tracks) >= 4:
        ranked = sorted(tracks, key=lambda t: -np.mean([n.pitch for n in t.notes]))
        return ranked[:4]
    return []


def song_to_satb(song: Song, step: int = SIXTEENTH, steps: int | None = None) -> np.ndarray:
    """(steps, 4) int8 pitches, -1 silent.

    Voices come from tracks named Soprano/Alto/Tenor/Bass, else from the four highest tracks by
    mean pitch, else by splitting the chords of all tracks (highest note to the soprano, lowest to
    the bass, the next ones inward).
    """
    total = steps if steps is not None else -(-song.end // step) if song.end else 0
    out = np.full((total, 4), -1, dtype=np.int16)
    voices = _voice_tracks(song)
    if voices:
        for v, t in enumerate(voices):
            if t is None:
                continue
            roll = song_to_roll(song, step, tracks=[t], steps=total) > 0
            has = roll.any(axis=1)
            pick = roll.shape[1] - 1 - np.argmax(roll[:, ::-1], axis=1) if v < 2 \
                else np.argmax(roll, axis=1)
            out[has, v] = pick[has]
        return out.astype(np.int8)
    roll = song_to_roll(song, step, steps=total) > 0
    for i in np.nonzero(roll.any(axis=1))[0]:
        ps = np.nonzero(roll[i])[0][::-1]  # high to low
        k = len(ps)
        if k >= 4:
            out[i] = (ps[0], ps[1], ps[-2], ps[-1])
        elif k == 3:
            out[i, 0], out[i, 1], out[i, 3] = ps
        elif k == 2:
            out[i, 0], out[i, 3] = ps
        else:
            out[i, 0] = ps[0]
    return out.astype(np.int8)
