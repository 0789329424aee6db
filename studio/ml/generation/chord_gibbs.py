"""Chord-aware decoding of four-part harmony: annealed blocked Gibbs sampling over the free
cells of the four-voice roll (Coconet, Huang et al. 2017; DeepBach's pseudo-Gibbs).

Each cell (a voice at a 16th step) is redrawn from

    log p(cell | everything else)  -  soft costs  +  w * log P(sonority)

divided by a temperature that falls from `start_temperature` to `end_temperature`:

- `log p(cell | everything else)` is the network's conditional: the Coconet CNN predicts the
  hidden cells given all the others (so it hears the chord it completes); models that read the
  soprano only (MiniBach) give the same per-step probabilities whatever the other voices do.
- the sonority prior (`studio.ml.sonority_prior`) scores the whole chord the cell completes,
  relative to the bass, by how often Bach's chorales sound it (needed for MiniBach, whose voices
  do not hear each other; a small weight for the CNN);
- soft costs, in nats: parallel fifths and octaves into and out of the cell, more than an
  octave between soprano and alto or alto and tenor. Bach writes a few of each, so these are
  costs, not bans.

Hard limits the musician sets are never broken: each voice's range (and the pitch range),
the key (with a key chosen and chromatic notes not allowed, no new note outside its scale), and
no voice crossing (a cell is drawn between its neighbours' current pitches; a last sweep redraws
any cell that two simultaneous draws left crossed). Where the soprano rests the free voices
rest; elsewhere they sing.

The first pass writes the voices one at a time (bass under the soprano, then tenor, then alto:
each drawn with the voices above still hidden), so the chain starts from a coherent chorale;
then `steps` passes each redraw a random share of the free cells, from `start_share` falling to
`end_share` (Yao et al.'s annealed masking), the rest held as context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from studio.ml import satb_roll as sr
from studio.ml.sonority_prior import SETS, log_prior, rotate_masks

# (chains, T, 4) classes, (chains, T, 4) hidden -> (chains, T, 4, classes) log-probabilities
Conditional = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Cancel = Callable[[], bool]
BLOCKED = -1e9
PITCH = torch.arange(sr.CLASSES) + sr.LOWEST - 1  # the MIDI pitch of each class (class 0 silent)


class Interrupted(Exception):
    """Raised between passes when the caller cancelled."""


@dataclass(frozen=True)
class GibbsSettings:
    """Defaults: the CNN's, chosen by hand on 8-20 JSB validation chorales with bench_harmony's
    measures (`bench_harmony.py --tune` runs a small grid around them)."""

    steps: int = 24  # annealed passes after the first, voice-by-voice one
    start_temperature: float = 1.0
    end_temperature: float = 0.8
    start_share: float = 0.9  # of the free cells redrawn per pass
    end_share: float = 0.1
    parallel: float = 8.0  # nats per parallel fifth or octave a cell would make
    spacing: float = 1.0  # nats for more than an octave between soprano-alto or alto-tenor
    sonority: float = 0.3  # weight of the sonority prior
    out_of_key: float = 0.0  # nats per new note outside the preferred scale (soft)
    cadence: float = 2.0  # weight of the bass's cadence prior under the melody's last notes
    # nats per change of pitch within a voice, more off the beat and off the eighth (the CNN
    # needs only the last, against isolated 16ths; MiniBach, whose steps do not hear each
    # other, all three, so that its voices hold notes as Bach's do)
    change: float = 0.0
    change_off_beat: float = 0.0
    change_off_eighth: float = 1.0
    # nats for a change on the second 16th of a beat (Bach's voices rarely start a note there:
    # his 16ths come in the second half of a beat), and per semitone of a move beyond a whole
    # step (his lower voices move by step far more than they leap)
    change_e: float = 0.0
    leap: float = 0.0


def _pitch_of(classes: torch.Tensor) -> torch.Tensor:
    return torch.where(classes > 0, classes + sr.LOWEST - 1, -1)


def _shift(x: torch.Tensor, by: int) -> torch.Tensor:
    """x[:, t + by] along time, -1 (silent) beyond the ends."""
    out = torch.full_like(x, -1)
    if by > 0:
        out[:, :-by] = x[:, by:]
    else:
        out[:, -by:] = x[:, :by]
    return out


def cell_scores(x: torch.Tensor, voice: int, s: GibbsSettings, bits: torch.Tensor
                ) -> torch.Tensor:
    """(chains, T, classes) soft score (nats, higher is better) of every class for `voice`,
    the other voices as in `x` (classes)."""
    p = _pitch_of(x)  # chains, T, 4
    cand = PITCH.to(x.device)[None, None, :]  # 1, 1, C
    sounding = torch.arange(sr.CLASSES, device=x.device)[None, None, :] > 0
    score = torch.zeros(p.shape[0], p.shape[1], sr.CLASSES, device=x.device)
    if s.parallel > 0:
        others = [u for u in range(4) if u != voice]
        here_u = p[..., others, None]  # chains, T, 3, 1
        c = cand[..., None, :]  # 1, 1, 1, C
        for by in (-1, 1):  # the move into this step, and out of it
            near = _shift(p, by)
            near_v = near[..., voice, None, None]  # chains, T, 1, 1
            near_u = near[..., others, None]
            ok = sounding[..., None, :] & (near_v >= 0) & (near_u >= 0) & (here_u >= 0)
            move_v = (c - near_v) * -by  # motion from the earlier to the later step
            move_u = (here_u - near_u) * -by
            similar = (torch.sign(move_v) == torch.sign(move_u)) & (move_v != 0)
            before = (near_v - near_u).abs() % 12
            after = (c - here_u).abs() % 12
            perfect = (before == after) & ((after == 7) | (after == 0))
            score -= s.parallel * (ok & similar & perfect).sum(2)
    if s.change or s.change_off_beat or s.change_off_eighth or s.change_e or s.leap:
        t = torch.arange(p.shape[1], device=x.device)
        cost = (s.change + s.change_off_beat * (t % 4 != 0) + s.change_off_eighth * (t % 2 != 0)
                + s.change_e * (t % 4 == 1))
        before = _shift(p[..., voice], -1)[..., None]
        after = _shift(p[..., voice], 1)[..., None]
        into = cost[None, :, None] * ((before >= 0) & (cand != before))
        out = torch.roll(cost, -1)[None, :, None] * ((after >= 0) & (cand != after))
        score -= into + out
        if s.leap:
            for near in (before, after):
                beyond = ((cand - near).abs() - 2).clamp(min=0)
                score -= s.leap * torch.where((near >= 0) & sounding, beyond, 0)
    if s.spacing > 0:
        for upper, lower in ((0, 1), (1, 2)):
            if voice == upper:
                other = p[..., lower, None]
                wide = (other >= 0) & (cand - other > 12)
            elif voice == lower:
                other = p[..., upper, None]
                wide = (other >= 0) & (other - cand > 12)
            else:
                continue
            score -= s.spacing * (wide & sounding)
    if s.sonority > 0:
        others = [u for u in range(4) if u != voice]
        po = p[..., others]  # chains, T, 3
        mask = torch.zeros(po.shape[:-1], dtype=torch.long, device=x.device)
        for i in range(3):
            mask |= torch.where(po[..., i] >= 0, 1 << (po[..., i] % 12), 0)
        low = torch.where(po >= 0, po, 999).amin(-1)[..., None]  # chains, T, 1
        full = mask[..., None] | (1 << (cand % 12))
        bass = torch.minimum(low, cand)
        rel = rotate_masks(full, bass)
        score += s.sonority * torch.where(sounding, bits[rel.clamp(0, SETS - 1)], 0.0)
    return score


def _crossing_limits(x: torch.Tensor, voice: int) -> torch.Tensor:
    """(chains, T, classes) True where a class keeps `voice` between its neighbours."""
    p = _pitch_of(x)
    cand = PITCH.to(x.device)[None, None, :]
    ok = torch.ones(p.shape[0], p.shape[1], sr.CLASSES, dtype=torch.bool, device=x.device)
    if voice > 0:
        above = p[..., voice - 1, None]
        ok &= (above < 0) | (cand <= above)
    if voice < 3:
        below = p[..., voice + 1, None]
        ok &= (below < 0) | (cand >= below)
    return ok


def _draw(x: torch.Tensor, block: torch.Tensor, logp: torch.Tensor, allowed: torch.Tensor,
          s: GibbsSettings, temperature: float, generator: torch.Generator,
          bits: torch.Tensor, prefer: torch.Tensor | None, bias: torch.Tensor | None,
          cross: bool = True) -> None:
    """Redraw the cells of `block` (chains, T, 4) in place."""
    for v in range(4):
        cells = block[..., v]
        if not cells.any():
            continue
        energy = logp[..., v, :] + cell_scores(x, v, s, bits)
        if bias is not None:
            energy = energy + bias[None, :, v, :]
        if prefer is not None and s.out_of_key > 0:
            energy = energy - s.out_of_key * (~prefer[v])[None, None, :]
        ok = allowed[..., v, :]
        if cross:
            limited = ok & _crossing_limits(x, v)
            ok = torch.where(limited.any(-1, keepdim=True), limited, ok)
        energy = torch.where(ok, energy / temperature, torch.tensor(BLOCKED))
        probs = torch.softmax(energy[cells], -1)
        x[..., v][cells] = torch.multinomial(probs, 1, generator=generator)[:, 0].to(x.dtype)


def anneal(conditional: Conditional, given: torch.Tensor, free: torch.Tensor,
           allowed: torch.Tensor, settings: GibbsSettings, generator: torch.Generator, *,
           prefer: torch.Tensor | None = None, bias: torch.Tensor | None = None,
           cancel: Cancel | None = None) -> torch.Tensor:
    """(chains, T, 4) classes: `given` (chains, T, 4) classes with its `free` (T, 4) cells
    written. `allowed` (T, 4, classes) bool: what each cell may take (range, key, rests);
    `prefer` (4, classes) bool: the preferred scale for the soft `out_of_key` cost; `bias`
    (T, 4, classes): log-scores added to each cell's (the cadence prior)."""
    s = settings
    bits = log_prior() if s.sonority > 0 else torch.zeros(SETS)
    x = given.clone().long()
    chains = len(x)
    free_b = free[None].expand(chains, -1, -1)
    ok = allowed[None].expand(chains, -1, -1, -1)
    x[free_b] = 0
    for v in (3, 2, 1, 0):  # bass first, each voice with the ones above it still hidden
        if not free[:, v].any():
            continue
        if cancel is not None and cancel():
            raise Interrupted
        hidden = free_b.clone()
        hidden[..., v + 1:] = False
        block = free_b & (torch.arange(4) == v)
        _draw(x, block, conditional(x, hidden), ok, s, s.start_temperature, generator, bits,
              prefer, bias)
    for n in range(s.steps):
        if cancel is not None and cancel():
            raise Interrupted
        frac = n / max(1, s.steps - 1)
        share = s.start_share + (s.end_share - s.start_share) * min(1.0, frac / 0.75)
        temperature = s.start_temperature * (s.end_temperature / s.start_temperature) ** frac
        block = free_b & (torch.rand(free_b.shape, generator=generator) < share)
        if not block.any():
            continue
        _draw(x, block, conditional(x, block), ok, s, temperature, generator, bits, prefer, bias)
    # Settle what two simultaneous draws can leave and neither saw: crossings, and parallels
    # (redrawn one voice at a time, so each cell's costs see the others as they end up)
    only_parallels = replace(s, spacing=0.0, sonority=0.0, change=0.0, change_off_beat=0.0,
                             change_off_eighth=0.0, change_e=0.0, leap=0.0)
    for v in (1, 2, 3, 1, 2, 3):
        if cancel is not None and cancel():
            raise Interrupted
        crossed = ~torch.gather(_crossing_limits(x, v), -1, x[..., v, None])[..., 0]
        parallel = torch.gather(cell_scores(x, v, only_parallels, bits), -1,
                                x[..., v, None])[..., 0] < 0
        redo = free_b[..., v] & (crossed | parallel)
        if redo.any():
            block = torch.zeros_like(free_b)
            block[..., v] = redo
            _draw(x, block, conditional(x, block), ok, s, s.end_temperature, generator, bits,
                  prefer, bias)
    return x
