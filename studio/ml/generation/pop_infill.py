"""The pop-infill mode: regenerate bars of a pop song's melody, bridge and piano tracks, keeping
every note outside the bars and every track not chosen.

The request's model is a recurrent melody model (pop-lstm by default); the piano is written by
the shipped accompanist (`models.DEFAULTS["accompany"]`). Tracks are found by name as POP909
names them (MELODY, BRIDGE, PIANO; also Vocal/Lead, Accompaniment), the melody otherwise being
the first other pitched track.

- Melody: `TRIES` (32) fills are drawn from the left context (8 bars) and ranked by the model's
  likelihood of the 4 bars after the gap given the fill; the best of each group is kept (a
  fill that leads naturally into what follows). Where chords are known the draws follow them
  (`chord_melody`).
- Bridge (POP909's secondary line): the same method on the bridge's own context (its top line
  where it holds chords: the new bridge is one line), the chord bias plus a bias against
  semitone clashes with the (new) melody.
- Piano: the accompanist over the (new) melody, with the chords given as text, else the chords
  the song's own piano (else its bridge) spells in the bars, else its own suggestion. The piano
  plays bars of the song's own piano part outside the range moved to those chords (the song's
  pianist's figures, `own_bars`; at least `OWN_BARS` of them), else bars of the accompanist's
  training songs (when its card says so), else the network's own voicings; the request's
  `texture` "model" asks for the network's.

Edges: the range is widened to whole bars. Notes that start before the range are kept as they
are, also where they ring into it (the melody model hears them held and starts its new notes
after them; nothing of the music before is lengthened or cut). Notes that start inside the
range are replaced, also where they rang past it, and new notes end by the end of the range,
so nothing new hangs into the music after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from studio.ml import accompaniment as acc
from studio.ml.checkpoint import LoadedModel
from studio.ml.errors import GenerationError
from studio.ml.family import SamplingOptions
from studio.ml.generation import chord_melody as cm
from studio.ml.generation import material as mat
from studio.ml.generation import models
from studio.ml.generation.accompany_task import check_monophonic, songs_bank, wanted_texture
from studio.ml.generation.harmony import Interrupted
from studio.ml.generation.request import GenerationRequest
from studio.ml.generation.results import Draft, Plan, add_notes, remove_notes
from studio.music.chord_lane import chords_at
from studio.music.chords import Chord
from studio.music.song import Note, Song, Track
from studio.music.tokens import HOLD, tokens_to_track

if TYPE_CHECKING:
    from studio.ml.bar_bank import BarBank

STEP = mat.STEP
LEFT_BARS = 8  # bars of context the melody model reads before the gap
RIGHT_BARS = 4  # bars after the gap whose likelihood ranks the fills
TRIES = 32  # fills drawn per variation: the fills then lead into the bars after as the real
# bars do (NLL 1.126 against 1.124 nats per 16th; 1 fill 1.231, 8 fills 1.150), 0.4 s for 4 bars
# (benchmarks/bench_pop_infill.py, BENCHMARKS.md)
ROLES = {"melody": ("melody", "vocal", "lead"), "bridge": ("bridge",),
         "piano": ("piano", "accomp")}
OWN_BARS = 4  # bars of the song's own piano outside the range needed to play them in it


def track_roles(song: Song) -> dict[str, Track]:
    """The song's melody, bridge and piano tracks (those it has), by name."""
    pitched = [t for t in song.tracks if not t.is_drum]
    out: dict[str, Track] = {}
    for role, prefixes in ROLES.items():
        for t in pitched:
            if t.name.strip().lower().startswith(prefixes) and t not in out.values():
                out[role] = t
                break
    if "melody" not in out:
        rest = [t for t in pitched if t.notes and t not in out.values()]
        if rest:
            out["melody"] = rest[0]
    return out


@dataclass
class Line:
    """One melodic track to refill: its tokens around the gap (notes starting in the gap
    removed), where the gap lies in them, and the steps held in from before the range."""

    track: Track
    tokens: np.ndarray
    gap: tuple[int, int]  # [ra, rb) steps of `tokens`
    held: int
    shift: int


