"""Reading the user's song for generation: melodies as 16th-step pitches or tokens, bars, keys,
octave fitting into a model's range, and the four-voice view of a song for infill.

Everything here reads the song and never changes it. Ticks are the song's (480 PPQ); a model
step is a 16th note (120 ticks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.ml.errors import GenerationError
from studio.music.grids import SIXTEENTH, VOICE_NAMES, note_steps
from studio.music.keys import pitch_name, scale_pitch_classes
from studio.music.song import Song, Track
from studio.music.timing import bar_lines
from studio.music.tokens import tokens_to_pitches, track_to_tokens

STEP = SIXTEENTH


def to_step(tick: int) -> int:
    return int(round(tick / STEP))


def bar_ticks_at(song: Song, tick: int) -> int:
    return song.time_signature_at(tick).bar_ticks


def steps_per_bar(song: Song, tick: int = 0) -> int:
    """16th steps in the bar at `tick` (after a pickup bar: in the bar that follows it)."""
    if tick < pickup_end(song):
        tick = pickup_end(song)
    return max(1, bar_ticks_at(song, tick) // STEP)


def pickup_end(song: Song) -> int:
    """Tick where the first full bar starts after a pickup (anacrusis), 0 without one.

    A pickup is written as MIDI files write it: a first bar shorter than the bars after it,
    with the song's meter starting at its end."""
    sigs = sorted(song.time_signatures, key=lambda s: s.tick)
    if len(sigs) >= 2 and sigs[0].tick == 0 and sigs[1].tick == sigs[0].bar_ticks \
            and sigs[0].bar_ticks < sigs[1].bar_ticks:
        return sigs[1].tick
    return 0


def meter_words(song: Song, tick: int) -> str:
    ts = song.time_signature_at(max(tick, pickup_end(song)))
    return f"{ts.numerator}/{ts.denominator}"


def bar_count(song: Song, start: int, end: int) -> int:
    """How many bars (of the song's own meter, a pickup counting as one) [start, end) touches."""
    if end <= start:
        return 0
    return bar_number(song, end - 1) - bar_number(song, start) + 1


def check_length(song: Song, start: int, end: int, what: str, verb: str,
                 limit_bars: int | None = None) -> None:
    """GenerationError when [start, end) is longer than a model reads in one go (`limit_bars`
    bars of 4/4, by default MAX_BARS, i.e. that many times 16 steps), counted and said in the
    song's own bars."""
    from studio.ml.generation.request import MAX_BARS

    limit = (limit_bars or MAX_BARS) * 16
    if (end - start) // STEP <= limit:
        return
    bars = bar_count(song, start, end)
    most = limit // steps_per_bar(song, start)
    raise GenerationError(f"{what} is {bars} bars of {meter_words(song, start)} long; {verb} "
                          f"at most {most} bars of it at a time (select a time range)")


def check_not_in_pickup(song: Song, start: int, end: int) -> None:
    """GenerationError for a range that lies wholly inside the pickup bar."""
    first = pickup_end(song)
    if first and end <= first:
        beats = first // (STEP * 16 // song.time_signatures[0].denominator)
        raise GenerationError(f"the selection lies inside the pickup bar (the {beats}-beat "
                              "upbeat before bar 2); select a range that reaches into the "
                              "full bars after it")


def bar_start(song: Song, tick: int) -> int:
    """The bar line at or before `tick`."""
    lines = bar_lines(max(0, tick), song.time_signatures)
    return max([t for t in lines if t <= tick], default=0)


def next_bar(song: Song, tick: int) -> int:
    """The bar line at or after `tick`."""
    start = bar_start(song, tick)
    return start if start == tick else start + bar_ticks_at(song, start)


def bar_number(song: Song, tick: int) -> int:
    """1-based bar number of `tick`."""
    return len([t for t in bar_lines(max(0, tick), song.time_signatures) if t <= tick])


def pitched_track(song: Song, track_id: int, what: str = "melody") -> Track:
    try:
        track = song.track(track_id)
    except KeyError:
        raise GenerationError(f"the {what} track is not in the song any more") from None
    if track.is_drum:
        raise GenerationError(f"{track.name or 'that track'} is a drum track; choose a track "
                              f"with a {what}")
    return track


def notes_in(track: Track, start: int, end: int) -> list:
    """Notes of the track that start in [start, end)."""
    return [n for n in track.notes if start <= n.start < end]


def melody_tokens(track: Track, start: int, end: int) -> np.ndarray:
    """Melody tokens (skyline) of the track from tick `start` to `end`, one per 16th."""
    return track_to_tokens(track, STEP, start=start, steps=max(0, to_step(end) - to_step(start)))


def melody_pitches(track: Track, start: int, end: int) -> np.ndarray:
    """Per-16th pitches (-1 silent) of the track's highest line from `start` to `end`."""
    return tokens_to_pitches(melody_tokens(track, start, end)).astype(np.int64)


def track_extent(track: Track) -> tuple[int, int]:
    """(first note start, last note end) ticks; GenerationError when the track is empty."""
    if not track.notes:
        raise GenerationError(f"{track.name or 'the selected track'} has no notes")
    return min(n.start for n in track.notes), max(n.end for n in track.notes)


