"""Recording from a real JACK MIDI port while the player runs: notes land on the right ticks with
their pitch and velocity, MIDI thru plays them, count-in and quantize on input work, and an input
that vanishes mid-take keeps what was played."""

from __future__ import annotations

import time

import pytest

from studio.midi.player import Player
from studio.midi.recorder import Recorder
from studio.midi.routing import Routing
from studio.midi.synth import SoundFontSynth
from studio.music import Note, Song, TempoChange, Track
from tests.realtime_fixtures import JackKeyboard, JackReceiver, jack_server  # noqa: F401

PPQ = 480
QPM = 240.0  # a beat lasts 0.25 s; one tick about 0.52 ms


@pytest.fixture
def rig(jack_server):  # noqa: F811
    """A keyboard, a synth port that hears the output, and the studio's routing between them."""
    keyboard, monitor = JackKeyboard("Keys"), JackReceiver("Monitor")
    messages: list[str] = []
    player = Player()
    routing = Routing(player, SoundFontSynth, notify=messages.append, interval=0.05)
    routing.start()
    routing.set_preferred(monitor.port_name)
    assert routing.set_input(keyboard.port_name), messages
    routing.messages = messages
    song = Song([Track("Backing", notes=[Note(36, 0, 8 * PPQ, 60)])], tempos=[TempoChange(0, QPM)])
    player.load(song)
    player.run_past_end = True
    time.sleep(0.05)
    yield keyboard, monitor, routing
    player.stop()
    routing.close()
    monitor.close()
    keyboard.close()


def play_at(keyboard: JackKeyboard, player: Player, tick: float, message: list[int]) -> None:
    """Send `message` from the keyboard when the player reaches `tick`."""
    due = player.time_of_tick(tick)
    while time.monotonic() < due:
        time.sleep(min(0.001, max(0.0, due - time.monotonic())))
    keyboard.send(message)


def test_record_from_a_port_into_notes_with_thru(rig):
    keyboard, monitor, routing = rig
    player = routing.player
    rec = Recorder(player.tick_at, start_tick=0)
    routing.add_listener(rec.feed)
    played = [(PPQ, 60, 90, PPQ // 2), (2 * PPQ, 64, 70, PPQ), (2 * PPQ, 67, 110, PPQ),
              (4 * PPQ, 72, 50, PPQ // 4)]
    player.play(0)
    events = sorted([(s, [0x90, p, v]) for s, p, v, _ in played]
                    + [(s + d, [0x80, p, 0]) for s, p, _, d in played], key=lambda e: e[0])
    for tick, msg in events:
        play_at(keyboard, player, tick, msg)
    time.sleep(0.05)
    notes = rec.finish(time.monotonic())
    routing.remove_listener(rec.feed)
    assert [(n.pitch, n.velocity) for n in notes] == [(p, v) for _, p, v, _ in played]
    for n, (start, _, _, dur) in zip(notes, played):
        assert abs(n.start - start) <= 30, (n, start)
        assert abs(n.duration - dur) <= 30, (n, dur)
    # MIDI thru: the synth port heard what was played, as it was played.
    thru = [m for m in monitor.notes() if m[2] in (60, 64, 67, 72)]
    assert [(m[0], m[2], m[3]) for m in thru if m[0] == "on"] == [("on", p, v) for _, p, v, _ in played]


def test_count_in_and_quantize_on_input(rig):
    keyboard, monitor, routing = rig
    player = routing.player
    rec = Recorder(player.tick_at, start_tick=4 * PPQ, quantize=PPQ // 2)
    routing.add_listener(rec.feed)
    player.play(4 * PPQ, count_in_bars=1)  # one bar of clicks (1 s), then bar 2
    assert player.counting_in
    play_at(keyboard, player, 2 * PPQ, [0x90, 50, 80])  # too early: in the count-in
    play_at(keyboard, player, 2 * PPQ + 100, [0x80, 50, 0])
    play_at(keyboard, player, 4 * PPQ - 60, [0x90, 55, 80])  # an eager downbeat
    play_at(keyboard, player, 4 * PPQ + 200, [0x80, 55, 0])
    play_at(keyboard, player, 5 * PPQ + 70, [0x90, 57, 80])  # late: snaps back to beat 2
    play_at(keyboard, player, 5 * PPQ + 300, [0x80, 57, 0])
    play_at(keyboard, player, 6 * PPQ + 180, [0x90, 59, 80])  # held until stop
    time.sleep(0.1)
    notes = rec.finish(player.time_of_tick(7 * PPQ + 10))
    assert [(n.pitch, n.start, n.duration) for n in notes] == [
        (55, 4 * PPQ, PPQ // 2), (57, 5 * PPQ, PPQ // 2), (59, 6 * PPQ + PPQ // 2, PPQ // 2)]
    clicks = [m for m in monitor.messages() if m[0] == 0x99]
    assert len(clicks) == 4, "one bar of count-in clicks"


def test_input_vanishing_mid_take_keeps_the_notes(rig):
    keyboard, monitor, routing = rig
    player = routing.player
    rec = Recorder(player.tick_at, start_tick=0)
    routing.add_listener(rec.feed)
    player.play(0)
    play_at(keyboard, player, PPQ, [0x90, 62, 100])
    play_at(keyboard, player, 2 * PPQ, [0x80, 62, 0])
    keyboard.close()
    deadline = time.monotonic() + 3
    while routing.input_name is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert routing.input_name is None
    assert "The MIDI input 'Keys:out' disappeared." in routing.messages
    assert player.is_playing
    notes = rec.finish(time.monotonic())
    assert [(n.pitch, n.velocity) for n in notes] == [(62, 100)]
    assert abs(notes[0].start - PPQ) <= 30
