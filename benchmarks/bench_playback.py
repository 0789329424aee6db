"""Playback timing through JACK and built-in synth render speed.

Timing: a dense 2-minute song (about 27 note-ons a second over four tracks) is played by
`studio.midi.player.Player` into a real JACK MIDI port owned by another process, which stamps each
arriving message with the monotonic clock (the same clock the player schedules on). The error of
each note event is |arrival - scheduled time|; p50, p99 and max are printed beside a reference
measured in the same run: a naive loop that sleeps until each event and sends it (what the OS and
JACK allow at best from Python). A third run plays while the main thread is kept busy with Python
work, as a GUI would. JACK runs with the dummy driver at 48 kHz, 64-frame periods (1.33 ms), so
an event waits up to one period for the next JACK cycle.

Render: the same song and every shared MIDI file rendered offline by the synth, as a multiple of
real time, beside pretty_midi's sine-wave `synthesize` as a reference.

Usage: python benchmarks/bench_playback.py [--minutes 2] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import machine, midi_files  # noqa: E402
from studio.midi import read_song  # noqa: E402
from studio.midi.outputs import MidiOutput  # noqa: E402
from studio.midi.player import Player  # noqa: E402
from studio.midi.ports import MidiSystem  # noqa: E402
from studio.midi.realtime import raise_thread_priority  # noqa: E402
from studio.midi.render import render_array  # noqa: E402
from studio.midi.sequence import compile_events  # noqa: E402
from studio.music import Note, Song, TempoChange, Track  # noqa: E402
from studio.music.timing import duration_seconds  # noqa: E402
from tests.realtime_fixtures import JACK_PERIOD, JACK_SAMPLE_RATE, _stop, start_jack  # noqa: E402

PPQ = 480
SENTINEL = [0xBF, 119, 127]

RECEIVER = textwrap.dedent('''
    import json, sys, time, rtmidi
    SENTINEL = SENTINEL_VALUE
    got, done = [], []
    def on_message(event, data=None):
        now = time.monotonic()
        if event[0] == SENTINEL:
            done.append(now)
        else:
            got.append((now, event[0]))
    midi = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "BenchReceiver", queue_size_limit=1 << 16)
    midi.ignore_types(True, True, True)
    midi.set_callback(on_message)
    midi.open_virtual_port("in")
    print("READY", flush=True)
    while not done:
        time.sleep(0.05)
    json.dump(got, open(sys.argv[1], "w"))
''').replace("SENTINEL_VALUE", repr(SENTINEL))


def dense_song(minutes: float) -> Song:
    """Four tracks at 120 qpm: 16th-note melody, 8th-note bass, three-note chords on each beat,
    16th-note drums (about 27 note-ons a second)."""
    rng = np.random.default_rng(1)
    beats = int(minutes * 120)
    melody = Track("Melody", program=73, channel=0)
    bass = Track("Bass", program=33, channel=1)
    chords = Track("Chords", program=0, channel=2)
    drums = Track("Drums", is_drum=True, channel=9)
    scale = [0, 2, 4, 5, 7, 9, 11]
    for b in range(beats):
        t = b * PPQ
        for k in range(4):
            melody.notes.append(Note(72 + scale[int(rng.integers(7))], t + k * 120, 100,
                                     int(rng.integers(50, 120))))
            drums.notes.append(Note([36, 42, 38, 42][k], t + k * 120, 60, 90))
        for k in range(2):
            bass.notes.append(Note(36 + scale[(b // 4) % 7], t + k * 240, 220, 100))
        root = 60 + scale[(b // 2) % 7]
        for p in (root, root + 4, root + 7):
            chords.notes.append(Note(p, t, PPQ - 10, 70))
    return Song([melody, bass, chords, drums], tempos=[TempoChange(0, 120.0)], title="dense")


class _Recv:
    def __init__(self, folder: Path) -> None:
        self.out = folder / f"recv-{time.monotonic_ns()}.json"
        script = folder / "receiver.py"
        script.write_text(RECEIVER)
        self.proc = subprocess.Popen([sys.executable, str(script), str(self.out)],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "READY"

    def finish(self, output: MidiOutput) -> list[tuple[float, list[int]]]:
        time.sleep(0.2)
        output.send(tuple(SENTINEL))
        self.proc.wait(timeout=30)
        return json.loads(self.out.read_text())


def errors_of(expected: list[tuple[float, list[int]]], got) -> tuple[np.ndarray, int]:
    notes = [(t, m) for t, m in got if m[0] & 0xF0 in (0x80, 0x90)]
    lost = len(expected) - len(notes)
    n = min(len(expected), len(notes))
    mismatched = sum(1 for i in range(n) if expected[i][1] != notes[i][1])
    if mismatched:
        bad = [i for i in range(n) if expected[i][1] != notes[i][1]][:3]
        print(f"  warning: {mismatched} events arrived out of order or changed, first at "
              f"event {bad[0]}: {[(expected[i][1], notes[i][1]) for i in bad]}")
    return np.abs(np.array([notes[i][0] - expected[i][0] for i in range(n)])), lost


def run_player(system: MidiSystem, song: Song, folder: Path, busy: bool) -> tuple[np.ndarray, int]:
    recv = _Recv(folder)
    out = system.open_output("BenchReceiver:in")
    player = Player(out)
    player.load(song)
    done = threading.Event()
    player.on_finished = done.set
    events = compile_events(song)
    player.play(0)
    expected = [(player.time_of_tick(t), list(m)) for t, m in zip(events.ticks, events.messages)]
    while busy and not done.is_set():
        _busy_main_thread_once()
    done.wait()
    got = recv.finish(out)
    out.close()
    return errors_of(expected, got)


def _busy_main_thread_once() -> None:
    """Python work on the main thread, as a GUI repainting would do (holds the GIL)."""
    sum(i * i for i in range(20000))


def run_naive(system: MidiSystem, song: Song, folder: Path) -> tuple[np.ndarray, int]:
    """Reference: sleep until each event, send it (no player, no bookkeeping)."""
    recv = _Recv(folder)
    out = system.open_output("BenchReceiver:in")
    events = compile_events(song)
    t0 = time.monotonic() + 0.05
    expected = []
    for sec, msg in zip(events.seconds, events.messages):
        due = t0 + sec
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        out.send(msg)
        expected.append((due, list(msg)))
    got = recv.finish(out)
    out.close()
    return errors_of(expected, got)


def describe(name: str, err: np.ndarray, lost: int, seconds: float) -> str:
    ms = err * 1000
    return (f"| {name} | {seconds:.0f} | {len(err)} | {lost} | {np.percentile(ms, 50):.2f} | "
            f"{np.percentile(ms, 99):.2f} | {ms.max():.2f} |")


def render_speed(song: Song) -> tuple[float, float, float]:
    import pretty_midi

    from studio.midi.files import song_to_midi_bytes

    t0 = time.perf_counter()
    audio = render_array(song)
    ours = time.perf_counter() - t0
    seconds = len(audio) / 44100
    import io

    pm = pretty_midi.PrettyMIDI(io.BytesIO(song_to_midi_bytes(song)))
    t0 = time.perf_counter()
    pm.synthesize(fs=44100)
    ref = time.perf_counter() - t0
    return seconds, ours, ref


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--quick", action="store_true", help="20-second songs (a smoke run)")
    args = ap.parse_args()
    minutes = 1 / 3 if args.quick else args.minutes
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-playback-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"studiobench{os.getpid()}"
    jack = start_jack(name)
    os.environ["JACK_DEFAULT_SERVER"] = name
    rt = {}
    probe = threading.Thread(target=lambda: rt.setdefault("ok", raise_thread_priority()))
    probe.start()
    probe.join()
    song = dense_song(minutes)
    events = compile_events(song)
    print(f"Machine: {machine()}")
    print(f"JACK dummy driver {JACK_SAMPLE_RATE} Hz, {JACK_PERIOD}-frame periods "
          f"({1000 * JACK_PERIOD / JACK_SAMPLE_RATE:.2f} ms); real-time thread priority: "
          f"{'yes' if rt.get('ok') else 'refused'}")
    print(f"Song: {duration_seconds(song):.0f} s, {song.note_count} notes, {len(events)} "
          f"note events ({song.note_count / duration_seconds(song):.0f} note-ons/s)\n")
    try:
        system = MidiSystem.open()
        rows = []
        err, lost = run_player(system, song, folder, busy=False)
        rows.append(describe("Studio player", err, lost, duration_seconds(song)))
        short = dense_song(min(minutes, 0.5))
        err_b, lost_b = run_player(system, short, folder, busy=True)
        rows.append(describe("Studio player, main thread busy", err_b, lost_b,
                             duration_seconds(short)))
        err_n, lost_n = run_naive(system, short, folder)
        rows.append(describe("reference: naive sleep-and-send loop", err_n, lost_n,
                             duration_seconds(short)))
        system.close()
    finally:
        _stop(jack.process)
    print("| run | song (s) | events | lost | p50 (ms) | p99 (ms) | max (ms) |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    p99 = np.percentile(err * 1000, 99)
    print(f"\nTarget p99 < 2 ms: {'met' if p99 < 2 else 'MISSED'} ({p99:.2f} ms); "
          f"p99 vs naive reference: {p99 / np.percentile(err_n * 1000, 99):.2f}x")

    seconds, ours, ref = render_speed(song)
    files = midi_files()
    total_audio = total_time = 0.0
    for path in files:
        s = read_song(path)
        t0 = time.perf_counter()
        total_audio += len(render_array(s)) / 44100
        total_time += time.perf_counter() - t0
    print("\n| render | audio (s) | wall (s) | x real time |")
    print("|---|---|---|---|")
    print(f"| built-in synth (TinySoundFont, TimGM6mb), dense song | {seconds:.1f} | {ours:.2f} | "
          f"{seconds / ours:.0f} |")
    print(f"| built-in synth, {len(files)} shared MIDI files | {total_audio:.1f} | "
          f"{total_time:.2f} | {total_audio / total_time:.0f} |")
    print(f"| reference: pretty_midi.synthesize (sine waves), dense song | {seconds:.1f} | "
          f"{ref:.2f} | {seconds / ref:.0f} |")


if __name__ == "__main__":
    main()
