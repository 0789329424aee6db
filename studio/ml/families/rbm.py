"""Restricted Boltzmann machine over windows of the four-voice piano roll, trained by contrastive
divergence (CD-k) and generating by Gibbs sampling.

The visible layer is a window of the four-voice roll (`studio.ml.satb_roll`): at every 16th step
each voice is one softmax unit over 47 classes (silent or a pitch from 36 to 81), so a voice
sings exactly one note at a time. The hidden layer is `units` binary units. The energy of a
configuration is

    E(v, h) = -sum_i b[i, v_i] - sum_j c_j h_j - sum_i sum_j W[i, v_i, j] h_j

(i runs over the window's voice-steps), and the free energy F(v) sums the hidden units out.

Training (CD-k): from each training window v0, alternate k times h ~ p(h | v), v ~ p(v | h) to
get the model's "fantasy" vk; the gradient is that of F(v0) - F(vk) (Hinton, 2002), applied by
the ordinary optimizer. The loss the trainer reports is NOT that difference, which says little
about progress: it is the pseudo-likelihood, the mean negative log-probability of a voice-step's
true class given every other voice-step of the window, -log p(v_i | v_rest), computed exactly
for `measured_cells` voice-steps per window drawn at random (fixed seeds in validation). The
value of `loss` is that pseudo-NLL while its gradient is the CD-k gradient.

Generation: harmonize and infill clamp the given voice-steps and Gibbs-sample the free ones
(`decoding = voice-leading` then searches the best-led harmony among the notes the sampling
favoured, with `studio.ml.satb_decoding`).
Longer music is covered by two tilings of windows, one shifted by half a window against
the other, resampled in turn (every window of a tiling at once).
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
from studio.ml.families.satb_roll_family import SatbRollFamily
from studio.ml.family import LossOutput, SamplingOptions, classification_stats
from studio.ml.knobs import knob
from studio.ml.sampling import torch_threads
from studio.ml.satb_decoding import allowed_classes, decode_lower_voices, key_scale


@dataclass
class RBMConfig:
    window_bars: int = knob(1, low=1, high=8, help="Length of the excerpts the model sees at "
                            "once, in bars of 4/4: longer captures more of a phrase but needs "
                            "more hidden units.")
    units: int = knob(256, low=16, high=4096, help="Neurons in each hidden layer: more can "
                      "learn more, but train slower and may memorise the pieces.")
    cd_steps: int = knob(1, low=1, high=100, help="Contrastive-divergence steps (the k of "
                         "CD-k): how long the model lets its own imagination run from each "
                         "excerpt before comparing; more is slower but learns a truer model.")
    gibbs_sweeps: int = knob(100, low=1, high=10_000, help="Default number of Gibbs sampling "
                             "rounds per excerpt when generating: more let the harmony settle, "
                             "but take longer.")
    decoding: str = knob("gibbs", choices=("gibbs", "voice-leading"), help="How harmonies "
                         "are written: gibbs keeps the last Gibbs sample; voice-leading then "
                         "searches the best-led harmony among the notes the sampling favoured.")
    measured_cells: int = knob(4, low=1, high=512, advanced=True, help="Voice-steps per "
                               "excerpt whose pseudo-likelihood is measured for the loss curve: "
                               "more give a steadier curve but cost time.")

    @property
    def length(self) -> int:
        return self.window_bars * 16


class RBMNet(nn.Module):
    """Weights W (cells x classes, hidden), visible biases b, hidden biases c; a window is a
    (batch, cells) tensor of classes, cells = steps x 4 voices in step-major order."""

    def __init__(self, c: RBMConfig) -> None:
        super().__init__()
        self.cells = c.length * sr.VOICES
        self.weight = nn.Parameter(0.01 * torch.randn(self.cells * sr.CLASSES, c.units))
        self.visible_bias = nn.Parameter(torch.zeros(self.cells, sr.CLASSES))
        self.hidden_bias = nn.Parameter(torch.zeros(c.units))
        self.register_buffer("offsets", torch.arange(self.cells) * sr.CLASSES, persistent=False)

    def hidden_input(self, v: torch.Tensor) -> torch.Tensor:
        """(batch, units) input of each hidden unit: c + sum_i W[i, v_i]."""
        return F.embedding_bag(v.long() + self.offsets, self.weight, mode="sum") + \
            self.hidden_bias

    def visible_logits(self, h: torch.Tensor) -> torch.Tensor:
        """(batch, cells, classes) logits of p(v | h)."""
        return (h @ self.weight.T).view(len(h), self.cells, sr.CLASSES) + self.visible_bias

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """(batch,) F(v) = -sum_i b[i, v_i] - sum_j softplus(c_j + sum_i W[i, v_i, j])."""
        bias = self.visible_bias.gather(1, v.long().T).T.sum(1)
        return -bias - F.softplus(self.hidden_input(v)).sum(1)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return self.free_energy(v)

    def gibbs_step(self, v: torch.Tensor) -> torch.Tensor:
        """v -> h ~ p(h | v) -> v' ~ p(v | h), every cell resampled."""
        h = torch.bernoulli(torch.sigmoid(self.hidden_input(v)))
        return draw(torch.softmax(self.visible_logits(h).float(), -1))

    def pseudo_logits(self, v: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
        """(batch, m, classes) logits of p(v_i = class | v_rest) for the (batch, m) `cells`:
        -F of v with cell i set to each class, up to a constant."""
        v = v.long()
        a = self.hidden_input(v)[:, None, None, :]  # b, 1, 1, H
        w = self.weight.view(self.cells, sr.CLASSES, -1)
        w_all = w[cells]  # b, m, C, H
        w_now = w_all.gather(2, v.gather(1, cells)[..., None, None].expand(
            -1, -1, 1, w.shape[-1]))  # b, m, 1, H
        return self.visible_bias[cells] + F.softplus(a - w_now + w_all).sum(-1)


class RBM(SatbRollFamily):
    name = "rbm"
    models = {"rbm": {}}
    title = "restricted Boltzmann machine"
    summary = ("An energy-based model of four-part harmony that harmonizes and fills in by "
               "letting the voices settle (Gibbs sampling).")
    Config = RBMConfig
    evaluation_note = ("The RBM's loss and NLL are its pseudo-likelihood: -log p(one voice-step "
                       "| all the others in its window), not a prediction of the next note, so "
                       "they are not comparable with the n-gram's.")

    # -- representation -----------------------------------------------------------------------
    def representation_layout(self) -> dict:
        return {"voices": ["S", "A", "T", "B"], "window_steps": self.config.length}

    def prepare(self, batch: dict[str, torch.Tensor], generator: torch.Generator):
        """The voice-steps whose pseudo-likelihood is measured: `measured_cells` random ones
        among the window's valid steps."""
        valid = batch["valid"].repeat_interleave(sr.VOICES, dim=1).cpu()  # b, cells
        score = torch.rand(valid.shape, generator=generator) + (~valid).float()
        m = min(self.config.measured_cells, valid.shape[1])
        cells = score.argsort(1)[:, :m]
        device = batch["classes"].device
        return {**batch, "cells": cells.to(device), "weight": valid.gather(1, cells).to(device)}

    # -- model --------------------------------------------------------------------------------
    def build(self) -> RBMNet:
        return RBMNet(self.config)

    def loss(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> LossOutput:
        net = getattr(model, "module", model)  # the RBM itself under DistributedDataParallel
        v0 = batch["classes"].long().flatten(1)  # b, steps * 4 (step-major)
        cells, weight = batch["cells"], batch["weight"]
        with torch.no_grad():
            logits = net.pseudo_logits(v0, cells).float()
        target = v0.gather(1, cells)
        nll = F.cross_entropy(logits.permute(0, 2, 1), target, reduction="none")
        per_example = (nll * weight).sum(1) / weight.sum(1).clamp(min=1)
        previous = v0.gather(1, (cells - sr.VOICES).clamp(min=0))
        previous = torch.where(cells >= sr.VOICES, previous, -1)
        guess = logits.argmax(-1)
        stats = classification_stats(logits, target, nll, (target != previous) & (target > 0),
                                     (guess != previous) & (guess > 0), weight)
        value = per_example.mean()
        if not model.training:
            return LossOutput(value, stats)
        with torch.no_grad():
            vk = v0
            for _ in range(self.config.cd_steps):
                vk = net.gibbs_step(vk)
        energy = model(torch.cat([v0, vk]))  # through `model`, so that DDP averages gradients
        cd = energy[:len(v0)].mean() - energy[len(v0):].mean()
        return LossOutput(cd - cd.detach() + value, stats)

    # -- generation ---------------------------------------------------------------------------
    def check_options(self, options: SamplingOptions) -> None:
        if options.temperature <= 0:
            raise GenerationError("the temperature must be above 0")

    def fill(self, model: nn.Module, satb: np.ndarray, regenerate: np.ndarray,
             options: SamplingOptions, allowed_pitches: Sequence[int] | None) -> np.ndarray:
        allowed = allowed_classes(allowed_pitches)
        with torch_threads(1), torch.inference_mode():
            classes, chances = self._fill(model, sr.to_classes(np.where(regenerate, -1, satb)),
                                          regenerate, options, allowed)
        out = np.repeat(np.asarray(satb, np.int8)[None], options.count, axis=0)
        pitches = sr.to_pitches(classes)
        out[:, regenerate] = pitches[:, regenerate]
        if self.config.decoding == "voice-leading":
            for i in range(options.count):  # the soprano as given or as sampled stays
                fixed = np.where(regenerate, -2, out[i])
                fixed[:, 0] = out[i, :, 0]
                logp = np.log(np.maximum(chances[i, :, 1:], 1e-9))
                out[i] = decode_lower_voices(out[i, :, 0], logp, fixed, allowed,
                                             key_scale(out[i, :, 0], allowed_pitches))
        return out

    def _fill(self, model: nn.Module, classes: np.ndarray, free: np.ndarray,
              options: SamplingOptions, allowed: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(count, steps, 4) classes with the free cells Gibbs-sampled, and (count, steps, 4,
        classes) the chances of each class averaged over the second half of the sweeps. The
        music is tiled by windows twice, the second tiling shifted by half a window; a sweep
        resamples the free cells of all windows of one tiling at once (each given the rest of
        its window), then of the other, so that every cell hears the music on both sides."""
        net = getattr(model, "module", model).eval()
        device = next(net.parameters()).device
        steps, w = len(classes), self.config.length
        total = max(steps, w)
        x = torch.zeros((options.count, total, sr.VOICES), dtype=torch.long)
        x[:, :steps] = torch.as_tensor(classes, dtype=torch.long)
        todo = torch.zeros((total, sr.VOICES), dtype=torch.bool)
        todo[:steps] = torch.as_tensor(free)
        penalty = torch.where(allowed, 0.0, float("-inf"))  # 4, classes
        gen = options.generator()
        start = draw(torch.softmax(penalty, -1).expand(options.count, total, -1, -1), gen)
        x = torch.where(todo, start, x)
        windows = [torch.as_tensor(t)[:, None] + torch.arange(w) for t in _tilings(total, w)]
        sweeps = options.iterations or self.config.gibbs_sweeps
        chances = torch.zeros((options.count, total, sr.VOICES, sr.CLASSES))
        for sweep in range(sweeps):
            for index in windows:  # (windows, w) step indices
                v = x[:, index].reshape(-1, w * sr.VOICES)
                p_h = torch.sigmoid(net.hidden_input(v.to(device)).float()).cpu()
                h = torch.bernoulli(p_h, generator=gen)
                logits = net.visible_logits(h.to(device)).float().cpu() / options.temperature
                probs = torch.softmax(logits.view(len(v), w, sr.VOICES, -1) + penalty, -1)
                drawn = draw(probs, gen)
                window = x[:, index]
                x[:, index] = torch.where(todo[index], drawn.view_as(window), window)
                if 2 * sweep >= sweeps:
                    chances.index_add_(1, index.flatten(), probs.view(
                        options.count, -1, sr.VOICES, sr.CLASSES))
        chances /= chances.sum(-1, keepdim=True).clamp(min=1e-12)
        return x[:, :steps].numpy(), chances[:, :steps].numpy()


def _tilings(total: int, w: int) -> list[list[int]]:
    """Window starts of the two tilings of `total` steps (the second one shifted by half a
    window; a last window ends at the end)."""
    out = []
    for offset in (0, w // 2):
        starts = list(range(offset, total - w + 1, w))
        if starts and starts[-1] + w < total:
            starts.append(total - w)
        if starts and (offset == 0 or total > w):
            out.append(starts)
    return out


def draw(probs: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One class per row of `probs` (..., classes), by inverting the cumulative distribution
    (several times faster than `torch.multinomial` for many small rows)."""
    cumulative = probs.cumsum(-1)
    u = torch.rand(probs.shape[:-1] + (1,), generator=generator, device=probs.device)
    return (cumulative < u * cumulative[..., -1:]).sum(-1)