def _line(loaded: LoadedModel, track: Track, ws: int, a: int, b: int, we: int) -> Line:
    kept = Track(track.name, notes=[n for n in track.notes if not a <= n.start < b])
    tokens = mat.melody_tokens(kept, ws, we)
    ra, rb = (a - ws) // STEP, (b - ws) // STEP
    held = 0
    while ra + held < rb and tokens[ra + held] == HOLD:
        held += 1
    known = models.melody_range(loaded)
    pitches = tokens[tokens < HOLD]
    shift = mat.octave_shift(pitches, *known) if known is not None else 0
    return Line(track, tokens, (ra, rb), held, shift)


def _shift(tokens: np.ndarray, shift: int) -> np.ndarray:
    t = np.asarray(tokens, np.int64).copy()
    pitched = t < HOLD
    t[pitched] = np.clip(t[pitched] + shift, 0, 127)
    return t


def fill_line(loaded: LoadedModel, line: Line, bias: np.ndarray | None, options: SamplingOptions,
              seed: int, spb: int, tries: int | None = None) -> tuple[np.ndarray, float]:
    """The gap's tokens (in the song's pitches, the held-in steps included) of the best of
    `tries` (default TRIES) fills drawn from the left context, ranked by the log-likelihood of
    the right context (which is returned, in nats)."""
    tries = TRIES if tries is None else tries
    ra, rb = line.gap
    prime = _shift(line.tokens[:ra + line.held], line.shift)
    right = _shift(line.tokens[rb:], line.shift)
    steps = rb - ra - line.held
    if steps <= 0:
        return line.tokens[ra:rb].copy(), 0.0
    draw = SamplingOptions(options.temperature, options.top_k, options.top_p, seed, tries)
    fills = cm.sample_biased(loaded, prime, steps, draw,
                             None if bias is None else bias[line.held:], steps_per_bar=spb,
                             may_hold=False)
    if len(right) and tries > 1:
        rows = np.concatenate([np.repeat(prime[None], tries, 0), fills,
                               np.repeat(right[None], tries, 0)], 1)
        score = cm.log_likelihood(loaded, rows, len(prime) + steps, rows.shape[1], spb)
    else:
        score = np.zeros(tries)
    best = int(np.argmax(score))
    gap = np.concatenate([line.tokens[ra:ra + line.held], _shift(fills[best], -line.shift)])
    return gap, float(score[best])


def gap_notes(line: Line, gap: np.ndarray, a: int, velocity: int) -> list[Note]:
    """The new notes of a filled gap (the held-in steps belong to a kept note)."""
    body = np.asarray(gap[line.held:], np.int64)
    start = a + line.held * STEP
    return [Note(n.pitch, n.start, n.duration, velocity)
            for n in tokens_to_track(body, STEP, start=start).notes]


def song_chords(song: Song, roles: dict[str, Track], grid: acc.StepGrid) -> list[Chord | None]:
    """The chords the song's accompaniment (as it is now) spells on each beat of the grid: the
    piano's (on the POP909 test songs they agree with the annotated chords on 86 % of beats,
    against 78 % with the bridge's notes added), the bridge's where the piano is silent; all None
    where both are."""
    for role in ("piano", "bridge"):
        rows = [[n.pitch, n.start, n.duration] for n in roles[role].notes
                if n.start < grid.ticks[-1] and n.end > grid.ticks[0]] if role in roles else []
        if rows:
            return acc.recognised_chords(np.array(rows, np.int64), grid)
    return [None] * len(grid)


def own_bars(song: Song, roles: dict[str, Track], a: int, b: int) -> BarBank | None:
    """The bars of the song's own piano part outside [a, b) (`studio.ml.bar_bank`), each with
    the chords the part spells there; None without `OWN_BARS` of them or in a meter the grid
    cannot read."""
    from studio.ml.bar_bank import BarBank

    if "piano" not in roles or "melody" not in roles:
        return None
    piano = np.array([[n.pitch, n.start, n.duration, n.velocity] for n in roles["piano"].notes
                      if not a <= n.start < b], np.int64).reshape(-1, 4)
    melody = np.array([[n.pitch, n.start, n.duration] for n in roles["melody"].notes],
                      np.int64).reshape(-1, 3)
    if not len(piano) or not len(melody):
        return None
    end = int(max((piano[:, 1] + piano[:, 2]).max(), (melody[:, 1] + melody[:, 2]).max()))
    try:
        grid = acc.grid_for(song.time_signatures, 0, end)
    except GenerationError:
        return None
    bank = BarBank.from_songs([(melody, piano, grid, acc.recognised_chords(piano[:, :3], grid))])
    return bank if len(bank) >= OWN_BARS else None


