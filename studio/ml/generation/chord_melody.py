"""Melodies that follow chords, and a melody model's likelihood of given notes.

Following chords: the recurrent melody models learned melodies without chords, so the chords
enter at sampling time as a bias on the next-token logits (a product of the model's
distribution and a chord "expert"). On each beat (the 16th steps that start a beat) a chord
tone gets `+strength` and a clash (a pitch class a semitone from a chord tone that is not
itself one: a minor second or major seventh against the chord) `-strength`; between beats the
same at `WEAK_SHARE` of it, so passing notes stay possible. Holding a note into a step counts as
playing that note there, so a note held over a chord change into a clash is discouraged too.
`STRENGTH` was tuned on the POP909 validation songs so that the chord-tone share of generated
melodies on beats matches the real melodies' over the same chords
(benchmarks/bench_pop_infill.py --tune; BENCHMARKS.md).

Likelihood: `log_likelihood` scores token sequences with the model (teacher forcing), which the
pop infill uses to rank candidate fills by how well they lead into the music after the gap.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from studio.ml import accompaniment as acc
from studio.ml import melody_tokens as mt
from studio.ml.checkpoint import LoadedModel
from studio.ml.errors import GenerationError
from studio.ml.families.recurrent_step import RecurrentStepper
from studio.ml.family import SamplingOptions
from studio.ml.generation import material as mat
from studio.ml.sampling import constrain_tokens, sample_next, torch_threads
from studio.music.chords import Chord
from studio.music.song import Song
from studio.music.tokens import HOLD, REST

STRENGTH = 1.0  # logit bonus / penalty on beats (tuned: see the module docstring)
WEAK_SHARE = 0.35  # the share of it between beats
BEAT = 4  # 16th steps per beat


def is_recurrent(loaded: LoadedModel) -> bool:
    """Whether the model is a recurrent melody model (whose sampler can follow chords)."""
    return hasattr(loaded.model, "rnn") and loaded.family.representation == "melody-tokens/1"


def check_recurrent(loaded: LoadedModel, what: str) -> None:
    if not is_recurrent(loaded):
        raise GenerationError(f"{loaded.name} ({loaded.family.title}) cannot {what}; use a "
                              "recurrent melody model such as pop-lstm, folk-lstm or "
                              "lstm-melody")


def chord_tables(chords: Sequence[Chord | None]) -> tuple[np.ndarray, np.ndarray]:
    """(tone, clash): (steps, 12) bools per pitch class: chord tones, and pitch classes a
    semitone from a chord tone that are no chord tone (no chord: all False)."""
    tone = np.zeros((len(chords), 12), bool)
    for i, c in enumerate(chords):
        if c is not None:
            tone[i, list(c.pitch_classes)] = True
    near = np.roll(tone, 1, axis=1) | np.roll(tone, -1, axis=1)
    return tone, near & ~tone


def step_weights(positions: np.ndarray) -> np.ndarray:
    """1 on the steps that start a beat, WEAK_SHARE between beats."""
    return np.where(np.asarray(positions) % BEAT == 0, 1.0, WEAK_SHARE)


def chord_bias(chords: Sequence[Chord | None], positions: np.ndarray,
               strength: float = STRENGTH) -> np.ndarray:
    """(steps, 128) logit bias on pitches for following `chords` (one per 16th step)."""
    tone, clash = chord_tables(chords)
    per_class = (tone.astype(np.float32) - clash) * step_weights(positions)[:, None]
    return (strength * np.tile(per_class, (1, 11))[:, :128]).astype(np.float32)


def line_clash_bias(pitches: np.ndarray, positions: np.ndarray,
                    strength: float = STRENGTH) -> np.ndarray:
    """(steps, 128) bias against a semitone (or major seventh) with another line's sounding
    pitch per step (-1 silent): for a second line written against a melody."""
    p = np.asarray(pitches)
    clash = np.zeros((len(p), 12), np.float32)
    on = p >= 0
    clash[np.flatnonzero(on), (p[on] + 1) % 12] = 1
    clash[np.flatnonzero(on), (p[on] - 1) % 12] = 1
    per_class = -clash * step_weights(positions)[:, None]
    return (strength * np.tile(per_class, (1, 11))[:, :128]).astype(np.float32)


def chords_per_16th(chords_on_grid: Sequence[Chord | None], grid: acc.StepGrid, start: int,
                    steps: int) -> list[Chord | None]:
    """The chord at each 16th step from tick `start`, from chords laid on an accompaniment
    grid (whose steps may be 32nds in x/8 meters)."""
    ticks = start + mat.STEP * np.arange(steps)
    idx = np.searchsorted(grid.ticks[:-1], ticks, side="right") - 1
    inside = (idx >= 0) & (ticks < grid.ticks[-1])
    return [chords_on_grid[int(k)] if ok else None for k, ok in zip(idx, inside)]


def text_chords(text: str, song: Song, start: int, steps: int) -> tuple[list[Chord | None], str]:
    """Chord text laid out as the accompany mode lays it (a bar of text per bar from the bar
    holding `start`, repeated when shorter): the chord at each 16th step, and layout words.
    A symbol that does not parse is a GenerationError naming it and its bar."""
    from studio.ml.generation.accompany_task import given_chords

    end = start + steps * mat.STEP
    grid = acc.grid_for(song.time_signatures, start, end)
    pickup = bool(mat.pickup_end(song)) and int(grid.ticks[0]) < mat.pickup_end(song)
    chords, words = given_chords(text, grid, pickup)
    return chords_per_16th(chords, grid, start, steps), words


def sample_biased(loaded: LoadedModel, prime: np.ndarray, steps: int, options: SamplingOptions,
                  bias: np.ndarray | None, *, allowed_pitches: Sequence[int] | None = None,
                  steps_per_bar: int = 16, may_hold: bool = True) -> np.ndarray:
    """(count, steps) tokens continuing `prime` (which starts on a bar line) with the
    recurrent model, `bias` (steps, 128) added to the pitch logits and, for HOLD, the bias of
    the pitch being held. `may_hold=False`: the first new token may not lengthen the prime's
    last note."""
    check_recurrent(loaded, "follow chords")
    model = loaded.model
    with torch_threads(1), torch.inference_mode():
        model.eval()
        gen = options.generator()
        count = options.count
        prime = np.asarray(prime, np.int64).reshape(-1)
        start = np.concatenate(([mt.BOS], prime))
        positions = np.arange(len(start)) % steps_per_bar
        x = torch.as_tensor(start).repeat(count, 1)
        p = torch.as_tensor(positions).repeat(count, 1)
        logits, state = model(x, p)
        last = logits[:, -1].float()
        current = torch.full((count,), -1, dtype=torch.long)  # pitch sounding, -1 none
        for t in prime[::-1]:
            if t != HOLD:
                current[:] = int(t) if t < HOLD else -1
                break
        allowed = None
        if allowed_pitches is not None:
            allowed = torch.as_tensor(sorted({int(q) for q in allowed_pitches}))
        b = None if bias is None else torch.as_tensor(np.asarray(bias, np.float32))
        out = torch.empty((count, steps), dtype=torch.long)
        stepper = RecurrentStepper(model, state)
        pos = len(start)
        for i in range(steps):
            sounding = current >= 0
            if i == 0 and not may_hold:
                sounding = torch.zeros_like(sounding)
            if b is not None:
                last = last.clone()
                last[:, :128] += b[i]
                held = torch.where(sounding, b[i][current.clamp(min=0)], torch.zeros(count))
                last[:, HOLD] += held
            masked = constrain_tokens(last, allowed, sounding)
            token = sample_next(masked, options.temperature, options.top_k, options.top_p, gen)
            out[:, i] = token
            current = torch.where(token < HOLD, token,
                                  torch.where(token == REST, torch.full_like(token, -1), current))
            last = stepper.step(token, torch.full((count,), pos % steps_per_bar)).float()
            pos += 1
    return out.numpy().astype(np.int16)


def log_likelihood(loaded: LoadedModel, tokens: np.ndarray, start: int, end: int,
                   steps_per_bar: int = 16) -> np.ndarray:
    """(n,) log-probability (nats) the model gives tokens[:, start:end] of each row of
    (n, steps) token sequences that begin on a bar line, given everything before."""
    check_recurrent(loaded, "score a melody")
    t = torch.as_tensor(np.asarray(tokens, np.int64))
    n, steps = t.shape
    if end <= start:
        return np.zeros(n)
    x = torch.cat([torch.full((n, 1), mt.BOS), t[:, :-1]], 1)
    p = (torch.arange(steps) % steps_per_bar).repeat(n, 1)
    with torch_threads(1), torch.inference_mode():
        loaded.model.eval()
        logits, _ = loaded.model(x, p)
        logp = torch.log_softmax(logits.float(), -1)
        picked = logp.gather(2, t[:, :, None])[:, :, 0]
    return picked[:, start:end].sum(1).numpy().astype(np.float64)


def beat_stats(pitches: np.ndarray, chords: Sequence[Chord | None], positions: np.ndarray
               ) -> tuple[int, int, int]:
    """(beats with a sounding melody note and a chord, of them on a chord tone, of them
    clashing): what BENCHMARKS reports as chord-tone share and clash rate on beats."""
    tone, clash = chord_tables(chords)
    p = np.asarray(pitches)
    on = (p >= 0) & (np.asarray(positions) % BEAT == 0) & tone.any(1)
    idx = np.flatnonzero(on)
    pcs = p[idx] % 12
    return len(idx), int(tone[idx, pcs].sum()), int(clash[idx, pcs].sum())

