"""The accompany mode: a piano accompaniment under a melody track, as a new track, following
the chords the musician gives (`C G Am F`, `| C G | Am F |`) or chords the model suggests.

Checks before any work (each a GenerationError that names the problem; the song is never
changed): a drum track, a melody that is not one line (chords in it), chord text that does not
parse (the symbol and its bar are named), a selection inside the pickup bar, a meter the
representation does not read. Tempo changes need no care (the accompaniment follows bars and
beats, not seconds); the description says when the song has them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from studio.ml import accompaniment as acc
from studio.ml.checkpoint import LoadedModel
from studio.ml.errors import GenerationError
from studio.ml.families.accompanist import melody_key
from studio.ml.generation import material as mat
from studio.ml.generation.request import GenerationRequest
from studio.ml.generation.results import Draft, Plan, free_channels, new_track, unique_name
from studio.music.chord_lane import chords_at
from studio.music.chords import Chord, ChordSymbolError, parse_progression
from studio.music.edits import AddTrack
from studio.music.keys import sharps_for
from studio.music.song import Note, Song, Track

if TYPE_CHECKING:
    from studio.ml.bar_bank import BarBank

POLYPHONY_LIMIT = 0.15  # share of melody notes that may start while another still sounds
PIANO_PROGRAM = 0  # Acoustic Grand Piano
MAX_ACCOMPANY_BARS = 256  # a whole song: the texture model reads a step at a time


def melody_rows(track: Track) -> np.ndarray:
    a = track.arrays()
    return np.stack([a["pitch"], a["start"], a["duration"]], 1)


def wanted_texture(request: GenerationRequest, loaded: LoadedModel) -> str:
    """The piano texture a request asks of an accompanist: its own, else its card's."""
    from studio.ml.generation.models import plays_songs_bars

    return request.texture or ("songs" if plays_songs_bars(loaded) else "model")


def songs_bank(loaded: LoadedModel, wanted: str, grid: acc.StepGrid) -> tuple[BarBank | None, str]:
    """(the bars of the accompanist's training songs when `wanted` is "songs" and they hold
    every meter of the grid, else None; the words saying what the piano plays, empty for the
    network's voicings when they were asked for)."""
    from studio.ml.generation.models import bar_bank

    if wanted != "songs":
        return None, ""
    bank = bar_bank(loaded)
    if bank is None:
        return None, ("the model's training songs are not at hand: the piano plays the "
                      "network's own voicings")
    if not bank.plays(grid):
        return None, ("the training songs have no bars of this meter: the piano plays the "
                      "network's own voicings")
    return bank, "the piano plays bars of the model's training songs re-voiced to these chords"


def check_monophonic(track: Track, start: int, end: int) -> None:
    """GenerationError when the track holds chords rather than one line in [start, end)."""
    notes = sorted((n for n in track.notes if start <= n.start < end), key=lambda n: n.start)
    if len(notes) < 2:
        return
    overlapping, sounding_until = 0, -1
    for n in notes:
        if n.start < sounding_until - mat.STEP // 2:  # starts while another note still sounds
            overlapping += 1
        sounding_until = max(sounding_until, n.end)
    share = overlapping / len(notes)
    if share > POLYPHONY_LIMIT:
        raise GenerationError(f"{track.name or 'the chosen track'} is not a melody: "
                              f"{100 * share:.0f}% of its notes sound together with another "
                              "(chords or several voices); choose the track that holds the "
                              "tune alone")


