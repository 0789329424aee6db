"""The MIDI player: schedules a song on a monotonic clock and sends it to a `MidiOutput`.

Plain Python with a timing thread, no Qt (Frescobaldi's `midifile/player.py` split): the Qt layer
subclasses `Player` and turns the hooks (`on_position`, `on_playing_changed`, `on_finished`,
`on_output_failed`) into signals. Hooks run on the timing thread, never under the player's lock.

Time model: while playing, song time (seconds on the song's tempo map) runs as
`anchor_seconds + (clock() - anchor_time) * tempo_scale`. Every control (seek, loop wrap, tempo
scale, a new song or mute/solo state) re-anchors at "now", so events never drift. Notes that are
sounding are tracked by note id: stop, seek, loop wrap, a changed output and edits that delete or
shorten a sounding note all send its note-off, and stop also sends a panic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from studio.midi.outputs import Message, MidiOutput, NullOutput
from studio.midi.realtime import raise_thread_priority, switch_interval
from studio.midi.sequence import NOTE_OFF, NOTE_ON, EventList, compile_events
from studio.music.song import PPQ, Song

CLICK_DOWNBEAT, CLICK_BEAT = 76, 77  # GM hi / low wood block on the drum channel
CLICK_SECONDS = 0.06


class Player:
    """Start, stop, seek, loop, tempo scale and mute/solo while playing; see the module doc."""

    position_interval = 1 / 30  # seconds between position hooks

    def __init__(self, output: MidiOutput | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._cond = threading.Condition()
        self._clock = clock
        self._output: MidiOutput = output or NullOutput()
        self._song: Song | None = None
        self._audible: set[int] | None = None
        self._events = EventList()
        self._playing = False
        self._thread: threading.Thread | None = None
        self._generation = 0
        self._anchor_time = 0.0
        self._anchor_sec = 0.0
        self._scale = 1.0
        self._cursor = 0
        self._position = 0
        self._loop: tuple[int, int] | None = None
        self._looping = False
        self._sounding: dict[int, tuple[int, int]] = {}
        self._clicks: list[tuple[float, Message]] = []
        self.run_past_end = False  # keep running after the last event (recording)

    # ---- hooks for subclasses (called on the timing thread, without the lock) -------------------
    def on_position(self, tick: int) -> None: ...

    def on_playing_changed(self, playing: bool) -> None: ...

    def on_finished(self) -> None: ...

    def on_output_failed(self, reason: str) -> None: ...

    # ---- state ----------------------------------------------------------------------------------
    @property
    def is_playing(self) -> bool:
        return self._playing

    @property
    def counting_in(self) -> bool:
        return self._playing and self._clock() < self._anchor_time

    @property
    def output(self) -> MidiOutput:
        return self._output

    @property
    def song(self) -> Song | None:
        return self._song

    @property
    def tempo_scale(self) -> float:
        return self._scale

    @property
    def position(self) -> int:
        """The current tick (the stop position while stopped)."""
        with self._cond:
            return int(self._tick_now()) if self._playing else self._position

    def tick_at(self, t: float) -> float:
        """The song tick sounding at monotonic time `t` (below the start tick during count-in)."""
        with self._cond:
            return self._events.tempo_map.tick_at(self._anchor_sec + (t - self._anchor_time)
                                                  * self._scale)

    def time_of_tick(self, tick: float) -> float:
        """The monotonic time at which `tick` is (or was) due in the current run (no loop wrap)."""
        with self._cond:
            return self._wall(self._events.tempo_map.seconds(tick))

    # ---- song and settings ----------------------------------------------------------------------
    def load(self, song: Song | None, audible: Iterable[int] | None = None) -> None:
        """Play `song` (None: nothing), sounding only the `audible` track ids (None: all).
        While playing, playback continues from the current position with the new material."""
        keep = None if audible is None else set(audible)
        events = compile_events(song, keep) if song is not None else EventList()
        with self._cond:  # compiled outside the lock: the timing thread never waits for it
            self._song = song
            self._audible = keep
            self._reschedule(events)

    def set_audible(self, audible: Iterable[int] | None) -> None:
        self.load(self._song, audible)

    def set_loop(self, region: tuple[int, int] | None) -> None:
        """Loop between two ticks while playing (None: no loop)."""
        with self._cond:
            self._loop = region if region and region[1] > region[0] else None
            self._looping = self._loop is not None and (
                not self._playing or self._tick_now() < self._loop[1])
            self._notify()

    @property
    def loop(self) -> tuple[int, int] | None:
        return self._loop

    def set_tempo_scale(self, scale: float) -> None:
        """Play faster (> 1) or slower (< 1) than written, from now on."""
        if not 0.05 <= scale <= 20:
            raise ValueError("tempo scale must be between 0.05 and 20")
        with self._cond:
            self._reanchor(self._clock())
            self._scale = float(scale)
            self._notify()

    def set_output(self, output: MidiOutput) -> MidiOutput:
        """Send to `output` from now on; the old one gets note-offs and a panic. Returns the old."""
        with self._cond:
            old = self._output
            self._silence(old)
            old.panic()
            self._output = output
            output.panic()  # start the new output from a clean state
            if self._playing:
                output.send_many(self._events.chase(self._tick_now()))
            return old

    def send_now(self, message: Message) -> bool:
        """Send a message at once (MIDI thru, audition), between the scheduled ones."""
        with self._cond:
            return self._output.send(message)

    # ---- transport ------------------------------------------------------------------------------
    def play(self, start_tick: int | None = None, count_in_bars: int = 0) -> None:
        """Start at `start_tick` (default: the current position), after `count_in_bars` bars of
        metronome clicks. While playing, this seeks."""
        with self._cond:
            if self._playing:
                if start_tick is not None:
                    self._seek_locked(start_tick)
                return
            tick = self._position if start_tick is None else max(0, int(start_tick))
            now = self._clock()
            self._output.send_many(self._events.chase(tick))
            lead = self._count_in(tick, count_in_bars, now)
            self._anchor_time = now + lead
            self._anchor_sec = self._events.tempo_map.seconds(tick)
            self._cursor = self._events.index_at(tick)
            self._looping = self._loop is not None and tick < self._loop[1]
            self._position = tick
            self._playing = True
            switch_interval.enter()
            self._generation += 1
            self._thread = threading.Thread(target=self._run, args=(self._generation,),
                                            name="studio-player", daemon=True)
            self._thread.start()
        self.on_playing_changed(True)

    def stop(self) -> None:
        """Stop, silence sounding notes and send a panic; the position stays where it stopped."""
        with self._cond:
            if not self._playing:
                self._output.panic()
                return
            self._stop_locked()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)
        self.on_playing_changed(False)
        self.on_position(self._position)

    def seek(self, tick: int) -> None:
        with self._cond:
            if self._playing:
                self._seek_locked(tick)
                return
            self._position = max(0, int(tick))
        self.on_position(self._position)

    def panic(self) -> None:
        with self._cond:
            self._sounding.clear()
            self._output.panic()

    def close(self) -> None:
        """Stop and release the output (on exit)."""
        self.stop()
        with self._cond:
            self._output.close()

    # ---- internals (lock held) ------------------------------------------------------------------
    def _notify(self) -> None:
        self._cond.notify_all()

    def _song_sec(self, now: float) -> float:
        return self._anchor_sec + (now - self._anchor_time) * self._scale

    def _wall(self, song_sec: float) -> float:
        return self._anchor_time + (song_sec - self._anchor_sec) / self._scale

    def _tick_now(self) -> float:
        if not self._playing:
            return float(self._position)
        now = self._clock()
        if now < self._anchor_time:  # counting in: the start position
            return self._events.tempo_map.tick_at(self._anchor_sec)
        return self._events.tempo_map.tick_at(self._song_sec(now))

    def _reanchor(self, now: float) -> None:
        if self._playing and now >= self._anchor_time:
            self._anchor_sec = self._song_sec(now)
            self._anchor_time = now

    def _silence(self, output: MidiOutput) -> None:
        for ch, pitch in self._sounding.values():
            output.send((NOTE_OFF | ch, pitch, 0))
        self._sounding.clear()

    def _count_in(self, tick: int, bars: int, now: float) -> float:
        self._clicks = []
        if bars <= 0 or self._song is None:
            return 0.0
        ts = self._song.time_signature_at(tick)
        beat_ticks = PPQ * 4 // ts.denominator
        beat = self._events.tempo_map.seconds(tick + beat_ticks) - self._events.tempo_map.seconds(tick)
        beat /= self._scale
        beats = bars * ts.numerator
        for k in range(beats):
            t = now + k * beat
            pitch = CLICK_DOWNBEAT if k % ts.numerator == 0 else CLICK_BEAT
            self._clicks += [(t, (NOTE_ON | 9, pitch, 100)),
                             (t + min(CLICK_SECONDS, beat / 2), (NOTE_OFF | 9, pitch, 0))]
        self._clicks.sort(key=lambda c: c[0])
        return beats * beat

    def _seek_locked(self, tick: int) -> None:
        self._silence(self._output)
        tick = max(0, int(tick))
        now = self._clock()
        self._clicks = []
        self._anchor_time = now
        self._anchor_sec = self._events.tempo_map.seconds(tick)
        self._cursor = self._events.index_at(tick)
        self._looping = self._loop is not None and tick < self._loop[1]
        self._notify()

    def _stop_locked(self) -> None:
        self._position = max(0, int(self._tick_now()))
        self._generation += 1
        self._playing = False
        switch_interval.exit()
        self._clicks = []
        self._silence(self._output)
        self._output.panic()
        self._notify()

    def _reschedule(self, events: EventList) -> None:
        """Use new events (song, mute/solo changed); while playing continue from the position."""
        old_programs = self._events.programs
        tick = self._tick_now() if self._playing else self._position
        now = self._clock()
        if self._playing:
            self._reanchor(now)
        self._events = events
        if not self._playing:
            return
        for nid, (ch, pitch) in list(self._sounding.items()):
            off = self._events.note_offs.get(nid)
            if off is None or off[0] <= tick or off[1] != ch or off[2] != pitch:
                self._output.send((NOTE_OFF | ch, pitch, 0))
                del self._sounding[nid]
        if self._events.programs != old_programs:
            self._output.send_many(self._events.setup_messages())
        if now >= self._anchor_time:
            self._anchor_sec = self._events.tempo_map.seconds(tick)
            self._cursor = self._events.index_after(tick)
        else:  # counting in: start where the count-in leads
            self._anchor_sec = self._events.tempo_map.seconds(tick)
            self._cursor = self._events.index_at(tick)
        self._notify()

    def _dispatch_event(self, i: int) -> None:
        ev = self._events
        msg = ev.messages[i]
        nid = ev.note_ids[i]
        kind = msg[0] & 0xF0
        if kind == NOTE_ON:
            if nid in self._sounding:
                return
            self._sounding[nid] = (msg[0] & 0x0F, msg[1])
        elif kind == NOTE_OFF:
            if self._sounding.pop(nid, None) is None:
                return
        self._output.send(msg)

    def _dispatch(self, now: float) -> None:
        """Send every click and event that is due at `now`, wrapping at the loop end."""
        while self._clicks and self._clicks[0][0] <= now:
            self._output.send(self._clicks.pop(0)[1])
        if now < self._anchor_time:
            return
        ev = self._events
        seconds = ev.seconds
        while self._looping and self._loop is not None:
            loop_end = ev.tempo_map.seconds(self._loop[1])
            if self._song_sec(now) < loop_end:
                break
            while self._cursor < len(ev) and seconds[self._cursor] < loop_end:
                self._dispatch_event(self._cursor)
                self._cursor += 1
            self._silence(self._output)
            self._anchor_time = self._wall(loop_end)
            self._anchor_sec = ev.tempo_map.seconds(self._loop[0])
            self._cursor = ev.index_at(self._loop[0])
        song_now = self._song_sec(now)
        while self._cursor < len(ev) and seconds[self._cursor] <= song_now:
            self._dispatch_event(self._cursor)
            self._cursor += 1

    def _next_due(self, now: float) -> float:
        """Seconds until something is due (capped by the position interval)."""
        due = now + self.position_interval
        if self._clicks:
            due = min(due, self._clicks[0][0])
        if now < self._anchor_time:
            return min(due, self._anchor_time) - now
        ev = self._events
        if self._cursor < len(ev):
            due = min(due, self._wall(ev.seconds[self._cursor]))
        if self._looping and self._loop is not None:
            due = min(due, self._wall(ev.tempo_map.seconds(self._loop[1])))
        return due - now

    def _run(self, generation: int) -> None:
        raise_thread_priority()
        last_report = -1.0
        while True:
            failed = finished = None
            report = None
            with self._cond:
                if generation != self._generation:
                    return
                now = self._clock()
                self._dispatch(now)
                if self._output.failed is not None:
                    failed = self._output.failed
                    self._sounding.clear()
                    self._output = NullOutput()
                ev = self._events
                if (not self.run_past_end and not self._looping and not self._clicks
                        and self._cursor >= len(ev) and now >= self._anchor_time
                        and self._song_sec(now) >= ev.end_seconds):
                    self._stop_locked()
                    self._position = min(self._position, ev.end_tick)
                    finished = True
                elif now - last_report >= self.position_interval and now >= self._anchor_time:
                    report = int(ev.tempo_map.tick_at(self._song_sec(now)))
                    last_report = now
            if failed is not None:
                self.on_output_failed(failed)
            if report is not None:
                self.on_position(report)
            if finished:
                self.on_playing_changed(False)
                self.on_position(self._position)
                self.on_finished()
                return
            with self._cond:
                if generation != self._generation:
                    return
                wait = self._next_due(self._clock())
                if wait > 0:
                    self._cond.wait(wait)
