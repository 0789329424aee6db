"""In-process MIDI parsing into plain arrays, with symusic (a C++ parser, ~100x pretty_midi).

`parse_midi_bytes` is what runs inside the isolated parser process (`studio.midi.isolation`) and
inside dataset-import workers: symusic is native code, so a pathological file could in principle
crash the process that calls it; the app itself never calls this directly on user files.

`ParsedMidi` is plain numpy arrays and small tuples, rescaled to 480 PPQ, checked against
`studio.midi.limits`, and (de)serialisable to bytes without pickle.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from studio.midi import limits
from studio.midi.prescan import prescan, scan_track, unwrap_riff
from studio.music.chord_lane import chords_from_markers
from studio.music.song import (
    PPQ,
    ControlChange,
    KeySignature,
    Note,
    PitchBend,
    Song,
    TempoChange,
    TimeSignature,
    Track,
)

NOTE_COLUMNS = ("pitch", "start", "duration", "velocity")


class ParseError(ValueError):
    """Reason a file could not be parsed (wrapped into MidiReadError by the reader)."""


@dataclass
class ParsedTrack:
    name: str
    program: int
    is_drum: bool
    notes: np.ndarray  # (n, 4) int32: pitch, start, duration, velocity
    controls: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.int32))
    bends: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int32))
    channel: int | None = None  # known when the track came from a one-channel chunk


@dataclass
class ParsedMidi:
    source_ppq: int
    midi_format: int
    tracks: list[ParsedTrack]
    tempos: list[tuple[int, int]]  # (tick, microseconds per quarter)
    time_signatures: list[tuple[int, int, int]]
    key_signatures: list[tuple[int, int, int]]  # (tick, sharps, minor)
    markers: list[tuple[int, str]] = field(default_factory=list)  # short marker texts (chords)

    # ---- serialisation (no pickle) --------------------------------------------------------------
    # A 4-byte length, a small JSON head (resolution, format, counts, track names and flags), then
    # little-endian int32 arrays: tempos (n, 2), time signatures (n, 3), key signatures (n, 3),
    # and per track its notes (n, 4), controllers (n, 3) and bends (n, 2). Meta events used to
    # be in the JSON head (slow to encode for a tempo map); `from_bytes` reads both layouts.
    # Marker texts (possible chord symbols, short and bounded in number) are in the head.
    def to_bytes(self) -> bytes:
        events = (self.tempos, self.time_signatures, self.key_signatures)
        meta = {
            "ppq": self.source_ppq, "format": self.midi_format,
            "events": [len(e) for e in events],
            "tracks": [{"name": t.name, "program": t.program, "is_drum": t.is_drum,
                        "channel": t.channel, "notes": len(t.notes),
                        "controls": len(t.controls), "bends": len(t.bends)}
                       for t in self.tracks],
        }
        if self.markers:
            meta["markers"] = [[int(t), str(x)] for t, x in self.markers]
        head = json.dumps(meta).encode()
        parts = [len(head).to_bytes(4, "little"), head]
        for e in events:
            if e:
                parts.append(np.array(e, dtype="<i4").tobytes())
        for t in self.tracks:
            for a in (t.notes, t.controls, t.bends):
                if len(a):
                    parts.append(np.ascontiguousarray(a, dtype="<i4").tobytes())
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> ParsedMidi:
        n = int.from_bytes(data[:4], "little")
        meta = json.loads(data[4:4 + n])
        pos = 4 + n

        def rows(count: int, cols: int) -> np.ndarray:
            nonlocal pos
            a = np.frombuffer(data, dtype="<i4", count=count * cols, offset=pos)
            pos += count * cols * 4
            return a.reshape(count, cols).astype(np.int32)

        if "events" in meta:
            (nt, ns, nk) = meta["events"]
            tempos = [tuple(r) for r in rows(nt, 2).tolist()]
            sigs = [tuple(r) for r in rows(ns, 3).tolist()]
            keys = [tuple(r) for r in rows(nk, 3).tolist()]
        else:  # the first layout: meta events in the head
            tempos = [tuple(x) for x in meta["tempos"]]
            sigs = [tuple(x) for x in meta["time_signatures"]]
            keys = [tuple(x) for x in meta["key_signatures"]]
        tracks = []
        for tm in meta["tracks"]:
            arrays = [rows(tm["notes"], 4), rows(tm["controls"], 3), rows(tm["bends"], 2)]
            tracks.append(ParsedTrack(tm["name"], tm["program"], tm["is_drum"], *arrays,
                                      channel=tm.get("channel")))
        markers = [(int(t), str(x)) for t, x in meta.get("markers", [])]
        return cls(meta["ppq"], meta["format"], tracks, tempos, sigs, keys, markers)


def _rescale(ticks: np.ndarray, ppq: int) -> np.ndarray:
    if ppq == PPQ:
        return ticks.astype(np.int64)
    return np.floor(ticks.astype(np.int64) * PPQ / ppq + 0.5).astype(np.int64)


def parse_midi_bytes(data: bytes) -> ParsedMidi:
    """Parse a Standard MIDI File's bytes; raises ParseError with a reason."""
    import symusic  # imported here: the parent process never needs the native parser

    try:
        data = unwrap_riff(data)
        header = prescan(data)
    except ValueError as e:
        raise ParseError(str(e)) from None
    if header.ppq > limits.MAX_PPQ:
        raise ParseError(f"time division {header.ppq} is over the limit {limits.MAX_PPQ}")
    # symusic drops track chunks without notes and does not say which chunk or channel a track
    # came from. A light walk of each chunk's first events gives its channel and whether it has
    # notes. The file is parsed in one call; a chunk without notes but with channel events (a
    # program change, a sustain-pedal part) is an instrument track of its own, rebuilt from the
    # walk and put in its place. Only when the parsed tracks cannot be matched one to one with
    # the chunks that have notes (a chunk with several channels) is each chunk parsed on its
    # own, so that such a track keeps its place, its controllers and its channel.
    ppq = header.ppq
    scans = []
    for offset, length in header.chunks:
        chunk = data[offset:offset + length]
        scan = scan_track(chunk, max_bytes=256)
        if scan.has_note is None:  # a long chunk with no note at its start: ask the parser
            scan.has_note = len(_symusic_parse(symusic, _single_chunk_file(chunk, ppq), "")
                                .tracks) > 0
        if not scan.has_note and scan.channel is not None:
            try:
                scan = scan_track(chunk, collect=True)
            except ValueError as e:  # past an event limit
                raise ParseError(str(e)) from None
        scans.append(scan)
    try:
        score = _symusic_parse(symusic, data, "")
    except ParseError:
        score = None  # parse chunk by chunk: say which track is corrupt, or read past junk
    if score is not None:
        _check_note_count(score.note_num())
        _check_event_counts([score])
        noted = [s for s in scans if s.has_note]
        one_per_chunk = len(noted) == len(score.tracks)
        if all(s.has_note or s.channel is None for s in scans):
            parsed = _collect([score], [], ppq, header.format)
            if one_per_chunk:  # one track per chunk: channels known
                for t, s in zip(parsed.tracks, noted):
                    t.channel = s.channel
            return parsed
        if one_per_chunk and all(not s.name or s.name == str(t.name)
                                 for s, t in zip(noted, score.tracks)):
            return _collect([score], [scans], ppq, header.format)
    scores, total = [], 0
    for i, (offset, length) in enumerate(header.chunks):
        single = _single_chunk_file(data[offset:offset + length], ppq)
        score = _symusic_parse(symusic, single, f" in track {i + 1}")
        total += score.note_num()
        _check_note_count(total)
        scores.append(score)
        _check_event_counts(scores)
    return _collect(scores, [[s] for s in scans], ppq, header.format)


