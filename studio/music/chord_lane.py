"""The song's chord lane: reading what a musician types as a chord symbol, and the invertible
edits that add, change, delete, move and replace chord symbols (`Song.chords`).

A chord symbol starts at its tick and lasts until the next one; the lane holds at most one symbol
per tick, sorted. Every change is one `SetChords` edit (the whole lane before and after, a few
hundred symbols at most), so undo and redo work like every other edit of the editor.

    edit = add_chord(song, 1920, read_symbol("Am7"))
    inverse = edit.apply(song)       # the song has Am7 at bar 2; inverse.apply(song) removes it
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from studio.music.chords import Chord, ChordSymbolError, parse_chord, parse_label
from studio.music.edits import Edit, EditError
from studio.music.song import MAX_TICK, ChordSymbol, Song

MAX_CHORDS = 100_000  # far more than any song has (a chord a beat for 24 hours is more)
MAX_SYMBOL_CHARS = 32


def read_symbol(text: str) -> Chord:
    """A chord from what the musician typed: `Am7`, `F#m7b5`, `G7/B`, or a corpus label such as
    `A:min7`. ChordSymbolError names the bad symbol and says what a chord looks like."""
    text = text.strip()
    if not text:
        raise ChordSymbolError("type a chord symbol, for example C, Am, F#m7, Bb or G7/B")
    if len(text) > MAX_SYMBOL_CHARS:
        raise ChordSymbolError(f"{text[:MAX_SYMBOL_CHARS]!r}... is too long for a chord symbol")
    if ":" in text:
        chord = parse_label(text)
        if chord is None:
            raise ChordSymbolError(f"{text!r} means no chord; delete the symbol instead")
        return chord
    return parse_chord(text)


def spelled_with_flats(text: str) -> bool:
    """Does the symbol spell its root (or bass) with a flat (`Bb`, `Ebm7`, `C/Bb`, `E♭`)?"""
    return bool(re.search(r"(^|/)\s*[A-Ga-g][b♭]", text.strip()))


def symbol(tick: int, text: str) -> ChordSymbol:
    """The chord symbol `text` at `tick`, spelled as written (ChordSymbolError when bad)."""
    return ChordSymbol(int(tick), read_symbol(text), spelled_with_flats(text))


def symbol_or_none(tick: int, text: str) -> ChordSymbol | None:
    """A file's marker or a project's text as a chord symbol; None when it is not one."""
    try:
        return symbol(tick, text)
    except ChordSymbolError:
        return None


SECTION_LETTERS = "ABCDEFG"


def chords_from_markers(markers: Iterable[tuple[int, str]]) -> list[ChordSymbol]:
    """A file's markers (tick, text) read as its chord lane: the markers that are chord symbols.
    Section markers are not chords: names such as `Verse` do not read as chords, and when every
    marker that reads as a chord is a bare capital letter and together they are the first
    letters of the alphabet (`A`, `A B`, `A B C`: how musicians letter sections), they are
    sections too and the lane stays empty. (A chord lane of only A and B major is unlikely.)"""
    read = [(x.strip(), symbol_or_none(t, x)) for t, x in markers]
    found = [s for _, s in read if s is not None]
    texts = {x for x, s in read if s is not None}
    if texts and all(len(x) == 1 and x in SECTION_LETTERS for x in texts):
        letters = "".join(sorted(texts))
        if SECTION_LETTERS.startswith(letters):
            return []
    return normalised(found)


def normalised(symbols: Iterable[ChordSymbol]) -> list[ChordSymbol]:
    """Sorted by tick; of several symbols at one tick the last given wins."""
    by_tick: dict[int, ChordSymbol] = {}
    for s in symbols:
        by_tick[int(s.tick)] = ChordSymbol(int(s.tick), s.chord, bool(s.flats))
    return [by_tick[t] for t in sorted(by_tick)]


@dataclass(frozen=True)
class SetChords:
    """Replace the song's whole chord lane (its inverse puts the old lane back)."""

    chords: tuple[ChordSymbol, ...]
    description: str = "Chords"

    def apply(self, song: Song) -> Edit:
        new = normalised(self.chords)
        if len(new) > MAX_CHORDS:
            raise EditError(f"more than {MAX_CHORDS} chord symbols")
        for s in new:
            if not 0 <= s.tick <= MAX_TICK:
                raise EditError(f"a chord symbol at tick {s.tick} lies outside the song")
            if not isinstance(s.chord, Chord):
                raise EditError(f"{s.chord!r} is not a chord")
        old = tuple(song.chords)
        song.chords = new
        return SetChords(old, self.description)


