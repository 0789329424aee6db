"""What a dataset keeps of one imported file: import options (filters and track selection), the
selection itself, per-piece metadata and histograms, and the stored piece format.

Everything here works on `ParsedMidi` arrays (numpy, no per-note objects), because it runs in the
import worker processes once per file. A stored piece is our own small binary format (no pickle):
b"SPC1", the length of the `ParsedMidi.to_bytes()` payload, the number of SATB steps, the payload,
then the (steps, 4) int8 SATB array when the dataset keeps four voices.
"""

from __future__ import annotations

import struct
from dataclasses import asdict, dataclass, field

import numpy as np

from studio.midi.parse import ParsedMidi, ParsedTrack, song_from_parsed
from studio.music.keys import _MAJOR_PROFILE, _MINOR_PROFILE, key_name
from studio.music.song import PPQ, KeySignature, Song

TRACK_SELECTIONS = ("all", "melody", "satb")
# Note lengths, as fractions of a whole note; bin edges lie halfway (geometrically) between them.
LENGTH_LABELS = ("1/32", "1/16", "1/8", "1/4", "1/2", "1", "longer")
_LENGTH_EDGES_QUARTERS = np.array([0.125, 0.25, 0.5, 1.0, 2.0, 4.0]) * np.sqrt(2)
# The length class of every duration in ticks up to the last edge (longer ones: the last class),
# so that classifying a file's notes is one clip and one lookup.
_LENGTH_CLASS = np.searchsorted(
    _LENGTH_EDGES_QUARTERS, np.arange(int(_LENGTH_EDGES_QUARTERS[-1] * PPQ) + 2) / PPQ)
GM_FAMILIES = ("Piano", "Chromatic percussion", "Organ", "Guitar", "Bass", "Strings", "Ensemble",
               "Brass", "Reed", "Pipe", "Synth lead", "Synth pad", "Synth effects", "Ethnic",
               "Percussive", "Sound effects")
_MAGIC = b"SPC1"


def _profiles() -> np.ndarray:
    """The 24 rotated Krumhansl-Kessler profiles (12 major, then 12 minor), centred and scaled,
    so that one matrix product gives every Pearson correlation at once."""
    rows = [np.roll(p, t) for p in (_MAJOR_PROFILE, _MINOR_PROFILE) for t in range(12)]
    m = np.array(rows, dtype=np.float64)
    m -= m.mean(axis=1, keepdims=True)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


_PROFILES = _profiles()


def fast_estimate_key(weights: np.ndarray) -> tuple[int, bool]:
    """The same answer as `studio.music.keys.estimate_key` (tonic, minor), in one product
    instead of 24 correlations: this runs once per imported file. (An elementwise product and
    a sum, not `@`: a matrix product wakes BLAS threads, which costs more than the sum.)"""
    w = np.asarray(weights, dtype=np.float64)
    if w.max() == w.min():  # no key to find (a correlation needs some spread)
        return 0, False
    # The profiles are centred and scaled: centring and scaling `w` would change every
    # correlation by the same positive factor, so the best key is the same without it.
    i = int(np.argmax((_PROFILES * w).sum(axis=1)))
    return i % 12, i >= 12


@dataclass
class ImportOptions:
    """Filters and track selection applied to every file of an import."""

    tracks: str = "all"  # "all", "melody" (one monophonic line) or "satb" (four voices)
    exclude_drums: bool = True
    min_seconds: float = 0.0
    meters: tuple[str, ...] = field(default_factory=tuple)  # e.g. ("4/4", "3/4"); empty = any

    def __post_init__(self) -> None:
        if self.tracks not in TRACK_SELECTIONS:
            raise ValueError(f"track selection must be one of {', '.join(TRACK_SELECTIONS)}")
        self.meters = tuple(str(m).strip() for m in self.meters if str(m).strip())
        for m in self.meters:
            num, _, den = m.partition("/")
            if not (num.isdigit() and den.isdigit() and int(num) > 0 and int(den) > 0):
                raise ValueError(f"a meter is written like 4/4 or 6/8, not {m!r}")
        if self.min_seconds < 0:
            raise ValueError("the minimum length cannot be negative")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["meters"] = list(self.meters)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ImportOptions:
        return cls(tracks=d.get("tracks", "all"), exclude_drums=bool(d.get("exclude_drums", True)),
                   min_seconds=float(d.get("min_seconds", 0.0)),
                   meters=tuple(d.get("meters", ())))

    def describe(self) -> str:
        parts = [{"all": "all tracks", "melody": "melody only", "satb": "four voices (SATB)"}
                 [self.tracks]]
        parts.append("drums excluded" if self.exclude_drums else "drums kept")
        if self.min_seconds:
            parts.append(f"at least {self.min_seconds:g} s")
        if self.meters:
            parts.append("meter " + " or ".join(self.meters))
        return ", ".join(parts)


