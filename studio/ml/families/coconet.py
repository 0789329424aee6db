"""Convolutional orderless NADE over the four-voice roll, as in Coconet (Huang et al., 2017).

The net sees the four voices as one-hot pitches, with some cells hidden, plus the mask saying
which; it predicts a pitch (or silence) for every voice at every step. Trained on random masks
(a uniformly random share of cells, Coconet's orderless objective, the loss averaged over the
hidden cells; for a share of excerpts only alto, tenor and bass cells under a given soprano; for
another share whole voices), it can fill in any subset given the rest: harmonize a melody, or
regenerate a region. The studio decodes it with `studio.ml.generation.chord_gibbs`; the
family's own `infill` is plain blocked Gibbs sampling with an annealed mask (Yao et al.).

Two pitch views (`pitch_view`):
- `full` (default): each 16th step is one vector of all four voices' pitches, mixed by residual
  batch-normed 1-D convolutions over time (dilated, so a few layers hear several bars), plus a
  small pitch-equivariant shortcut for held notes and steps. Every output hears every voice at
  every pitch; on CPUs with native bfloat16 (AMX) the convolutions run in bfloat16.
- `local`: 3x3 convolutions over (time, pitch), as in the paper, but shallow: each cell sees only
  about ten semitones around it, too few for the bass to hear the soprano (this net scored about
  2.4 nats per frame where the paper's deep one scores 0.57). Kept to load older models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from studio.ml import satb_roll as sr
from studio.ml.errors import GenerationError
from studio.ml.families.satb_roll_family import (
    SatbRollFamily,
    onset_stats,
)
from studio.ml.family import LossOutput, SamplingOptions
from studio.ml.knobs import knob
from studio.ml.satb_decoding import allowed_classes


@dataclass
class CoconetConfig:
    channels: int = knob(64, low=4, high=512, help="Filters per convolution layer: more can "
                         "learn richer harmony, but train and generate slower.")
    layers: int = knob(8, low=2, high=64, help="Convolution layers (in pairs with a shortcut): "
                       "deeper sees more of the music around each note.")
    max_dilation: int = knob(8, choices=(1, 2, 4, 8, 16), help="How far apart along time the "
                             "layers look (1, 2, 4, ... steps): wider hears more bars at once.")
    dropout: float = knob(0.0, low=0.0, high=0.8, help="Fraction of feature maps switched off "
                          "at random while training, so the model cannot just memorise.")
    window: int = knob(64, low=8, high=1024, help="Length of the training excerpts in 16th "
                       "notes (64 = 4 bars of 4/4).")
    voice_masks: float = knob(0.25, low=0.0, high=1.0, help="Share of training excerpts where "
                              "whole voices are hidden (as when harmonizing) instead of random "
                              "notes.")
    gibbs_steps: int = knob(32, low=1, high=1000, help="Default number of Gibbs steps when "
                            "generating: more refine the harmony, but take longer.")
    pitch_view: str = knob("full", choices=("full", "local"), help="full: each layer hears "
                           "every voice at every pitch (fast; the bass hears the soprano). "
                           "local: 3x3 convolutions over time and pitch (the first Studio CNN).")
    soprano_masks: float = knob(0.35, low=0.0, high=1.0, help="Share of training excerpts "
                                "where the soprano stays given and random alto, tenor and bass "
                                "notes are hidden (as when harmonizing a melody).")

    @property
    def length(self) -> int:
        return self.window


class ResidualPair(nn.Module):
    def __init__(self, channels: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=(dilation, 1),
                               dilation=(dilation, 1))
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        nn.init.zeros_(self.conv2.weight)  # each pair starts as the identity
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.dropout(F.relu(self.conv1(F.relu(x)))))


class CoconetNet(nn.Module):
    """(batch, steps, 4) classes + (batch, steps, 4) hidden mask -> (batch, 4, steps, 47) logits."""

    def __init__(self, c: CoconetConfig) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(2 * sr.VOICES, c.channels, 3, padding=1)
        dilations = [2 ** (i % (c.max_dilation.bit_length())) for i in range(c.layers // 2)]
        self.blocks = nn.Sequential(*(ResidualPair(c.channels, d, c.dropout) for d in dilations))
        # no bias: a constant per voice would cancel in the softmax over pitches
        self.conv_out = nn.Conv2d(c.channels, sr.VOICES, 3, padding=1, bias=False)

    def forward(self, classes: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        dtype = self.conv_in.weight.dtype
        visible = F.one_hot(classes.long(), sr.CLASSES).permute(0, 2, 1, 3).to(dtype)
        shown = (~hidden).permute(0, 2, 1)[..., None].to(dtype)  # b, voice, t, 1
        planes = torch.cat([visible * shown, (1 - shown).expand_as(visible)], dim=1)
        h = self.conv_in(planes.contiguous(memory_format=torch.channels_last))
        return self.conv_out(F.relu(self.blocks(h)))


class VoiceStackPair(nn.Module):
    """Two batch-normed 1-D convolutions over time (the first dilated) with a shortcut."""

    def __init__(self, channels: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm1d(channels)
        self.conv1 = nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.norm2 = nn.BatchNorm1d(channels)
        self.conv2 = nn.Conv1d(channels, channels, 3, padding=1)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        nn.init.zeros_(self.conv2.weight)  # each pair starts as the identity
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.relu(self.norm1(x)))
        return x + self.conv2(self.dropout(F.relu(self.norm2(h))))


class VoiceStackNet(nn.Module):
    """The `full` pitch view: each 16th step is one vector of the four voices' one-hot pitches
    (zeroed where hidden) and the four mask bits; residual 1-D convolutions over time mix them,
    so every output hears every voice at every pitch (the local 3x3 net saw only about ten
    semitones around each cell, too few for the bass to hear the soprano).
    Same interface as `CoconetNet`."""

    def __init__(self, c: CoconetConfig) -> None:
        super().__init__()
        self.conv_in = nn.Conv1d(sr.VOICES * (sr.CLASSES + 1), c.channels, 3, padding=1)
        dilations = [2 ** (i % (c.max_dilation.bit_length())) for i in range(c.layers // 2)]
        self.blocks = nn.Sequential(*(VoiceStackPair(c.channels, d, c.dropout)
                                      for d in dilations))
        self.norm_out = nn.BatchNorm1d(c.channels)
        self.conv_out = nn.Conv1d(c.channels, sr.VOICES * sr.CLASSES, 1)
        # a pitch-equivariant shortcut to the logits: each voice's notes a few steps around
        # (and steps up to a whole tone away), which the deep path would have to learn for
        # every pitch on its own (held notes, stepwise motion)
        self.local = nn.Conv2d(2 * sr.VOICES, sr.VOICES, (5, 5), padding=(2, 2))

    def forward(self, classes: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
        b, t, v = classes.shape
        dtype = self.conv_in.weight.dtype
        shown = (~hidden)[..., None].to(dtype)  # b, t, v, 1
        visible = F.one_hot(classes.long(), sr.CLASSES).to(dtype) * shown
        planes = torch.cat([visible, 1 - shown], -1).reshape(b, t, -1).transpose(1, 2)
        with torch.autocast("cpu", torch.bfloat16, enabled=_fast_bf16(planes)):
            h = self.blocks(self.conv_in(planes))
        h = F.relu(self.norm_out(h.to(dtype)))
        h = self.conv_out(h)  # in float32: bfloat16 logits would blur the likelihoods
        local = self.local(torch.cat([visible, (1 - shown).expand_as(visible)], 2)
                           .permute(0, 2, 1, 3))  # b, v, t, classes
        return h.reshape(b, v, sr.CLASSES, t).transpose(2, 3) + local


def _fast_bf16(x: torch.Tensor) -> bool:
    """bfloat16 convolutions on CPUs that compute them natively (AMX or AVX512-BF16: about 3x
    faster than float32 here); float32 elsewhere."""
    if x.device.type != "cpu" or x.dtype != torch.float32:
        return False
    cpu = getattr(torch, "cpu", None)
    return bool(getattr(cpu, "_is_amx_tile_supported", lambda: False)()
                or getattr(cpu, "_is_avx512_bf16_supported", lambda: False)())


class Coconet(SatbRollFamily):
    name = "coconet"
    models = {"cnn": {}}
    title = "Coconet-style convolutional harmonizer"
    summary = ("Learns four-part harmony and fills in missing voices: harmonizes a melody or "
               "rewrites a region.")
    Config = CoconetConfig
    evaluation_note = ("The CNN's NLL is per hidden note under random masks (Coconet's measure: "
                       "it sees the notes around each one); the baseline predicts each 16th of "
                       "a voice from the preceding ones of that voice.")

    # -- representation -----------------------------------------------------------------------
    def prepare(self, batch: dict[str, torch.Tensor], generator: torch.Generator):
        """Hide cells: random cells at a uniformly random rate (Coconet's orderless masks),
        for a share only alto, tenor and bass cells (the soprano given, as when harmonizing),
        for another share whole voices."""
        b, t, v = batch["classes"].shape
        rate = torch.rand(b, 1, 1, generator=generator)
        cells = torch.rand(b, t, v, generator=generator) < rate
        voices = torch.rand(b, 1, v, generator=generator) < 0.5
        voices[:, 0, 1:] |= ~voices.any(-1)  # at least one voice hidden: alto, tenor, bass
        pick = torch.rand(b, 1, 1, generator=generator)
        by_voice = pick < self.config.voice_masks
        under_soprano = (pick >= self.config.voice_masks) & (
            pick < self.config.voice_masks + self.config.soprano_masks)
        lower = cells.clone()
        lower[..., 0] = False
        lower[..., 1:] |= ~lower.any((1, 2))[:, None, None]  # never nothing hidden
        cells = torch.where(under_soprano, lower, cells)
        hidden = torch.where(by_voice, voices.expand(b, t, v), cells)
        return {**batch, "hidden": hidden.to(batch["classes"].device)}

    # -- model --------------------------------------------------------------------------------
    def build(self) -> nn.Module:
        if self.config.pitch_view == "full":
            return VoiceStackNet(self.config)
        # channels-last convolutions run about twice as fast on CPUs (oneDNN)
        return CoconetNet(self.config).to(memory_format=torch.channels_last)

    @classmethod
    def upgrade_config(cls, config: dict) -> dict:
        """Cards written before `pitch_view` existed hold the local (3x3) net."""
        return config if "pitch_view" in config else {**config, "pitch_view": "local"}

    def loss(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> LossOutput:
        classes = batch["classes"].long()
        hidden = batch["hidden"]
        logits = model(classes, hidden).float()  # b, v, t, c
        target = classes.permute(0, 2, 1)  # b, v, t
        nll = F.cross_entropy(logits.permute(0, 3, 1, 2), target, reduction="none")
        weight = hidden.permute(0, 2, 1) & batch["valid"][:, None, :]
        per_example = (nll * weight).sum((1, 2)) / weight.sum((1, 2)).clamp(min=1)
        return LossOutput(per_example.mean(), onset_stats(logits.argmax(-1), target, nll, weight))

    # -- generation ---------------------------------------------------------------------------
    @torch.inference_mode()
    def fill(self, model: nn.Module, satb: np.ndarray, regenerate: np.ndarray,
             options: SamplingOptions, allowed_pitches: Sequence[int] | None) -> np.ndarray:
        model.eval()
        device = next(model.parameters()).device
        steps = options.iterations or self.config.gibbs_steps
        allowed = allowed_classes(allowed_pitches).to(device)
        given = torch.as_tensor(sr.to_classes(np.where(regenerate, -1, satb)), device=device)
        free = torch.as_tensor(regenerate, device=device)
        result = gibbs_sample(model, given.repeat(options.count, 1, 1),
                              free.repeat(options.count, 1, 1), steps, options.temperature,
                              options.generator(), allowed)
        out = np.repeat(np.asarray(satb, np.int8)[None], options.count, axis=0)
        pitches = sr.to_pitches(result)
        out[:, regenerate] = pitches[:, regenerate]
        return out


def gibbs_sample(model: nn.Module, classes: torch.Tensor, free: torch.Tensor, steps: int,
                 temperature: float, generator: torch.Generator, allowed: torch.Tensor,
                 p_min: float = 0.05, anneal: float = 0.75) -> torch.Tensor:
    """Blocked Gibbs sampling with an annealed mask: at step n a random share
    p_n = max(p_min, 1 - n (1 - p_min) / (anneal * steps)) of the free cells is hidden and
    redrawn from the net's prediction given everything else. The first step hides every free
    cell. `classes`/`free` are (chains, steps, 4); returns the classes after the last step."""
    if temperature <= 0:
        raise GenerationError("the temperature must be above 0")
    x = classes.clone()
    x[free] = 0
    penalty = torch.where(allowed, 0.0, float("-inf")).to(x.device)  # 4, classes
    for n in range(steps):
        share = max(p_min, 1.0 - n * (1.0 - p_min) / max(1e-9, anneal * steps))
        pick = torch.rand(free.shape, generator=generator).to(x.device) < share
        block = free & (pick if n else torch.ones_like(free))
        if not block.any():
            continue
        logits = model(x, block).float()  # chains, 4, t, classes
        logits = logits / temperature + penalty[None, :, None, :]
        probs = torch.softmax(logits, -1).permute(0, 2, 1, 3)  # chains, t, 4, classes
        drawn = torch.multinomial(probs[block].cpu(), 1, generator=generator)[:, 0]
        x[block] = drawn.to(x.device, x.dtype)
    return x
