"""The melody modes: a new melody (a new track), continue a track (notes added after the
continuation point, replacing that track's notes there), and interpolate between two melody
tracks (one new track that plays the first melody, the steps between, then the second, in
consecutive bars after the end of the song).

Melodies far from the pitches the model learned are moved by whole octaves before the model
reads them and the result is moved back, which the candidate's description says.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from studio.ml.checkpoint import LoadedModel
from studio.ml.errors import GenerationError
from studio.ml.family import SamplingOptions
from studio.ml.generation import chord_melody as cm
from studio.ml.generation import material as mat
from studio.ml.generation import models
from studio.ml.generation.request import GenerationRequest
from studio.ml.generation.results import (
    Draft,
    Plan,
    add_notes,
    free_channels,
    lengthen,
    new_track,
    remove_notes,
    unique_name,
)
from studio.ml.melody_tokens import melody_song
from studio.music.chord_lane import chords_at
from studio.music.edits import AddTrack
from studio.music.song import Note, Track
from studio.music.tokens import HOLD, REST, tokens_to_track

STEP = mat.STEP
PRIME_BARS = 8  # bars of the track the model hears before continuing it
# A new melody from a recurrent model is drawn this many bars longer and starts at the bar of
# its first note: pop-lstm learned POP909's songs from their first bar, intros without melody
# included; drawn for 8 bars it wrote only rests in 13 of 24 tries (seeds 1-24), 8 bars longer
# in 2, 16 bars longer in none
LEAD_BARS = 16
# Over chords the bars are fixed: the first step's pitches get this logit bias instead, so the
# melody starts on a note (over "C G Am F" pop-lstm wrote only rests in 12 of 24 tries)
START_BIAS = 30.0


def _options(options: SamplingOptions, seed: int, count: int = 1) -> SamplingOptions:
    return SamplingOptions(options.temperature, options.top_k, options.top_p, seed, count,
                           options.iterations)


def _plan(sample: Callable[[int, int], np.ndarray], make: Callable[[np.ndarray], Draft | None],
          count: int) -> Plan:
    """A plan from a sampler `sample(n, seed)` -> (n, steps) tokens and `make(tokens)` -> a
    draft (None when the tokens hold no note)."""

    def draft(index: int, seed: int, cancel) -> Draft:
        made = make(sample(1, seed)[0])
        if made is None:
            raise GenerationError("the model wrote only rests; try a higher temperature")
        return made

    def batch(n: int, seed: int, cancel=None) -> list[Draft]:
        return [d for d in (make(t) for t in sample(n, seed)) if d is not None]

    return Plan(draft, count, batch)


def _shift_tokens(tokens: np.ndarray, shift: int) -> np.ndarray:
    t = np.asarray(tokens, np.int64).copy()
    pitched = t < HOLD
    t[pitched] = np.clip(t[pitched] + shift, 0, 127)
    return t


def _fit(loaded: LoadedModel, tokens: np.ndarray) -> int:
    """Octaves (in semitones) that move the melody into the pitches the model learned."""
    known = models.melody_range(loaded)
    if known is None:
        return 0
    pitches = np.asarray(tokens)[np.asarray(tokens) < HOLD]
    return mat.octave_shift(pitches, *known)


def _moved(shift: int, what: str) -> str:
    return (f"; {what} lies outside the pitches the model learned, so the model heard it "
            f"{mat.shift_words(shift)} and its notes were moved back") if shift else ""


def _constraints(request: GenerationRequest) -> str:
    from studio.music.keys import key_name, pitch_name

    parts = []
    if request.key is not None:
        parts.append(f"in {key_name(int(request.key[0]) % 12, bool(request.key[1]))}")
    if request.pitch_range is not None:
        parts.append(f"{pitch_name(request.pitch_range[0])}-{pitch_name(request.pitch_range[1])}")
    return (", " + ", ".join(parts)) if parts else ""


def _chord_bias(request: GenerationRequest, loaded: LoadedModel, start: int, steps: int,
                positions: np.ndarray) -> tuple[np.ndarray, str] | None:
    """The sampler's bias toward the request's chords from tick `start` (None without chords)
    and words about them; errors (a model that cannot, chord text that does not parse) now.
    Without chord text, a recurrent model follows the song's chord lane where it has chords."""
    if not request.chords:
        if not cm.is_recurrent(loaded):
            return None
        chords = chords_at(request.song, start + mat.STEP * np.arange(steps))
        if chords is None:
            return None
        return cm.chord_bias(chords, positions), ", over the chord lane's chords"
    cm.check_recurrent(loaded, "follow chords")
    chords, layout = cm.text_chords(request.chords, request.song, start, steps)
    words = f", over the chords {' '.join(request.chords.split())}"
    if layout:
        words += f" ({layout})"
    return cm.chord_bias(chords, positions), words