# ---- selection and filters ----------------------------------------------------------------------

def _with_tracks(parsed: ParsedMidi, tracks: list[ParsedTrack]) -> ParsedMidi:
    return ParsedMidi(parsed.source_ppq, parsed.midi_format, tracks, parsed.tempos,
                      parsed.time_signatures, parsed.key_signatures)


def melody_track(tracks: list[ParsedTrack]) -> ParsedTrack | None:
    """The likeliest melody: of the tracks with at least a quarter of the busiest track's notes,
    the highest by mean pitch, reduced to one line (the highest note wins where notes overlap)."""
    pitched = [t for t in tracks if not t.is_drum and len(t.notes)]
    if not pitched:
        return None
    most = max(len(t.notes) for t in pitched)
    candidates = [t for t in pitched if len(t.notes) >= most / 4]
    best = max(candidates, key=lambda t: float(t.notes[:, 0].mean()))
    notes = best.notes[np.lexsort((-best.notes[:, 0], best.notes[:, 1]))]
    first = np.ones(len(notes), dtype=bool)
    first[1:] = notes[1:, 1] != notes[:-1, 1]  # highest note of each onset
    notes = notes[first].copy()
    if len(notes) > 1:
        gap = notes[1:, 1] - notes[:-1, 1]
        notes[:-1, 2] = np.minimum(notes[:-1, 2], gap)
    return ParsedTrack(best.name or "Melody", best.program, False, notes.astype(np.int32))


def song_seconds(parsed: ParsedMidi, end_tick: int) -> float:
    """Seconds from the start to `end_tick` under the file's tempo changes (120 qpm before the
    first; of several changes at one tick the last counts, as when the song is built). The sum
    of ticks x microseconds is exact (integers), then divided once."""
    if len(parsed.tempos) > 16:  # a tempo map (rubato): numpy
        arr = np.array(parsed.tempos, np.int64).reshape(-1, 2)
        arr = np.vstack(([[0, 500_000]], arr[np.argsort(arr[:, 0], kind="stable")]))
        last = np.append(arr[1:, 0] != arr[:-1, 0], True)
        ticks, mspq = arr[last, 0], arr[last, 1]
        stops = np.minimum(np.append(ticks[1:], end_tick), end_tick)
        total = int((np.maximum(stops - ticks, 0) * mspq).sum())
        return total / 1e6 / PPQ
    by_tick = {0: 500_000}
    for tick, mspq in sorted(parsed.tempos, key=lambda t: t[0]):
        by_tick[tick] = mspq
    ticks = sorted(by_tick)
    total = 0
    for i, tick in enumerate(ticks):
        if tick >= end_tick:
            break
        stop = min(end_tick, ticks[i + 1]) if i + 1 < len(ticks) else end_tick
        total += (stop - tick) * by_tick[tick]
    return total / 1e6 / PPQ


def end_tick(parsed: ParsedMidi) -> int:
    ends = [int((t.notes[:, 1] + t.notes[:, 2]).max()) for t in parsed.tracks if len(t.notes)]
    return max(ends, default=0)


def meters_of(parsed: ParsedMidi) -> list[str]:
    seen: list[str] = []
    for _, num, den in sorted(parsed.time_signatures) or [(0, 4, 4)]:
        m = f"{num}/{den}"
        if m not in seen:
            seen.append(m)
    return seen


