"""Malformed files raise MidiReadError naming file and reason; nothing crashes or hangs."""

import os
import random
import signal
import struct
import time

import pytest

from studio.midi import MidiReadError, read_song, song_to_midi_bytes
from studio.midi.isolation import IsolatedParser, shared_parser
from studio.music import Note, Song, TempoChange, Track
from tests.conftest import MIDI_DIR, shared_midi_files


def good_bytes() -> bytes:
    song = Song([Track("Piano", notes=[Note(60 + i % 12, i * 240, 240, 90) for i in range(32)])],
                tempos=[TempoChange(0, 100.0)])
    return song_to_midi_bytes(song)


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def header(fmt=1, ntracks=1, division=480):
    return b"MThd" + struct.pack(">IHHh", 6, fmt, ntracks, division)


def track(body: bytes) -> bytes:
    return b"MTrk" + struct.pack(">I", len(body)) + body


CASES = {
    "empty": (b"", "empty"),
    "not midi": (b"This is a text file pretending to be MIDI\n" * 10, "not a MIDI file"),
    "truncated header": (b"MThd\x00\x00\x00\x06\x00", "truncated"),
    "zero ppq": (header(division=0) + track(b"\x00\xff\x2f\x00"), "zero"),
    "smpte": (header(division=-7680) + track(b"\x00\xff\x2f\x00"), "SMPTE"),
    "bogus track length": (header() + b"MTrk" + struct.pack(">I", 10_000_000) + b"\x00\x90",
                           "claims"),
    "no tracks": (header(ntracks=0), "no tracks"),
    "tempo 0": (header() + track(b"\x00\xff\x51\x03\x00\x00\x00\x00\x90\x3c\x40\x60\x80\x3c"
                                 b"\x00\x00\xff\x2f\x00"), "tempo 0"),
    "running status without status": (header() + track(b"\x00\x3c\x40\x00\xff\x2f\x00"),
                                      "corrupt"),
    "huge delta times": (header() + track(b"\x00\x90\x3c\x40" + b"\xff\xff\xff\x7f\x80\x3c\x00"
                                          + (b"\xff\xff\xff\x7f\xff\x01\x00" * 40)
                                          + b"\x00\x90\x3d\x40\x00\x80\x3d\x00\x00\xff\x2f\x00"),
                         "delta times"),
    "bad format": (b"MThd" + struct.pack(">IHHh", 6, 7, 1, 480) + track(b"\x00\xff\x2f\x00"),
                   "format"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_files_raise_one_clear_error(tmp_path, name):
    data, reason = CASES[name]
    path = write(tmp_path, "bad.mid", data)
    with pytest.raises(MidiReadError) as info:
        read_song(path)
    assert str(path) in str(info.value)
    assert reason.lower() in info.value.reason.lower()


def test_truncated_real_file(tmp_path):
    data = (MIDI_DIR / "debussy" / "menuet.mid").read_bytes()
    path = write(tmp_path, "cut.mid", data[: len(data) // 2])
    with pytest.raises(MidiReadError, match="truncated"):
        read_song(path)


def test_missing_and_folder_paths(tmp_path):
    with pytest.raises(MidiReadError, match="does not exist"):
        read_song(tmp_path / "nope.mid")
    with pytest.raises(MidiReadError, match="folder"):
        read_song(tmp_path)


def test_unreadable_file(tmp_path):
    path = write(tmp_path, "secret.mid", good_bytes())
    os.chmod(path, 0o000)
    root = os.geteuid() == 0
    if root:  # root reads anything: act as 'nobody' so the permission really applies
        os.seteuid(65534)
    try:
        with pytest.raises(MidiReadError, match="permission denied"):
            read_song(path)
    finally:
        if root:
            os.seteuid(0)


def test_note_limit_is_enforced(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_MIDI_MAX_NOTES", "20")
    parser = IsolatedParser()  # a fresh child sees the lowered limit
    try:
        from studio.midi.parse import ParseError

        with pytest.raises(ParseError, match="limit"):
            parser.parse(good_bytes())
    finally:
        parser.close()


def test_size_limit_is_enforced(tmp_path, monkeypatch):
    import studio.midi.limits as limits

    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    path = write(tmp_path, "big.mid", good_bytes() + b"\0" * 2000)
    with pytest.raises(MidiReadError, match="limit"):
        read_song(path)


def test_a_parser_crash_does_not_take_the_app_down(tmp_path):
    parser = shared_parser()
    parser.warm_up()
    path = write(tmp_path, "ok.mid", good_bytes())
    assert read_song(path).note_count == 32
    os.kill(parser._proc.pid, signal.SIGSEGV)  # the native parser dies as a segfault would
    time.sleep(0.1)
    assert read_song(path).note_count == 32  # a new child serves the next request


def mutations(data: bytes, rng: random.Random):
    kind = rng.choice(["flip", "truncate", "inflate", "zero_ppq", "zero_tempo", "splice",
                       "delta"])
    b = bytearray(data)
    if kind == "flip":
        for _ in range(rng.randint(1, 12)):
            i = rng.randrange(len(b))
            b[i] = rng.randrange(256)
    elif kind == "truncate":
        b = b[: rng.randrange(len(b))]
    elif kind == "inflate":
        idx = [i for i in range(len(b) - 8) if b[i:i + 4] == b"MTrk"]
        if idx:
            i = rng.choice(idx)
            b[i + 4:i + 8] = struct.pack(">I", rng.choice([0, 1, 0xFFFFFFFF, len(b) * 3,
                                                            rng.randrange(1 << 32)]))
    elif kind == "zero_ppq":
        b[12:14] = rng.choice([b"\x00\x00", b"\xff\xff", b"\x80\x00"])
    elif kind == "zero_tempo":
        i = bytes(b).find(b"\xff\x51\x03")
        if i >= 0:
            b[i + 3:i + 6] = b"\x00\x00\x00"
    elif kind == "splice":
        i, j = sorted(rng.randrange(len(b)) for _ in range(2))
        b[i:i] = b[j:j + rng.randint(1, 64)]
    else:
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(14, len(b))
            b[i:i] = b"\xff\xff\xff\x7f"
    return bytes(b)


def test_fuzz_2000_mutations_read_or_raise_quickly(tmp_path):
    rng = random.Random(20261127)
    sources = [p.read_bytes() for p in shared_midi_files() if p.stat().st_size < 60_000]
    sources.append(good_bytes())
    path = tmp_path / "fuzz.mid"
    outcomes = {"read": 0, "error": 0}
    slowest = 0.0
    for _ in range(2000):
        data = mutations(rng.choice(sources), rng)
        path.write_bytes(data)
        t0 = time.perf_counter()
        try:
            read_song(path)
            outcomes["read"] += 1
        except MidiReadError as e:
            assert e.reason and str(path) in str(e)
            outcomes["error"] += 1
        elapsed = time.perf_counter() - t0
        slowest = max(slowest, elapsed)
        assert elapsed < 2.0, f"a mutation took {elapsed:.2f} s"
    assert outcomes["read"] > 100 and outcomes["error"] > 100, outcomes