def octave_shift(pitches: np.ndarray, low: int, high: int) -> int:
    """The shift in whole octaves that puts most sounding pitches into [low, high] (the
    smallest such shift), 0 for an empty melody."""
    p = np.asarray(pitches)
    p = p[p >= 0]
    if not len(p):
        return 0
    best = (-1, 0)
    for octaves in sorted(range(-5, 6), key=abs):
        s = 12 * octaves
        inside = int(((p + s >= low) & (p + s <= high)).sum())
        if inside > best[0]:
            best = (inside, s)
    return best[1]


def shift_words(shift: int) -> str:
    n = abs(shift) // 12
    return f"{n} octave{'s' if n > 1 else ''} {'higher' if shift > 0 else 'lower'}"


def allowed_pitches(key: tuple[int, bool] | None, pitch_range: tuple[int, int] | None,
                    shift: int = 0) -> list[int] | None:
    """MIDI pitches a melody model may write (in the model's transposed frame: `shift` added),
    or None for no constraint."""
    if key is None and pitch_range is None:
        return None
    lo, hi = pitch_range if pitch_range is not None else (0, 127)
    scale = scale_pitch_classes(int(key[0]) % 12, bool(key[1])) if key is not None else None
    out = [p + shift for p in range(lo, hi + 1)
           if (scale is None or p % 12 in scale) and 0 <= p + shift <= 127]
    if not out:
        raise GenerationError(f"no note of the chosen key lies between {pitch_name(lo)} and "
                              f"{pitch_name(hi)}; widen the pitch range")
    return out


@dataclass
class VoiceView:
    """The four-voice reading of part of a song (for infill and re-harmonizing).

    start: tick of the first step (on the 16th grid).
    satb: (steps, 4) pitches, -1 silent.
    tracks: the track of each voice (None: no track sings it).
    note_start: (steps, 4) start tick of the note sounding in each cell, -1 where silent.
    """

    start: int
    satb: np.ndarray
    tracks: list[Track | None]
    note_start: np.ndarray


def voice_tracks(song: Song) -> list[Track | None]:
    """Which track sings each voice: tracks named Soprano/Alto/Tenor/Bass; else two to four
    pitched tracks by mean pitch (highest = soprano); else one track holds all four voices."""
    tracks = [t for t in song.tracks if not t.is_drum and t.notes]
    if not tracks:
        raise GenerationError("the song has no notes to work from")
    by_name: dict[str, Track] = {}
    for t in tracks:
        low = t.name.strip().lower()
        for v in VOICE_NAMES:
            if low.startswith(v.lower()) and v not in by_name:
                by_name[v] = t
    if len(by_name) >= 2:
        out = [by_name.get(v) for v in VOICE_NAMES]
        others = sorted((t for t in tracks if t not in by_name.values()),
                        key=lambda t: -float(np.mean([n.pitch for n in t.notes])))
        if out[0] is None and others:  # e.g. "Melody" above named Alto, Tenor and Bass
            out[0] = others.pop(0)
        if out[3] is None and others:
            out[3] = others.pop()
        return out
    if len(tracks) == 1:
        return [tracks[0]] * 4
    if len(tracks) > 4:
        raise GenerationError(f"a four-voice model reads music of up to four parts; this song "
                              f"has {len(tracks)} tracks with notes (name four of them Soprano, "
                              "Alto, Tenor and Bass to choose)")
    ranked = sorted(tracks, key=lambda t: -float(np.mean([n.pitch for n in t.notes])))
    slots = {2: (0, 3), 3: (0, 1, 3), 4: (0, 1, 2, 3)}[len(ranked)]
    out: list[Track | None] = [None] * 4
    for t, v in zip(ranked, slots):
        out[v] = t
    return out


def voice_view(song: Song, start: int, end: int,
               tracks: list[Track | None] | None = None) -> VoiceView:
    """The four voices of the song between `start` and `end` ticks (voices from
    `voice_tracks` unless `tracks` gives the track of each)."""
    tracks = voice_tracks(song) if tracks is None else tracks
    first, steps = to_step(start), max(0, to_step(end) - to_step(start))
    satb = np.full((steps, 4), -1, np.int64)
    note_start = np.full((steps, 4), -1, np.int64)
    done: set[int] = set()
    for t in tracks:
        if t is None or id(t) in done:
            continue
        done.add(id(t))
        voices = [v for v, x in enumerate(tracks) if x is t]
        # per step, the sounding notes of the track
        sounding: list[list] = [[] for _ in range(steps)]
        for n in t.notes:
            s, e = note_steps(n, STEP)
            for i in range(max(s, first), min(e, first + steps)):
                sounding[i - first].append(n)
        for i, notes in enumerate(sounding):
            if not notes:
                continue
            notes.sort(key=lambda n: (-n.pitch, n.start))
            if len(voices) == 1:
                pick = {voices[0]: notes[0] if voices[0] < 2 else notes[-1]}
            else:  # chords split: highest to the soprano, lowest to the bass, then inward
                k = len(notes)
                order = {1: [0], 2: [0, 3], 3: [0, 1, 3]}.get(k, [0, 1, 2, 3])
                chosen = notes if k < 4 else [notes[0], notes[1], notes[-2], notes[-1]]
                pick = {voices[j]: chosen[n] for n, j in enumerate(order)}
            for v, n in pick.items():
                satb[i, v] = n.pitch
                note_start[i, v] = n.start
    return VoiceView(first * STEP, satb, tracks, note_start)