def _lane(song: Song) -> dict[int, ChordSymbol]:
    return {s.tick: s for s in song.chords}


def _edit(lane: dict[int, ChordSymbol], description: str) -> SetChords:
    return SetChords(tuple(s._replace(tick=t) for t, s in sorted(lane.items())), description)


def add_chord(song: Song, new: ChordSymbol) -> SetChords:
    """Put the symbol `new` in the lane (replacing a symbol at its tick)."""
    if new.tick < 0:
        raise EditError("a chord cannot start before the beginning of the song")
    lane = _lane(song)
    lane[int(new.tick)] = new
    return _edit(lane, f"Add chord {new.label}")


def change_chord(song: Song, new: ChordSymbol) -> SetChords:
    """Change the symbol at `new.tick` to `new`."""
    lane = _lane(song)
    if new.tick not in lane:
        raise EditError(f"there is no chord symbol at tick {new.tick}")
    lane[new.tick] = new
    return _edit(lane, f"Change chord to {new.label}")


def remove_chords(song: Song, ticks: Iterable[int]) -> SetChords:
    lane = _lane(song)
    ticks = list(ticks)
    for t in ticks:
        if t not in lane:
            raise EditError(f"there is no chord symbol at tick {t}")
        del lane[t]
    return _edit(lane, "Delete chord" if len(ticks) == 1 else "Delete chords")


def move_chord(song: Song, tick: int, new_tick: int) -> SetChords:
    """Move the symbol at `tick` to `new_tick` (a symbol already there is replaced)."""
    lane = _lane(song)
    if tick not in lane:
        raise EditError(f"there is no chord symbol at tick {tick}")
    if new_tick < 0:
        raise EditError("a chord cannot start before the beginning of the song")
    moved = lane.pop(tick)
    lane[int(new_tick)] = moved
    return _edit(lane, f"Move chord {moved.label}")


def replace_range(song: Song, start: int, end: int, symbols: Iterable[ChordSymbol],
                  description: str = "Suggest chords") -> SetChords:
    """The lane with the symbols in [start, end) replaced by `symbols` (those inside the range);
    the chord in force at `end` stays in force after it."""
    if end <= start:
        raise EditError("the range of chords to replace is empty")
    lane = _lane(song)
    after = song.chord_at(end)
    for t in [t for t in lane if start <= t < end]:
        del lane[t]
    for s in symbols:
        if start <= s.tick < end:
            lane[int(s.tick)] = s
    if after is not None and end not in lane:
        lane[end] = after
    merged: list[ChordSymbol] = []
    for t in sorted(lane):  # a symbol that repeats the one before it says nothing new
        if merged and merged[-1].chord == lane[t].chord and start <= t <= end:
            continue
        merged.append(lane[t]._replace(tick=t))
    return SetChords(tuple(merged), description)


def chord_spans(song: Song, start: int, end: int) -> list[tuple[int, int, Chord]]:
    """(start tick, end tick, chord) of each chord sounding in [start, end), clipped to it."""
    out = []
    chords = song.chords
    for i, s in enumerate(chords):
        nxt = chords[i + 1].tick if i + 1 < len(chords) else max(end, s.tick)
        a, b = max(s.tick, start), min(nxt, end)
        if b > a:
            out.append((a, b, s.chord))
    return out


def chords_at(song: Song, ticks: Iterable[int]) -> list[Chord | None] | None:
    """The lane's chord at each tick (the symbol in force there; None before the first), or
    None when the lane has no chord at any of them (nothing to follow)."""
    if not song.chords:
        return None
    found = [song.chord_at(int(t)) for t in ticks]
    chords = [c.chord if c is not None else None for c in found]
    return chords if any(c is not None for c in chords) else None


__all__ = ["SetChords", "add_chord", "change_chord", "remove_chords", "move_chord",
           "replace_range", "chord_spans", "chords_at", "read_symbol", "symbol", "symbol_or_none",
           "chords_from_markers",
           "spelled_with_flats", "normalised",
           "ChordSymbolError", "MAX_CHORDS"]
