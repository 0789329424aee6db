"""Recording from MIDI input: incoming note messages become `Note`s on the song's timeline.

The `Recorder` is fed raw messages with the monotonic time they arrived (from `PortInput`'s
callback thread) and turns times into ticks with the player's clock (`Player.tick_at`), so what
you play lines up with what you hear, tempo changes included. Notes played in the last moment of
the count-in (an eager downbeat) land on the start position; earlier ones are dropped. With a
quantize grid, starts and ends snap to it (never shorter than one grid step). `finish()` closes
held notes at the stop time and returns the notes, ready for one `AddNotes` edit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from studio.music.operations import quantize_value
from studio.music.song import PPQ, Note

EARLY_GRACE_TICKS = PPQ // 4  # a sixteenth before the start still counts as the downbeat
MIN_TICKS = PPQ // 32


class Recorder:
    """Collects the notes of one take; thread-safe `feed`, then `finish` on the UI thread."""

    def __init__(self, tick_at: Callable[[float], float], start_tick: int = 0,
                 quantize: int | None = None, channel: int | None = None) -> None:
        self.tick_at = tick_at
        self.start_tick = int(start_tick)
        self.quantize = quantize if quantize and quantize > 0 else None
        self.channel = channel  # only this input channel (None: all)
        self._lock = threading.Lock()
        self._held: dict[tuple[int, int], tuple[float, int]] = {}
        self._notes: list[tuple[float, float, int, int]] = []  # start, end, pitch, velocity
        self.messages_seen = 0

    @property
    def note_count(self) -> int:
        with self._lock:
            return len(self._notes) + len(self._held)

    def feed(self, message: list[int], t: float) -> None:
        """One incoming MIDI message that arrived at monotonic time `t`."""
        if len(message) < 3:
            return
        status, pitch, velocity = message[0], message[1] & 0x7F, message[2] & 0x7F
        kind, ch = status & 0xF0, status & 0x0F
        if kind not in (0x80, 0x90) or (self.channel is not None and ch != self.channel):
            return
        tick = self.tick_at(t)
        with self._lock:
            self.messages_seen += 1
            key = (ch, pitch)
            if key in self._held:  # a repeated note-on or the note-off ends the held note
                start, vel = self._held.pop(key)
                self._notes.append((start, tick, pitch, vel))
            if kind == 0x90 and velocity > 0:
                self._held[key] = (tick, velocity)

    def finish(self, stop_time: float) -> list[Note]:
        """Close held notes at `stop_time`; the take as notes sorted by start."""
        stop_tick = self.tick_at(stop_time)
        with self._lock:
            raw = self._notes + [(s, stop_tick, p, v) for (_, p), (s, v) in self._held.items()]
            self._notes, self._held = [], {}
        notes = []
        for start, end, pitch, vel in raw:
            if start < self.start_tick - EARLY_GRACE_TICKS:
                continue
            start = max(start, self.start_tick)
            s, e = int(round(start)), int(round(end))
            if self.quantize:
                g = self.quantize
                s = max(self.start_tick, quantize_value(s, g))
                e = quantize_value(e, g)
                e = max(e, s + g)
            notes.append(Note(pitch, s, max(MIN_TICKS, e - s), max(1, vel)))
        notes.sort(key=Note.key)
        return notes
