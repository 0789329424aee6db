"""Chord symbols: parsing what musicians type (`C G Am F`, `| C | G7 | Am | F/A |`) and the
labels of annotated corpora (`C:maj`, `A:min7`, `G:sus4(b7)`, `N`), naming, chord tones, and
recognising the chord that a set of sounding pitch classes spells.

A `Chord` is a root pitch class and a quality; the quality's `family` (maj, min, dim, aug, sus)
is what "the same chord, root and quality" means in comparisons (C7 and Cmaj7 are both a C
major-family chord).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from studio.music.keys import FLAT_NAMES, SHARP_NAMES

# quality -> (intervals above the root, family, suffix written after the root)
QUALITIES: dict[str, tuple[tuple[int, ...], str, str]] = {
    "maj": ((0, 4, 7), "maj", ""),
    "min": ((0, 3, 7), "min", "m"),
    "7": ((0, 4, 7, 10), "maj", "7"),
    "maj7": ((0, 4, 7, 11), "maj", "maj7"),
    "min7": ((0, 3, 7, 10), "min", "m7"),
    "maj6": ((0, 4, 7, 9), "maj", "6"),
    "min6": ((0, 3, 7, 9), "min", "m6"),
    "minmaj7": ((0, 3, 7, 11), "min", "m(maj7)"),
    "dim": ((0, 3, 6), "dim", "dim"),
    "dim7": ((0, 3, 6, 9), "dim", "dim7"),
    "hdim7": ((0, 3, 6, 10), "dim", "m7b5"),
    "aug": ((0, 4, 8), "aug", "aug"),
    "sus2": ((0, 2, 7), "sus", "sus2"),
    "sus4": ((0, 5, 7), "sus", "sus4"),
    "7sus4": ((0, 5, 7, 10), "sus", "7sus4"),
}
FAMILIES = ("maj", "min", "dim", "aug", "sus")
_HARTE = {"sus4(b7)": "7sus4"}
# what people type after the root, longest first (so "m7b5" wins over "m7" and "m")
_TYPED = sorted([(s, q) for q, (_, _, s) in QUALITIES.items() if s] + [
    ("M7", "maj7"), ("Maj7", "maj7"), ("Δ7", "maj7"), ("Δ", "maj7"), ("maj", "maj"),
    ("min7", "min7"), ("min", "min"), ("mi", "min"), ("-7", "min7"), ("-", "min"),
    ("ø7", "hdim7"), ("ø", "hdim7"), ("o7", "dim7"), ("o", "dim"), ("°7", "dim7"), ("°", "dim"),
    ("+", "aug"), ("sus", "sus4"), ("add9", "maj"), ("add2", "maj"), ("9", "7"), ("m9", "min7"),
    ("maj9", "maj7"), ("min6", "min6"), ("madd9", "min"), ("5", "maj"),
], key=lambda x: -len(x[0]))
_ROOT = re.compile(r"([A-Ga-g])([#b♯♭]?)")
_NOTE = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


class ChordSymbolError(ValueError):
    """A chord symbol that cannot be read; the message names it and where it stands."""


@dataclass(frozen=True)
class Chord:
    root: int  # pitch class 0-11
    quality: str = "maj"  # a key of QUALITIES
    bass: int | None = None  # slash bass pitch class, None = the root

    @property
    def family(self) -> str:
        return QUALITIES[self.quality][1]

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.root + i) % 12 for i in QUALITIES[self.quality][0])

    def name(self, prefer_flats: bool = False) -> str:
        names = FLAT_NAMES if prefer_flats else SHARP_NAMES
        text = names[self.root] + QUALITIES[self.quality][2]
        if self.bass is not None and self.bass != self.root:
            text += "/" + names[self.bass]
        return text

    def same_harmony(self, other: Chord | None) -> bool:
        """Same root and quality family (what chord agreement counts)."""
        return other is not None and self.root == other.root and self.family == other.family


def _root(text: str) -> tuple[int, int] | None:
    m = _ROOT.match(text)
    if not m:
        return None
    pc = _NOTE[m.group(1).upper()] + {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(m.group(2), 0)
    return pc % 12, m.end()


def parse_chord(symbol: str, where: str = "") -> Chord:
    """`Am7`, `F#m7b5`, `Bbmaj7`, `Csus4`, `G7/B`, `E♭+` ... as a Chord."""
    text = symbol.strip()
    place = f" ({where})" if where else ""
    head = _root(text)
    if head is None:
        raise ChordSymbolError(f"{symbol!r}{place} is not a chord symbol: a chord starts with "
                               "its root, A to G (for example C, Am, F#m7, Bb, G7/B)")
    root, i = head
    rest, bass = text[i:], None
    if "/" in rest:
        rest, _, slash = rest.partition("/")
        b = _root(slash)
        if b is None or b[1] != len(slash):
            raise ChordSymbolError(f"{symbol!r}{place}: the bass after '/' must be a note name "
                                   "(for example C/E)")
        bass = b[0]
    if rest == "":
        return Chord(root, "maj", bass)
    for typed, quality in _TYPED:
        if rest == typed:
            return Chord(root, quality, bass)
    raise ChordSymbolError(f"{symbol!r}{place}: unknown chord type {rest!r} (known: m, 7, maj7, "
                           "m7, 6, m6, dim, dim7, m7b5, aug, sus2, sus4, 7sus4, add9, 9)")


def parse_label(label: str) -> Chord | None:
    """An annotated-corpus label (`C:maj`, `A:min7/b7`, `G:sus4(b7)`); None for `N` (no chord)."""
    label = label.strip()
    if label in ("N", "X", ""):
        return None
    root_text, _, quality = label.partition(":")
    head = _root(root_text)
    if head is None:
        raise ChordSymbolError(f"{label!r} is not a chord label")
    quality = quality.partition("/")[0] or "maj"
    quality = _HARTE.get(quality, quality)
    if quality not in QUALITIES:
        raise ChordSymbolError(f"{label!r}: unknown chord quality {quality!r}")
    return Chord(head[0], quality)


def parse_progression(text: str) -> list[list[Chord]]:
    """Chord text as bars of chords.

    With bar lines (`| C G | Am F |`) each bar holds the chords written in it, sharing the bar
    equally; without (`C G Am F`) each chord fills one bar. A `%` or `-` repeats the chord
    before. Errors name the bad symbol and its bar and position.
    """
    if not text.strip():
        raise ChordSymbolError("the chord text is empty; write chords such as 'C G Am F' or "
                               "'| C | G | Am | F |'")
    barred = "|" in text
    groups = [g.split() for g in text.split("|")] if barred else [[s] for s in text.split()]
    groups = [g for g in groups if g]
    if not groups:
        raise ChordSymbolError("the chord text holds only bar lines; write chords between them")
    bars: list[list[Chord]] = []
    previous: Chord | None = None
    for b, group in enumerate(groups, start=1):
        bar = []
        for k, symbol in enumerate(group, start=1):
            where = f"bar {b}" + (f", chord {k}" if len(group) > 1 else "")
            if symbol in ("%", "-", "/", "."):
                if previous is None:
                    raise ChordSymbolError(f"{symbol!r} ({where}) repeats the chord before, but "
                                           "there is none yet")
                bar.append(previous)
                continue
            previous = parse_chord(symbol, where)
            bar.append(previous)
        bars.append(bar)
    return bars


_TEMPLATE_CHORDS = [Chord(r, q) for q in ("maj", "min", "7", "min7", "maj7", "dim", "aug",
                                           "sus4", "sus2") for r in range(12)]
_TEMPLATES = np.array([np.isin(np.arange(12), c.pitch_classes) for c in _TEMPLATE_CHORDS], float)
_TEMPLATE_ROOTS = np.array([c.root for c in _TEMPLATE_CHORDS])
# a preference for triads over seventh chords when they explain as much
_TEMPLATE_SIZE_COST = 0.04 * (_TEMPLATES.sum(1) - 3)


def recognise_chord(weights: np.ndarray, bass: int | None = None) -> Chord | None:
    """The chord whose tones best cover a 12-bin pitch-class weight vector (None when silent).

    Score: weight on chord tones minus weight off them, a small bonus when the lowest note is
    the root, and a preference for triads over seventh chords when they explain as much (the
    first template in `_TEMPLATE_CHORDS` order among those within 1e-9 of the best)."""
    w = np.asarray(weights, dtype=float)
    total = w.sum()
    if total <= 0:
        return None
    w = w / total
    scores = 2 * (_TEMPLATES @ w) - 1 - _TEMPLATE_SIZE_COST  # on minus off: 2 * on - 1
    if bass is not None:
        scores = scores + 0.1 * (_TEMPLATE_ROOTS == bass)
    return _TEMPLATE_CHORDS[int(np.flatnonzero(scores > scores.max() - 1e-9)[0])]
