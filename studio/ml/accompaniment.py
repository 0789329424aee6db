"""The pop-accompaniment representation (`accompaniment/3`): a melody, chords and a piano part on
a grid of model steps, and back from predicted onsets to piano notes.

A model step is a 16th of a quarter-note beat (120 ticks): POP909's beats are quarters, four steps
each. A 6/8 bar is read with eighth-note beats (24 steps of 60 ticks): six beats grouped three and
three, like the 6-beat bars of POP909's 29 six-beat songs (there the beats are quarters at about
106 a minute, the melody moving in eighths); 2/4, 3/4, 4/4 and 6/4 keep 16th steps. Bars longer
than 24 steps (7/4, 15/8, a 12-beat bar in an annotation) are read as groups of four beats.

The piano part is a set of onset lanes relative to the chord, so the same pattern serves every
chord and key: left hand (below G3) root, third, fifth and seventh in two octaves above the bass
root (A1-G#2); right hand the same four plus a ninth in four octaves around the chord's root
nearest below middle C. Rendering turns lanes back into pitches for the chord at that step; each
note sounds until the next onset in its hand, the next chord or the bar's end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.ml.errors import GenerationError
from studio.music.chords import Chord, recognise_chord
from studio.music.song import PPQ, TimeSignature
from studio.music.timing import bar_lines

MAX_BAR_STEPS = 24
BAR_CLASSES = (8, 12, 16, 24)
LH_DEGREES, RH_DEGREES = 4, 5  # root, third, fifth, seventh (+ ninth in the right hand)
LH_OCTAVES, RH_OCTAVES = 2, 4
LH_LANES = LH_DEGREES * LH_OCTAVES
LANES = LH_LANES + RH_DEGREES * RH_OCTAVES
SPLIT_PITCH = 55  # below: left hand
# the accompanist's left hand plays no lower than D2: the lowest 1 % of POP909's piano notes
BASS_FLOOR = 38
FAMILY_INDEX = {"maj": 0, "min": 1, "dim": 2, "aug": 3, "sus": 4}
STEP_FEATURES = MAX_BAR_STEPS + len(BAR_CLASSES) + 1 + 2 + 12 + len(FAMILY_INDEX) + 3
BEAT_FEATURES = 12 * 5 + 1 + 6 + 5 + 4 + 2 + 1
# the chord model's chord kinds (one quality for each family it tells apart); dim chords count
# as minor, aug as major
CHORD_KINDS = ("maj", "min", "sus4")
CHORD_CLASSES = 12 * len(CHORD_KINDS)  # 12 roots (relative to the key's tonic) x kinds
DURATION_STEPS = (1, 2, 4, 8, 16, 24)  # a note's length class, in steps (the longest: 24+)
# degree of each interval above the root: 0 root, 1 third, 2 fifth, 3 seventh/sixth, 4 ninth
_DEGREE = np.array([0, 4, 4, 1, 1, 1, 2, 2, 2, 3, 3, 3])


def model_steps(ts: TimeSignature) -> tuple[int, int]:
    """(steps per bar, ticks per step) for a meter (bars longer than MAX_BAR_STEPS are read
    by `grid_for` as groups of four beats); GenerationError for bars that are no whole number
    of 16ths."""
    if ts.denominator == 8 and ts.numerator * 4 <= MAX_BAR_STEPS:
        return ts.numerator * 4, PPQ // 8
    steps = ts.bar_ticks // (PPQ // 4)
    if steps * (PPQ // 4) != ts.bar_ticks or steps < 1:
        raise GenerationError(f"bars of {ts.numerator}/{ts.denominator} are not a whole number "
                              "of 16th notes; the accompanist cannot read them")
    return steps, PPQ // 4


@dataclass
class StepGrid:
    """Model steps over a stretch of a song: `ticks` (S + 1,) step starts and the end, `pos`
    step within its bar (a pickup counts from the end of a full bar), `bar_steps` steps of a
    full bar of that meter, `bar` the index of the bar each step lies in."""

    ticks: np.ndarray
    pos: np.ndarray
    bar_steps: np.ndarray
    bar: np.ndarray

    def __len__(self) -> int:
        return len(self.pos)

    def nearest(self, ticks: np.ndarray) -> np.ndarray:
        """Index of the step nearest each tick (clipped into the grid)."""
        mid = (self.ticks[:-1] + self.ticks[1:]) / 2
        return np.clip(np.searchsorted(mid, np.asarray(ticks), side="right"), 0,
                       max(0, len(self) - 1))


def grid_for(time_signatures: list[TimeSignature], start: int, end: int) -> StepGrid:
    """The grid from the bar line at or before `start` to the bar line at or after `end`."""
    sigs = sorted(time_signatures, key=lambda s: s.tick) or [TimeSignature(0)]
    lines = bar_lines(end + 8 * PPQ * 4, sigs)
    first = max([t for t in lines if t <= start], default=0)
    last = min([t for t in lines if t >= end], default=lines[-1])
    ticks, pos, full, bar = [], [], [], []
    pickup = (len(sigs) >= 2 and sigs[0].tick == 0 and sigs[1].tick == sigs[0].bar_ticks
              and sigs[0].bar_ticks < sigs[1].bar_ticks)
    bars = [t for t in lines if first <= t < last]
    for k, t0 in enumerate(bars):
        t1 = bars[k + 1] if k + 1 < len(bars) else last
        ts = _sig_at(sigs, t0)
        if pickup and t0 == 0:
            ts = sigs[1]  # the pickup: read as the end of a bar of the meter after it
        steps, step = model_steps(ts)
        n = max(1, (t1 - t0) // step)
        ticks.extend(t0 + step * i for i in range(n))
        bar.extend([k] * n)
        if steps <= MAX_BAR_STEPS:
            offset = max(0, steps - n)
            pos.extend(offset + i for i in range(n))
            full.extend([steps] * n)
        else:  # a long bar (7/4, 15/8, an annotated bar of 12 beats): groups of four beats
            for g in range(0, n, 16):
                size = min(16, steps - g)
                part = min(16, n - g)
                pos.extend(range(part))
                full.extend([max(1, min(size, MAX_BAR_STEPS))] * part)
    ticks.append(last)
    return StepGrid(np.array(ticks, np.int64), np.array(pos), np.array(full), np.array(bar))


def _sig_at(sigs: list[TimeSignature], tick: int) -> TimeSignature:
    current = sigs[0]
    for s in sigs:
        if s.tick <= tick:
            current = s
    return current


def melody_steps(notes: np.ndarray, grid: StepGrid) -> tuple[np.ndarray, np.ndarray]:
    """(pitch sounding at each step, -1 silent; onset flags) of (n, >=3) pitch/start/duration
    rows (the highest note wins where notes overlap)."""
    pitch = np.full(len(grid), -1, np.int64)
    onset = np.zeros(len(grid), bool)
    if not len(notes) or not len(grid):
        return pitch, onset
    inside = (notes[:, 1] + notes[:, 2] > grid.ticks[0]) & (notes[:, 1] < grid.ticks[-1])
    rows = notes[inside][np.argsort(notes[inside][:, 0])][:, :3]
    starts, ends = rows[:, 1], rows[:, 1] + rows[:, 2]
    begun = starts >= grid.ticks[0]
    first = np.where(begun, grid.nearest(starts), 0)  # every note's steps at once
    last = np.where(ends >= grid.ticks[-1], len(grid),
                    np.maximum(first + 1, grid.nearest(ends)))
    for p, a, b in zip(rows[:, 0].tolist(), first.tolist(), last.tolist()):
        pitch[a:b] = p
    onset[first[begun]] = True
    return pitch, onset


def chords_per_step(chords: list[tuple[int, int, Chord | None]], grid: StepGrid
                    ) -> list[Chord | None]:
    """The chord sounding at each step, from (start tick, end tick, chord) spans."""
    out: list[Chord | None] = [None] * len(grid)
    starts = grid.ticks[:-1]
    for a, b, chord in chords:
        lo, hi = np.searchsorted(starts, [a, b], side="left")
        for i in range(lo, hi):
            out[i] = chord
    return out


def step_features(grid: StepGrid, melody: np.ndarray, onset: np.ndarray,
                  chords: list[Chord | None]) -> np.ndarray:
    """(S, STEP_FEATURES) conditioning of the texture model."""
    s = len(grid)
    f = np.zeros((s, STEP_FEATURES), np.float32)
    f[np.arange(s), np.minimum(grid.pos, MAX_BAR_STEPS - 1)] = 1
    o = MAX_BAR_STEPS
    cls = np.array([BAR_CLASSES.index(b) if b in BAR_CLASSES else len(BAR_CLASSES)
                    for b in grid.bar_steps], np.int64)
    f[np.arange(s), o + cls] = 1
    o += len(BAR_CLASSES) + 1
    f[:, o] = onset
    f[:, o + 1] = melody >= 0
    o += 2
    for i, c in enumerate(chords):
        if c is not None and melody[i] >= 0:
            f[i, o + (melody[i] - c.root) % 12] = 1
    o += 12
    previous = None
    for i, c in enumerate(chords):
        if c is None:
            f[i, o + len(FAMILY_INDEX) + 2] = 1
        else:
            f[i, o + FAMILY_INDEX[c.family]] = 1
            f[i, o + len(FAMILY_INDEX)] = len(c.pitch_classes) > 3
        f[i, o + len(FAMILY_INDEX) + 1] = c != previous
        previous = c
    return f


def beat_features(grid: StepGrid, melody: np.ndarray, tonic: int, minor: bool
                  ) -> np.ndarray:
    """(S // 4, BEAT_FEATURES) what the chord model reads on each beat, pitch classes relative to
    the tonic: the beat's melody (share of its steps on each pitch class), the pitch class
    sounding on the beat and whether it was held across from before, the pitch-class shares of
    the beat's half bar, of its bar and of the whole melody; the beat's place in its bar, the
    meter, the bar's place in a four-bar phrase (counted from the melody's first bar), bar and
    half-bar lines, and the key's mode."""
    beats = len(grid) // 4
    f = np.zeros((beats, BEAT_FEATURES), np.float32)
    if not beats:
        return f
    steps = beats * 4
    m, pos, bar = melody[:steps], grid.pos[:steps], grid.bar[:steps]
    sounding = m >= 0
    pcs = np.zeros((steps, 12), np.float32)
    pcs[np.flatnonzero(sounding), (m[sounding] - tonic) % 12] = 1
    f[:, 0:12] = pcs.reshape(beats, 4, 12).sum(1) / 4
    f[:, 12:24] = pcs[::4]
    starts = np.r_[True, m[1:] != m[:-1]]
    f[:, 24] = sounding[::4] & ~starts[::4]
    bars = bar - bar[0]
    half = bars * 2 + (pos * 2 >= grid.bar_steps[:steps])
    for o, group in ((25, half), (37, bars)):
        sums = np.zeros((int(group.max()) + 1, 12), np.float32)
        np.add.at(sums, group, pcs)
        sums /= np.maximum(1e-6, sums.sum(1, keepdims=True))
        f[:, o:o + 12] = sums[group[::4]]
    f[:, 49:61] = pcs.sum(0) / max(1.0, float(pcs.sum()))
    b = np.arange(beats)
    f[b, 61 + np.minimum(5, pos[::4] // 4)] = 1
    per_bar = grid.bar_steps[:steps:4] // 4
    f[b, 67 + np.array([{2: 0, 3: 1, 4: 2, 6: 3}.get(int(x), 4) for x in per_bar])] = 1
    first = int(bars[np.flatnonzero(sounding)[0]]) if sounding.any() else 0
    f[b, 72 + (bars[::4] - first) % 4] = 1
    f[:, 76] = pos[::4] == 0
    f[:, 77] = pos[::4] * 2 == grid.bar_steps[:steps:4]
    f[:, 78] = minor
    return f


def chord_class(chord: Chord | None, tonic: int) -> int:
    """The chord model's class of a chord (-1: no chord)."""
    if chord is None:
        return -1
    family = {"dim": "min", "aug": "maj"}.get(chord.family, chord.family)
    kind = next((k for k, q in enumerate(CHORD_KINDS) if Chord(0, q).family == family), 0)
    return ((chord.root - tonic) % 12) * len(CHORD_KINDS) + kind


def class_chord(index: int, tonic: int) -> Chord:
    n = len(CHORD_KINDS)
    return Chord((index // n + tonic) % 12, CHORD_KINDS[index % n])


def _bases(chord: Chord) -> tuple[int, int]:
    lh = 33 + (chord.root - 33) % 12  # A1..G#2
    rh = 60 - (60 - chord.root) % 12  # the root at or below middle C
    return lh, rh


def _intervals(chord: Chord) -> list[int]:
    """Semitones above the root of root, third, fifth, seventh and ninth for this chord."""
    pcs = [(p - chord.root) % 12 for p in chord.pitch_classes]
    third = next((i for i in pcs if i in (3, 4)), next((i for i in pcs if i in (2, 5)), 4))
    fifth = next((i for i in pcs if i in (6, 7, 8)), 7)
    seventh = next((i for i in pcs if i in (9, 10, 11)), 12)
    return [0, third, fifth, seventh, 14]


def duration_class(steps: int) -> int:
    """The DURATION_STEPS class of a length in steps (nearest on a log scale)."""
    return int(np.argmin(np.abs(np.log2(max(1, steps)) - np.log2(DURATION_STEPS))))


def piano_lanes(notes: np.ndarray, grid: StepGrid, chords: list[Chord | None], *,
                durations: bool = False):
    """(S, LANES) onsets of a piano part's (n, >=3) pitch/start/duration rows; with
    `durations`, also (S, LANES) the length class of each onset's note (-1: no onset)."""
    lanes = np.zeros((len(grid), LANES), np.float32)
    lengths = np.full((len(grid), LANES), -1, np.int8)
    if not len(notes):
        return (lanes, lengths) if durations else lanes
    inside = (notes[:, 1] >= grid.ticks[0]) & (notes[:, 1] < grid.ticks[-1])
    rows = notes[inside]
    starts = grid.nearest(rows[:, 1]) if len(rows) else np.zeros(0, np.int64)
    ends = grid.nearest(rows[:, 1] + rows[:, 2]) if len(rows) else starts
    ends = np.where(rows[:, 1] + rows[:, 2] >= grid.ticks[-1], len(grid), ends)
    for p, i, e in zip(rows[:, 0].tolist(), starts.tolist(), ends.tolist()):
        c = chords[i]
        if c is None:
            continue
        lh, rh = _bases(c)
        degree = int(_DEGREE[(p - c.root) % 12])
        if p < SPLIT_PITCH:
            degree = min(degree, 3) if degree < 4 else 0
            iv = _intervals(c)[degree]
            o = int(np.clip(round((p - lh - iv) / 12), 0, LH_OCTAVES - 1))
            lane = degree * LH_OCTAVES + o
        else:
            iv = _intervals(c)[degree]
            o = int(np.clip(round((p - rh - iv) / 12) + 1, 0, RH_OCTAVES - 1))
            lane = LH_LANES + degree * RH_OCTAVES + o
        lanes[i, lane] = 1
        lengths[i, lane] = max(lengths[i, lane], duration_class(e - i))
    return (lanes, lengths) if durations else lanes


def lane_pitch(lane: int, chord: Chord) -> int:
    lh, rh = _bases(chord)
    iv = _intervals(chord)
    if lane < LH_LANES:
        return lh + iv[lane // LH_OCTAVES] + 12 * (lane % LH_OCTAVES)
    k = lane - LH_LANES
    return rh + iv[k // RH_OCTAVES] + 12 * (k % RH_OCTAVES - 1)


def render(lanes: np.ndarray, grid: StepGrid, chords: list[Chord | None], melody: np.ndarray,
           velocity: int = 70, rng: np.random.Generator | None = None,
           durations: np.ndarray | None = None, *, legato_left: bool = False,
           bass_floor: int = 0) -> list[tuple[int, int, int, int]]:
    """(pitch, start, duration, velocity) piano notes for onset lanes (S, LANES).

    A note lasts its length class (`durations`, (S, LANES)) but not past the next chord;
    without a class, until the next onset in its hand, the next chord or the bar line. With
    `legato_left` a left-hand note shorter than that is held on until the next left-hand
    onset or the next chord, as a player holds the bass under the pedal; a left-hand note
    below `bass_floor` moves up an octave.

    A right-hand note at or above the melody moves down by octaves under it (left out when
    that would reach the left hand); one a semitone or a major seventh from the melody is left
    out; a left-hand note that would clash plays the chord's root instead. Velocities: accents
    on the bar line and the beats, the right hand a little softer, a little spread (`rng`)."""
    out = []
    s = len(grid)
    hand_onsets = [lanes[:, :LH_LANES].any(1), lanes[:, LH_LANES:].any(1)]
    change = np.array([i == 0 or chords[i] != chords[i - 1] for i in range(s)])
    bar_start = np.r_[True, grid.bar[1:] != grid.bar[:-1]]
    for i, j in zip(*np.nonzero(lanes)):
        c = chords[i]
        if c is None:
            continue
        hand = 0 if j < LH_LANES else 1
        end = i + 1
        if durations is not None and durations[i, j] >= 0:
            stop = min(s, i + DURATION_STEPS[int(durations[i, j])])
            while end < stop and not change[end]:
                end += 1
            if legato_left and hand == 0:
                while end < s and not hand_onsets[0][end] and not change[end]:
                    end += 1
        else:
            while end < s and not hand_onsets[hand][end] and not change[end] \
                    and not bar_start[end]:
                end += 1
        p = lane_pitch(int(j), c)
        sounding = melody[i:end]
        sounding = sounding[sounding >= 0]
        clash = any((p - m) % 12 in (1, 11) for m in set(sounding.tolist()))
        if hand == 1 and len(sounding):
            while p >= sounding.min() - 1 and p - 12 >= SPLIT_PITCH:
                p -= 12
            if clash or p >= sounding.min() - 1:
                continue
        if hand == 0 and clash:
            p = _bases(c)[0]
        if hand == 0 and p < bass_floor:
            p += 12
        accent = 10 if grid.pos[i] == 0 else 4 if grid.pos[i] % 4 == 0 else 0
        spread = float(rng.normal(0, 6)) if rng is not None else 0.0
        v = int(np.clip(round(velocity + accent - (0 if hand == 0 else 6) + spread), 1, 127))
        out.append((int(p), int(grid.ticks[i]), int(grid.ticks[end] - grid.ticks[i]), v))
    return sorted(set(out), key=lambda n: (n[1], n[0]))


def recognised_chords(rows: np.ndarray, grid: StepGrid) -> list[Chord | None]:
    """The chord an accompaniment spells on each beat (for pieces without chord labels)."""
    pitch = np.full((len(grid), 128), False)
    for p, s, d in rows.tolist():
        a = int(grid.nearest([s])[0])
        b = max(a + 1, int(grid.nearest([s + d])[0]))
        pitch[a:b, p] = True
    out: list[Chord | None] = []
    for b in range(0, len(grid), 4):
        seg = pitch[b:b + 4].sum(0)
        weights = np.bincount(np.arange(128) % 12, weights=seg, minlength=12)
        low = np.flatnonzero(seg)
        chord = recognise_chord(weights, int(low[0]) % 12 if len(low) else None)
        out.extend([chord] * len(pitch[b:b + 4]))
    return out


def track_rows(song, prefix: str) -> np.ndarray | None:
    """(n, 4) pitch/start/duration/velocity of the first pitched track whose name starts with
    `prefix` (case aside; None: no such track)."""
    for t in song.tracks:
        if not t.is_drum and t.name.strip().upper().startswith(prefix.strip().upper()):
            a = t.arrays()
            return np.stack([a["pitch"], a["start"], a["duration"], a["velocity"]], 1)
    return None


def piece_material(piece, melody_track: str, accompaniment_track: str
                   ) -> tuple[np.ndarray, np.ndarray, StepGrid, list[Chord | None]] | None:
    """(melody rows (n, 3), accompaniment rows (n, 4) with velocity, the grid over the whole
    piece, the chord at each step) of a training piece: a POP909 song's MELODY and PIANO with
    its annotated beats and chords; a user's piece by the tracks whose names start with
    `melody_track` and `accompaniment_track`, with the chords the accompaniment spells. None
    without those tracks or notes in them, or in a meter the grid cannot read (an unreadable
    piece raises, as `Piece.song` does)."""
    number = piece.metadata.get("pop909")
    if number is not None:
        from studio.data.pop909 import pop909_song
        from studio.music.chords import parse_label
        from studio.music.timing import meter_from_downbeats

        s = pop909_song(int(number))
        melody, piano = s.track_notes(0)[:, :3], s.track_notes(2)[:, :4]
        sigs = meter_from_downbeats(s.beats, s.downbeats)
        spans = [(a, b, parse_label(lab)) for a, b, lab in s.chords]
    else:
        song = piece.song()
        melody, piano = track_rows(song, melody_track), track_rows(song, accompaniment_track)
        if melody is None or piano is None:
            return None
        melody, sigs, spans = melody[:, :3], song.time_signatures, None
    if not len(melody) or not len(piano):
        return None
    end = int(max((melody[:, 1] + melody[:, 2]).max(), (piano[:, 1] + piano[:, 2]).max()))
    try:
        grid = grid_for(list(sigs), 0, end)
    except GenerationError:  # a meter the representation does not read
        return None
    chords = chords_per_step(spans, grid) if spans is not None else \
        recognised_chords(piano[:, :3], grid)
    return melody, piano, grid, chords