def _velocity(track: Track, scale: float = 1.0) -> int:
    if not track.notes:
        return 80
    return int(np.clip(np.mean([n.velocity for n in track.notes]) * scale, 30, 110))


@dataclass
class Setting:
    """What every variation shares: the range, the window, the tracks and the chords."""

    song: Song
    a: int
    b: int
    ws: int
    we: int
    spb: int
    roles: dict[str, Track]
    chosen: list[str]
    grid: acc.StepGrid
    chords: list[Chord | None]  # per accompaniment-grid step
    source: str


def read_setting(request: GenerationRequest) -> Setting:
    """The request checked and read (GenerationError for anything the mode cannot do)."""
    song = request.song
    if request.time_range is None:
        raise GenerationError("select the bars to fill in (a time range)")
    if not request.track_ids:
        raise GenerationError("choose the tracks to regenerate (melody, bridge, piano)")
    a0, b0 = request.time_range
    mat.check_not_in_pickup(song, a0, b0)
    a, b = mat.bar_start(song, a0), mat.next_bar(song, b0)
    if a < mat.pickup_end(song):
        raise GenerationError("the selection begins inside the pickup bar (the upbeat before "
                              "bar 2); select bars from bar 2 on")
    mat.check_length(song, a, b, "the selection", "fill in")
    roles = track_roles(song)
    chosen: list[str] = []
    for tid in request.track_ids:
        track = mat.pitched_track(song, tid, "melody, bridge or piano")
        role = next((r for r, t in roles.items() if t is track), None)
        if role is None:
            raise GenerationError(f"{track.name or 'that track'} is not the melody, bridge or "
                                  "piano of the song (name them Melody, Bridge and Piano)")
        chosen.append(role)
    if "melody" not in roles:
        raise GenerationError("the song has no melody track (name it Melody)")
    melody = roles["melody"]
    spb = mat.steps_per_bar(song, a)
    ws = max(mat.pickup_end(song) if a >= mat.pickup_end(song) else 0,
             mat.bar_start(song, max(0, a - LEFT_BARS * spb * STEP)))
    we = b + RIGHT_BARS * spb * STEP
    check_monophonic(melody, ws, we)  # (a bridge with chords is read by its top line)
    grid = acc.grid_for(song.time_signatures, a, b)
    if request.chords:
        from studio.ml.generation.accompany_task import given_chords

        pickup = bool(mat.pickup_end(song)) and a < mat.pickup_end(song)
        chords, _ = given_chords(request.chords, grid, pickup)
        source = f"the given chords {' '.join(request.chords.split())}"
    elif (lane := chords_at(song, grid.ticks[:-1])) is not None:
        chords, source = lane, "the chord lane's chords"
    else:
        chords = song_chords(song, roles, grid)
        source = "the chords the song's accompaniment plays there" \
            if any(c is not None for c in chords) else ""
    return Setting(song, a, b, ws, we, spb, roles, list(dict.fromkeys(chosen)), grid, chords,
                   source)


