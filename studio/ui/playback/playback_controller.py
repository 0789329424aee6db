"""`window.playback`: the one object the rest of the studio talks to for sound.

It plays the open document (following edits, mute/solo and tempo changes while playing) or any
other song (`play_song`, e.g. a generated one), auditions notes, records from MIDI input into the
current track as one undoable edit, and keeps the output right through `Routing` (a chosen port,
the virtual port "Studio", or the built-in synth, with fallback when a port vanishes). The built-in
synth is heard through `SynthAudioOutput`, opened only when the synth must sound. Choices are
remembered in QSettings under "playback/".
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from studio.midi.outputs import NullOutput
from studio.midi.recorder import Recorder
from studio.midi.routing import BUILTIN, Routing
from studio.midi.sequence import CONTROL, NOTE_OFF, NOTE_ON, PROGRAM, playback_channels
from studio.midi.synth import SoundFontSynth
from studio.music.edits import ChangeSong
from studio.music.song import Song, TempoChange
from studio.music.timing import bar_lines
from studio.ui.main_thread_gc import defer_full_collections_while
from studio.ui.main_thread_gc import install as collect_on_gui_thread
from studio.ui.playback.playback_audio import SynthAudioOutput
from studio.ui.playback.playback_player import QtPlayer
from studio.ui.playback.playback_recording import commit_take

AUDITION_CHANNEL = 15


class Playback(QObject):
    position_changed = Signal(int)
    playing_changed = Signal(bool)
    recording_changed = Signal(bool)
    message = Signal(str)  # for the status bar
    ports_changed = Signal(list, list, str)  # outputs, inputs, MIDI system or why there is none
    output_changed = Signal(str)

    def __init__(self, document=None, settings: QSettings | None = None,
                 parent: QObject | None = None, watch_interval: float = 1.0) -> None:
        super().__init__(parent)
        collect_on_gui_thread()  # the port watcher and player threads must never collect Qt objects
        defer_full_collections_while(self._sounding)  # a collection holds the player thread too
        self.document = document
        self.settings = settings
        self.piano_roll = None
        self.player = QtPlayer(self)
        self.player.position_changed.connect(self._on_position)
        self.player.playing_changed.connect(self._on_playing_changed)
        self.player.output_failed.connect(lambda reason: self.routing.output_failed(reason))
        self.routing = Routing(self.player, self._make_synth, notify=self.message.emit,
                               on_ports=self.ports_changed.emit,
                               on_output=lambda out: self.output_changed.emit(out.name),
                               interval=watch_interval)
        self.output_changed.connect(self._output_changed)
        self.audio: SynthAudioOutput | None = None
        self.loop_enabled = False
        self.count_in_bars = int(self._setting("count_in_bars", 1))
        self.quantize_ticks = int(self._setting("quantize_input", 0))
        self._follow_document = True
        self._document_position = 0
        self._recorder: Recorder | None = None
        self._record_track_id: int | None = None
        self._closed = False
        self._reload = QTimer(self)
        self._reload.setSingleShot(True)
        self._reload.setInterval(20)  # coalesce bursts of edits (a drag) into one reschedule
        self._reload.timeout.connect(self._reload_document)
        if document is not None:
            document.changed.connect(self._document_changed)
            document.track_flags_changed.connect(self._flags_changed)
            document.song_replaced.connect(self._song_replaced)
            document.selection_changed.connect(self._update_thru)
            self.player.load(document.song, document.audible_track_ids())

    def start(self) -> None:
        """Find the MIDI system, open the remembered ports (telling what is missing through
        `message`, so connect it first) and start watching for ports."""
        self.routing.start()
        self.routing.set_preferred(str(self._setting("output", BUILTIN)),
                                   synth_enabled=self._bool_setting("synth_enabled", True))
        if self._setting("input", ""):
            self.routing.set_input(str(self._setting("input", "")))

    # ---- settings -------------------------------------------------------------------------------
    def _setting(self, key: str, default):
        return self.settings.value(f"playback/{key}", default) if self.settings else default

    def _bool_setting(self, key: str, default: bool) -> bool:
        value = self._setting(key, default)
        return value in (True, "true", "1", 1) if not isinstance(value, bool) else value

    def _store(self, key: str, value) -> None:
        if self.settings is not None:
            self.settings.setValue(f"playback/{key}", value)

    def set_output_port(self, name: str) -> None:
        """Play through the port `name`, `routing.VIRTUAL`, or the built-in synth (`BUILTIN`)."""
        self._store("output", name)
        self.routing.set_preferred(name)

    def set_input_port(self, name: str) -> bool:
        self._store("input", name)
        return self.routing.set_input(name)

    def set_synth_enabled(self, on: bool) -> None:
        self._store("synth_enabled", bool(on))
        self.routing.set_preferred(self.routing.preferred, synth_enabled=bool(on))

    def set_count_in(self, bars: int) -> None:
        self.count_in_bars = max(0, int(bars))
        self._store("count_in_bars", self.count_in_bars)

    def set_quantize_input(self, ticks: int) -> None:
        self.quantize_ticks = max(0, int(ticks))
        self._store("quantize_input", self.quantize_ticks)

    def _make_synth(self) -> SoundFontSynth:
        return SoundFontSynth(self._setting("soundfont", "") or None)

    # ---- transport ------------------------------------------------------------------------------
    @property
    def is_playing(self) -> bool:
        return self.player.is_playing

    def _sounding(self) -> bool:
        return self.is_playing or self._recorder is not None

    @property
    def is_recording(self) -> bool:
        return self._recorder is not None

    @property
    def position(self) -> int:
        return self.player.position

    @property
    def song(self) -> Song | None:
        return self.player.song

    def play_song(self, song: Song, start_tick: int = 0) -> None:
        """Play `song` from `start_tick` (the open document's song follows its edits)."""
        self.stop()
        doc = self.document
        if doc is not None and song is doc.song:
            self.play(start_tick)
            return
        if self._follow_document:
            self._document_position = self.player.position
        self._follow_document = False
        self.player.load(song)
        self._start(start_tick)

    def play(self, start_tick: int | None = None) -> None:
        """Play the open song from `start_tick`, else from where playback stopped (from the top
        at the end, from the loop start when looping)."""
        if self._closed or self.is_playing:
            return
        if self.document is not None:
            self._back_to_document()
        self._start(start_tick)

    def _back_to_document(self) -> None:
        """Load the open song again (after a preview: at the position it had)."""
        if not self._follow_document:
            self._follow_document = True
            self.player.seek(self._document_position)
        self.player.load(self.document.song, self.document.audible_track_ids())

    def _start(self, start_tick: int | None) -> None:
        if self._closed or self.is_playing:
            return
        song = self.player.song
        if song is None or song.note_count == 0:
            self.message.emit("Nothing to play: the song has no notes.")
            return
        tick = self.player.position if start_tick is None else int(start_tick)
        if self.loop_enabled:
            start, end = self.loop_region()
            if not start <= tick < end:  # looping plays the loop, from its start
                tick = start
        elif tick >= song.end:
            tick = 0
        self._apply_loop()
        self._sound_on()
        self.player.play(tick)

    def stop(self) -> None:
        if self._recorder is not None:
            self._finish_recording(time.monotonic())
        self.player.stop()
        if self.audio is not None:
            self.audio.stop_when_idle()

    def toggle(self) -> None:
        if self.is_playing:
            self.stop()
        else:
            self.play()

    def seek(self, tick: int) -> None:
        self.player.seek(max(0, int(tick)))

    def panic(self) -> None:
        """All notes and sounds off on every channel, now."""
        self.player.panic()
        self.message.emit("Panic: all notes off.")

    def set_loop_enabled(self, on: bool) -> None:
        self.loop_enabled = bool(on)
        self._apply_loop()

    def loop_region(self) -> tuple[int, int]:
        """The piano roll's loop region, or the whole song rounded up to a bar."""
        roll = self.piano_roll
        region = roll.loop_region() if roll is not None and hasattr(roll, "loop_region") else None
        if region and region[1] > region[0]:
            return int(region[0]), int(region[1])
        song = self.player.song
        if song is None or song.end == 0:
            return 0, 1920
        lines = bar_lines(song.end + song.time_signature_at(song.end).bar_ticks,
                          song.time_signatures)
        return 0, next((b for b in lines if b >= song.end), song.end)

    def _apply_loop(self) -> None:
        self.player.set_loop(self.loop_region() if self.loop_enabled else None)

    # ---- tempo ----------------------------------------------------------------------------------
    def tempo(self) -> float:
        song = self.player.song or (self.document.song if self.document else None)
        return float(song.tempos[0].qpm) if song and song.tempos else 120.0

    def set_tempo(self, qpm: float) -> None:
        """Change the song's tempo (every tempo scaled alike) as one undoable edit; heard at once
        when playing."""
        doc = self.document
        if doc is None or qpm <= 0:
            return
        tempos = doc.song.tempos or [TempoChange(0, 120.0)]
        factor = qpm / tempos[0].qpm
        if abs(factor - 1) < 1e-9:
            return
        new = [TempoChange(t.tick, t.qpm * factor) for t in tempos]
        doc.apply(ChangeSong((("tempos", new),), f"Tempo {qpm:g}"), merge_key="playback-tempo")

    # ---- audition -------------------------------------------------------------------------------
    def audition(self, pitch: int, velocity: int = 100, duration_ms: int = 300,
                 program: int | None = None) -> None:
        """Sound one note now (a clicked key, a drawn note), on the current track's instrument
        unless `program` is given."""
        if self._closed or not 0 <= pitch <= 127:
            return
        channel, prog = self._audition_channel(program)
        self._sound_on()
        if program is not None or not self.is_playing:
            self.player.send_now((PROGRAM | channel, prog & 0x7F, 0))
            self.player.send_now((CONTROL | channel, 7, 100))
        self.player.send_now((NOTE_ON | channel, pitch, max(1, min(127, velocity))))
        QTimer.singleShot(max(10, int(duration_ms)),
                          lambda: self.player.send_now((NOTE_OFF | channel, pitch, 0)))
        if not self.is_playing and self.audio is not None:
            self.audio.stop_when_idle()

    def _track_channel(self) -> tuple[int, int]:
        doc = self.document
        if doc is None or doc.current_track_id is None:
            return 0, 0
        try:
            track = doc.song.track(doc.current_track_id)
        except KeyError:
            return 0, 0
        return playback_channels(doc.song)[track.id], track.program

    def _audition_channel(self, program: int | None) -> tuple[int, int]:
        if program is not None:
            return AUDITION_CHANNEL, int(program)
        return self._track_channel()

    # ---- recording ------------------------------------------------------------------------------
    def record(self) -> bool:
        """Count in, then play and record the MIDI input into the current track until stop."""
        if self._recorder is not None:
            return True
        doc = self.document
        if doc is None or self._closed:
            return False
        if self.routing.input_name is None:
            self.message.emit("Choose a MIDI input in Preferences > MIDI & Audio to record.")
            self.recording_changed.emit(False)
            return False
        self.player.stop()
        self._back_to_document()
        start = self.player.position
        self._record_track_id = doc.current_track_id
        self._recorder = Recorder(self.player.tick_at, start, self.quantize_ticks or None)
        self.routing.thru_channel = self._track_channel()[0]
        self.routing.add_listener(self._recorder.feed)
        self.player.run_past_end = True
        self._apply_loop()
        self._sound_on()
        self.player.play(start, count_in_bars=self.count_in_bars)
        self.recording_changed.emit(True)
        self.message.emit("Recording" + (f" after {self.count_in_bars} bar(s) of count-in"
                                         if self.count_in_bars else "") + ": Space stops.")
        return True

    def _finish_recording(self, stop_time: float) -> None:
        rec, self._recorder = self._recorder, None
        self.routing.remove_listener(rec.feed)
        self.player.run_past_end = False
        notes = rec.finish(stop_time)
        self.recording_changed.emit(False)
        if self.document is not None:
            self.message.emit(commit_take(self.document, self._record_track_id, notes))

    # ---- following the document and the piano roll ---------------------------------------------
    def attach_piano_roll(self, roll) -> None:
        """Connect the editor's piano roll (playhead, loop region, seek, audition), once."""
        if roll is None or roll is self.piano_roll:
            return
        self.piano_roll = roll
        for name, slot in (("audition_requested", lambda p, v: self.audition(p, v)),
                           ("seek_requested", self.seek), ("loop_changed", self._apply_loop)):
            signal = getattr(roll, name, None)
            if signal is not None:
                signal.connect(slot)

    def _update_thru(self) -> None:
        """What comes in from the MIDI input sounds as the current track's instrument."""
        if self._recorder is not None or self.document is None:
            return
        channel, program = self._track_channel()
        if channel != self.routing.thru_channel and self.document.current_track_id is not None:
            self.routing.thru_channel = channel
            if not self.is_playing:
                self.player.send_now((PROGRAM | channel, program & 0x7F, 0))

    def _on_position(self, tick: int) -> None:
        self.position_changed.emit(tick)
        roll = self.piano_roll
        if roll is not None and hasattr(roll, "set_playhead"):
            roll.set_playhead(tick)

    def _on_playing_changed(self, playing: bool) -> None:
        # Queued from the timing thread: trust the player's state now, not the old value.
        playing = self.player.is_playing
        if not playing and self._recorder is not None:
            self._finish_recording(time.monotonic())
        self.playing_changed.emit(playing)

    def send_mix(self, track_id: int) -> None:
        """Send a track's volume and pan now (the mixer moved while the song sounds); the next
        play sends them anyway with the song's other controllers."""
        from studio.midi.sequence import CONTROL, playback_channels
        from studio.music.mix_and_meter import PAN, VOLUME, track_pan, track_volume

        doc = self.document
        if doc is None or not self.is_playing or not self._follow_document:
            return
        track = next((t for t in doc.song.tracks if t.id == track_id), None)
        if track is None:
            return
        channel = playback_channels(doc.song)[track_id]
        for number, value in ((VOLUME, track_volume(track)), (PAN, track_pan(track))):
            self.player.send_now((CONTROL | channel, number, value))

    def _document_changed(self) -> None:
        if self.is_playing and self._follow_document:
            self._reload.start()

    def _reload_document(self) -> None:
        doc = self.document
        if self.is_playing and self._follow_document and doc is not None:
            self.player.load(doc.song, doc.audible_track_ids())

    def _flags_changed(self) -> None:
        if self._follow_document and self.document is not None:
            self.player.set_audible(self.document.audible_track_ids())

    def _song_replaced(self) -> None:
        if self._recorder is not None:  # the take belongs to the old song: keep it there
            self._finish_recording(time.monotonic())
        self.player.stop()
        self._follow_document = True
        self.player.load(self.document.song, self.document.audible_track_ids())
        self.player.seek(0)

    # ---- sound ----------------------------------------------------------------------------------
    def _sound_on(self) -> None:
        """Make sure the built-in synth is heard when it is the output."""
        out = self.player.output
        if not isinstance(out, SoundFontSynth):
            return
        if self.audio is None or self.audio.synth is not out:
            if self.audio is not None:
                self.audio.stop()
            self.audio = SynthAudioOutput(out, self)
            self.audio.failed.connect(self.message.emit)
        self.audio.start()

    def _output_changed(self, name: str) -> None:
        out = self.player.output
        if isinstance(out, SoundFontSynth) and (self.is_playing or self._recorder is not None):
            self._sound_on()
        elif self.audio is not None and not isinstance(out, SoundFontSynth):
            self.audio.stop()
        if isinstance(out, NullOutput) and self.is_playing:
            self.message.emit("No output: playback is silent.")

    def shutdown(self) -> None:
        """Stop (keeping a recording), panic, close ports and the audio device. Idempotent."""
        if self._closed:
            return
        self.stop()
        self._closed = True
        self.routing.close()
        if self.audio is not None:
            self.audio.stop()
