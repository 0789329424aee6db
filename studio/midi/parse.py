"""In-process MIDI parsing into plain arrays, with symusic (a C++ parser, ~100x pretty_midi).

`parse_midi_bytes` is what runs inside the isolated parser process (`studio.midi.isolation`) and
inside dataset-import workers: symusic is native code, so a pathological file could in principle
crash the process that calls it; the app itself never calls this directly on user files.

`ParsedMidi` is plain numpy arrays and small tuples, rescaled to 480 PPQ, checked against
`studio.midi.limits`, and (de)serialisable to bytes without pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from studio.midi import limits
from studio.midi.prescan import prescan, scan_track, unwrap_riff
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

    # ---- serialisation (no pickle) --------------------------------------------------------------
    def to_bytes(self) -> bytes:
        meta = {
            "ppq": self.source_ppq, "format": self.midi_format, "tempos": self.tempos,
            "time_signatures": self.time_signatures, "key_signatures": self.key_signatures,
            "tracks": [{"name": t.name, "program": t.program, "is_drum": t.is_drum,
                        "channel": t.channel, "notes": len(t.notes),
                        "controls": len(t.controls), "bends": len(t.bends)}
                       for t in self.tracks],
        }
        head = json.dumps(meta).encode()
        parts = [len(head).to_bytes(4, "little"), head]
        for t in self.tracks:
            for a in (t.notes, t.controls, t.bends):
                parts.append(np.ascontiguousarray(a, dtype="<i4").tobytes())
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> ParsedMidi:
        n = int.from_bytes(data[:4], "little")
        meta = json.loads(data[4:4 + n])
        pos = 4 + n
        tracks = []
        for tm in meta["tracks"]:
            arrays = []
            for rows, cols in ((tm["notes"], 4), (tm["controls"], 3), (tm["bends"], 2)):
                size = rows * cols * 4
                arrays.append(np.frombuffer(data, dtype="<i4", count=rows * cols, offset=pos)
                              .reshape(rows, cols).astype(np.int32))
                pos += size
            tracks.append(ParsedTrack(tm["name"], tm["program"], tm["is_drum"], *arrays,
                                      channel=tm.get("channel")))
        return cls(meta["ppq"], meta["format"], tracks, [tuple(x) for x in meta["tempos"]],
                   [tuple(x) for x in meta["time_signatures"]],
                   [tuple(x) for x in meta["key_signatures"]])


def _rescale(ticks: np.ndarray, ppq: int) -> np.ndarray:
    if ppq == PPQ:
        return ticks.astype(np.int64)
    return np.floor(ticks.astype(np.int64) * PPQ / ppq + 0.5).astype(np.int64)


def parse_midi_bytes(data: bytes) -> ParsedMidi:
    """Parse a Standard MIDI File's bytes; raises ParseError with a reason."""
    import symusic  # imported here: the parent process never needs the native parser

    data = unwrap_riff(data)
    try:
        header = prescan(data)
    except ValueError as e:
        raise ParseError(str(e)) from None
    if header.ppq > limits.MAX_PPQ:
        raise ParseError(f"time division {header.ppq} is over the limit {limits.MAX_PPQ}")
    # symusic drops track chunks without notes and does not say which chunk or channel a track
    # came from. A light walk of each chunk's first events gives its channel and whether it has
    # notes. Files whose chunks all have notes (or are conductor tracks) are parsed in one
    # call; a chunk without notes but with channel events (a program change, a sustain-pedal
    # part) is an instrument track of its own: then each chunk is parsed on its own, so that
    # track keeps its place, its controllers and its channel.
    ppq = header.ppq
    scans = []
    for offset, length in header.chunks:
        chunk = data[offset:offset + length]
        scan = scan_track(chunk, max_bytes=256)
        if scan.has_note is None:  # a long chunk with no note at its start: ask the parser
            scan.has_note = len(_symusic_parse(symusic, _single_chunk_file(chunk, ppq), "")
                                .tracks) > 0
        if not scan.has_note and scan.channel is not None:
            scan = scan_track(chunk, collect=True)
        scans.append(scan)
    if not any(not s.has_note and s.channel is not None for s in scans):
        score = _symusic_parse(symusic, data, "")
        _check_note_count(sum(t.note_num() for t in score.tracks))
        parsed = _collect([score], [], ppq, header.format)
        note_channels = [s.channel for s in scans if s.has_note]
        if len(note_channels) == len(parsed.tracks):  # one track per chunk: channels known
            for t, ch in zip(parsed.tracks, note_channels):
                t.channel = ch
        return parsed
    scores, total = [], 0
    for i, (offset, length) in enumerate(header.chunks):
        single = _single_chunk_file(data[offset:offset + length], ppq)
        score = _symusic_parse(symusic, single, f" in track {i + 1}")
        total += sum(t.note_num() for t in score.tracks)
        _check_note_count(total)
        scores.append(score)
    return _collect(scores, scans, ppq, header.format)


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


