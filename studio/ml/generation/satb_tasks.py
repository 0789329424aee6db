"""The four-voice modes: harmonize a melody track (alto, tenor and bass as new tracks, or
re-harmonize a time range of existing ones) and infill (regenerate a region of chosen voices,
keeping every note outside it).

Each `plan_*` reads the request once and returns a `Plan` whose `draft(index, seed, cancel)`
writes one variation.
"""

from __future__ import annotations

import numpy as np

from studio.ml import satb_roll as sr
from studio.ml.checkpoint import LoadedModel
from studio.ml.errors import GenerationError
from studio.ml.generation import material as mat
from studio.ml.generation.harmony import write_chains, write_voices, writes_chains
from studio.ml.generation.request import GenerationRequest
from studio.ml.generation.results import (
    Draft,
    Plan,
    add_notes,
    free_channels,
    new_track,
    notes_from_pitches,
    remove_notes,
    unique_name,
    voice_programs,
)
from studio.music.edits import AddTrack
from studio.music.grids import VOICE_NAMES, VOICE_RANGES, satb_to_song
from studio.music.keys import estimate_key, key_name, pitch_class_histogram
from studio.music.song import Song, Track

STEP = mat.STEP
CONTEXT_BARS = 4  # bars read on each side of an infill region
LOWER = ("Alto", "Tenor", "Bass")


