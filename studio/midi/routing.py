"""Where the player's MIDI goes and where recorded MIDI comes from, kept right while ports come
and go.

`Routing` owns the port watcher, the open output port (or the virtual port "Studio"), the built-in
synth and the open input port. The user's choice (`preferred`) is a port name, `BUILTIN` or
`VIRTUAL`. When the chosen port is missing or vanishes, the player is switched to the built-in
synth (with a panic on the change) and `notify(text)` tells the user; when the port comes back,
playback returns to it. Input messages go to every listener (the recorder) and, as MIDI thru, to
the player's output so you hear what you play. Qt-free: the UI wraps the callbacks in signals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from studio.midi.outputs import MidiOutput, NullOutput, OutputError
from studio.midi.player import Player
from studio.midi.ports import PortInput, PortOutput, PortWatcher, match_port

BUILTIN = ""
VIRTUAL = "<virtual Studio port>"


class Routing:
    """Chooses the player's output and the input port; see the module doc."""

    def __init__(self, player: Player, synth_factory: Callable[[], MidiOutput],
                 notify: Callable[[str], None] = lambda text: None,
                 on_ports: Callable[[list[str], list[str], str], None] | None = None,
                 on_output: Callable[[MidiOutput], None] | None = None,
                 interval: float = 1.0) -> None:
        self.player = player
        self.synth_factory = synth_factory
        self.notify = notify
        self.on_ports = on_ports
        self.on_output = on_output
        self.preferred = BUILTIN
        self.synth_enabled = True
        self.preferred_input = ""
        self.outputs: list[str] = []
        self.inputs: list[str] = []
        self.status = "looking for MIDI ports"
        self.thru = True
        self.thru_channel: int | None = None  # play what comes in on this channel (the track's)
        self._lock = threading.RLock()
        self._port: PortOutput | None = None
        self._synth: MidiOutput | None = None
        self._synth_error = ""
        self._input: PortInput | None = None
        self._listeners: list[Callable[[list[int], float], None]] = []
        self.watcher = PortWatcher(self._ports_changed, interval=interval)

    # ---- life -----------------------------------------------------------------------------------
    def start(self, poll_first: bool = True) -> None:
        """Find the MIDI system (once, here) and start watching for ports."""
        if poll_first:
            self.watcher.poll()
        self.watcher.start()

    def close(self) -> None:
        self.watcher.stop()
        with self._lock:
            self.player.set_output(NullOutput())
            for dev in (self._port, self._input, self._synth):
                if dev is not None:
                    dev.close()
            self._port = self._input = self._synth = None

    @property
    def system_name(self) -> str | None:
        system = self.watcher.system
        return system.name if system is not None else None

    @property
    def current_output_name(self) -> str:
        return self.player.output.name

    # ---- outputs --------------------------------------------------------------------------------
    def synth(self) -> MidiOutput | None:
        """The built-in synth, created on first use (None with `synth_error` when it can't)."""
        with self._lock:
            if self._synth is None and not self._synth_error:
                try:
                    self._synth = self.synth_factory()
                except OutputError as e:
                    self._synth_error = str(e)
            return self._synth

    @property
    def synth_error(self) -> str:
        return self._synth_error

    def set_preferred(self, name: str, synth_enabled: bool | None = None) -> None:
        """Play through `name` (a port, `BUILTIN` or `VIRTUAL`) from now on."""
        with self._lock:
            self.preferred = name
            if synth_enabled is not None:
                self.synth_enabled = synth_enabled
            self._apply()

    def _fallback_output(self) -> MidiOutput:
        if self.synth_enabled:
            synth = self.synth()
            if synth is not None:
                return synth
        return NullOutput()

    def _use(self, output: MidiOutput) -> None:
        if output is self.player.output:
            return
        self.player.set_output(output)
        if self._port is not None and output is not self._port:
            self._port.close()
            self._port = None
        if self.on_output is not None:
            self.on_output(output)

    def _apply(self) -> None:
        """Open what `preferred` names, or fall back, and tell the user when falling back."""
        system = self.watcher.system
        want = self.preferred
        if want == BUILTIN:
            out = self._fallback_output()
            if isinstance(out, NullOutput):
                self.notify(self._silent_reason())
            self._use(out)
            return
        port = self._port
        if port is not None and port.failed is None and (
                (want == VIRTUAL and port.virtual) or (want != VIRTUAL and port.name == want)):
            self._use(port)
            return
        if system is None:
            self._fall_back(f"Cannot play through {want!r}: {self.status}")
            return
        try:
            opened = system.open_virtual_output() if want == VIRTUAL else system.open_output(want)
        except OutputError as e:
            self._fall_back(str(e))
            return
        previous = self._port
        self._port = opened
        self._use(opened)
        if previous is not None and previous is not opened:
            previous.close()

    def _silent_reason(self) -> str:
        if not self.synth_enabled:
            return "The built-in synth is off and no MIDI port is chosen: playback is silent."
        return f"The built-in synth cannot play ({self._synth_error}): playback is silent."

    def _fall_back(self, reason: str) -> None:
        out = self._fallback_output()
        self._use(out)
        where = ("playing through the built-in synth" if not isinstance(out, NullOutput)
                 else "playback is silent")
        self.notify(f"{reason.rstrip('.')}: {where}.")

    def _ports_changed(self, outputs: list[str], inputs: list[str], status: str) -> None:
        """From the watcher: a port vanished (fall back) or the chosen one came back."""
        with self._lock:
            self.outputs, self.inputs, self.status = outputs, inputs, status
            port = self._port
            if port is not None and not port.virtual and match_port(port.name, outputs) is None:
                port.mark_vanished()  # send nothing more to it
                self._fall_back(f"The MIDI port {port.name!r} disappeared")
            elif (port is None or port.failed) and self.preferred not in (BUILTIN, VIRTUAL) \
                    and match_port(self.preferred, outputs) is not None:
                self._apply()
                if self._port is not None and self._port.failed is None:
                    self.notify(f"The MIDI port {self._port.name!r} is back: playing through it.")
            elif port is None and self.preferred == VIRTUAL and self.watcher.system is not None:
                self._apply()
            if self._input is not None and match_port(self._input.name, inputs) is None:
                name = self._input.name
                self._input.close()
                self._input = None
                self.notify(f"The MIDI input {name!r} disappeared.")
            elif self._input is None and self.preferred_input and \
                    match_port(self.preferred_input, inputs) is not None:
                self._open_input()
        if self.on_ports is not None:
            self.on_ports(outputs, inputs, status)

    def output_failed(self, reason: str) -> None:
        """The player dropped a failing output (a send raised): fall back, unless the watcher
        has done so already."""
        with self._lock:
            if isinstance(self.player.output, NullOutput):
                self._fall_back(reason)

    # ---- input ----------------------------------------------------------------------------------
    def set_input(self, name: str) -> bool:
        """Listen to the input port `name` ("" for none). False (and a message) when it can't."""
        with self._lock:
            self.preferred_input = name
            if self._input is not None:
                self._input.close()
                self._input = None
            if not name:
                return True
            return self._open_input()

    def _open_input(self) -> bool:
        system = self.watcher.system
        if system is None:
            self.notify(f"Cannot open the MIDI input: {self.status}")
            return False
        try:
            self._input = system.open_input(self.preferred_input, self._incoming)
        except OutputError as e:
            self.notify(str(e))
            return False
        return True

    @property
    def input_name(self) -> str | None:
        return self._input.name if self._input is not None else None

    def add_listener(self, listener: Callable[[list[int], float], None]) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[list[int], float], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _incoming(self, message: list[int], t: float) -> None:
        if self.thru and len(message) == 3 and 0x80 <= message[0] < 0xF0:
            status = message[0]
            if self.thru_channel is not None:
                status = (status & 0xF0) | self.thru_channel
            self.player.send_now((status, message[1], message[2]))
        for listener in list(self._listeners):
            listener(message, t)