def _collect(scores, scans, ppq: int, midi_format: int) -> ParsedMidi:
    """Merge scores (one per chunk, or one for the file): meta events from all, tracks in
    chunk order, with the chunks that have no notes (`scans`) as tracks of their own."""
    tempos, sigs, keys = [], [], []
    tracks: list[ParsedTrack] = []
    for i, score in enumerate(scores):
        tempos += _tempos(score, ppq)
        sigs += _time_signatures(score, ppq)
        keys += _key_signatures(score, ppq)
        scan = scans[i] if i < len(scans) else None
        if scan is not None and not scan.has_note and scan.channel is not None:
            controls = np.array(scan.controls, dtype=np.int64).reshape(-1, 3)
            bends = np.array(scan.bends, dtype=np.int64).reshape(-1, 2)
            controls[:, 0] = _rescale(controls[:, 0], ppq)
            bends[:, 0] = _rescale(bends[:, 0], ppq)
            for arr in (controls, bends):
                if len(arr) and arr[:, 0].max() > limits.MAX_TICKS:
                    raise ParseError("events lie absurdly late (huge delta times)")
            tracks.append(ParsedTrack(scan.name, scan.program or 0, scan.channel == 9,
                                      np.zeros((0, 4), np.int32), controls.astype(np.int32),
                                      bends.astype(np.int32), channel=scan.channel))
        new_tracks = [_track(t, ppq) for t in score.tracks]
        if scan is not None and len(new_tracks) == 1:
            new_tracks[0].channel = scan.channel
        tracks += new_tracks
    for tick, *_ in tempos + sigs + keys:
        if tick < 0 or tick > limits.MAX_TICKS:
            raise ParseError("meta events lie absurdly late (huge delta times)")
    return ParsedMidi(ppq, midi_format, tracks, tempos, sigs, keys)


def _tempos(score, ppq: int) -> list[tuple[int, int]]:

    tempos: list[tuple[int, int]] = []
    if len(score.tempos):
        tn = score.tempos.numpy()
        for tick, mspq in zip(_rescale(tn["time"], ppq).tolist(), tn["mspq"].tolist()):
            if mspq <= 0:
                raise ParseError("a tempo event says 0 microseconds per quarter note (tempo 0)")
            tempos.append((tick, int(mspq)))
    return tempos


def _time_signatures(score, ppq: int) -> list[tuple[int, int, int]]:
    sigs = []
    if len(score.time_signatures):
        sn = score.time_signatures.numpy()
        for tick, num, den in zip(_rescale(sn["time"], ppq).tolist(), sn["numerator"].tolist(),
                                  sn["denominator"].tolist()):
            if num <= 0 or den <= 0 or den & (den - 1):
                raise ParseError(f"invalid time signature {num}/{den}")
            sigs.append((tick, int(num), int(den)))
    return sigs


def _key_signatures(score, ppq: int) -> list[tuple[int, int, int]]:
    keys = []
    if len(score.key_signatures):
        kn = score.key_signatures.numpy()
        for tick, k, tonality in zip(_rescale(kn["time"], ppq).tolist(), kn["key"].tolist(),
                                     kn["tonality"].tolist()):
            if -7 <= k <= 7:  # an impossible key signature is ignored, not fatal
                keys.append((tick, int(k), int(bool(tonality))))
    return keys


def _track(t, ppq: int) -> ParsedTrack:
    nn = t.notes.numpy()
    start = _rescale(nn["time"], ppq)
    end = _rescale(nn["time"].astype(np.int64) + nn["duration"], ppq)
    notes = np.stack([nn["pitch"].astype(np.int64), start, end - start,
                      nn["velocity"].astype(np.int64)], axis=1) if len(start) else \
        np.zeros((0, 4), np.int64)
    if len(notes):
        if notes[:, 1].min() < 0 or notes[:, 2].min() < 0:
            raise ParseError("note times overflow (huge or corrupt delta times)")
        if (notes[:, 1] + notes[:, 2]).max() > limits.MAX_TICKS:
            raise ParseError("notes lie absurdly late (huge delta times)")
        if notes[:, 0].min() < 0 or notes[:, 0].max() > 127:
            raise ParseError("note pitch outside 0-127")
    controls = np.zeros((0, 3), np.int64)
    if len(t.controls):
        cn = t.controls.numpy()
        controls = np.stack([_rescale(cn["time"], ppq), cn["number"].astype(np.int64),
                             cn["value"].astype(np.int64)], axis=1)
    bends = np.zeros((0, 2), np.int64)
    if len(t.pitch_bends):
        bn = t.pitch_bends.numpy()
        bends = np.stack([_rescale(bn["time"], ppq), bn["value"].astype(np.int64)], axis=1)
    for arr in (controls, bends):
        if len(arr) and (arr[:, 0].min() < 0 or arr[:, 0].max() > limits.MAX_TICKS):
            raise ParseError("events lie absurdly late (huge delta times)")
    return ParsedTrack(str(t.name), int(t.program), bool(t.is_drum),
                       notes.astype(np.int32), controls.astype(np.int32),
                       bends.astype(np.int32))


def song_from_parsed(parsed: ParsedMidi, title: str = "") -> Song:
    """Build the `Song` (notes sorted by start, channels assigned: drums on 9, others in order)."""
    song = Song(title=title)
    song.tempos = [TempoChange(t, 60_000_000 / m) for t, m in _dedupe(parsed.tempos)] or \
        [TempoChange(0, 120.0)]
    song.time_signatures = [TimeSignature(*s) for s in _dedupe(parsed.time_signatures)] or \
        [TimeSignature(0, 4, 4)]
    song.key_signatures = [KeySignature(t, k, bool(m)) for t, k, m in _dedupe(parsed.key_signatures)]
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