def _single_chunk_file(chunk: bytes, ppq: int) -> bytes:
    return (b"MThd" + (6).to_bytes(4, "big") + (1).to_bytes(2, "big") + (1).to_bytes(2, "big")
            + ppq.to_bytes(2, "big") + b"MTrk" + len(chunk).to_bytes(4, "big") + chunk)


def _symusic_parse(symusic, data: bytes, where: str):
    try:
        return symusic.Score.from_midi(data)
    except Exception as e:  # symusic raises RuntimeError/ValueError/IndexError
        raise ParseError(f"corrupt MIDI data{where} ({type(e).__name__}: {e})") from None


def _check_note_count(total: int) -> None:
    if total > limits.MAX_NOTES:
        raise ParseError(f"more than {limits.MAX_NOTES} notes (the limit)")


def _check_event_counts(scores) -> None:
    """Every event kind within its limit (`studio.midi.limits`), checked on the parser's counts
    before any array is built, so a file of millions of controllers never reaches the app."""
    counts = {"controller events": 0, "pitch bends": 0, "tempo changes": 0,
              "time signatures": 0, "key signatures": 0, "lyric and marker events": 0}
    for score in scores:
        counts["tempo changes"] += len(score.tempos)
        counts["time signatures"] += len(score.time_signatures)
        counts["key signatures"] += len(score.key_signatures)
        counts["lyric and marker events"] += len(score.markers)
        for t in score.tracks:
            counts["controller events"] += len(t.controls)
            counts["pitch bends"] += len(t.pitch_bends)
            counts["lyric and marker events"] += len(t.lyrics)
    most = {"controller events": limits.MAX_CONTROLS, "pitch bends": limits.MAX_PITCH_BENDS,
            "tempo changes": limits.MAX_TEMPOS, "time signatures": limits.MAX_SIGNATURES,
            "key signatures": limits.MAX_SIGNATURES,
            "lyric and marker events": limits.MAX_OTHER_EVENTS}
    for kind, n in counts.items():
        if n > most[kind]:
            raise ParseError(f"more than {most[kind]} {kind} (the limit)")


