"""Where the player's MIDI messages go: the `MidiOutput` interface and the outputs that need no
hardware.

An output takes channel messages as `(status, data1, data2)` tuples. `panic()` sends sustain-off,
all-sound-off and all-notes-off on every channel. Outputs must be safe to call from the player's
timing thread and must not raise for a device that went away: they mark themselves `failed` and
drop messages (the player then switches to its fallback). Implementations: `NullOutput` here,
`PortOutput` (an rtmidi port, `studio.midi.ports`) and `SoundFontSynth` (`studio.midi.synth`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from studio.midi.sequence import panic_messages

Message = tuple[int, int, int]


class OutputError(Exception):
    """A MIDI output could not be opened or stopped working."""

    user_facing = True


class MidiOutput:
    """Base class: subclasses implement `_send`; `send` guards it and counts what was sent."""

    name = "output"

    def __init__(self) -> None:
        self.failed: str | None = None  # why the output stopped working
        self.closed = False
        self.sent_count = 0
        self.panic_count = 0  # panics that were sent (not dropped)
        self._send_lock = threading.Lock()

    def send(self, message: Message) -> bool:
        """Send one message; False (and nothing sent) once the output has failed."""
        if self.failed is not None or self.closed:
            return False
        try:
            with self._send_lock:
                self._send(message)
        except Exception as e:  # a device error must not reach the timing thread
            self.failed = f"{self.name}: {e}"
            return False
        self.sent_count += 1
        return True

    def send_many(self, messages: Iterable[Message]) -> bool:
        ok = True
        for m in messages:
            ok = self.send(m) and ok
        return ok

    def panic(self) -> None:
        """All notes and sounds off on every channel (sustain released first)."""
        if self.send_many(panic_messages()):
            self.panic_count += 1

    def close(self) -> None:
        """Release the device; sending afterwards does nothing."""
        self.closed = True

    def _send(self, message: Message) -> None:
        raise NotImplementedError


class NullOutput(MidiOutput):
    """Sends nothing: used while no output is chosen or available (the transport still runs)."""

    name = "no output"

    def _send(self, message: Message) -> None:
        pass