def select(parsed: ParsedMidi, options: ImportOptions
           ) -> tuple[ParsedMidi | None, np.ndarray | None, str | None]:
    """Apply the options: (selected music, SATB array or None, reason it was filtered out)."""
    tracks = [t for t in parsed.tracks if len(t.notes) and not (options.exclude_drums
                                                                and t.is_drum)]
    if not tracks:
        drums_only = any(len(t.notes) and t.is_drum for t in parsed.tracks)
        return None, None, ("no notes once drums are excluded" if drums_only
                            and options.exclude_drums else "this file has no notes")
    if options.meters:
        bad = [m for m in meters_of(parsed) if m not in options.meters]
        if bad:
            return None, None, f"meter {', '.join(bad)} is not {' or '.join(options.meters)}"
    satb = None
    if options.tracks == "melody":
        melody = melody_track(tracks)
        if melody is None:
            return None, None, "no pitched track for a melody"
        tracks = [melody]
        selected = _with_tracks(parsed, tracks)
    elif options.tracks == "satb":
        from studio.music.grids import satb_to_song, song_to_satb

        song = song_from_parsed(_with_tracks(parsed, [t for t in tracks if not t.is_drum]))
        satb = song_to_satb(song)
        if len(satb) == 0 or not (satb >= 0).any():
            return None, None, "no pitched notes for four voices"
        voices = satb_to_song(satb, qpm=song.tempos[0].qpm)
        voices.time_signatures = song.time_signatures
        voices.key_signatures = song.key_signatures
        selected = parsed_from_song(voices, parsed.source_ppq, parsed.midi_format)
    else:
        selected = _with_tracks(parsed, tracks)
    if options.min_seconds:
        seconds = song_seconds(selected, end_tick(selected))
        if seconds < options.min_seconds:
            return None, None, f"{seconds:.1f} s long, shorter than {options.min_seconds:g} s"
    return selected, satb, None


def parsed_from_song(song: Song, source_ppq: int = PPQ, midi_format: int = 1) -> ParsedMidi:
    """The inverse of `song_from_parsed` (notes, controllers, bends and meta events)."""
    tracks = []
    for t in song.tracks:
        notes = np.array([(n.pitch, n.start, n.duration, n.velocity) for n in t.notes],
                         dtype=np.int32).reshape(-1, 4)
        tracks.append(ParsedTrack(t.name, t.program, t.is_drum, notes,
                                  np.array(t.controls, np.int32).reshape(-1, 3),
                                  np.array(t.pitch_bends, np.int32).reshape(-1, 2)))
    return ParsedMidi(source_ppq, midi_format, tracks,
                      [(t.tick, t.microseconds_per_quarter) for t in song.tempos],
                      [(s.tick, s.numerator, s.denominator) for s in song.time_signatures],
                      [(k.tick, k.sharps, int(k.minor)) for k in song.key_signatures])


# ---- metadata and histograms --------------------------------------------------------------------

