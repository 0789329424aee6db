"""Convolutional orderless NADE over the four-voice roll, as in Coconet (Huang et al., 2017).

The net sees the four voices as one-hot planes over (time, pitch), with some cells hidden, plus
the mask saying which; it predicts a pitch (or silence) for every voice at every step. Trained on
random masks, it can fill in any subset given the rest: harmonize a melody (hide alto, tenor,
bass), or regenerate a region. Generation is blocked Gibbs sampling with an annealed mask
(Yao et al.): resample a random block of the free cells at a time, fewer of them each step.

Lean by design for 2-core laptops: a few 3x3 residual conv layers, dilated along time so that a
handful of layers sees several bars, and a few dozen batched Gibbs steps.
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
    voice_masks: float = knob(0.5, low=0.0, high=1.0, help="Share of training excerpts where "
                              "whole voices are hidden (as when harmonizing) instead of random "
                              "notes.")
    gibbs_steps: int = knob(32, low=1, high=1000, help="Default number of Gibbs steps when "
                            "generating: more refine the harmony, but take longer.")

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
        """Hide cells: random cells at a random rate, or (for a share) whole voices."""
        b, t, v = batch["classes"].shape
        rate = torch.rand(b, 1, 1, generator=generator)
        cells = torch.rand(b, t, v, generator=generator) < rate
        voices = torch.rand(b, 1, v, generator=generator) < 0.5
        voices[:, 0, 1:] |= ~voices.any(-1)  # at least one voice hidden: alto, tenor, bass
        by_voice = torch.rand(b, 1, 1, generator=generator) < self.config.voice_masks
        hidden = torch.where(by_voice, voices.expand(b, t, v), cells)
        return {**batch, "hidden": hidden.to(batch["classes"].device)}

    # -- model --------------------------------------------------------------------------------
    def build(self) -> CoconetNet:
        # channels-last convolutions run about twice as fast on CPUs (oneDNN)
        return CoconetNet(self.config).to(memory_format=torch.channels_last)

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
