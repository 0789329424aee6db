"""Structural check of a Standard MIDI File before any native parser sees it.

Reads only the chunk headers (fast, pure Python) and rejects what would make a parser misbehave:
wrong magic, zero, negative or SMPTE time division, chunk lengths that run past the end of the
file, too many tracks, files over the size limit. RIFF-wrapped MIDI (.rmi) is unwrapped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from studio.midi import limits


class PrescanError(ValueError):
    pass


@dataclass(frozen=True)
class MidiHeader:
    format: int
    declared_tracks: int
    ppq: int
    track_chunks: int
    chunks: tuple[tuple[int, int], ...] = ()  # (offset of the chunk's data, length) per MTrk


def unwrap_riff(data: bytes) -> bytes:
    if data[:4] == b"RIFF" and data[8:12] == b"RMID":
        pos = 12
        while pos + 8 <= len(data):
            cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
            if cid == b"data":
                return data[pos + 8:pos + 8 + size]
            pos += 8 + size + (size & 1)
        raise PrescanError("RIFF MIDI file without a data chunk")
    return data


@dataclass
class TrackScan:
    name: str = ""
    program: int | None = None
    channel: int | None = None  # of the first channel event
    has_note: bool | None = False  # None: gave up before finding out
    controls: list[tuple[int, int, int]] = field(default_factory=list)  # (tick, number, value)
    bends: list[tuple[int, int]] = field(default_factory=list)  # (tick, -8192..8191)


def scan_track(chunk: bytes, max_bytes: int | None = None, collect: bool = False) -> TrackScan:
    """Name, first program and channel of a track chunk, and whether it has a note.

    Walks the events (running status, meta and sysex included) and stops at the first note-on
    with a velocity; gives up (`has_note` None) after `max_bytes`. With `collect`, walks the
    whole chunk and gathers controllers and pitch bends (ticks in the file's resolution).
    Used for chunks without notes, which the native parser drops: an instrument track without
    notes (a name, a program change, a sustain-pedal part) is kept; a conductor track (meta
    events only) is not a track.
    """
    out = TrackScan()
    pos, status, tick, end = 0, 0, 0, len(chunk)
    limit = end if max_bytes is None else min(end, max_bytes)

    def varlen(pos: int) -> tuple[int, int]:
        value = 0
        while pos < end:
            byte = chunk[pos]
            pos += 1
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        return value, pos

    while pos < end:
        if pos >= limit:
            out.has_note = None
            return out
        if chunk[pos] < 0x80:  # a one-byte delta time (most are): no call
            tick += chunk[pos]
            pos += 1
        else:
            delta, pos = varlen(pos)
            tick += delta
        if pos >= end:
            break
        b = chunk[pos]
        if b == 0xFF:
            if pos + 2 > end:
                break
            kind = chunk[pos + 1]
            if pos + 2 < end and chunk[pos + 2] < 0x80:
                length, pos = chunk[pos + 2], pos + 3
            else:
                length, pos = varlen(pos + 2)
            if kind == 0x03 and not out.name:
                out.name = chunk[pos:pos + length].decode("utf-8", "replace")
            pos += length
            continue
        if b in (0xF0, 0xF7):
            length, pos = varlen(pos + 1)
            pos += length
            continue
        if b & 0x80:
            status = b
            pos += 1
        if not status or status >= 0xF0 or pos >= end:
            break  # corrupt or cut: the real parser will say so
        if out.channel is None:
            out.channel = status & 0x0F
        kind = status & 0xF0
        if kind == 0x90 and pos + 1 < end and chunk[pos + 1] > 0:
            out.has_note = True
            if not collect:
                return out
        elif kind == 0xC0 and out.program is None:
            out.program = chunk[pos] & 0x7F
        elif collect and kind == 0xB0 and pos + 1 < end:
            out.controls.append((tick, chunk[pos] & 0x7F, chunk[pos + 1] & 0x7F))
            if len(out.controls) > limits.MAX_CONTROLS:
                raise PrescanError(f"more than {limits.MAX_CONTROLS} controller events "
                                   "(the limit)")
        elif collect and kind == 0xE0 and pos + 1 < end:
            out.bends.append((tick, ((chunk[pos + 1] & 0x7F) << 7 | (chunk[pos] & 0x7F)) - 8192))
            if len(out.bends) > limits.MAX_PITCH_BENDS:
                raise PrescanError(f"more than {limits.MAX_PITCH_BENDS} pitch bends (the limit)")
        pos += 1 if kind in (0xC0, 0xD0) else 2
    return out


def prescan(data: bytes) -> MidiHeader:
    """Validate the chunk structure; returns the header or raises PrescanError with a reason."""
    if len(data) == 0:
        raise PrescanError("the file is empty")
    if len(data) > limits.MAX_FILE_BYTES:
        raise PrescanError(f"the file is {len(data) / 2**20:.0f} MiB, over the "
                           f"{limits.MAX_FILE_BYTES // 2**20} MiB limit")
    if data[:4] != b"MThd":
        raise PrescanError("not a MIDI file (no MThd header)")
    if len(data) < 14:
        raise PrescanError("truncated header")
    (hlen,) = struct.unpack(">I", data[4:8])
    if hlen < 6 or 8 + hlen > len(data):
        raise PrescanError(f"bad header length {hlen}")
    fmt, ntracks, division = struct.unpack(">HHh", data[8:14])
    if fmt not in (0, 1, 2):
        raise PrescanError(f"unknown MIDI format {fmt}")
    if division < 0:
        raise PrescanError("SMPTE time division is not supported")
    if division == 0:
        raise PrescanError("time division (PPQ) is zero")
    pos = 8 + hlen
    chunks = 0
    spans: list[tuple[int, int]] = []
    while pos < len(data):
        if pos + 8 > len(data):
            if chunks:  # trailing garbage after the last chunk is common; ignore a short tail
                break
            raise PrescanError("truncated chunk header")
        cid = data[pos:pos + 4]
        (clen,) = struct.unpack(">I", data[pos + 4:pos + 8])
        if cid == b"MTrk":
            chunks += 1
            if chunks > limits.MAX_TRACK_CHUNKS:
                raise PrescanError(f"more than {limits.MAX_TRACK_CHUNKS} tracks")
            if pos + 8 + clen > len(data):
                raise PrescanError(f"track {chunks} claims {clen} bytes but only "
                                   f"{len(data) - pos - 8} remain (truncated or bogus length)")
            spans.append((pos + 8, clen))
        elif not all(32 <= b < 127 for b in cid):
            if chunks:
                break  # junk after the tracks
            raise PrescanError("corrupt chunk header")
        pos += 8 + clen
    if chunks == 0:
        raise PrescanError("the file has no tracks")
    return MidiHeader(fmt, ntracks, division, chunks, tuple(spans))
