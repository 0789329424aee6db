"""The player, heard through a real JACK MIDI port by another client: every note of a 4-bar song
arrives in order with its pitch and velocity, on time; loop, seek, tempo change, mute/solo and
edits while playing; count-in clicks; stop sends a panic and leaves no note sounding."""

from __future__ import annotations

import threading
import time

import pytest

from studio.midi.player import Player
from studio.midi.ports import MidiSystem
from studio.music import Note, Song, TempoChange, Track
from tests.realtime_fixtures import JackReceiver, jack_server  # noqa: F401

PPQ = 480


class WatchedPlayer(Player):
    def __init__(self, output) -> None:
        super().__init__(output)
        self.done = threading.Event()
        self.positions: list[int] = []
        self.states: list[bool] = []

    def on_finished(self) -> None:
        self.done.set()

    def on_position(self, tick: int) -> None:
        self.positions.append(tick)

    def on_playing_changed(self, playing: bool) -> None:
        self.states.append(playing)


@pytest.fixture
def receiver(jack_server):  # noqa: F811
    r = JackReceiver("Receiver")
    yield r
    r.close()


@pytest.fixture
def player(jack_server, receiver):  # noqa: F811
    system = MidiSystem.open()
    out = system.open_output(receiver.port_name)
    p = WatchedPlayer(out)
    yield p
    p.close()
    system.close()


