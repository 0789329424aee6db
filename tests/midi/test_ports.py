"""MIDI ports under a real JACK server: listing, opening by name, the virtual port "Studio", and
the bad cases: no MIDI system, a port that fails to open, a port that vanishes mid-song (no crash,
a panic, the built-in synth takes over, the user is told) and comes back."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import rtmidi

from studio.midi.outputs import NullOutput
from studio.midi.player import Player
from studio.midi.ports import MidiSystem, PortError, PortOutput, PortWatcher, match_port
from studio.midi.routing import BUILTIN, VIRTUAL, Routing
from studio.midi.synth import SoundFontSynth
from studio.music import Note, Song, TempoChange, Track
from tests.realtime_fixtures import JackKeyboard, JackReceiver, jack_server  # noqa: F401

PPQ = 480


class FinishingPlayer(Player):
    def __init__(self) -> None:
        super().__init__()
        self.done = threading.Event()

    def on_finished(self) -> None:
        self.done.set()


def wait_until(predicate, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)
    return predicate()


def song_of(n: int, qpm: float = 480.0) -> Song:
    notes = [Note(60 + i % 12, i * PPQ // 2, PPQ // 2, 100) for i in range(n)]
    return Song([Track("Lead", program=0, notes=notes)], tempos=[TempoChange(0, qpm)])


@pytest.fixture
def routing(jack_server):  # noqa: F811
    messages: list[str] = []
    player = FinishingPlayer()
    r = Routing(player, SoundFontSynth, notify=messages.append, interval=0.05)
    r.messages = messages
    r.start()
    yield r
    r.close()


def test_lists_ports_by_name_and_hides_its_own(jack_server):  # noqa: F811
    synth, keys = JackReceiver("SynthA"), JackKeyboard("Keys")
    system = MidiSystem.open()
    virtual = system.open_virtual_output()
    try:
        assert system.name == "JACK" and system.supports_virtual_ports
        assert "SynthA:in" in system.output_names()
        assert "Keys:out" in system.input_names()
        assert not any(p.startswith("Studio") for p in system.output_names() + system.input_names())
        # Other programs do see the virtual port "Studio".
        other = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "Other")
        assert "Studio:Studio" in other.get_ports()
        other.delete()
    finally:
        virtual.close()
        system.close()
        synth.close()
        keys.close()


def test_match_port_finds_renumbered_alsa_ports():
    ports = ["Midi Through:Midi Through Port-0 14:0", "FLUID Synth (1234):Synth input port 130:0"]
    assert match_port("FLUID Synth (1234):Synth input port 128:0", ports) == ports[1]
    assert match_port("Midi Through:Midi Through Port-0 14:0", ports) == ports[0]
    assert match_port("Nothing", ports) is None


def test_virtual_port_studio_reaches_another_program(routing):
    routing.set_preferred(VIRTUAL)
    assert isinstance(routing.player.output, PortOutput) and routing.player.output.virtual
    listener = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "Listener", queue_size_limit=4096)
    listener.open_port(listener.get_ports().index("Studio:Studio"))
    time.sleep(0.05)
    song = song_of(6)
    routing.player.load(song)
    routing.player.play(0)
    assert routing.player.done.wait(5)
    time.sleep(0.05)
    got = []
    while (m := listener.get_message()) is not None:
        got.append(m[0])
    listener.delete()
    assert [m[1] for m in got if m[0] == 0x90] == [n.pitch for n in song.tracks[0].notes]


def test_port_that_fails_to_open_falls_back_to_the_synth(routing):
    routing.set_preferred("Nowhere:in")
    assert isinstance(routing.player.output, SoundFontSynth)
    assert "not connected" in routing.messages[-1] and "built-in synth" in routing.messages[-1]
    # A port that was listed but is gone by the time it is opened.
    ghost = JackReceiver("Ghost")
    system = routing.watcher.system
    assert "Ghost:in" in system.output_names()
    ghost.close()
    with pytest.raises(PortError, match="Ghost:in"):
        system.open_output("Ghost:in")


def test_no_midi_system_at_all(monkeypatch):
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "no-such-server")
    with pytest.raises(PortError, match="No MIDI system"):
        MidiSystem.open()
    changes = []
    watcher = PortWatcher(lambda *a: changes.append(a))
    watcher.poll()
    assert changes == [([], [], watcher.error)] and "No MIDI system" in watcher.error
    messages: list[str] = []
    player = FinishingPlayer()
    routing = Routing(player, SoundFontSynth, notify=messages.append)
    routing.start()
    try:
        routing.set_preferred("Synth:in")  # remembered from another session
        assert isinstance(player.output, SoundFontSynth)
        assert "built-in synth" in messages[-1]
        player.load(song_of(4, qpm=960))
        player.play(0)
        assert player.done.wait(5)
        routing.set_input("Keys:out")
        assert routing.input_name is None and "MIDI input" in messages[-1]
    finally:
        routing.close()


def test_port_vanishing_mid_song_panics_and_falls_back_to_the_synth(routing):
    receiver = JackReceiver("Vanishing")
    routing.set_preferred("Vanishing:in")
    port = routing.player.output
    assert isinstance(port, PortOutput)
    song = song_of(24)  # 3 s at 480 qpm
    routing.player.load(song)
    routing.player.play(0)
    time.sleep(0.6)
    receiver.close()
    assert wait_until(lambda: any("'Vanishing:in' disappeared" in m and "built-in synth" in m
                                  for m in routing.messages)), routing.messages
    synth = routing.player.output
    assert isinstance(synth, SoundFontSynth)
    assert port.failed and port.closed
    sent_before = port.sent_count
    assert synth.panic_count >= 1  # the new output starts from a clean state
    assert routing.player.is_playing, "playback goes on through the synth"
    assert routing.player.done.wait(5)
    assert port.sent_count == sent_before, "nothing more is sent to the vanished port"
    assert synth.sent_count > 20
    tail = synth.render(22050)
    time.sleep(0.01)
    assert np.abs(synth.render(4410)).max() < 1e-4, "a note is still sounding after the end"
    assert tail.shape == (22050, 2)


def test_port_coming_back_is_used_again(routing):
    first = JackReceiver("Comeback")
    routing.set_preferred("Comeback:in")
    first.close()
    assert wait_until(lambda: any("disappeared" in m for m in routing.messages))
    assert isinstance(routing.player.output, SoundFontSynth)
    second = JackReceiver("Comeback")
    try:
        assert second.port_name == "Comeback:in"
        assert wait_until(lambda: "is back" in routing.messages[-1])
        assert isinstance(routing.player.output, PortOutput)
        routing.player.load(song_of(4, qpm=960))
        routing.player.play(0)
        assert routing.player.done.wait(5)
        assert second.wait_for(lambda r: sum(n[0] == "on" for n in r.notes()) == 4, 2)
    finally:
        second.close()


def test_synth_off_and_nothing_chosen_is_silent_with_a_message(routing):
    routing.set_preferred(BUILTIN, synth_enabled=False)
    assert isinstance(routing.player.output, NullOutput)
    assert "silent" in routing.messages[-1]
    routing.set_preferred(BUILTIN, synth_enabled=True)
    assert isinstance(routing.player.output, SoundFontSynth)