def _range_of(request: GenerationRequest, track: Track) -> tuple[int, int]:
    if request.time_range is not None:
        a, b = request.time_range
        a, b = mat.to_step(a) * STEP, -(-b // STEP) * STEP
    else:
        first, last = mat.track_extent(track)
        a, b = mat.bar_start(request.song, first), -(-last // STEP) * STEP
    mat.check_length(request.song, a, b, "the selection", "harmonize")
    return a, b


def _fold(satb: np.ndarray) -> tuple[np.ndarray, int]:
    """Given pitches folded by octaves into the model's range, and how many were moved."""
    folded = np.where(satb >= 0, sr.to_pitches(sr.to_classes(satb)), -1).astype(np.int64)
    return folded, int((folded != satb).sum())


def _key_words(melody: np.ndarray, key: tuple[int, bool] | None) -> str:
    if key is not None:
        return f"in {key_name(int(key[0]) % 12, bool(key[1]))}"
    sounding = melody[melody >= 0]
    if not len(sounding):
        return ""
    tonic, minor, _ = estimate_key(pitch_class_histogram(sounding), fit_scale=True)
    return f"in {key_name(tonic, minor)} (the melody's key)"


def _existing_lower_voices(song: Song, melody: Track) -> list[Track] | None:
    """Alto, tenor and bass tracks already in the song (by name), for re-harmonizing."""
    found: dict[str, Track] = {}
    for t in song.tracks:
        low = t.name.strip().lower()
        for v in LOWER:
            if t is not melody and not t.is_drum and low.startswith(v.lower()) \
                    and v not in found:
                found[v] = t
    return [found[v] for v in LOWER] if len(found) == 3 else None


def plan_harmonize(request: GenerationRequest, loaded: LoadedModel) -> Plan:
    song = request.song
    if not request.track_ids:
        raise GenerationError("select the melody track to harmonize")
    track = mat.pitched_track(song, request.track_ids[0])
    a, b = _range_of(request, track)
    melody = mat.melody_pitches(track, a, b)
    if not (melody >= 0).any():
        raise GenerationError(f"{track.name or 'the melody track'} has no notes in the "
                              "selected range")
    existing = _existing_lower_voices(song, track) if request.time_range is not None else None
    if existing is not None:
        return _plan_reharmonize(request, loaded, track, existing, a, b)
    shift = mat.octave_shift(melody, *VOICE_RANGES[0])
    soprano, folded = _fold(np.where(melody >= 0, melody + shift, -1))
    notes_about = []
    if shift:
        notes_about.append(f"the melody lies outside a soprano's range, so it was harmonized "
                           f"{mat.shift_words(shift)} and the voices moved back to it")
    if folded:
        notes_about.append(f"{folded} steps of the melody beyond the model's range were read "
                           "an octave inside it")
    satb = np.full((len(melody), 4), -1, np.int64)
    satb[:, 0] = soprano
    free = np.zeros(satb.shape, bool)
    free[:, 1:] = True
    velocity = int(np.clip(np.mean([n.velocity for n in track.notes]) * 0.85, 30, 110))
    programs = voice_programs(track.program)
    channels = free_channels(song, 3)
    bars = (mat.bar_number(song, a), mat.bar_number(song, max(a, b - 1)))
    words = _key_words(melody, request.key)

    limits = {"key": request.key, "chromatic": request.chromatic,
              "pitch_range": _shifted_range(request.pitch_range, shift)}

    def as_draft(result: np.ndarray) -> Draft:
        voices = np.where(result >= 0, result - shift, -1)
        voices[:, 0] = melody
        tracks, lines = [], []
        for v in range(1, 4):
            notes = notes_from_pitches(voices[:, v], a, velocity=velocity)
            name = unique_name(song, VOICE_NAMES[v])
            tracks.append(new_track(name, programs[v - 1], channels[v - 1], notes))
            lines.append(notes)
        edits = [AddTrack(t, -1, "Harmonize") for t in tracks]
        text = (f"Alto, tenor and bass under {track.name or 'the melody'}, bars {bars[0]}-"
                f"{bars[1]}, {words}").rstrip(", ")
        if notes_about:
            text += "; " + "; ".join(notes_about)
        scored = satb_to_song(voices)
        return Draft(edits, text, tuple(t.id for t in tracks), scored, lines,
                     sum(len(x) for x in lines))

    def draft(index: int, seed: int, cancel) -> Draft:
        return as_draft(write_voices(loaded, satb, free, request.options, seed=seed,
                                     vary=index > 0, cancel=cancel, **limits))

    def batch(n: int, seed: int, cancel=None) -> list[Draft]:  # chains side by side
        return [as_draft(r) for r in write_chains(loaded, satb, free, request.options,
                                                  seed=seed, chains=n, cancel=cancel,
                                                  **limits)]

    return Plan(draft, request.options.count, batch if writes_chains(loaded) else None)


def _shifted_range(pitch_range, shift: int):
    if pitch_range is None:
        return None
    return (max(0, pitch_range[0] + shift), min(127, pitch_range[1] + shift))


def _plan_reharmonize(request: GenerationRequest, loaded: LoadedModel, melody: Track,
                      lower: list[Track], a: int, b: int) -> Plan:
    return _plan_region(request, loaded, [melody, *lower], {t.id for t in lower}, a, b,
                        "Re-harmonize")


def plan_infill(request: GenerationRequest, loaded: LoadedModel) -> Plan:
    song = request.song
    if request.time_range is None:
        raise GenerationError("select the region to fill in (a time range)")
    if not request.track_ids:
        raise GenerationError("choose the voices (tracks) to regenerate")
    for tid in request.track_ids:
        mat.pitched_track(song, tid, "voice")
    a, b = request.time_range
    a, b = mat.to_step(a) * STEP, -(-b // STEP) * STEP
    mat.check_not_in_pickup(song, a, b)
    mat.check_length(song, a, b, "the region", "fill in")
    voices = mat.voice_tracks(song)
    chosen = set(request.track_ids)
    if not any(t is not None and t.id in chosen for t in voices):
        names = ", ".join(sorted({t.name or "unnamed" for t in voices if t is not None}))
        raise GenerationError(f"the chosen tracks are not among the four voices the model reads "
                              f"({names})")
    return _plan_region(request, loaded, voices, chosen, a, b, "Infill")


def _plan_region(request: GenerationRequest, loaded: LoadedModel, voices: list[Track | None],
                 chosen: set[int], a: int, b: int, title: str) -> Plan:
    """Regenerate the cells of the voices whose track is in `chosen` between ticks a and b."""
    song = request.song
    bar = mat.bar_ticks_at(song, a)
    ws = max(0, mat.bar_start(song, a) - CONTEXT_BARS * bar)
    we = max(b, min(song.end, b + CONTEXT_BARS * bar))
    we = -(-we // STEP) * STEP
    view = mat.voice_view(song, ws, we, voices)
    ra, rb = (a - ws) // STEP, (b - ws) // STEP
    satb = view.satb.copy()
    free = np.zeros(satb.shape, bool)
    regenerated = [v for v, t in enumerate(voices) if t is not None and t.id in chosen]
    for v in regenerated:
        free[ra:rb, v] = True
        kept = (view.note_start[:, v] >= 0) & (view.note_start[:, v] < a)
        free[:, v] &= ~kept
        # notes that start in the region are replaced, also where they ring past it
        gone = (view.note_start[:, v] >= a) & (view.note_start[:, v] < b)
        satb[gone & ~free[:, v], v] = -1
    if not free.any():
        raise GenerationError("nothing to regenerate: notes from before the region fill it")
    given, folded = _fold(np.where(free, -1, satb))
    removed = [n for t in {id(t): t for t in voices if t is not None and t.id in chosen}.values()
               for n in mat.notes_in(t, a, b)]
    bars = (mat.bar_number(song, a), mat.bar_number(song, max(a, b - 1)))
    names = ", ".join(dict.fromkeys(VOICE_NAMES[v].lower() for v in regenerated))
    context = np.where(satb[:, 0] >= 0, satb[:, 0], -1)
    words = _key_words(context, request.key)
    if not (given[:, 0] >= 0).any() and not free[:, 0].any():
        raise GenerationError("the soprano is silent here; the model writes the other voices "
                              "under a melody")

    def draft(index: int, seed: int, cancel) -> Draft:
        result = write_voices(loaded, given, free, request.options, key=request.key,
                              chromatic=request.chromatic,
                              pitch_range=request.pitch_range, seed=seed, vary=index > 0,
                              cancel=cancel)
        edits, lines, added = [], [], 0
        if removed:
            edits.append(remove_notes(removed, title))
        for v in regenerated:
            notes = notes_from_pitches(result[:, v], ws, free[:, v])
            edits.append(add_notes(voices[v], notes, title))
            lines.append(notes)
            added += len(notes)
        text = f"{title}: new {names}, bars {bars[0]}-{bars[1]}, {words}".rstrip(", ")
        if folded:
            text += f"; {folded} steps of the music around were read an octave inside the " \
                    "model's range"
        window = np.where(free, result, satb)[ra:rb]
        return Draft(edits, text, (), satb_to_song(window), lines, added, len(removed))

    return Plan(draft, request.options.count)