def plan_pop_infill(request: GenerationRequest, loaded: LoadedModel) -> Plan:
    cm.check_recurrent(loaded, "fill in bars of a pop song")
    s = read_setting(request)
    song, a, b = s.song, s.a, s.b
    steps = (b - a) // STEP
    positions = (np.arange(steps) + (a - s.ws) // STEP) % s.spb
    known = any(c is not None for c in s.chords)
    chords16 = cm.chords_per_16th(s.chords, s.grid, a, steps)
    base_bias = cm.chord_bias(chords16, positions) if known else None
    accompanist = models.load(models.default_model("accompany"), request.device) \
        if "piano" in s.chosen else None
    removed = {role: mat.notes_in(s.roles[role], a, b) for role in s.chosen}
    bank, velocity, texture = None, 0, "the network's own voicings"
    if accompanist is not None:
        velocity = _velocity(s.roles["piano"])
        wanted = wanted_texture(request, accompanist)
        own = own_bars(song, s.roles, a, b) if wanted == "songs" else None
        if own is not None and own.plays(s.grid):
            bank, velocity = own, 70  # as the song's pianist played them
            texture = "bars of the song's own piano part moved to them"
        else:
            bank, why = songs_bank(accompanist, wanted, s.grid)
            texture = "bars of the training songs moved to them" if bank is not None \
                else why or texture
    bars = (mat.bar_number(song, a), mat.bar_number(song, b - 1))

    def draft(index: int, seed: int, cancel) -> Draft:
        stop = cancel or (lambda: False)
        new: dict[str, list[Note]] = {}
        words: list[str] = []
        melody = s.roles["melody"]
        melody_notes = [n for n in melody.notes if not (a <= n.start < b)] \
            if "melody" in s.chosen else list(melody.notes)
        if "melody" in s.chosen:
            line = _line(loaded, melody, s.ws, a, b, s.we)
            gap, _ = fill_line(loaded, line, base_bias, request.options, seed, s.spb)
            new["melody"] = gap_notes(line, gap, a, _velocity(melody))
            melody_notes += new["melody"]
            words.append(f"new melody ({len(new['melody'])} notes)")
        if stop():
            raise Interrupted
        if "bridge" in s.chosen:
            bridge = s.roles["bridge"]
            line = _line(loaded, bridge, s.ws, a, b, s.we)
            if not (line.tokens < HOLD).any():
                new["bridge"] = []
                words.append("the bridge is silent around these bars and stays so")
            else:
                sounding = mat.melody_pitches(Track(notes=melody_notes), a, b)
                bias = cm.line_clash_bias(sounding, positions)
                if base_bias is not None:
                    bias = bias + base_bias
                gap, _ = fill_line(loaded, line, bias, request.options, seed + 7919, s.spb)
                new["bridge"] = gap_notes(line, gap, a, _velocity(bridge))
                words.append(f"new bridge ({len(new['bridge'])} notes)")
        if stop():
            raise Interrupted
        if accompanist is not None:
            rows = np.array([[n.pitch, n.start, n.duration] for n in melody_notes]
                            or np.zeros((0, 3)), np.int64).reshape(-1, 3)
            pitch, onset = acc.melody_steps(rows, s.grid)
            chords, source = s.chords, s.source
            if not known:
                tuned = accompanist.card.get("decoding", {}).get("change_cost")
                per_beat = accompanist.family.suggest_chords(
                    accompanist.model, s.grid, pitch, None if tuned is None else float(tuned))
                chords = [per_beat[min(i // 4, len(per_beat) - 1)] if per_beat else None
                          for i in range(len(s.grid))]
                source = "chords the accompanist suggests"
            from dataclasses import replace

            busyness = float(accompanist.card.get("decoding", {}).get("busyness", 0.0))
            out = accompanist.family.accompany(
                accompanist.model, s.grid, pitch, onset, chords,
                replace(request.options, seed=seed), velocity, busyness, bank)
            new["piano"] = [Note(p, st, min(d, b - st), v) for p, st, d, v in out
                            if a <= st < b]
            words.append(f"new piano ({len(new['piano'])} notes, {source}; {texture})")
        edits, lines = [], []
        gone = [n for role in s.chosen for n in removed[role]]
        if gone:
            edits.append(remove_notes(gone, "Pop infill"))
        for role in s.chosen:
            edits.append(add_notes(s.roles[role], new[role], "Pop infill"))
            lines.append(new[role])
        text = f"Pop infill, bars {bars[0]}-{bars[1]}: " + "; ".join(words)
        if "piano" not in s.chosen and s.source and base_bias is not None:
            text += f"; over {s.source}"
        scored = Song([Track("Melody", notes=[n.copy(False) for n in new.get("melody", [])])],
                      list(song.tempos), list(song.time_signatures)) if "melody" in new else None
        return Draft(edits, text, (), scored, lines, sum(len(x) for x in lines), len(gone))

    return Plan(draft, request.options.count)
