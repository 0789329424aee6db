"""The Qt face of the player: `studio.midi.player.Player` whose timing hooks emit signals.

Frescobaldi's split (`qmidi/player.py`): all timing stays in the Qt-free player and its thread;
this subclass only turns hooks into signals. They are emitted on the timing thread and reach
slots in the GUI thread through queued connections, so a slow repaint never delays a note.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from studio.midi.player import Player


class QtPlayer(QObject, Player):
    position_changed = Signal(int)  # tick, about 30 times a second while playing
    playing_changed = Signal(bool)
    song_finished = Signal()
    output_failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        QObject.__init__(self, parent)
        Player.__init__(self)

    def on_position(self, tick: int) -> None:
        self._emit("position_changed", tick)

    def on_playing_changed(self, playing: bool) -> None:
        self._emit("playing_changed", playing)

    def on_finished(self) -> None:
        self._emit("song_finished")

    def on_output_failed(self, reason: str) -> None:
        self._emit("output_failed", reason)

    def _emit(self, name: str, *args) -> None:
        try:
            getattr(self, name).emit(*args)
        except RuntimeError:  # the window (and this object) is being destroyed
            pass
