"""Real MIDI files built to attack the reader, one event kind at a time: millions of controller
events, pitch bends, tempo changes, notes, sysex messages, meta text, time and key signatures,
and files whose delta times overflow. Shared by the limit tests, the fuzz suite and
`benchmarks/bench_reliability.py` (which measures the peak memory each takes).

Each event is written with a delta time of one tick and running status where MIDI allows it,
so a file holds as many events as its size allows: the worst case for a reader's memory.
"""

from __future__ import annotations

import struct

HEADER = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)


def chunk(body: bytes) -> bytes:
    return b"MTrk" + struct.pack(">I", len(body)) + body


def _end() -> bytes:
    return b"\x00\xff\x2f\x00"


def _one_note() -> bytes:
    return b"\x00\x90\x3c\x64\x10\x80\x3c\x00"


# Each kind: (first event, repeated event). Running status makes the repeated channel events
# 3 bytes (delta + 2 data bytes).
KINDS: dict[str, tuple[bytes, bytes]] = {
    "controllers": (b"\x00\xb0\x07\x40", b"\x01\x07\x41"),
    "pitch bends": (b"\x00\xe0\x00\x40", b"\x01\x10\x40"),
    "notes": (b"", b"\x01\x90\x3c\x64\x01\x80\x3c\x00"),
    "tempo": (b"", b"\x01\xff\x51\x03\x07\xa1\x20"),
    "time signatures": (b"", b"\x01\xff\x58\x04\x03\x02\x18\x08"),
    "key signatures": (b"", b"\x01\xff\x59\x02\x01\x00"),
    "sysex": (b"", b"\x01\xf0\x05\x7e\x7f\x09\x01\xf7"),
    "lyrics": (b"", b"\x01\xff\x05\x02la"),
    "aftertouch": (b"\x00\xd0\x40", b"\x01\x41"),
}
EVENT_BYTES = {kind: len(event) for kind, (_, event) in KINDS.items()}


def event_flood(kind: str, count: int) -> bytes:
    """A type-0 file holding one note and `count` events of `kind` (a note flood: `count`
    notes)."""
    first, event = KINDS[kind]
    body = first + event * (count - 1 if first else count)
    if kind not in ("notes",):
        body = _one_note() + body
    return HEADER + chunk(body + _end())


def flood_for_size(kind: str, size: int) -> bytes:
    """The flood of `kind` that makes a file of about `size` bytes."""
    return event_flood(kind, max(1, size // EVENT_BYTES[kind]))


def overflowing_delta_times() -> bytes:
    """Notes whose delta times are 5-byte varlens (MIDI allows 4): their times overflow."""
    body = b""
    for _ in range(8):
        body += b"\x8f\xff\xff\xff\x7f\x90\x3c\x64" + b"\x8f\xff\xff\xff\x7f\x80\x3c\x00"
    return HEADER + chunk(body + _end())


def riff_without_data() -> bytes:
    """A RIFF-wrapped MIDI file (.rmi) whose RIFF has no data chunk."""
    inner = b"LIST" + struct.pack("<I", 4) + b"INFO"
    return b"RIFF" + struct.pack("<I", 4 + len(inner)) + b"RMID" + inner
