"""Musicians' words for times in a song: a position as bar:beat:tick, a note length as a note
value ("1/8", "dotted 1/4", "1/8 triplet"), a time range ("bar 1 beat 3 to bar 2") that never
reads "bar 1 beat 3 to bar 1 beat 3" for a range inside one beat. Meter-aware (bars and beats
follow the song's time signatures). Shown by the piano roll's note tooltip and the Generation
panel's range labels."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from studio.music.song import PPQ, TimeSignature
from studio.music.timing import bar_beat

WHOLE = 4 * PPQ


def position_text(tick: int, time_signatures: Sequence[TimeSignature]) -> str:
    """'2:3:120': bar 2, beat 3, 120 ticks into the beat (bars and beats from 1)."""
    bar, beat, within = bar_beat(int(tick), time_signatures)
    return f"{bar}:{beat}:{within}"


def note_value(ticks: int) -> str | None:
    """'1/8', 'dotted 1/4', '1/8 triplet' for a length that is one; None otherwise."""
    ticks = int(ticks)
    if ticks <= 0:
        return None
    for denominator in (1, 2, 4, 8, 16, 32, 64):
        plain = Fraction(WHOLE, denominator)
        if ticks == plain:
            return f"1/{denominator}"
        if ticks == plain * 3 / 2:
            return f"dotted 1/{denominator}"
        if ticks == plain * 2 / 3:
            return f"1/{denominator} triplet"
    if ticks % WHOLE == 0:
        return f"{ticks // WHOLE} whole notes"
    return None


def length_text(ticks: int) -> str:
    """'1/8 (240 ticks)', or '300 ticks' for a length that is no note value."""
    value = note_value(ticks)
    return f"{value} ({ticks} ticks)" if value else f"{ticks} ticks"


def _at(tick: int, time_signatures: Sequence[TimeSignature]) -> str:
    bar, beat, within = bar_beat(int(tick), time_signatures)
    text = f"bar {bar}" + (f" beat {beat}" if beat > 1 or within else "")
    if within:
        text += f" + {within} ticks"
    return text


def range_text(start: int, end: int, time_signatures: Sequence[TimeSignature]) -> str:
    """'bar 3 to bar 5 beat 2' for [start, end). A range within one beat, where bar and beat
    alone would read the same at both ends, says its length: 'bar 1 beat 3 (a 1/16 note)'."""
    a, b = _at(start, time_signatures), _at(end, time_signatures)
    sa, sb = bar_beat(int(start), time_signatures), bar_beat(int(end), time_signatures)
    if sa[:2] == sb[:2] or end - start < PPQ:
        value = note_value(end - start)
        length = f"a {value} note" if value else f"{end - start} ticks"
        return f"{a} ({length})"
    return f"{a} to {b}"