def _chord_words(over: tuple[np.ndarray, str] | None) -> str:
    return "" if over is None else over[1]


def plan_melody(request: GenerationRequest, loaded: LoadedModel) -> Plan:
    song = request.song
    start = mat.bar_start(song, request.playhead) if request.playhead else 0
    spb = mat.steps_per_bar(song, start)
    steps = request.bars * spb
    allowed = mat.allowed_pitches(request.key, request.pitch_range)
    channel = free_channels(song, 1)[0]
    name = unique_name(song, "Melody")
    where = f"from bar {mat.bar_number(song, start)}"

    over = _chord_bias(request, loaded, start, steps, np.arange(steps) % spb)
    lead = LEAD_BARS * spb if over is None and cm.is_recurrent(loaded) else 0

    def sample(n: int, seed: int) -> np.ndarray:
        if over is not None:  # the chords' bars are these: the melody starts on a note
            bias = over[0].copy()
            bias[0] += START_BIAS
            return cm.sample_biased(loaded, np.zeros(0, np.int64), steps,
                                    _options(request.options, seed, n), bias,
                                    allowed_pitches=allowed, steps_per_bar=spb)
        drawn = loaded.family.sample_melody(loaded.model, steps + lead,
                                            _options(request.options, seed, n),
                                            allowed_pitches=allowed, steps_per_bar=spb)
        return np.stack([from_first_bar(t, spb, steps) for t in drawn])

    def make(tokens: np.ndarray) -> Draft | None:
        notes = tokens_to_track(tokens, STEP, start=start).notes
        if not notes:
            return None
        track = new_track(name, 0, channel, notes)
        text = (f"New melody of {request.bars} bars {where}{_constraints(request)}, "
                f"{len(notes)} notes{_chord_words(over)}")
        return Draft([AddTrack(track, -1, "New melody")], text, (track.id,),
                     melody_song(tokens), [notes], len(notes))

    return _plan(sample, make, request.options.count)


def from_first_bar(tokens: np.ndarray, steps_per_bar: int, steps: int) -> np.ndarray:
    """`steps` tokens from the bar of the first note on (silent bars before it dropped, as
    long as `steps` remain)."""
    notes = np.flatnonzero(np.asarray(tokens) < HOLD)
    bar = int(notes[0]) // steps_per_bar if len(notes) else 0
    first = min(bar * steps_per_bar, len(tokens) - steps)
    return np.asarray(tokens)[first:first + steps]


def _continuation_point(request: GenerationRequest, track: Track) -> int:
    if request.time_range is not None:
        point = request.time_range[1]
    elif request.playhead is not None:
        point = request.playhead
    else:
        point = mat.track_extent(track)[1]
    return mat.to_step(point) * STEP