def _collect(scores, scan_groups, ppq: int, midi_format: int) -> ParsedMidi:
    """Merge scores (one for the file, or one per chunk) into tracks in chunk order.

    `scan_groups[i]` are the walks of the chunks score i came from: for the whole file, one
    track per chunk with notes (so each gets its chunk's channel); for a single chunk, every
    track of that chunk. Chunks without notes but with channel events become tracks of their
    own, in their place. No groups: tracks as the parser gave them, channels unknown."""
    tempos, sigs, keys, markers = [], [], [], []
    meta_ticks: list[tuple[int, int]] = []
    tracks: list[ParsedTrack] = []
    for i, score in enumerate(scores):
        tempos += _tempos(score, ppq, meta_ticks)
        sigs += _time_signatures(score, ppq, meta_ticks)
        keys += _key_signatures(score, ppq, meta_ticks)
        markers += _markers(score, ppq, meta_ticks, limits.MAX_CHORD_MARKERS - len(markers))
        new = _tracks(score.tracks, ppq)
        scans = scan_groups[i] if i < len(scan_groups) else []
        if len(scans) == 1:  # one chunk
            if not scans[0].has_note and scans[0].channel is not None:
                tracks.append(_scanned_track(scans[0], ppq))
            if len(new) == 1:
                new[0].channel = scans[0].channel
            tracks += new
        elif scans:  # the whole file: one track per chunk with notes, in chunk order
            pending = iter(new)
            for scan in scans:
                if scan.has_note:
                    track = next(pending)
                    track.channel = scan.channel
                    tracks.append(track)
                elif scan.channel is not None:
                    tracks.append(_scanned_track(scan, ppq))
        else:
            tracks += new
    for first, last in meta_ticks:
        if first < 0 or last > limits.MAX_TICKS:
            raise ParseError("meta events lie absurdly late (huge delta times)")
    return ParsedMidi(ppq, midi_format, tracks, tempos, sigs, keys, markers)


