"""Chord suggestion for the chord lane.

`suggest_chords(song, track_id, start, end)` asks the pop accompanist (`models/pop-accompanist`)
for a chord a beat under a melody track and gives them as chord symbols of the song (a symbol
where the chord changes), over whole bars; `suggestion_edit` is the one undoable edit that puts
them in the lane (which accompany, pop infill, melody and continue then follow:
`studio.music.chord_lane.chords_at`). `bar_lines_of_chords` prints the chords
per bar (the CLI). Qt-free: the window (on a worker thread) and `studio generate chords` share it.
The melody is checked as accompany checks it: a drum track, or a track of chords rather than one
line, is refused with the same words, and the song is never changed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from studio.ml import accompaniment as acc
from studio.ml.errors import GenerationError
from studio.ml.generation import material as mat
from studio.music.chord_lane import SetChords, replace_range
from studio.music.keys import sharps_for
from studio.music.song import ChordSymbol, Song
from studio.music.timing import bar_beat, bar_lines

CHORD_MODEL = "pop-accompanist"


@dataclass
class ChordSuggestion:
    """Suggested symbols over the whole bars [start, end) under the track named."""

    symbols: list[ChordSymbol]
    start: int
    end: int
    track_name: str

    def describe(self, song: Song) -> str:
        first = mat.bar_number(song, self.start)
        last = mat.bar_number(song, max(self.start, self.end - 1))
        return (f"Suggested chords for bars {first}-{last} under "
                f"{self.track_name or 'the melody'}: {len(self.symbols)} chord symbols")


def melody_range(song: Song, track_id: int, time_range: tuple[int, int] | None
                 ) -> tuple[int, int]:
    """The range accompany reads: the selection, else from the bar of the track's first note
    to its last note's end."""
    if time_range is not None:
        return int(time_range[0]), int(time_range[1])
    track = mat.pitched_track(song, track_id)
    first, end = mat.track_extent(track)
    return mat.bar_start(song, first), end


def suggest_chords(song: Song, track_id: int, start: int | None = None, end: int | None = None,
                   model: str = CHORD_MODEL, device: str = "cpu",
                   cancel: Callable[[], bool] | None = None) -> ChordSuggestion:
    """The accompanist's chords for the melody in `track_id` over the bars of [start, end)
    (default: the whole melody). GenerationError for a drum track, chords instead of a melody,
    no notes in the range, a range too long or a model that is not an accompanist."""
    from studio.ml.families.accompanist import melody_key
    from studio.ml.generation.accompany_task import (
        MAX_ACCOMPANY_BARS,
        check_monophonic,
        melody_rows,
    )
    from studio.ml.generation.models import is_accompanist
    from studio.ml.library import load_model

    track = mat.pitched_track(song, track_id)
    a, b = melody_range(song, track_id, None if start is None or end is None else (start, end))
    if b <= a:
        raise GenerationError("the range to suggest chords for is empty")
    mat.check_length(song, a, b, "the selection", "suggest chords for", MAX_ACCOMPANY_BARS)
    rows = melody_rows(track)
    if not len(rows) or not ((rows[:, 1] >= a) & (rows[:, 1] < b)).any():
        raise GenerationError(f"{track.name or 'the melody track'} has no notes in the "
                              "selected range")
    check_monophonic(track, a, b)
    grid = acc.grid_for(song.time_signatures, a, b)
    melody, _ = acc.melody_steps(rows, grid)
    loaded = load_model(model, device)
    if not is_accompanist(loaded):
        raise GenerationError(f"{model} cannot suggest chords; choose an accompanist model "
                              f"such as {CHORD_MODEL}")
    if cancel is not None and cancel():
        raise GenerationError("cancelled")
    tuned = loaded.card.get("decoding", {}).get("change_cost")
    per_beat = loaded.family.suggest_chords(loaded.model, grid, melody,
                                            None if tuned is None else float(tuned))
    key = song.key_signature
    flats = key.sharps < 0 if key is not None else sharps_for(*melody_key(melody)) < 0
    symbols: list[ChordSymbol] = []
    for beat, chord in enumerate(per_beat):
        if chord is None or 4 * beat >= len(grid):
            continue
        if symbols and symbols[-1].chord == chord:
            continue
        symbols.append(ChordSymbol(int(grid.ticks[4 * beat]), chord, flats))
    return ChordSuggestion(symbols, int(grid.ticks[0]), int(grid.ticks[-1]), track.name)


def suggestion_edit(song: Song, suggestion: ChordSuggestion) -> SetChords:
    """The lane with the suggestion's bars replaced by it (one undoable edit)."""
    return replace_range(song, suggestion.start, suggestion.end, suggestion.symbols,
                         "Suggest chords")


def bar_lines_of_chords(song: Song, symbols: list[ChordSymbol], start: int, end: int
                        ) -> list[str]:
    """'bar 5: Am F' for each bar of [start, end): the chord in force at the bar line, then
    each symbol inside the bar."""
    lane = sorted(symbols, key=lambda s: s.tick)
    lines = [t for t in bar_lines(end, song.time_signatures) if start <= t < end] or [start]
    out = []
    for k, t0 in enumerate(lines):
        t1 = lines[k + 1] if k + 1 < len(lines) else end
        before = [s for s in lane if s.tick <= t0]
        inside = [s for s in lane if t0 < s.tick < t1]
        names = ([before[-1].label] if before else []) + [s.label for s in inside]
        out.append(f"bar {bar_beat(t0, song.time_signatures)[0]}: "
                   f"{' '.join(names) if names else '-'}")
    return out
