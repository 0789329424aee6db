"""Melody variational autoencoder (VAE): the autoencoder with a code that is a probability
distribution, so that any code drawn from a standard normal decodes to a plausible melody.

    tokens (segment) -> embedding -> MLP encoder -> mean, log-variance of the code
    code = mean + spread * noise  -> MLP decoder -> 130 logits per step

The loss is the negative evidence lower bound (ELBO) per step: the reconstruction NLL plus
beta x KL(code distribution || standard normal), divided by the segment's steps. KL annealing:
while training, the KL weight rises linearly from 0 to `beta` over the first `kl_warmup` steps
(the trainer's global step, through `on_train_step`, so a resumed run continues the schedule);
the validation loss always uses the full `beta`, so with beta = 1 it is an upper bound on the NLL per step of
whole segments, a figure comparable with the n-gram baseline's.

Generates by decoding codes drawn from the prior (consecutive segments correlated so phrases
relate), varies a melody by perturbing its code, and interpolates between two melodies along
the great circle between their codes (spherical interpolation suits a normal prior).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from studio.ml.families.autoencoder import (
    Autoencoder,
    SegmentCodec,
    correlated_noise,
    reconstruction,
)
from studio.ml.family import LossOutput
from studio.ml.knobs import knob
from studio.ml.melody_segments import STEPS_PER_BAR


@dataclass
class VAEConfig:
    segment_bars: int = knob(2, low=1, high=16, help="Length of the melody pieces the model "
                             "learns to summarise, in bars of 4/4 (2 bars = 32 16th notes).")
    units: int = knob(256, low=16, high=4096, help="Neurons in each hidden layer: more can "
                      "learn more, but train slower and may memorise the pieces.")
    encoder_layers: int = knob(1, low=1, high=4, help="Hidden layers on each side of the code: "
                              "deeper can capture subtler melodies, but is slower to train.")
    code_size: int = knob(32, low=2, high=512, help="How many numbers summarise a melody "
                          "piece: fewer force the model to keep only the essentials.")
    beta: float = knob(1.0, low=0.0, high=10.0, help="Weight of the pull of codes towards the "
                       "shared normal shape: higher gives smoother morphs and more varied new "
                       "melodies, lower rebuilds given melodies more faithfully.")
    kl_warmup: int = knob(2000, low=0, high=1_000_000, help="Training batches over which that "
                          "pull grows from nothing to full strength, so the model first learns "
                          "to rebuild melodies (0 = full strength from the start).")
    dropout: float = knob(0.2, low=0.0, high=0.8, help="Fraction of connections switched off "
                          "at random while training, so the model cannot just memorise.")
    voices: str = knob("soprano", choices=("soprano", "all", "melody"), help="Which lines "
                       "become training melodies: the top line only, every voice / track, or "
                       "the track named Melody (the top line where there is none).")

    @property
    def length(self) -> int:
        return self.segment_bars * STEPS_PER_BAR


class VAENet(nn.Module):
    def __init__(self, c: VAEConfig) -> None:
        super().__init__()
        self.codec = SegmentCodec(c.length, c.units, c.encoder_layers, c.code_size,
                                  2 * c.code_size, c.dropout)

    def posterior(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.codec.encode(tokens).float().chunk(2, dim=-1)
        return mean, log_var.clamp(-12.0, 8.0)

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.posterior(tokens)[0]

    def forward(self, tokens: torch.Tensor, noise: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits of every step and the KL divergence of each example's code."""
        mean, log_var = self.posterior(tokens)
        code = mean + torch.exp(0.5 * log_var) * noise.to(mean.dtype)
        kl = 0.5 * (mean.square() + log_var.exp() - 1.0 - log_var).sum(-1)
        return self.codec.decode(code.to(self.codec.embedding.weight.dtype)), kl


class VAE(Autoencoder):
    name = "vae"
    models = {"vae": {}}
    title = "melody VAE"
    summary = ("Learns a smooth map of melodies: writes new ones from random points of the "
               "map and morphs one melody into another.")
    Config = VAEConfig
    modes = ("melody", "interpolate")
    evaluation_note = ("The VAE's loss is the negative ELBO per step (reconstruction plus "
                       "beta x KL): with beta = 1 an upper bound on the NLL per step of whole "
                       "segments. Its NLL column is the reconstruction part alone.")

    def __init__(self, config: VAEConfig | None = None) -> None:
        super().__init__(config)
        self.step = 0  # the trainer's global step, for the KL annealing

    def on_train_step(self, step: int, total_steps: int) -> None:
        self.step = step

    def kl_weight(self, training: bool) -> float:
        """beta, ramped up from 0 over the first `kl_warmup` training steps (validation
        always weighs the KL fully)."""
        c = self.config
        if not training or not c.kl_warmup:
            return c.beta
        return c.beta * min(1.0, self.step / c.kl_warmup)

    def prepare(self, batch, generator):
        """The noise that draws each example's code (fixed seeds in validation)."""
        noise = torch.randn(len(batch["tokens"]), self.config.code_size, generator=generator)
        return {**batch, "noise": noise.to(batch["tokens"].device)}

    def build(self) -> nn.Module:
        return VAENet(self.config)

    def loss(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> LossOutput:
        tokens, valid = batch["tokens"].long(), batch["valid"]
        logits, kl = model(tokens, batch["noise"])
        nll, count, stats = reconstruction(logits, tokens, valid)
        weight = self.kl_weight(model.training)
        return LossOutput(((nll + weight * kl) / count).mean(), stats)

    # -- codes --------------------------------------------------------------------------------
    def random_codes(self, model, shape, generator):
        return correlated_noise(shape + (self.config.code_size,), generator)

    def perturb(self, model, codes, amount, generator):
        return codes + amount * torch.randn(codes.shape, generator=generator)

    def mix(self, a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
        """Spherical interpolation per segment code (linear where the codes are parallel)."""
        na, nb = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
        cos = ((a * b).sum(-1, keepdim=True) / (na * nb).clamp(min=1e-9)).clamp(-1.0, 1.0)
        omega = torch.arccos(cos)
        sin = torch.sin(omega)
        safe = sin.abs() > 1e-4
        wa = torch.where(safe, torch.sin((1 - t) * omega) / sin.clamp(min=1e-4), 1.0 - t)
        wb = torch.where(safe, torch.sin(t * omega) / sin.clamp(min=1e-4), t)
        return wa * a + wb * b