def plan_continue(request: GenerationRequest, loaded: LoadedModel) -> Plan:
    song = request.song
    if not request.track_ids:
        raise GenerationError("select the track to continue")
    track = mat.pitched_track(song, request.track_ids[0])
    point = _continuation_point(request, track)
    spb = mat.steps_per_bar(song, point)
    window = int(getattr(loaded.family.config, "window", PRIME_BARS * spb))
    bars_back = max(1, min(PRIME_BARS, window // spb))
    prime_start = mat.bar_start(song, max(0, point - bars_back * spb * STEP))
    prime = mat.melody_tokens(track, prime_start, point)
    if not (prime < HOLD).any():
        raise GenerationError(f"{track.name or 'the track'} has no notes in the "
                              f"{bars_back} bars before the continuation point to continue")
    shift = _fit(loaded, prime)
    heard = _shift_tokens(prime, shift)
    steps = request.bars * spb
    allowed = mat.allowed_pitches(request.key, request.pitch_range, shift)
    end = point + steps * STEP
    replaced = mat.notes_in(track, point, end)
    last = max((n for n in track.notes if n.start < point), key=lambda n: n.start, default=None)
    bar = mat.bar_number(song, point)

    over = _chord_bias(request, loaded, point, steps, (len(prime) + np.arange(steps)) % spb)

    def sample(n: int, seed: int) -> np.ndarray:
        if over is not None:
            return cm.sample_biased(loaded, heard, steps, _options(request.options, seed, n),
                                    over[0], allowed_pitches=allowed, steps_per_bar=spb)
        return loaded.family.continue_melody(
            loaded.model, heard, steps, _options(request.options, seed, n),
            allowed_pitches=allowed, steps_per_bar=spb)

    def make(tokens: np.ndarray) -> Draft:
        tokens = _shift_tokens(tokens, -shift)
        held = 0
        while held < len(tokens) and tokens[held] == HOLD:
            held += 1
        notes = tokens_to_track(tokens, STEP, start=point).notes
        edits = []
        if replaced:
            edits.append(remove_notes(replaced, "Continue"))
        if held and last is not None and last.end == point:
            edits.append(lengthen(last, held * STEP, "Continue"))
        edits.append(add_notes(track, notes, "Continue"))
        text = (f"Continues {track.name or 'the track'} from bar {bar} for {request.bars} bars"
                f"{_constraints(request)}, {len(notes)} new notes")
        if replaced:
            text += f" (replacing {len(replaced)} notes there)"
        text += _chord_words(over)
        text += _moved(shift, "the melody")
        return Draft(edits, text, (), melody_song(tokens), [notes], len(notes), len(replaced))

    return _plan(sample, make, request.options.count)


def _melody_of(request: GenerationRequest, track: Track) -> tuple[np.ndarray, int]:
    if request.time_range is not None:
        a, b = request.time_range
        a = mat.to_step(a) * STEP
    else:
        first, b = mat.track_extent(track)
        a = mat.bar_start(request.song, first)
    tokens = mat.melody_tokens(track, a, b)
    if not (tokens < HOLD).any():
        raise GenerationError(f"{track.name or 'a melody track'} has no notes in the selection")
    mat.check_length(request.song, a, a + len(tokens) * STEP, track.name or "a melody",
                     "interpolate")
    return tokens, a


def plan_interpolate(request: GenerationRequest, loaded: LoadedModel) -> Plan:
    song = request.song
    ids = list(dict.fromkeys(request.track_ids))
    if len(ids) != 2:
        raise GenerationError("select two different melody tracks to interpolate between")
    first, last = (mat.pitched_track(song, i) for i in ids)
    ta, _ = _melody_of(request, first)
    tb, _ = _melody_of(request, last)
    shift = _fit(loaded, np.concatenate([ta, tb]))
    n = request.interpolation_steps
    spb = mat.steps_per_bar(song, song.end)
    length = -(-max(len(ta), len(tb)) // spb) * spb  # each melody in whole bars
    start = mat.next_bar(song, song.end)
    channel = free_channels(song, 1)[0]
    title = f"Morph {first.name or 'A'} to {last.name or 'B'}"
    name = unique_name(song, title)

    def draft(index: int, seed: int, cancel) -> Draft:
        out = loaded.family.interpolate(loaded.model, _shift_tokens(ta, shift),
                                        _shift_tokens(tb, shift), n + 2)
        steps = [_shift_tokens(t, -shift) for t in np.asarray(out)[1:-1]]
        if not any((t < HOLD).any() for t in steps):
            raise GenerationError("the model found no melody between these two (it wrote only "
                                  "rests); try melodies nearer to what it learned, such as "
                                  "chorale tunes")
        notes: list[Note] = []
        lines = []
        for k, tokens in enumerate([ta, *steps, tb]):
            part = tokens_to_track(tokens, STEP, start=start + k * length * STEP).notes
            notes += part
            if 0 < k <= n:
                lines.append(part)
        track = new_track(name, first.program, channel, notes)
        end_bar = mat.bar_number(song, start) + (n + 2) * length // spb - 1
        text = (f"{n} melodies between {first.name or 'the first'} and "
                f"{last.name or 'the second'}, in one new track after the end of the song "
                f"(bars {mat.bar_number(song, start)}-{end_bar}: the first melody, the "
                f"{n} steps, then the second, {length // spb} bars each; the rhythm turns "
                f"from the first's to the second's bar by bar){_moved(shift, 'the melodies')}")
        scored = melody_song(np.concatenate(steps) if steps else np.full(1, REST))
        return Draft([AddTrack(track, -1, "Interpolate")], text, (track.id,), scored, lines,
                     sum(len(x) for x in lines))

    return Plan(draft, 1)  # the model's morph is deterministic: one candidate
