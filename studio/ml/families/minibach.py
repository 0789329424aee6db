"""MiniBach: a multilayer perceptron that harmonizes a soprano in one forward pass (after the
MiniBach example of Briot, Hadjeres and Pachet, "Deep Learning Techniques for Music
Generation").

    soprano (4 bars of 16ths; each step a one-hot pitch or silence, plus a "hold" bit)
      -> flatten -> dense ReLU layers -> alto, tenor and bass: a softmax per voice per step

The net sees the whole melody excerpt at once and predicts every step of the three lower voices
independently. Taking each prediction on its own gives restless, badly led voices (the point
the lecture makes about this model), so harmonizing by default decodes the predictions with
`studio.music.harmony_search.decode`: a Viterbi search over the likeliest pitches that avoids
parallel fifths and octaves, crossings, wide spacing and notes out of range or key. The plain
per-step sampling remains available (`decoding = sample`). Melodies longer than the model's
excerpt are covered by excerpts overlapping by half, whose predictions are averaged.
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
    check_in_range,
    check_region,
    onset_stats,
)
from studio.ml.family import LossOutput, SamplingOptions
from studio.ml.knobs import knob
from studio.ml.sampling import filter_logits, torch_threads
from studio.ml.satb_decoding import IMPOSSIBLE, allowed_classes, decode_lower_voices, key_scale

FEATURES = sr.CLASSES + 1  # soprano input per step: one-hot class (silent, 36-81) + a hold bit
LOWER = 3  # alto, tenor, bass
PERTURBATION = 0.5  # Gumbel noise (in nats) per unit of temperature when making variations


@dataclass
class MiniBachConfig:
    bars: int = knob(4, low=1, high=16, help="Length of the melody excerpt the model "
                     "harmonizes in one go, in bars of 4/4 (MiniBach uses 4).")
    units: int = knob(256, low=16, high=4096, help="Neurons in each hidden layer: more can "
                      "learn more, but train slower and may memorise the pieces.")
    hidden_layers: int = knob(2, low=1, high=6, help="Hidden layers between the melody and "
                              "the three lower voices: deeper can learn subtler harmony, but "
                              "is slower to train.")
    dropout: float = knob(0.2, low=0.0, high=0.8, help="Fraction of connections switched off "
                          "at random while training, so the model cannot just memorise.")
    decoding: str = knob("voice-leading", choices=("voice-leading", "sample"), help="How "
                         "predictions become notes: voice-leading finds the best-led harmony "
                         "(few parallel fifths or octaves); sample draws each voice at each 16th "
                         "on its own, and sounds restless.")
    search_width: int = knob(5, low=1, high=8, advanced=True, help="Voice-leading decoding: "
                             "how many of the likeliest pitches per voice and 16th the search "
                             "weighs; more can find better harmony but is slower.")

    @property
    def length(self) -> int:
        return self.bars * 16


def soprano_input(classes: torch.Tensor) -> torch.Tensor:
    """(batch, steps) soprano classes -> (batch, steps, 48) features: the one-hot class and a
    hold bit that is 1 where the step continues the previous step's note."""
    classes = classes.long()
    previous = F.pad(classes, (1, 0), value=-1)[:, :-1]
    hold = ((classes == previous) & (classes > 0))[..., None]
    return torch.cat([F.one_hot(classes, sr.CLASSES).bool(), hold], -1)


class MiniBachNet(nn.Module):
    """(batch, steps, 48) soprano features -> (batch, 3, steps, 47) logits of A, T, B."""

    def __init__(self, c: MiniBachConfig) -> None:
        super().__init__()
        self.length = c.length
        sizes = [c.length * FEATURES] + [c.units] * c.hidden_layers
        hidden: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            hidden += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(c.dropout)]
        self.hidden = nn.Sequential(*hidden)
        self.out = nn.Linear(c.units, LOWER * c.length * sr.CLASSES)

    def forward(self, soprano: torch.Tensor) -> torch.Tensor:
        x = soprano.flatten(1).to(self.out.weight.dtype)
        return self.out(self.hidden(x)).view(len(soprano), LOWER, self.length, sr.CLASSES)


