"""A song as a time-ordered list of MIDI channel messages, ready for the player and the renderer.

`compile_events(song, audible)` turns the audible tracks of a `Song` into parallel lists (tick,
song seconds, message, note id) sorted by time, with the same order at equal ticks as the file
writer: controls, note-offs, pitch bends, note-ons. Seconds come from the song's tempo map, so
tempo changes are honoured. `EventList.chase(tick)` gives the program, controller and pitch-bend
state to send when playback starts in the middle of a song.

Channels: drums on channel 10 (index 9); every other track keeps its own channel when no other
track took it, else gets the first free channel, so two instruments never fight over one channel
(up to 15 melodic tracks; beyond that channels are shared).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from studio.music.song import Song
from studio.music.timing import TempoMap

DRUM_CHANNEL = 9
NOTE_OFF, NOTE_ON, CONTROL, PROGRAM, PITCH_BEND = 0x80, 0x90, 0xB0, 0xC0, 0xE0

# Sort rank of event kinds at the same tick (as in studio.midi.files).
_RANK_CONTROL, _RANK_OFF, _RANK_BEND, _RANK_ON = 0, 1, 2, 3


def playback_channels(song: Song) -> dict[int, int]:
    """Track id -> MIDI channel index (0-15) for playback."""
    out: dict[int, int] = {}
    used: set[int] = set()
    melodic = []
    for t in song.tracks:
        if t.is_drum:
            out[t.id] = DRUM_CHANNEL
        else:
            melodic.append(t)
    pending = []
    for t in melodic:
        if 0 <= t.channel <= 15 and t.channel != DRUM_CHANNEL and t.channel not in used:
            out[t.id] = t.channel
            used.add(t.channel)
        else:
            pending.append(t)
    free = [c for c in range(16) if c != DRUM_CHANNEL and c not in used]
    for i, t in enumerate(pending):
        out[t.id] = free[i] if i < len(free) else [c for c in range(16) if c != DRUM_CHANNEL][i % 15]
    return out


@dataclass
class EventList:
    """Sorted channel messages of a song. Lists (not arrays) so the timing thread reads them fast."""

    ticks: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    messages: list[tuple[int, int, int]] = field(default_factory=list)
    note_ids: list[int] = field(default_factory=list)  # -1 for controls and bends
    programs: dict[int, tuple[int, bool]] = field(default_factory=dict)  # channel -> (program, drum)
    note_offs: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # id -> (tick, ch, pitch)
    tempo_map: TempoMap = field(default_factory=lambda: TempoMap([]))
    end_tick: int = 0

    def __len__(self) -> int:
        return len(self.ticks)

    def index_at(self, tick: float) -> int:
        """Index of the first event at or after `tick`."""
        return bisect.bisect_left(self.ticks, tick)

    def index_after(self, tick: float) -> int:
        """Index of the first event strictly after `tick`."""
        return bisect.bisect_right(self.ticks, tick)

    @property
    def end_seconds(self) -> float:
        return self.tempo_map.seconds(self.end_tick)

    def setup_messages(self) -> list[tuple[int, int, int]]:
        """Program changes for every used channel (sent before the first note)."""
        return [(PROGRAM | ch, prog & 0x7F, 0) for ch, (prog, _) in sorted(self.programs.items())]

    def chase(self, tick: float) -> list[tuple[int, int, int]]:
        """Programs, then the last value of every controller and pitch bend before `tick`."""
        last: dict[tuple[int, int], tuple[int, int, int]] = {}
        for i in range(self.index_at(tick)):
            status, d1, _ = self.messages[i]
            kind = status & 0xF0
            if kind == CONTROL:
                last[(status, d1)] = self.messages[i]
            elif kind == PITCH_BEND:
                last[(status, -1)] = self.messages[i]
        return self.setup_messages() + [last[k] for k in sorted(last)]


def compile_events(song: Song, audible: Iterable[int] | None = None) -> EventList:
    """The audible tracks of `song` (all when `audible` is None) as an `EventList`."""
    channels = playback_channels(song)
    keep = None if audible is None else set(audible)
    cols: list[np.ndarray] = []  # rows: tick, rank, status, d1, d2, note id
    programs: dict[int, tuple[int, bool]] = {}
    note_offs: dict[int, tuple[int, int, int]] = {}
    end = 0
    for track in song.tracks:
        if keep is not None and track.id not in keep:
            continue
        ch = channels[track.id]
        programs.setdefault(ch, (track.program, track.is_drum))
        a = track.arrays()
        n = len(track.notes)
        if n:
            pitch = np.clip(a["pitch"], 0, 127)
            vel = np.clip(a["velocity"], 1, 127)
            start, stop = a["start"], a["start"] + np.maximum(a["duration"], 0)
            end = max(end, int(stop.max()))
            on = np.stack([start, np.full(n, _RANK_ON), np.full(n, NOTE_ON | ch), pitch, vel,
                           a["id"]], axis=1)
            # Zero-length notes still get their note-off after the note-on.
            off_rank = np.where(stop == start, _RANK_ON + 1, _RANK_OFF)
            off = np.stack([stop, off_rank, np.full(n, NOTE_OFF | ch), pitch, np.zeros(n, np.int64),
                            a["id"]], axis=1)
            cols += [on, off]
            note_offs.update(zip(a["id"].tolist(),
                                 zip(stop.tolist(), [ch] * n, pitch.tolist())))
        if track.controls:
            cc = np.array(track.controls, dtype=np.int64).reshape(-1, 3)
            k = len(cc)
            cols.append(np.stack([cc[:, 0], np.full(k, _RANK_CONTROL), np.full(k, CONTROL | ch),
                                  cc[:, 1] & 0x7F, cc[:, 2] & 0x7F, np.full(k, -1)], axis=1))
            end = max(end, int(cc[:, 0].max()))
        if track.pitch_bends:
            pb = np.array(track.pitch_bends, dtype=np.int64).reshape(-1, 2)
            k = len(pb)
            v = np.clip(pb[:, 1], -8192, 8191) + 8192
            cols.append(np.stack([pb[:, 0], np.full(k, _RANK_BEND), np.full(k, PITCH_BEND | ch),
                                  v & 0x7F, v >> 7, np.full(k, -1)], axis=1))
            end = max(end, int(pb[:, 0].max()))
    tempo_map = TempoMap(song.tempos)
    if not cols:
        return EventList(programs=programs, tempo_map=tempo_map, end_tick=end)
    rows = np.concatenate(cols)
    rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
    return EventList(
        ticks=rows[:, 0].tolist(),
        seconds=tempo_map.seconds_array(rows[:, 0]).tolist(),
        messages=list(zip(rows[:, 2].tolist(), rows[:, 3].tolist(), rows[:, 4].tolist())),
        note_ids=rows[:, 5].tolist(),
        programs=programs, note_offs=note_offs, tempo_map=tempo_map, end_tick=end)


def panic_messages() -> list[tuple[int, int, int]]:
    """Sustain off, all-sound-off (CC 120) and all-notes-off (CC 123) on all 16 channels."""
    out = []
    for ch in range(16):
        out += [(CONTROL | ch, 64, 0), (CONTROL | ch, 120, 0), (CONTROL | ch, 123, 0)]
    return out


def message_bytes(message: tuple[int, int, int]) -> list[int]:
    """The wire bytes of a channel message (program change and channel pressure have one data byte)."""
    status, d1, d2 = message
    if status & 0xF0 in (0xC0, 0xD0):
        return [status, d1]
    return [status, d1, d2]
