"""MIDI ports through python-rtmidi: the platform's MIDI system, listing, opening by name, the
virtual port "Studio", MIDI input, and a polling watcher for hot-plug.

`MidiSystem.open()` picks the first rtmidi API that works here: ALSA (Linux), CoreMIDI (macOS),
Windows MM, then JACK when a JACK server runs. Where none works it raises `PortError` with the
reason, and the app uses the built-in synth. Ports are remembered by name; `match_port` finds a
remembered name again even when ALSA renumbers the client (`"Synth:Port 128:0"`).

Our own ports (clients named "Studio" or "Studio-...") never appear in the lists, so Studio cannot
be asked to play into itself.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from studio.midi.outputs import Message, MidiOutput, OutputError
from studio.midi.sequence import message_bytes

# libjack must never launch a server behind the user's back (it would grab the sound card).
os.environ.setdefault("JACK_NO_START_SERVER", "1")

import rtmidi  # noqa: E402  (after the environment above)

CLIENT_NAME = "Studio"
VIRTUAL_PORT_NAME = "Studio"
_OWN_CLIENT = re.compile(r"^Studio(-[\w ]*)?:")
_ALSA_NUMBERS = re.compile(r"\s+\d+:\d+$")
CONNECT_SETTLE_SECONDS = 0.1


class PortError(OutputError):
    """A MIDI system or port that cannot be used; the message says why, for the status bar."""


def _jack_server_running() -> bool:
    """Cheap check (no libjack noise on stderr) for a JACK server's socket on Linux."""
    if not sys.platform.startswith("linux"):
        return True  # let libjack decide
    server = os.environ.get("JACK_DEFAULT_SERVER", "default")
    base = Path(os.environ.get("JACK_SOCKET_DIR", "/dev/shm"))
    return any(base.glob(f"jack_{server}_*_0"))


def _candidate_apis() -> list[int]:
    compiled = rtmidi.get_compiled_api()
    order = [rtmidi.API_LINUX_ALSA, rtmidi.API_MACOSX_CORE, rtmidi.API_WINDOWS_MM,
             rtmidi.API_UNIX_JACK]
    out = [a for a in order if a in compiled]
    if rtmidi.API_LINUX_ALSA in out and not Path("/dev/snd/seq").exists():
        out.remove(rtmidi.API_LINUX_ALSA)  # no sequencer device: ALSA would only print errors
    if rtmidi.API_UNIX_JACK in out and not _jack_server_running():
        out.remove(rtmidi.API_UNIX_JACK)
    return out


def match_port(name: str, available: list[str]) -> str | None:
    """The port in `available` that is `name`: exactly, or equal but for ALSA's numbers."""
    if name in available:
        return name
    bare = _ALSA_NUMBERS.sub("", name)
    for candidate in available:
        if _ALSA_NUMBERS.sub("", candidate) == bare:
            return candidate
    return None


class PortOutput(MidiOutput):
    """An open rtmidi output port (to another program or device, or our virtual port)."""

    def __init__(self, midiout: rtmidi.MidiOut, name: str, virtual: bool = False) -> None:
        super().__init__()
        self._out = midiout
        self.name = name
        self.virtual = virtual

    def _send(self, message: Message) -> None:
        self._out.send_message(message_bytes(message))

    def mark_vanished(self) -> None:
        """The port went away: send nothing more to it."""
        if self.failed is None:
            self.failed = f"the MIDI port {self.name!r} disappeared"

    def close(self) -> None:
        super().close()
        with self._send_lock:
            try:
                self._out.close_port()
            except Exception:  # the server may be gone already
                pass
            self._out.delete()


class PortInput:
    """An open rtmidi input port; calls `callback(bytes, monotonic_time)` on rtmidi's thread."""

    def __init__(self, midiin: rtmidi.MidiIn, name: str,
                 callback: Callable[[list[int], float], None]) -> None:
        self.name = name
        self._in = midiin
        self._callback = callback
        midiin.ignore_types(sysex=True, timing=True, active_sense=True)
        midiin.set_callback(self._on_message)

    def _on_message(self, event, _data=None) -> None:
        now = time.monotonic()
        try:
            self._callback(list(event[0]), now)
        except Exception:  # never let an error escape into rtmidi's thread
            pass

    def close(self) -> None:
        try:
            self._in.cancel_callback()
            self._in.close_port()
        except Exception:
            pass
        self._in.delete()


