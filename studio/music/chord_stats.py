"""What a listener hears in four-part harmony, counted: the chord measures the harmony benchmark
puts beside Bach's own (`benchmarks/bench_harmony.py`).

On the beats (quarter notes) where at least three voices sound:

- clash beats: some two voices a semitone or a major seventh apart (compound intervals
  included: a minor ninth is a semitone);
- chord beats: the pitch classes form a triad (major, minor, diminished, augmented) or a seventh
  chord (dominant, minor, major, half-diminished, diminished), a seventh chord possibly without
  its fifth, as Bach often writes it;
- bass on the root: of the chord beats, those whose bass is the chord's root (any of the roots a
  symmetric chord allows).

At the end of the piece (the key is that of the soprano, the same for every harmonization of a
melody): the last chord on the tonic (its root, or its bass if it is no chord) and the last two
chords (distinct sonorities) a dominant-tonic (V-I) cadence. And the lower voices' rhythm: the
share of 16th notes among their notes, and each one's notes per bar.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from studio.music.keys import estimate_key, pitch_class_histogram

TRIADS = ((0, 4, 7), (0, 3, 7), (0, 3, 6), (0, 4, 8))
SEVENTHS = ((0, 4, 7, 10), (0, 3, 7, 10), (0, 4, 7, 11), (0, 3, 6, 10), (0, 3, 6, 9))


def _chord_roots() -> dict[int, frozenset[int]]:
    """12-bit pitch-class set -> the roots under which it is a (possibly incomplete) chord."""
    out: dict[int, set[int]] = {}
    shapes = [*TRIADS, *SEVENTHS, *((s[0], s[1], s[3]) for s in SEVENTHS)]
    for root in range(12):
        for shape in shapes:
            mask = sum(1 << ((root + i) % 12) for i in shape)
            out.setdefault(mask, set()).add(root)
    return {m: frozenset(r) for m, r in out.items()}


ROOTS = _chord_roots()


def pitch_class_mask(pitches: np.ndarray) -> int:
    return sum(1 << pc for pc in {int(q) % 12 for q in pitches if q >= 0})


@dataclass
class ChordCounts:
    beats: int = 0
    clash_beats: int = 0
    chord_beats: int = 0
    root_bass_beats: int = 0
    pieces: int = 0
    tonic_endings: int = 0
    cadences: int = 0
    lower_notes: int = 0
    lower_sixteenths: int = 0
    bars: float = 0.0
    voice_notes: list[int] = field(default_factory=lambda: [0, 0, 0])

    def __iadd__(self, o: ChordCounts) -> ChordCounts:
        for k in ("beats", "clash_beats", "chord_beats", "root_bass_beats", "pieces",
                  "tonic_endings", "cadences", "lower_notes", "lower_sixteenths", "bars"):
            setattr(self, k, getattr(self, k) + getattr(o, k))
        self.voice_notes = [a + b for a, b in zip(self.voice_notes, o.voice_notes)]
        return self

    def rates(self) -> dict[str, float]:
        pct = lambda a, b: 100.0 * a / max(1, b)  # noqa: E731
        bars = max(self.bars, 1e-9)
        return {"clash_beats_pct": pct(self.clash_beats, self.beats),
                "chord_beats_pct": pct(self.chord_beats, self.beats),
                "root_bass_pct": pct(self.root_bass_beats, self.chord_beats),
                "tonic_ending_pct": pct(self.tonic_endings, self.pieces),
                "cadence_pct": pct(self.cadences, self.pieces),
                "sixteenths_pct": pct(self.lower_sixteenths, self.lower_notes),
                "alto_notes_per_bar": self.voice_notes[0] / bars,
                "tenor_notes_per_bar": self.voice_notes[1] / bars,
                "bass_notes_per_bar": self.voice_notes[2] / bars}


def _root_of(frame: np.ndarray) -> int | None:
    """The root of a frame's chord if its bass is one of its roots, else any root; None if no
    chord."""
    roots = ROOTS.get(pitch_class_mask(frame))
    if not roots:
        return None
    sounding = frame[frame >= 0]
    bass = int(sounding.min()) % 12
    return bass if bass in roots else min(roots)


def _notes(line: np.ndarray) -> list[int]:
    """Durations (16ths) of a voice's notes: runs of one sounding pitch."""
    out, run = [], 0
    for t in range(len(line)):
        if line[t] < 0:
            if run:
                out.append(run)
            run = 0
        elif run and line[t] == line[t - 1]:
            run += 1
        else:
            if run:
                out.append(run)
            run = 1
    if run:
        out.append(run)
    return out


def count(satb: np.ndarray, steps_per_beat: int = 4, steps_per_bar: int = 16) -> ChordCounts:
    """The chord measures of one (T, 4) pitch array (-1 silent), soprano first."""
    a = np.asarray(satb, np.int64)
    c = ChordCounts(pieces=1, bars=len(a) / steps_per_bar)
    for t in range(0, len(a), steps_per_beat):
        frame = a[t]
        sounding = frame[frame >= 0]
        if len(sounding) < 3:
            continue
        c.beats += 1
        d = np.abs(sounding[:, None] - sounding[None, :]) % 12
        c.clash_beats += bool(((d == 1) | (d == 11)).any())
        roots = ROOTS.get(pitch_class_mask(sounding))
        if roots:
            c.chord_beats += 1
            c.root_bass_beats += int(sounding.min()) % 12 in roots
    melody = a[:, 0][a[:, 0] >= 0]
    full = np.nonzero((a >= 0).sum(1) >= 3)[0]
    if len(melody) and len(full):
        tonic = estimate_key(pitch_class_histogram(melody))[0]
        last = a[full[-1]]
        root = _root_of(last)
        end = root if root is not None else int(last[last >= 0].min()) % 12
        c.tonic_endings += end == tonic
        masks = [pitch_class_mask(a[t]) for t in full]
        before = next((full[i] for i in range(len(full) - 1, -1, -1)
                       if masks[i] != masks[-1]), None)
        if before is not None:
            prev = _root_of(a[before])
            c.cadences += (end == tonic) and prev == (tonic + 7) % 12
    for v in range(1, 4):
        durations = _notes(a[:, v])
        c.voice_notes[v - 1] += len(durations)
        c.lower_notes += len(durations)
        c.lower_sixteenths += sum(d == 1 for d in durations)
    return c


def corpus_chord_rates(pieces: list[np.ndarray]) -> dict[str, float]:
    total = ChordCounts()
    for p in pieces:
        total += count(p)
    return total.rates()
