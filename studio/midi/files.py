"""The two doors between MIDI files and songs: `read_song` and `write_song`.

Reading goes through the isolated parser process (see `studio.midi.isolation`) and raises only
`MidiReadError`. Writing produces a type-1 file at 480 PPQ: a conductor track with tempo, time and
key signatures and the chord lane's symbols (as marker events, which other sequencers show and
`read_song` reads back), then one track per instrument with its name and program change, drums on channel
10. The writer encodes events with numpy (no per-event Python objects) and replaces the target
file atomically (`studio.storage.write_atomically`), so a failed write never leaves half a
file, and the file gets the permissions the umask gives.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

from studio.midi import limits
from studio.midi.errors import MidiReadError, MidiWriteError
from studio.midi.parse import ParseError, parse_midi_bytes, song_from_parsed
from studio.music.song import PPQ, Song, Track
from studio.storage import NotAFileError, name_bytes, open_regular, write_atomically


def _read_bytes(path: Path) -> bytes:
    try:
        with open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > limits.MAX_FILE_BYTES:
                raise MidiReadError(path, f"the file is {size / 2**20:.0f} MiB, over the "
                                          f"{limits.MAX_FILE_BYTES // 2**20} MiB limit")
            return f.read(limits.MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise MidiReadError(path, "the file does not exist") from None
    except NotAFileError as e:
        what = "a folder, not a MIDI file" if e.what == "a folder" else f"{e.what}, not a file"
        raise MidiReadError(path, f"this is {what}") from None
    except PermissionError:
        raise MidiReadError(path, "permission denied (the file is not readable)") from None
    except OSError as e:
        raise MidiReadError(path, f"cannot read the file ({e.strerror or e})") from None


def read_song(path: str | Path, isolated: bool = True) -> Song:
    """Read a MIDI file (type 0, 1 or 2) into a `Song` at 480 PPQ.

    Raises `MidiReadError` (naming the file and the reason) for anything that is not a readable
    MIDI file. With `isolated` (the default) the native parser runs in a child process.
    """
    path = Path(path)
    data = _read_bytes(path)
    return read_song_bytes(data, path, isolated=isolated)


def read_song_bytes(data: bytes, name: str | Path | None = None, isolated: bool = True) -> Song:
    try:
        if isolated:
            from studio.midi.isolation import shared_parser

            parsed = shared_parser().parse(data)
        else:
            parsed = parse_midi_bytes(data)
    except ParseError as e:
        raise MidiReadError(name, str(e)) from None
    title = Path(name).stem if name is not None else ""
    return song_from_parsed(parsed, title=title)


# ---- writing ----------------------------------------------------------------------------------

def _varlen(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def _meta(delta: int, kind: int, payload: bytes) -> bytes:
    return _varlen(delta) + bytes([0xFF, kind]) + _varlen(len(payload)) + payload


def _chunk(body: bytes) -> bytes:
    return b"MTrk" + struct.pack(">I", len(body)) + body


def _encode_events(ticks: np.ndarray, msgs: np.ndarray, sizes: np.ndarray) -> tuple[bytes, int]:
    """Vectorised encoding of sorted channel events: delta varlen + 2 or 3 message bytes."""
    if len(ticks) == 0:
        return b"", 0
    deltas = np.diff(ticks, prepend=0).astype(np.int64)
    k = 1 + (deltas >= 1 << 7) + (deltas >= 1 << 14) + (deltas >= 1 << 21)
    if deltas.max() >= 1 << 28:
        raise ValueError("a gap between events is longer than MIDI can express")
    mat = np.zeros((len(ticks), 7), dtype=np.uint8)
    mask = np.zeros((len(ticks), 7), dtype=bool)
    for j in range(4):
        shift = 7 * (k - 1 - j)
        valid = j < k
        byte = (deltas >> np.where(valid, shift, 0)) & 0x7F
        byte |= np.where(j < k - 1, 0x80, 0)
        mat[:, j] = np.where(valid, byte, 0)
        mask[:, j] = valid
    mat[:, 4:7] = msgs
    mask[:, 4] = True
    mask[:, 5] = True
    mask[:, 6] = sizes == 3
    return mat[mask].tobytes(), int(ticks[-1])


def _track_channel(track: Track, used: dict[int, int]) -> int:
    """The track's own channel, unless another track already plays a different instrument on
    it (then the next free one): parts that share a channel on purpose (two piano hands and
    their pedal) stay together, new tracks that all say channel 0 get one each."""
    if track.is_drum:
        return 9
    ch = track.channel if 0 <= track.channel <= 15 and track.channel != 9 else None
    if ch is not None and used.get(ch, track.program) == track.program:
        return ch
    for ch in list(range(9)) + list(range(10, 16)):
        if ch not in used:
            return ch
    return next((c for c, p in used.items() if p == track.program and c != 9), 0)


def _track_body(track: Track, channel: int) -> bytes:
    notes = track.arrays()
    n = len(track.notes)
    pitch = notes["pitch"]
    if n and (pitch.min() < 0 or pitch.max() > 127):
        raise ValueError(f"track {track.name!r} has a pitch outside 0-127")
    if n and (notes["start"].min() < 0 or notes["duration"].min() < 0):
        raise ValueError(f"track {track.name!r} has a negative time")
    vel = np.clip(notes["velocity"], 1, 127)  # velocity 0 would mean note-off
    start, end = notes["start"], notes["start"] + notes["duration"]
    zero = notes["duration"] == 0
    cc = np.array(track.controls, dtype=np.int64).reshape(-1, 3)
    pb = np.array(track.pitch_bends, dtype=np.int64).reshape(-1, 2)
    # Order at equal ticks: controls, note-offs, bends, note-ons, then offs of zero-length notes.
    ticks = np.concatenate([cc[:, 0], end, pb[:, 0], start])
    order = np.concatenate([np.zeros(len(cc)), np.where(zero, 4, 1), np.full(len(pb), 2),
                            np.full(n, 3)])
    seq = np.arange(len(ticks))
    msgs = np.zeros((len(ticks), 3), dtype=np.int64)
    sizes = np.full(len(ticks), 3)
    i = 0
    msgs[i:i + len(cc)] = np.stack([np.full(len(cc), 0xB0 | channel), cc[:, 1] & 0x7F,
                                    cc[:, 2] & 0x7F], axis=1) if len(cc) else msgs[i:i]
    i += len(cc)
    msgs[i:i + n] = np.stack([np.full(n, 0x80 | channel), pitch, np.zeros(n, np.int64)], axis=1) \
        if n else msgs[i:i]
    i += n
    if len(pb):
        v = np.clip(pb[:, 1], -8192, 8191) + 8192
        msgs[i:i + len(pb)] = np.stack([np.full(len(pb), 0xE0 | channel), v & 0x7F, v >> 7], axis=1)
    i += len(pb)
    msgs[i:i + n] = np.stack([np.full(n, 0x90 | channel), pitch, vel], axis=1) if n else msgs[i:i]
    idx = np.lexsort((seq, order, ticks))
    head = _meta(0, 0x03, name_bytes(track.name))
    head += bytes([0, 0xC0 | channel, track.program & 0x7F])
    body, last = _encode_events(ticks[idx], msgs[idx].astype(np.uint8), sizes[idx])
    return head + body + _meta(0, 0x2F, b"")


def _conductor_body(song: Song) -> bytes:
    events: list[tuple[int, int, bytes]] = []  # (tick, order, payload without delta)
    if song.title:
        title = name_bytes(song.title)
        events.append((0, 0, bytes([0xFF, 0x03]) + _varlen(len(title)) + title))
    for ts in song.time_signatures:
        dd = max(0, int(ts.denominator).bit_length() - 1)
        events.append((ts.tick, 1, bytes([0xFF, 0x58, 4, ts.numerator & 0xFF, dd, 24, 8])))
    for ks in song.key_signatures:
        events.append((ks.tick, 2, bytes([0xFF, 0x59, 2, ks.sharps & 0xFF, int(ks.minor)])))
    for t in song.tempos:
        mspq = min(0xFFFFFF, max(1, t.microseconds_per_quarter))
        events.append((t.tick, 3, bytes([0xFF, 0x51, 3]) + mspq.to_bytes(3, "big")))
    for c in song.chords:
        text = c.label.encode("ascii")
        events.append((c.tick, 4, bytes([0xFF, 0x06]) + _varlen(len(text)) + text))
    events.sort(key=lambda e: (e[0], e[1]))
    out, last = bytearray(), 0
    for tick, _, payload in events:
        out += _varlen(tick - last) + payload
        last = tick
    out += _meta(0, 0x2F, b"")
    return bytes(out)


def song_to_midi_bytes(song: Song) -> bytes:
    """The song as a type-1 Standard MIDI File at 480 PPQ."""
    if any(t.qpm <= 0 for t in song.tempos):
        raise ValueError("a tempo must be above 0")
    chunks = [_chunk(_conductor_body(song))]
    used: dict[int, int] = {}  # channel -> program
    for t in song.tracks:
        ch = _track_channel(t, used)
        if ch != 9:
            used.setdefault(ch, t.program)
        chunks.append(_chunk(_track_body(t, ch)))
    header = b"MThd" + struct.pack(">IHHH", 6, 1, len(chunks), PPQ)
    return header + b"".join(chunks)


def write_song(song: Song, path: str | Path) -> None:
    """Write a type-1 MIDI file atomically; raises `MidiWriteError` with the reason."""
    path = Path(path)
    try:
        data = song_to_midi_bytes(song)
    except ValueError as e:
        raise MidiWriteError(path, str(e)) from None
    try:
        write_atomically(path, data)
    except OSError as e:
        raise MidiWriteError(path, f"cannot write the file ({e.strerror or e})") from None
