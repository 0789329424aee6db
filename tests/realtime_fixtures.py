"""Real MIDI and audio servers for the playback tests: a JACK server (dummy driver) and a
PulseAudio server with a null sink, each started once per test session and stopped at its end.

Both run under private names so they never touch a server the user (or another test run) has:
JACK as server `studiotest<pid>` (clients in this process find it through JACK_DEFAULT_SERVER),
PulseAudio on its own socket in a temporary folder (clients find it through PULSE_SERVER).
Import the fixtures into a test module: `from tests.realtime_fixtures import jack_server`.

Where jackd or pulseaudio is not installed (a fresh desktop), the tests that need them are skipped
with one line saying what to install; `.ci/run` sets STUDIO_REQUIRE_ALL_TESTS=1, which turns that
skip into a failure, so CI always runs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

JACK_SAMPLE_RATE = 48000
JACK_PERIOD = 64  # 1.3 ms cycles: MIDI leaves at the next cycle


@dataclass
class JackServer:
    name: str
    process: subprocess.Popen
    log: Path


@dataclass
class PulseServer:
    server: str  # the PULSE_SERVER value
    sink: str
    monitor: str
    process: subprocess.Popen
    log: Path


MISSING_SERVERS = ("real MIDI ports and audio: install jackd2 and pulseaudio to run these tests "
                   "(Debian/Ubuntu: apt-get install jackd2 pulseaudio)")


def require_program(program: str) -> str:
    """The path of `program` (jackd, pulseaudio); skips the test, or fails it under
    STUDIO_REQUIRE_ALL_TESTS, when it is not installed."""
    exe = shutil.which(program)
    if exe is None:
        if os.environ.get("STUDIO_REQUIRE_ALL_TESTS"):
            pytest.fail(f"{program} is missing: {MISSING_SERVERS}", pytrace=False)
        pytest.skip(MISSING_SERVERS)
    return exe


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the test process dies (even if killed), so no
    server outlives a test run."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _wait_for(check, timeout: float, what: str, log: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if check():
            return
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError(f"{what} did not start; its log says:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_jack(name: str, period: int = JACK_PERIOD, realtime: bool = True) -> JackServer:
    """Start `jackd -d dummy` as server `name`; returns when clients can connect."""
    exe = shutil.which("jackd")
    if exe is None:
        raise RuntimeError("jackd is not installed (apt-get install jackd2)")
    log = Path(tempfile.mkstemp(prefix="jackd-", suffix=".log")[1])
    # Real-time scheduling where the system allows it (root, or rtprio limits): without it a busy
    # machine can delay JACK's threads past a cycle and MIDI events are dropped. Where it is not
    # allowed jackd says so in its log and runs without (tests may then see drops under load).
    mode = ["-R", "-P", "50"] if realtime else ["--no-realtime"]
    proc = subprocess.Popen([exe, "-n", name, *mode, "-d", "dummy",
                             "-r", str(JACK_SAMPLE_RATE), "-p", str(period)],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            env=dict(os.environ, JACK_NO_START_SERVER="1"),
                            preexec_fn=_die_with_parent)
    sockets = Path("/dev/shm")
    try:
        _wait_for(lambda: any(sockets.glob(f"jack_{name}_*_0")), 10, "jackd", log, proc)
    except RuntimeError:
        if not realtime:
            raise
        return start_jack(name, period, realtime=False)  # real-time refused outright
    time.sleep(0.2)  # the socket appears just before the server accepts clients
    return JackServer(name, proc, log)


@pytest.fixture(scope="session")
def jack_server():
    """A JACK server for the session; this process's rtmidi JACK clients connect to it."""
    require_program("jackd")
    name = f"studiotest{os.getpid()}"
    server = start_jack(name)
    old = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = name
    os.environ["JACK_NO_START_SERVER"] = "1"
    try:
        yield server
    finally:
        if old is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = old
        _stop(server.process)