def given_chords(text: str, grid: acc.StepGrid, pickup: bool) -> tuple[list[Chord | None], str]:
    """Chord per step from chord text: one bar of the text per full bar of the grid (a pickup
    bar stays without a chord), several chords in one bar sharing its beats; a shorter text
    repeats. Returns the chords and words about how the text was laid out."""
    try:
        bars = parse_progression(text)
    except ChordSymbolError as e:
        raise GenerationError(f"the chords cannot be read: {e}") from None
    out: list[Chord | None] = [None] * len(grid)
    ids = list(dict.fromkeys(grid.bar.tolist()))
    full = ids[1:] if pickup else ids
    for k, bar in enumerate(full):
        steps = np.flatnonzero(grid.bar == bar)
        chords = bars[k % len(bars)]
        beats = max(1, len(steps) // 4)
        for j, chord in enumerate(chords):
            a = round(j * beats / len(chords)) * 4
            b = len(steps) if j == len(chords) - 1 else round((j + 1) * beats / len(chords)) * 4
            for i in steps[a:b]:
                out[i] = chord
    words = ""
    if len(bars) < len(full):
        words = f"the {len(bars)} bars of chords repeated over {len(full)} bars"
    elif len(bars) > len(full):
        words = f"only the first {len(full)} of the {len(bars)} bars of chords used"
    return out, words


def chord_names(chords: list[Chord | None], grid: acc.StepGrid, limit: int = 16,
                prefer_flats: bool = False) -> str:
    """'| C | G | Am F |' for the chords of each bar (the first `limit` bars)."""
    bars: list[str] = []
    for bar in list(dict.fromkeys(grid.bar.tolist()))[:limit]:
        names = [c.name(prefer_flats) if c is not None else "-" for c in
                 (chords[i] for i in np.flatnonzero(grid.bar == bar))]
        bars.append(" ".join(dict.fromkeys(names)))
    more = " ..." if len(set(grid.bar.tolist())) > limit else ""
    return "| " + " | ".join(bars) + " |" + more


def tempo_words(song: Song, start: int, end: int) -> str:
    changes = {round(t.qpm, 1) for t in song.tempos if start < t.tick < end}
    if changes:
        return "; the tempo changes inside these bars: the accompaniment follows the beats"
    return ""


def plan_accompany(request: GenerationRequest, loaded: LoadedModel) -> Plan:
    song = request.song
    if not request.track_ids:
        raise GenerationError("select the melody track to accompany")
    track = mat.pitched_track(song, request.track_ids[0])
    if request.time_range is not None:
        a, b = request.time_range
        mat.check_not_in_pickup(song, a, b)
    else:
        first, b = mat.track_extent(track)
        a = mat.bar_start(song, first)
    mat.check_length(song, a, b, "the selection", "accompany", MAX_ACCOMPANY_BARS)
    rows = melody_rows(track)
    if not ((rows[:, 1] >= a) & (rows[:, 1] < b)).any():
        raise GenerationError(f"{track.name or 'the melody track'} has no notes in the "
                              "selected range")
    check_monophonic(track, a, b)
    grid = acc.grid_for(song.time_signatures, a, b)
    melody, onset = acc.melody_steps(rows, grid)
    pickup = bool(mat.pickup_end(song)) and a < mat.pickup_end(song)
    if request.chords:
        chords, layout = given_chords(request.chords, grid, pickup)
        source = "the given chords"
    elif (lane := chords_at(song, grid.ticks[:-1])) is not None:
        first = next(c for c in lane if c is not None)  # steps before the lane's first chord
        chords = [first if c is None else c for c in lane]
        layout, source = "", "the chord lane's chords"
    else:
        tuned = loaded.card.get("decoding", {}).get("change_cost")
        per_beat = loaded.family.suggest_chords(loaded.model, grid, melody,
                                                None if tuned is None else float(tuned))
        chords = [per_beat[min(i // 4, len(per_beat) - 1)] if per_beat else None
                  for i in range(len(grid))]
        layout, source = "", "suggested chords"
    velocity = int(np.clip(np.mean([n.velocity for n in track.notes]) * 0.8, 30, 110))
    flats = sharps_for(*melody_key(melody)) < 0 or bool(
        request.chords and re.search(r"[A-G]b", request.chords)) or (
        not request.chords and any(c.flats for c in song.chords))
    channel = free_channels(song, 1)[0]
    name = unique_name(song, "Piano accompaniment")
    bars = (mat.bar_number(song, int(grid.ticks[0])),
            mat.bar_number(song, int(grid.ticks[-1]) - 1))
    words = [layout, tempo_words(song, a, b).lstrip("; ")]
    bank, said = songs_bank(loaded, wanted_texture(request, loaded), grid)
    words.append(said)
    extra = "; ".join(w for w in words if w)

    def draft(index: int, seed: int, cancel) -> Draft:
        from dataclasses import replace

        options = replace(request.options, seed=seed)
        busyness = float(loaded.card.get("decoding", {}).get("busyness", 0.0))
        rows_out = loaded.family.accompany(loaded.model, grid, melody, onset, chords, options,
                                           velocity, busyness, bank)
        notes = [Note(p, s, d, v) for p, s, d, v in rows_out]
        if not notes:
            raise GenerationError("the model wrote no notes for this melody; try a higher "
                                  "temperature")
        values = new_track(name, PIANO_PROGRAM, channel, notes)
        text = (f"Piano accompaniment under {track.name or 'the melody'}, bars {bars[0]}-"
                f"{bars[1]}, {source}: {chord_names(chords, grid, prefer_flats=flats)}")
        if extra:
            text += f"; {extra}"
        scored = Song([Track("Piano", PIANO_PROGRAM, notes=[n.copy(False) for n in notes])],
                      list(song.tempos), list(song.time_signatures))
        return Draft([AddTrack(values, -1, "Accompany")], text, (values.id,), scored, [notes],
                     len(notes))

    return Plan(draft, request.options.count)
