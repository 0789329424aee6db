"""Sound for the built-in synth: a Qt Multimedia `QAudioSink` that pulls audio from the synth.

`SynthAudioOutput.start()` opens the default audio device in pull mode: the sink reads from
`SynthSource`, a QIODevice whose `readData` renders exactly the frames asked for, so latency is
the sink's buffer (about 50 ms). Where there is no audio device, or it fails (the sound server
stops, the device is unplugged), `failed(text)` says so once and playback goes on silently.
"""

from __future__ import annotations

from PySide6.QtCore import QIODevice, QObject, QTimer, Signal
from PySide6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices

try:  # Qt >= 6.7 names the enums QtAudio; QAudio is the old, now separate, namespace
    from PySide6.QtMultimedia import QtAudio as QAudio
except ImportError:  # pragma: no cover (older Qt)
    from PySide6.QtMultimedia import QAudio

from studio.midi.synth import SoundFontSynth

BUFFER_SECONDS = 0.05
STALL_CHECKS = 8  # 2 s without the device reading (checked every 250 ms)
IDLE_STOP_MS = 30000  # keep the device open this long after the last sound (tails, next audition)


class SynthSource(QIODevice):
    """An endless read-only stream of the synth's output."""

    def __init__(self, synth: SoundFontSynth, int16: bool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.synth = synth
        self.int16 = int16
        self.frame_bytes = 4 if int16 else 8
        self.frames_rendered = 0

    def readData(self, maxlen: int) -> bytes:  # noqa: N802 (Qt name)
        frames = min(maxlen // self.frame_bytes, self.synth.sample_rate)  # at most 1 s a call
        if frames <= 0:
            return b""
        self.frames_rendered += frames
        return self.synth.render_bytes(frames, self.int16)

    def writeData(self, data: bytes) -> int:  # noqa: N802
        return -1

    def bytesAvailable(self) -> int:  # noqa: N802
        return self.synth.sample_rate * self.frame_bytes + super().bytesAvailable()

    def isSequential(self) -> bool:  # noqa: N802
        return True


class SynthAudioOutput(QObject):
    """Plays the synth on the default audio output; `failed(text)` when it cannot."""

    failed = Signal(str)
    running_changed = Signal(bool)

    def __init__(self, synth: SoundFontSynth, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.synth = synth
        self.sink: QAudioSink | None = None
        self.source: SynthSource | None = None
        self.error = ""
        self.device_name = ""
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(IDLE_STOP_MS)
        self._idle.timeout.connect(self.stop)
        self._watch = QTimer(self)  # QAudioSink's stateChanged carries an enum PySide can't pass
        self._watch.setInterval(250)
        self._watch.timeout.connect(self._check_state)
        self._last_frames = 0
        self._stalled_checks = 0

    @property
    def running(self) -> bool:
        return self.sink is not None

    def start(self) -> bool:
        """Open the device (if not open) and keep it open; False with `error` when it can't."""
        self._idle.stop()
        if self.sink is not None:
            return True
        device = QMediaDevices.defaultAudioOutput()
        if device.isNull():
            return self._fail("No audio output device was found, so the built-in synth is "
                              "silent. Choose a MIDI port in Preferences > MIDI & Audio.")
        fmt = QAudioFormat()
        fmt.setSampleRate(self.synth.sample_rate)
        fmt.setChannelCount(2)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Float)
        int16 = not device.isFormatSupported(fmt)
        if int16:
            fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
            if not device.isFormatSupported(fmt):
                return self._fail(f"The audio device {device.description()!r} cannot play "
                                  f"{self.synth.sample_rate} Hz stereo.")
        sink = QAudioSink(device, fmt, self)
        source = SynthSource(self.synth, int16, self)
        sink.setBufferSize(int(self.synth.sample_rate * BUFFER_SECONDS) * source.frame_bytes)
        source.open(QIODevice.OpenModeFlag.ReadOnly)
        sink.start(source)
        if sink.error() not in (QAudio.Error.NoError, QAudio.Error.UnderrunError):
            sink.deleteLater()
            source.close()
            return self._fail(f"The audio device {device.description()!r} failed to start "
                              f"({_error_text(sink.error())}).")
        self.sink, self.source = sink, source
        self.device_name = device.description()
        self.error = ""
        self._last_frames = self._stalled_checks = 0
        self._watch.start()
        self.running_changed.emit(True)
        return True

    def stop_when_idle(self) -> None:
        """Close the device after a few quiet seconds (notes may still be ringing)."""
        if self.sink is not None:
            self._idle.start()

    def stop(self) -> None:
        self._idle.stop()
        self._watch.stop()
        sink, source = self.sink, self.source
        self.sink = self.source = None
        if sink is not None:
            sink.stop()
            sink.deleteLater()
            self.running_changed.emit(False)
        if source is not None:
            source.close()

    def _check_state(self) -> None:
        sink, source = self.sink, self.source
        if sink is None or source is None:
            return
        # Qt reports nothing when the sound server dies under a running sink: it just stops
        # pulling. Once audio has flowed, that many checks in a row without a read is a failure.
        flowing = source.frames_rendered > 4 * sink.bufferSize() // source.frame_bytes
        if flowing and source.frames_rendered == self._last_frames:
            self._stalled_checks += 1
        else:
            self._stalled_checks = 0
        self._last_frames = source.frames_rendered
        if self._stalled_checks >= STALL_CHECKS:
            name = self.device_name
            self.stop()
            self._fail(f"The audio device {name!r} stopped responding; the built-in synth is "
                       "silent until it is back.")
            return
        err = sink.error()
        if sink.state() == QAudio.State.StoppedState and err not in (QAudio.Error.NoError,
                                                              QAudio.Error.UnderrunError):
            name = self.device_name
            self.stop()
            self._fail(f"The audio device {name!r} stopped working ({_error_text(err)}); "
                       "the built-in synth is silent until it is back.")

    def _fail(self, text: str) -> bool:
        self.error = text
        self.failed.emit(text)
        return False


def _error_text(error: QAudio.Error) -> str:
    return {QAudio.Error.OpenError: "it could not be opened",
            QAudio.Error.IOError: "an input/output error",
            QAudio.Error.FatalError: "a fatal error"}.get(error, str(error))