class MidiSystem:
    """The working rtmidi API and a probe client that lists ports."""

    def __init__(self, api: int) -> None:
        self.api = api
        self._lock = threading.Lock()
        self._probe_out = rtmidi.MidiOut(api, f"{CLIENT_NAME}-probe")
        self._probe_in = rtmidi.MidiIn(api, f"{CLIENT_NAME}-probe")

    @classmethod
    def open(cls) -> MidiSystem:
        """The first MIDI system that works here; `PortError` saying why when none does."""
        errors = []
        for api in _candidate_apis():
            try:
                return cls(api)
            except Exception as e:
                errors.append(f"{rtmidi.get_api_display_name(api)}: {e}")
        why = "; ".join(errors) if errors else "no ALSA sequencer, CoreMIDI, Windows MIDI or " \
                                               "running JACK server"
        raise PortError(f"No MIDI system ({why})")

    @property
    def name(self) -> str:
        names = {rtmidi.API_LINUX_ALSA: "ALSA", rtmidi.API_UNIX_JACK: "JACK",
                 rtmidi.API_MACOSX_CORE: "CoreMIDI", rtmidi.API_WINDOWS_MM: "Windows MIDI"}
        return names.get(self.api, rtmidi.get_api_display_name(self.api))

    def alive(self) -> bool:
        """False once a JACK server we were connected to has gone."""
        return self.api != rtmidi.API_UNIX_JACK or _jack_server_running()

    @property
    def supports_virtual_ports(self) -> bool:
        return self.api != rtmidi.API_WINDOWS_MM

    def output_names(self) -> list[str]:
        """Ports we can play into (synths, other programs), our own excluded."""
        with self._lock:
            return [p for p in self._probe_out.get_ports() if not _OWN_CLIENT.match(p)
                    and p != VIRTUAL_PORT_NAME]

    def input_names(self) -> list[str]:
        """Ports we can record from (keyboards, other programs), our own excluded."""
        with self._lock:
            return [p for p in self._probe_in.get_ports() if not _OWN_CLIENT.match(p)
                    and p != VIRTUAL_PORT_NAME]

    def open_output(self, name: str) -> PortOutput:
        """Open the output port called `name` (see `match_port`); `PortError` when it can't."""
        with self._lock:
            ports = self._probe_out.get_ports()
        found = match_port(name, ports)
        if found is None:
            raise PortError(f"The MIDI output {name!r} is not connected.")
        try:
            out = rtmidi.MidiOut(self.api, f"{CLIENT_NAME}-out")
            out.open_port(ports.index(found), "out")
        except Exception as e:
            raise PortError(f"Cannot open the MIDI output {name!r}: {e}") from None
        if self.api == rtmidi.API_UNIX_JACK:
            # JACK reorders its graph over the next cycles; messages sent meanwhile can be lost.
            time.sleep(CONNECT_SETTLE_SECONDS)
        return PortOutput(out, found)

    def open_virtual_output(self, name: str = VIRTUAL_PORT_NAME) -> PortOutput:
        """A port other programs can connect to, named "Studio"."""
        if not self.supports_virtual_ports:
            raise PortError("This system has no virtual MIDI ports; choose a port instead.")
        try:
            out = rtmidi.MidiOut(self.api, CLIENT_NAME)
            out.open_virtual_port(name)
        except Exception as e:
            raise PortError(f"Cannot open the virtual MIDI port {name!r}: {e}") from None
        return PortOutput(out, f"{CLIENT_NAME}:{name}", virtual=True)

    def open_input(self, name: str, callback: Callable[[list[int], float], None]) -> PortInput:
        """Open the input port `name`; `callback(message, monotonic_time)` gets what it sends."""
        with self._lock:
            ports = self._probe_in.get_ports()
        found = match_port(name, ports)
        if found is None:
            raise PortError(f"The MIDI input {name!r} is not connected.")
        try:
            midiin = rtmidi.MidiIn(self.api, f"{CLIENT_NAME}-in", queue_size_limit=4096)
            midiin.open_port(ports.index(found), "in")
        except Exception as e:
            raise PortError(f"Cannot open the MIDI input {name!r}: {e}") from None
        return PortInput(midiin, found, callback)

    def close(self) -> None:
        with self._lock:
            for p in (self._probe_out, self._probe_in):
                try:
                    p.delete()
                except Exception:
                    pass


class PortWatcher:
    """Polls the MIDI system for ports coming and going (hot-plug), on a daemon thread.

    `on_change(outputs, inputs, system_name_or_error)` is called (on the watcher's thread) at the
    first poll and whenever a list changes. Without a MIDI system it retries opening one every
    `retry_interval` seconds (a JACK server started later is found).
    """

    def __init__(self, on_change: Callable[[list[str], list[str], str], None],
                 interval: float = 1.0, retry_interval: float = 5.0) -> None:
        self.on_change = on_change
        self.interval = interval
        self.retry_interval = retry_interval
        self.system: MidiSystem | None = None
        self.error = ""
        self._stop = threading.Event()
        self._poll_now = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: tuple | None = None
        self._poll_lock = threading.RLock()
        self._deliver_lock = threading.Lock()
        self._seq = self._delivered = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="studio-port-watcher", daemon=True)
        self._thread.start()

    def poll_now(self) -> None:
        self._poll_now.set()

    def stop(self) -> None:
        self._stop.set()
        self._poll_now.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=3)
        with self._poll_lock:
            if self.system is not None:
                self.system.close()
                self.system = None

    def poll(self) -> None:
        """One poll (also called by the thread)."""
        with self._poll_lock:
            changed = self._poll()
            seq = self._seq
        if changed is not None:
            with self._deliver_lock:  # never deliver an older state after a newer one
                if seq > self._delivered:
                    self._delivered = seq
                    self.on_change(*changed)

    def _poll(self) -> tuple | None:
        if self.system is None:
            try:
                self.system = MidiSystem.open()
                self.error = ""
            except PortError as e:
                self.error = str(e)
        if self.system is not None and not self.system.alive():
            self.system.close()
            self.system = None
            self.error = "The MIDI system stopped (the JACK server is gone)."
        if self.system is not None:
            try:
                state = (self.system.output_names(), self.system.input_names(), self.system.name)
            except Exception as e:  # the server went away under us
                self.system.close()
                self.system = None
                self.error = f"The MIDI system stopped working ({e})."
                state = ([], [], self.error)
        else:
            state = ([], [], self.error)
        if state != self._last:
            self._last = state
            self._seq += 1
            return state
        return None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # keep watching whatever happens
                pass
            wait = self.interval if self.system is not None else self.retry_interval
            self._poll_now.wait(wait)
            self._poll_now.clear()
