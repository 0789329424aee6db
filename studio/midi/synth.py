"""The built-in synth: General MIDI sound from a SoundFont through TinySoundFont.

`SoundFontSynth` is a `MidiOutput`: the player (or MIDI thru, or an audition) sends it channel
messages, and an audio device pulls stereo float32 frames with `render(frames)`. Both sides may run
on different threads; a lock keeps them apart. The default SoundFont is TimGM6mb.sf2, the small GM
bank that ships inside pretty_midi's wheel, so a fresh install makes sound without any setup.

tinysoundfont is installed with `pip install --no-deps` (its PyAudio dependency is only for its own
player, which Studio does not use). When it is missing, `SynthError` says so.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from studio.midi.outputs import Message, MidiOutput, OutputError
from studio.midi.sequence import CONTROL, DRUM_CHANNEL, NOTE_OFF, NOTE_ON, PITCH_BEND, PROGRAM

SAMPLE_RATE = 44100
DEFAULT_GAIN_DB = -6.0  # headroom: a full piano texture peaks near 0.8


class SynthError(OutputError):
    """The built-in synth cannot start (no tinysoundfont, no or bad SoundFont)."""


def default_soundfont() -> Path:
    """TimGM6mb.sf2 from the pretty_midi package."""
    try:
        import pretty_midi
    except ImportError:
        raise SynthError("pretty_midi is not installed, so the default SoundFont is missing") from None
    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.exists():
        raise SynthError(f"the default SoundFont is missing ({path})")
    return path


class SoundFontSynth(MidiOutput):
    """A GM synth on a SoundFont; `send` MIDI in, `render(frames)` audio out."""

    name = "Built-in synth"

    def __init__(self, soundfont: str | Path | None = None, sample_rate: int = SAMPLE_RATE,
                 gain_db: float = DEFAULT_GAIN_DB, max_voices: int = 256) -> None:
        super().__init__()
        try:
            import tinysoundfont
        except ImportError:
            raise SynthError("the built-in synth needs the tinysoundfont package "
                             "(pip install --no-deps tinysoundfont)") from None
        path = Path(soundfont) if soundfont else default_soundfont()
        if not path.is_file():
            raise SynthError(f"SoundFont not found: {path}")
        self.soundfont_path = path
        self.sample_rate = int(sample_rate)
        self._lock = threading.Lock()
        self._synth = tinysoundfont.Synth(gain=gain_db, samplerate=self.sample_rate)
        try:
            self._sfid = self._synth.sfload(str(path), max_voices=max_voices)
        except Exception as e:
            raise SynthError(f"cannot load the SoundFont {path.name}: {e}") from None
        self.reset()

    def reset(self) -> None:
        """Every channel to piano (drums on channel 10), controllers and sounds off."""
        with self._lock:
            for ch in range(16):
                self._program(ch, 0)
                self._synth.control_change(ch, 121, 0)
                self._synth.control_change(ch, 120, 0)

    def _program(self, ch: int, program: int) -> None:
        drums = ch == DRUM_CHANNEL
        try:
            self._synth.program_select(ch, self._sfid, 128 if drums else 0, program, is_drums=drums)
        except Exception:  # a program the SoundFont lacks: fall back to its first preset
            try:
                self._synth.program_select(ch, self._sfid, 128 if drums else 0, 0, is_drums=drums)
            except Exception:
                self._synth.program_select(ch, self._sfid, 0, 0)

    def _send(self, message: Message) -> None:
        status, d1, d2 = message
        kind, ch = status & 0xF0, status & 0x0F
        with self._lock:
            if kind == NOTE_ON and d2 > 0:
                self._synth.noteon(ch, d1 & 0x7F, d2 & 0x7F)
            elif kind == NOTE_OFF or kind == NOTE_ON:
                self._synth.noteoff(ch, d1 & 0x7F)
            elif kind == CONTROL:
                self._synth.control_change(ch, d1 & 0x7F, d2 & 0x7F)
            elif kind == PROGRAM:
                self._program(ch, d1 & 0x7F)
            elif kind == PITCH_BEND:
                self._synth.pitchbend(ch, ((d2 & 0x7F) << 7) | (d1 & 0x7F))

    def render(self, frames: int) -> np.ndarray:
        """The next `frames` stereo frames as float32, shape (frames, 2)."""
        if frames <= 0:
            return np.zeros((0, 2), np.float32)
        with self._lock:
            buf = self._synth.generate(int(frames))
        return np.frombuffer(buf, dtype=np.float32).reshape(-1, 2)

    def render_bytes(self, frames: int, int16: bool = False) -> bytes:
        """`render` as bytes for an audio device: float32 or signed 16-bit, interleaved."""
        audio = self.render(frames)
        if int16:
            return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        return audio.astype("<f4").tobytes()