class MiniBach(SatbRollFamily):
    name = "minibach"
    models = {"mlp": {}}
    title = "MiniBach harmonizer (MLP)"
    summary = ("A plain neural network that writes alto, tenor and bass under a 4-bar melody "
               "in one go.")
    Config = MiniBachConfig
    baseline_voices = (1, 2, 3)
    evaluation_note = ("The MLP's NLL is per 16th of alto, tenor and bass predicted all at once "
                       "from the soprano, without hearing its own previous notes; the n-gram "
                       "predicts each voice's next 16th from that voice's past (mostly held "
                       "notes), a different and easier question.")

    # -- representation -----------------------------------------------------------------------
    def representation_layout(self) -> dict:
        return {"input": "soprano, one-hot of silent / pitch, plus a hold bit",
                "output": ["A", "T", "B"]}

    # -- model --------------------------------------------------------------------------------
    def build(self) -> MiniBachNet:
        return MiniBachNet(self.config)

    def loss(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> LossOutput:
        classes = batch["classes"].long()
        logits = model(soprano_input(classes[:, :, 0])).float()  # b, 3, t, c
        target = classes[:, :, 1:].permute(0, 2, 1)  # b, 3, t
        nll = F.cross_entropy(logits.permute(0, 3, 1, 2), target, reduction="none")
        weight = batch["valid"][:, None, :].expand_as(target)
        per_example = (nll * weight).sum((1, 2)) / weight.sum((1, 2)).clamp(min=1)
        return LossOutput(per_example.mean(), onset_stats(logits, target, nll, weight))

    # -- generation ---------------------------------------------------------------------------
    @torch.inference_mode()
    def voice_logits(self, model: nn.Module, soprano: np.ndarray) -> torch.Tensor:
        """(steps, 3, 47) log-probabilities of alto, tenor and bass under the soprano pitches
        (-1 silent), averaged over the excerpts that cover each step."""
        soprano = np.asarray(soprano).reshape(-1)
        check_in_range(soprano)
        steps, w = len(soprano), self.config.length
        classes = np.zeros(max(steps, w), np.int64)
        classes[:steps] = sr.to_classes(soprano[:, None])[:, 0]
        starts = list(range(0, max(1, len(classes) - w + 1), max(1, w // 2)))
        if starts[-1] + w < len(classes):
            starts.append(len(classes) - w)
        model.eval()
        device = next(model.parameters()).device
        x = torch.as_tensor(np.stack([classes[s:s + w] for s in starts]), device=device)
        logp = torch.log_softmax(model(soprano_input(x)).float(), -1).cpu()  # n, 3, w, c
        total = torch.zeros(len(classes), LOWER, sr.CLASSES)
        covered = torch.zeros(len(classes), 1, 1)
        for i, s in enumerate(starts):
            total[s:s + w] += logp[i].permute(1, 0, 2)
            covered[s:s + w] += 1
        return torch.log_softmax(total / covered, -1)[:steps]

    def _check(self, satb: np.ndarray, regenerate: np.ndarray) -> None:
        check_region(satb, regenerate, "harmonize")
        if regenerate[:, 0].any():  # (then the region is not empty: the order of checks holds)
            raise GenerationError("the MiniBach model writes the lower voices under a given "
                                  "melody; it cannot rewrite the soprano")

    def infill(self, model: nn.Module, satb: np.ndarray, regenerate: np.ndarray,
               options: SamplingOptions, *, allowed_pitches: Sequence[int] | None = None
               ) -> np.ndarray:
        """Alto, tenor and bass where `regenerate` says, under the given soprano; every other
        cell kept."""
        satb = np.asarray(satb, np.int16)
        regenerate = np.asarray(regenerate, bool)
        self._check(satb, regenerate)
        with torch_threads(1):
            logp = self.voice_logits(model, satb[:, 0])
        allowed = allowed_classes(allowed_pitches)
        gen = options.generator()
        out = np.repeat(satb.astype(np.int8)[None], options.count, axis=0)
        if self.config.decoding == "sample":
            penalty = torch.where(allowed[1:], 0.0, IMPOSSIBLE)
            flat = filter_logits((logp + penalty).reshape(-1, sr.CLASSES), options.temperature,
                                 options.top_k, options.top_p)
            probs = torch.softmax(flat, -1).repeat(options.count, 1)
            drawn = torch.multinomial(probs, 1, generator=gen)[:, 0]
            pitches = sr.to_pitches(drawn.view(options.count, len(satb), LOWER))
            out[:, :, 1:] = np.where(regenerate[None, :, 1:], pitches, out[:, :, 1:])
            return out
        fixed = np.where(regenerate, -2, satb)
        scale = key_scale(satb[:, 0], allowed_pitches)
        for i in range(options.count):
            rng = np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
            out[i] = decode_lower_voices(satb[:, 0], logp.numpy(), fixed, allowed, scale,
                                         top_k=self.config.search_width, rng=rng,
                                         sample_temperature=PERTURBATION * options.temperature)
        return out