def four_bar_song(qpm: float = 360.0) -> Song:
    melody = Track("Melody", program=73, channel=0)
    pitches = [72, 74, 76, 77, 79, 77, 76, 74] * 4
    for i, p in enumerate(pitches):  # eighth notes, velocities 40..118
        melody.notes.append(Note(p, i * PPQ // 2, PPQ // 2 - 20, 40 + (i * 13) % 79))
    bass = Track("Bass", program=32, channel=1)
    for bar, root in enumerate([48, 53, 55, 48]):
        bass.notes.append(Note(root, bar * 4 * PPQ, 2 * PPQ, 100))
        bass.notes.append(Note(root + 7, bar * 4 * PPQ + 2 * PPQ, 2 * PPQ, 90))
    return Song([melody, bass], tempos=[TempoChange(0, qpm)])


def expected_events(song: Song) -> list[list[tuple[str, int, int, int]]]:
    """Note events grouped by tick (offs before ons inside a tick), computed from the song."""
    by_tick: dict[int, list] = {}
    for ch, track in enumerate(song.tracks):
        for n in track.notes:
            by_tick.setdefault(n.start, []).append(("on", ch, n.pitch, n.velocity))
            by_tick.setdefault(n.end, []).append(("off", ch, n.pitch, 0))
    return [sorted(by_tick[t], key=lambda e: (e[0] != "off", e)) for t in sorted(by_tick)]


def panicked(receiver) -> bool:
    """The receiver got all-notes-off on all 16 channels (what stop sends last)."""
    return {m[0] & 0x0F for m in receiver.messages() if m[0] & 0xF0 == 0xB0 and m[1] == 123} \
        == set(range(16))


def group(received, sizes):
    out, i = [], 0
    for s in sizes:
        out.append(sorted(received[i:i + s], key=lambda e: (e[0] != "off", e)))
        i += s
    return out


def test_four_bar_song_arrives_in_order_with_pitch_velocity_and_timing(player, receiver):
    song = four_bar_song()
    player.load(song)
    player.play(0)
    assert player.done.wait(10), "the song never finished"
    assert receiver.wait_for(panicked, 2)
    expected = expected_events(song)
    got = receiver.notes()
    assert len(got) == sum(len(g) for g in expected) == 2 * song.note_count
    assert group(got, [len(g) for g in expected]) == expected
    msgs = receiver.messages()
    first_note = next(i for i, m in enumerate(msgs) if m[0] & 0xF0 == 0x90)
    assert [0xC0, 73] in msgs[:first_note] and [0xC1, 32] in msgs[:first_note]
    # Each note-on arrived close to when the player scheduled it.
    start_of = {(ch, n.pitch, n.start) for ch, t in enumerate(song.tracks) for n in t.notes}
    errors = []
    ons = [(m, t) for m, t in receiver.received if m[0] & 0xF0 == 0x90 and m[2] > 0]
    times = sorted({n.start for t in song.tracks for n in t.notes})
    assert len({t for t in times}) == len(times)
    for tick in times:
        due = player.time_of_tick(tick)
        at = [t for m, t in ons if (m[0] & 0x0F, m[1], tick) in start_of]
        errors.append(min(abs(t - due) for t in at))
    assert max(errors) < 0.02, f"worst timing error {max(errors) * 1000:.1f} ms"
    # Stop at the end: a panic on all 16 channels, every note released.
    assert all([0xB0 | ch, 123, 0] in msgs and [0xB0 | ch, 120, 0] in msgs for ch in range(16))
    assert player.states == [True, False] and not player.is_playing
    assert player.positions and max(player.positions) <= song.end


def test_loop_region_repeats_and_stop_releases_everything(player, receiver):
    song = four_bar_song(qpm=480)  # a bar lasts 0.5 s
    player.load(song)
    player.set_loop((0, 4 * PPQ))
    player.play(0)
    time.sleep(1.3)
    player.stop()
    ons = [n for n in receiver.notes() if n[0] == "on"]
    bar1 = [("on", 0, n.pitch, n.velocity) for n in song.tracks[0].notes if n.start < 4 * PPQ]
    melody = [n for n in ons if n[1] == 0]
    assert melody[:16] == bar1 + bar1, f"the first bar did not repeat: {melody}"
    assert all(n[2] in (48, 55) for n in ons if n[1] == 1), "notes from past the loop end"
    assert not player.done.is_set()
    assert_all_released(receiver)


def assert_all_released(receiver):
    assert receiver.wait_for(panicked, 2)
    sounding: dict[tuple[int, int], int] = {}
    for kind, ch, pitch, _ in receiver.notes():
        sounding[(ch, pitch)] = sounding.get((ch, pitch), 0) + (1 if kind == "on" else -1)
    stuck = {k for k, v in sounding.items() if v > 0}
    msgs = receiver.messages()
    cleared = {m[0] & 0x0F for m in msgs if m[0] & 0xF0 == 0xB0 and m[1] == 123}
    assert not stuck or cleared >= {ch for ch, _ in stuck}, f"stuck notes {stuck}"


def test_seek_while_playing_jumps_and_releases(player, receiver):
    song = four_bar_song(qpm=240)  # an eighth note lasts 0.125 s
    player.load(song)
    player.play(0)
    time.sleep(0.3)
    player.seek(3 * 4 * PPQ)  # bar 4
    assert player.done.wait(3)
    pitches = [n[2] for n in receiver.notes() if n[0] == "on" and n[1] == 0]
    melody = [n.pitch for n in song.tracks[0].notes]
    assert pitches[-8:] == melody[24:], "after the seek: bar 4, in order"
    assert 1 <= len(pitches) - 8 <= 4 and pitches[:-8] == melody[:len(pitches) - 8]
    assert_all_released(receiver)


def test_tempo_change_while_playing_and_tempo_map(player, receiver):
    track = Track("Beat", channel=0, notes=[Note(60 + i, i * PPQ, PPQ // 4, 100) for i in range(8)])
    # The song's own tempo map: 240 qpm, then 480 qpm from beat 4.
    song = Song([track], tempos=[TempoChange(0, 240.0), TempoChange(4 * PPQ, 480.0)])
    player.load(song)
    player.play(0)
    assert player.done.wait(5) and receiver.wait_for(panicked, 2)
    ons = [t for m, t in receiver.received if m[0] == 0x90 and m[2] > 0]
    gaps = [b - a for a, b in zip(ons, ons[1:])]
    assert all(abs(g - 0.25) < 0.012 for g in gaps[:3]), gaps
    assert all(abs(g - 0.125) < 0.012 for g in gaps[4:]), gaps
    # A tempo change while playing (x2 from now on).
    receiver.clear()
    player.done.clear()
    song2 = Song([Track("Beat", notes=[Note(60 + i, i * PPQ, PPQ // 4, 100) for i in range(6)])],
                 tempos=[TempoChange(0, 240.0)])
    player.load(song2)
    player.play(0)
    assert receiver.wait_for(lambda r: sum(n[0] == "on" for n in r.notes()) >= 2, 3)
    player.set_tempo_scale(2.0)
    assert player.done.wait(5) and receiver.wait_for(panicked, 2)
    ons = [t for m, t in receiver.received if m[0] == 0x90 and m[2] > 0]
    gaps = [b - a for a, b in zip(ons, ons[1:])]
    assert abs(gaps[0] - 0.25) < 0.012 and all(abs(g - 0.125) < 0.012 for g in gaps[2:]), gaps


def test_mute_solo_and_edits_while_playing(player, receiver):
    lead = Track("Lead", channel=0, notes=[Note(72, i * PPQ, PPQ // 2, 90) for i in range(12)])
    pad = Track("Pad", channel=1, notes=[Note(48, 0, 12 * PPQ, 70)])
    song = Song([lead, pad], tempos=[TempoChange(0, 480.0)])  # a beat lasts 0.125 s
    player.load(song)
    player.play(0)
    assert receiver.wait_for(lambda r: ("on", 1, 48, 70) in r.notes(), 2)
    player.set_audible({lead.id})  # solo the lead: the sounding pad note must be released
    assert receiver.wait_for(lambda r: ("off", 1, 48, 0) in r.notes(), 1)
    # An edit while playing: the lead's remaining notes move up an octave.
    for n in lead.notes:
        n.pitch = 84
    player.load(song, audible={lead.id})
    assert player.done.wait(5)
    notes = receiver.notes()
    lead_on = [n[2] for n in notes if n[0] == "on" and n[1] == 0]
    assert lead_on[0] == 72 and lead_on[-1] == 84 and set(lead_on) == {72, 84}
    assert len(lead_on) == 12
    assert [n for n in notes if n[1] == 1 and n[0] == "on"] == [("on", 1, 48, 70)]
    assert_all_released(receiver)


def test_count_in_clicks_then_song(player, receiver):
    song = Song([Track("T", notes=[Note(64, 0, PPQ, 100)])], tempos=[TempoChange(0, 600.0)])
    player.load(song)
    t0 = time.monotonic()
    player.play(0, count_in_bars=1)
    assert player.counting_in
    assert player.done.wait(5) and receiver.wait_for(panicked, 2)
    msgs = [(m, t) for m, t in receiver.received if m[0] & 0xF0 == 0x90 and m[2] > 0]
    clicks = [t for m, t in msgs if m[0] == 0x99]
    note_at = next(t for m, t in msgs if m[0] == 0x90)
    assert len(clicks) == 4 and clicks[0] - t0 < 0.02
    assert abs(note_at - t0 - 0.4) < 0.02, "the song must start one bar (0.4 s) after the clicks"