def histograms(parsed: ParsedMidi, notes: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """(notes per MIDI pitch (128,), notes per length class (len(LENGTH_LABELS),)), drums left out.
    `notes`: the pitched notes, when the caller has them together already."""
    if notes is None:
        notes = _pitched_notes(parsed)
    if not len(notes):
        return np.zeros(128, np.int64), np.zeros(len(LENGTH_LABELS), np.int64)
    pitch_hist = np.bincount(notes[:, 0], minlength=128)[:128].astype(np.int64)
    lengths = _LENGTH_CLASS.take(notes[:, 2], mode="clip")  # past the table: the last class
    return pitch_hist, np.bincount(lengths, minlength=len(LENGTH_LABELS)).astype(np.int64)


def _pitched_notes(parsed: ParsedMidi) -> np.ndarray:
    pitched = [t.notes for t in parsed.tracks if not t.is_drum and len(t.notes)]
    return np.concatenate(pitched) if pitched else np.zeros((0, 4), np.int32)


def summarize(parsed: ParsedMidi) -> tuple[dict, np.ndarray, np.ndarray]:
    """Metadata and both histograms in one pass over the notes (what an import worker needs)."""
    notes = _pitched_notes(parsed)
    pitch_hist, length_hist = histograms(parsed, notes)
    return piece_metadata(parsed, notes, pitch_hist), pitch_hist, length_hist


def instrument_name(program: int, is_drum: bool) -> str:
    return "Drums" if is_drum else GM_FAMILIES[(program & 0x7F) // 8]


def piece_metadata(parsed: ParsedMidi, notes: np.ndarray | None = None,
                   pitch_hist: np.ndarray | None = None) -> dict:
    """Duration, tracks, notes, pitch range, key and time signatures, instruments, tempo.
    `notes`, `pitch_hist`: the pitched notes and their histogram, when the caller has them."""
    if notes is None:
        notes = _pitched_notes(parsed)
    used = np.flatnonzero(pitch_hist) if pitch_hist is not None and len(notes) else None
    drums = [t.notes for t in parsed.tracks if t.is_drum and len(t.notes)]
    end = int((notes[:, 1] + notes[:, 2]).max()) if len(notes) else 0
    if drums:
        end = max(end, end_tick(_with_tracks(parsed, [t for t in parsed.tracks if t.is_drum])))
    meta: dict = {
        "seconds": round(song_seconds(parsed, end), 3), "ticks": end,
        "tracks": len(parsed.tracks), "notes": int(sum(len(t.notes) for t in parsed.tracks)),
        "pitch_min": None if not len(notes) else int(notes[:, 0].min()) if used is None
        else int(used[0]),
        "pitch_max": None if not len(notes) else int(notes[:, 0].max()) if used is None
        else int(used[-1]),
        "time_signatures": meters_of(parsed),
        "tempo": round(60_000_000 / min(parsed.tempos)[1], 2) if parsed.tempos else 120.0,
        "instruments": sorted({instrument_name(t.program, t.is_drum) for t in parsed.tracks}),
        "programs": sorted({int(t.program) for t in parsed.tracks if not t.is_drum}),
    }
    first = min(parsed.key_signatures, default=None)
    meta["key_signature"] = KeySignature(0, first[1], bool(first[2])).name if first else None
    if len(notes):
        # duration per pitch, folded to pitch classes (integer sums: exact in any order)
        weights = np.bincount(notes[:, 0], weights=notes[:, 2], minlength=132)[:132]
        weights = weights.reshape(11, 12).sum(axis=0)
        tonic, minor = fast_estimate_key(weights)
        meta["key_estimated"] = key_name(tonic, minor)
    else:
        meta["key_estimated"] = None
    meta["key"] = meta["key_signature"] or meta["key_estimated"] or ""
    return meta


# ---- stored piece format ------------------------------------------------------------------------

def encode_piece(parsed: ParsedMidi, satb: np.ndarray | None = None) -> bytes:
    payload = parsed.to_bytes()
    steps = 0 if satb is None else len(satb)
    parts = [_MAGIC, struct.pack("<II", len(payload), steps), payload]
    if satb is not None:
        parts.append(np.ascontiguousarray(satb, dtype=np.int8).reshape(-1, 4).tobytes())
    return b"".join(parts)


def decode_piece(data: bytes) -> tuple[ParsedMidi, np.ndarray | None]:
    """Raises ValueError when the bytes are not a complete stored piece."""
    if data[:4] != _MAGIC or len(data) < 12:
        raise ValueError("not a stored piece")
    n, steps = struct.unpack("<II", data[4:12])
    if len(data) != 12 + n + 4 * steps:
        raise ValueError("the stored piece is truncated")
    try:
        parsed = ParsedMidi.from_bytes(data[12:12 + n])
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise ValueError(f"the stored piece is damaged ({e})") from None
    satb = None
    if steps:
        satb = np.frombuffer(data, dtype=np.int8, count=4 * steps, offset=12 + n).reshape(steps, 4)
    return parsed, satb


def hist_to_text(hist: np.ndarray) -> str:
    """A histogram as hex text (little-endian int32): compact in JSON messages and the journal."""
    return np.ascontiguousarray(hist, dtype="<i4").tobytes().hex()


def hist_from_text(text: str | list) -> np.ndarray:
    if isinstance(text, list):
        return np.asarray(text, np.int64)
    return np.frombuffer(bytes.fromhex(text), dtype="<i4").astype(np.int64)