def _scanned_track(scan, ppq: int) -> ParsedTrack:
    """A chunk without notes (a program change, a pedal part) as a track, from its walk."""
    controls = np.array(scan.controls, dtype=np.int64).reshape(-1, 3)
    bends = np.array(scan.bends, dtype=np.int64).reshape(-1, 2)
    controls[:, 0] = _rescale(controls[:, 0], ppq)
    bends[:, 0] = _rescale(bends[:, 0], ppq)
    for arr in (controls, bends):
        if len(arr) and arr[:, 0].max() > limits.MAX_TICKS:
            raise ParseError("events lie absurdly late (huge delta times)")
    return ParsedTrack(scan.name, scan.program or 0, scan.channel == 9,
                       np.zeros((0, 4), np.int32), controls.astype(np.int32),
                       bends.astype(np.int32), channel=scan.channel)


# Meta events: a file has a handful, read one by one (numpy costs more for so few); a tempo map
# of hundreds goes through numpy. Both give the same ticks (exact integer products, one division).
_FEW_EVENTS = 16


def _tick(t: int, ppq: int) -> int:
    return t if ppq == PPQ else math.floor(t * PPQ / ppq + 0.5)


def _note_ticks(meta_ticks: list, ticks) -> None:
    """Remember the range of some meta events' ticks (checked once the tracks are read)."""
    if len(ticks):
        meta_ticks.append((int(min(ticks)), int(max(ticks))))


def _tempos(score, ppq: int, meta_ticks: list) -> list[tuple[int, int]]:
    events = score.tempos
    if len(events) <= _FEW_EVENTS:
        out = [(_tick(e.time, ppq), int(e.mspq)) for e in events]
        mspq = [m for _, m in out]
    else:
        tn = events.numpy()
        ticks, mspq = _rescale(tn["time"], ppq), tn["mspq"]
        out = list(zip(ticks.tolist(), mspq.tolist()))
    if len(out) and min(mspq) <= 0:
        raise ParseError("a tempo event says 0 microseconds per quarter note (tempo 0)")
    _note_ticks(meta_ticks, [t for t, _ in out])
    return out


def _valid_meter(num: int, den: int) -> bool:
    return num > 0 and den > 0 and not den & (den - 1)


def _time_signatures(score, ppq: int, meta_ticks: list) -> list[tuple[int, int, int]]:
    events = score.time_signatures
    if len(events) <= _FEW_EVENTS:
        out = [(_tick(e.time, ppq), int(e.numerator), int(e.denominator)) for e in events]
    else:
        sn = events.numpy()
        out = list(zip(_rescale(sn["time"], ppq).tolist(), sn["numerator"].tolist(),
                       sn["denominator"].tolist()))
    for _, num, den in out:
        if not _valid_meter(num, den):
            raise ParseError(f"invalid time signature {num}/{den}")
    _note_ticks(meta_ticks, [t for t, _, _ in out])
    return out


def _key_signatures(score, ppq: int, meta_ticks: list) -> list[tuple[int, int, int]]:
    events = score.key_signatures
    if len(events) <= _FEW_EVENTS:
        out = [(_tick(e.time, ppq), int(e.key), int(bool(e.tonality))) for e in events]
    else:
        kn = events.numpy()
        out = list(zip(_rescale(kn["time"], ppq).tolist(), kn["key"].tolist(),
                       (kn["tonality"] != 0).astype(np.int64).tolist()))
    out = [k for k in out if -7 <= k[1] <= 7]  # an impossible key signature is ignored
    _note_ticks(meta_ticks, [t for t, _, _ in out])
    return out


def _markers(score, ppq: int, meta_ticks: list, room: int) -> list[tuple[int, str]]:
    """Short marker texts (chord symbols), at most `room`; all markers were counted before."""
    out = []
    for e in score.markers:
        text = str(e.text).strip()
        if 0 < len(text) <= limits.MAX_MARKER_CHARS and len(out) < room:
            out.append((_tick(int(e.time), ppq), text))
    _note_ticks(meta_ticks, [t for t, _ in out])
    return out