def start_pulse(folder: Path) -> PulseServer:
    """Start a private PulseAudio daemon with one null sink, reachable at a socket in `folder`."""
    exe = shutil.which("pulseaudio")
    if exe is None:
        raise RuntimeError("pulseaudio is not installed (apt-get install pulseaudio)")
    folder.mkdir(parents=True, exist_ok=True)
    socket = folder / "native"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "PULSE_"))}
    env.update(HOME=str(folder), XDG_RUNTIME_DIR=str(folder), XDG_CONFIG_HOME=str(folder / "cfg"),
               PULSE_RUNTIME_PATH=str(folder / "rt"), PULSE_STATE_PATH=str(folder / "state"))
    log = folder / "pulseaudio.log"
    # -n: no default.pa (no hardware probing); anonymous auth: no cookie needed, also as root.
    proc = subprocess.Popen(
        [exe, "--daemonize=no", "-n", "--exit-idle-time=-1", "--disable-shm=yes",
         "--use-pid-file=no", "--log-target=stderr",
         f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}",
         "--load=module-null-sink sink_name=studio_null "
         "sink_properties=device.description=Studio-null-sink"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent)
    server = f"unix:{socket}"

    def ready() -> bool:
        r = subprocess.run(["pactl", "-s", server, "list", "short", "sinks"],
                           capture_output=True, text=True)
        return r.returncode == 0 and "studio_null" in r.stdout

    _wait_for(ready, 15, "pulseaudio", log, proc)
    return PulseServer(server, "studio_null", "studio_null.monitor", proc, log)


@pytest.fixture(scope="session")
def pulse_server():
    """A PulseAudio server with a null sink for the session (PULSE_SERVER points at it)."""
    require_program("pulseaudio")
    folder = Path(tempfile.mkdtemp(prefix="studio-pulse-"))
    server = start_pulse(folder)
    old = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = server.server
    try:
        yield server
    finally:
        if old is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = old
        _stop(server.process)
        shutil.rmtree(folder, ignore_errors=True)


class JackReceiver:
    """Another program's MIDI input on JACK (port "<client>:in") that keeps what arrives, with
    the monotonic time it arrived.

    rtmidi queues messages in C++ with JACK's timestamps (no Python in JACK's process thread, so
    a busy interpreter cannot make it miss a cycle); a thread drains the queue every millisecond.
    Arrival times are JACK's: the offset to the monotonic clock is the smallest observed delay."""

    def __init__(self, client: str = "Receiver") -> None:
        import threading

        import rtmidi

        self._lock = threading.Lock()
        self._raw: list[tuple[list[int], float, float]] = []  # message, jack seconds, observed
        self._jack_seconds = 0.0
        self._in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, client, queue_size_limit=65536)
        self._in.ignore_types(sysex=True, timing=True, active_sense=True)
        self._in.open_virtual_port("in")
        self.port_name = f"{client}:in"
        self.closed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            while True:
                got = self._in.get_message()
                if not got:
                    break
                now = time.monotonic()
                self._jack_seconds += got[1]
                with self._lock:
                    self._raw.append((list(got[0]), self._jack_seconds, now))
            time.sleep(0.001)

    @property
    def received(self) -> list[tuple[list[int], float]]:
        """(message, monotonic arrival time) in arrival order."""
        with self._lock:
            raw = list(self._raw)
        if not raw:
            return []
        offset = min(obs - js for _, js, obs in raw)
        return [(m, offset + js) for m, js, _ in raw]

    def clear(self) -> None:
        with self._lock:
            self._raw.clear()

    def messages(self) -> list[list[int]]:
        with self._lock:
            return [m for m, _, _ in self._raw]

    def notes(self) -> list[tuple[str, int, int, int]]:
        """Note messages as (on|off, channel, pitch, velocity); note-on velocity 0 is an off."""
        out = []
        for m in self.messages():
            kind = m[0] & 0xF0
            if kind == 0x90 and m[2] > 0:
                out.append(("on", m[0] & 0x0F, m[1], m[2]))
            elif kind in (0x80, 0x90):
                out.append(("off", m[0] & 0x0F, m[1], 0))
        return out

    def wait_for(self, predicate, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.01)
        return predicate(self)

    def close(self) -> None:
        """Close the port: for the other side it vanishes."""
        if not self.closed:
            self.closed = True
            self._stop.set()
            self._thread.join()
            self._in.close_port()
            self._in.delete()


class JackKeyboard:
    """Another program's MIDI output on JACK ("<client>:out"): a keyboard the studio records."""

    def __init__(self, client: str = "Keyboard") -> None:
        import rtmidi

        self._out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, client)
        self._out.open_virtual_port("out")
        self.port_name = f"{client}:out"
        self.closed = False

    def send(self, message: list[int]) -> float:
        """Send now; returns the monotonic time it was sent."""
        t = time.monotonic()
        self._out.send_message(message)
        return t

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._out.close_port()
            self._out.delete()
