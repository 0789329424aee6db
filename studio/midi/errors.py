"""The one exception type a bad MIDI file raises, and its writing counterpart."""

from __future__ import annotations

from pathlib import Path


class MidiReadError(Exception):
    """A MIDI file that cannot be read; names the file and the reason."""

    def __init__(self, path: str | Path | None, reason: str) -> None:
        self.path = str(path) if path is not None else None
        self.reason = reason
        where = f"{self.path}: " if self.path else ""
        super().__init__(f"{where}{reason}")


class MidiWriteError(Exception):
    """A song that cannot be written (unwritable path, full disk, out-of-range values)."""

    def __init__(self, path: str | Path | None, reason: str) -> None:
        self.path = str(path) if path is not None else None
        self.reason = reason
        super().__init__(f"{self.path}: {reason}" if self.path else reason)