def _tracks(sym_tracks, ppq: int) -> list[ParsedTrack]:
    """The parser's tracks as arrays: the notes of all tracks rescaled and checked together
    (a few numpy calls per file instead of a few dozen per track)."""
    sym_tracks = list(sym_tracks)
    if not sym_tracks:
        return []
    columns = [t.notes.numpy() for t in sym_tracks]
    counts = [len(c["time"]) for c in columns]
    total = sum(counts)
    notes = np.empty((total, 4), np.int32)
    if total:
        time = np.concatenate([c["time"] for c in columns]).astype(np.int64)
        end = time + np.concatenate([c["duration"] for c in columns])
        if ppq != PPQ:
            time, end = _rescale(time, ppq), _rescale(end, ppq)
        pitch = np.concatenate([c["pitch"] for c in columns])
        if time.min() < 0 or (end - time).min() < 0:
            raise ParseError("note times overflow (huge or corrupt delta times)")
        if end.max() > limits.MAX_TICKS:
            raise ParseError("notes lie absurdly late (huge delta times)")
        if pitch.min() < 0 or pitch.max() > 127:
            raise ParseError("note pitch outside 0-127")
        notes[:, 0] = pitch
        notes[:, 1] = time
        notes[:, 2] = end - time
        notes[:, 3] = np.concatenate([c["velocity"] for c in columns])
    out = []
    first = 0
    for t, n in zip(sym_tracks, counts):
        controls = bends = None
        if len(t.controls):
            cn = t.controls.numpy()
            controls = np.stack([_rescale(cn["time"], ppq), cn["number"].astype(np.int64),
                                 cn["value"].astype(np.int64)], axis=1)
            _check_event_ticks(controls)
            controls = controls.astype(np.int32)
        if len(t.pitch_bends):
            bn = t.pitch_bends.numpy()
            bends = np.stack([_rescale(bn["time"], ppq), bn["value"].astype(np.int64)], axis=1)
            _check_event_ticks(bends)
            bends = bends.astype(np.int32)
        out.append(ParsedTrack(str(t.name), t.program, t.is_drum, notes[first:first + n],
                               np.zeros((0, 3), np.int32) if controls is None else controls,
                               np.zeros((0, 2), np.int32) if bends is None else bends))
        first += n
    return out


def _check_event_ticks(arr: np.ndarray) -> None:
    if arr[:, 0].min() < 0 or arr[:, 0].max() > limits.MAX_TICKS:
        raise ParseError("events lie absurdly late (huge delta times)")


def song_from_parsed(parsed: ParsedMidi, title: str = "") -> Song:
    """Build the `Song` (notes sorted by start, channels assigned: drums on 9, others in order)."""
    song = Song(title=title)
    song.tempos = [TempoChange(t, 60_000_000 / m) for t, m in _dedupe(parsed.tempos)] or \
        [TempoChange(0, 120.0)]
    song.time_signatures = [TimeSignature(*s) for s in _dedupe(parsed.time_signatures)] or \
        [TimeSignature(0, 4, 4)]
    song.key_signatures = [KeySignature(t, k, bool(m)) for t, k, m in _dedupe(parsed.key_signatures)]
    song.chords = chords_from_markers(parsed.markers)
    used = {pt.channel for pt in parsed.tracks if pt.channel is not None}
    free = (ch for ch in list(range(9)) + list(range(10, 16)) + list(range(16)) * 64
            if ch not in used)
    for pt in parsed.tracks:
        if pt.is_drum:
            ch = 9
        elif pt.channel is not None and pt.channel != 9:
            ch = pt.channel
        else:  # unknown (several channels in one chunk): the next free channel
            ch = next(free, 0)
        order = np.lexsort((pt.notes[:, 0], pt.notes[:, 1])) if len(pt.notes) else []
        rows = pt.notes[order].tolist() if len(pt.notes) else []
        track = Track(pt.name, pt.program, pt.is_drum, ch,
                      [Note(p, s, d, v) for p, s, d, v in rows],
                      [ControlChange(*c) for c in pt.controls.tolist()],
                      [PitchBend(*b) for b in pt.bends.tolist()])
        song.tracks.append(track)
    return song


def _dedupe(events: list[tuple]) -> list[tuple]:
    """Sorted by tick; of several events at one tick the last wins."""
    by_tick: dict[int, tuple] = {}
    for e in sorted(events, key=lambda e: e[0]):
        by_tick[e[0]] = e
    return list(by_tick.values())


