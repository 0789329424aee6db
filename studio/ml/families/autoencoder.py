"""Melody autoencoder, plain or sparse: squeezes a few bars of melody into a short code and
rebuilds the melody from it.

    tokens (segment) -> embedding -> MLP encoder -> code -> MLP decoder -> 130 logits per step

The encoder sees the whole segment at once; the decoder predicts every step's token at once.
Trained to rebuild its input, the model's code becomes a summary of the melody. The sparse
variant (`sparse-autoencoder`) passes the code through a ReLU and adds an L1 penalty on it, so
that most code numbers are zero for any one melody.

A plain autoencoder knows no distribution of codes, so it keeps one: the mean and spread of the
codes it saw while training (running averages stored with the weights). It generates by decoding
codes drawn from that spread, varies a melody by perturbing its code, and interpolates by
decoding codes on the line between two melodies' codes. `loss` is the reconstruction NLL per
step (plus the sparsity penalty): it measures how well a melody is rebuilt from its own code,
which is not a likelihood of new music (the VAE's is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from studio.ml import melody_segments as ms
from studio.ml import melody_tokens as mt
from studio.ml.errors import GenerationError
from studio.ml.family import Examples, Family, LossOutput, SamplingOptions, classification_stats
from studio.ml.knobs import knob
from studio.ml.sampling import torch_threads
from studio.music.tokens import REST, VOCAB_SIZE

if TYPE_CHECKING:
    from studio.data import Dataset

EMBEDDING = 16  # each token becomes 16 numbers before the encoder (a learned one-hot layer)
STATS_MOMENTUM = 0.02  # running code statistics follow about the last 50 batches
PHRASE_CORRELATION = 0.6  # how much a generated segment's code keeps of the previous one's


@dataclass
class AutoencoderConfig:
    segment_bars: int = knob(2, low=1, high=16, help="Length of the melody pieces the model "
                             "learns to summarise, in bars of 4/4 (2 bars = 32 16th notes).")
    units: int = knob(256, low=16, high=4096, help="Neurons in each hidden layer: more can "
                      "learn more, but train slower and may memorise the pieces.")
    encoder_layers: int = knob(1, low=1, high=4, help="Hidden layers on each side of the code: "
                              "deeper can capture subtler melodies, but is slower to train.")
    code_size: int = knob(32, low=2, high=512, help="How many numbers summarise a melody "
                          "piece: fewer force the model to keep only the essentials.")
    code: str = knob("dense", choices=("dense", "sparse"), help="A dense code uses all its "
                     "numbers; a sparse code keeps most of them at zero, so each active one "
                     "stands for a recognisable feature of the melody.")
    sparsity: float = knob(0.002, low=0.0, high=10.0, help="Sparse code only: how strongly "
                           "code numbers are pushed to zero (the weight of the L1 penalty); too "
                           "strong, and every number stays at zero and melodies are forgotten.")
    dropout: float = knob(0.2, low=0.0, high=0.8, help="Fraction of connections switched off "
                          "at random while training, so the model cannot just memorise.")
    voices: str = knob("soprano", choices=("soprano", "all", "melody"), help="Which lines "
                       "become training melodies: the top line only, every voice / track, or "
                       "the track named Melody (the top line where there is none).")

    @property
    def length(self) -> int:
        return self.segment_bars * ms.STEPS_PER_BAR


def layers(sizes: Sequence[int], dropout: float) -> nn.Sequential:
    """Linear layers of the given sizes with ReLU and dropout between them (none after the
    last)."""
    out: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        out.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            out += [nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*out)


class SegmentCodec(nn.Module):
    """The encoder and decoder shared by the autoencoders and the VAE: `code_out` numbers out
    of the encoder, `code_size` into the decoder."""

    def __init__(self, length: int, units: int, encoder_layers: int, code_size: int,
                 code_out: int, dropout: float) -> None:
        super().__init__()
        self.length = length
        self.embedding = nn.Embedding(VOCAB_SIZE, EMBEDDING)
        self.encoder = layers([length * EMBEDDING] + [units] * encoder_layers + [code_out],
                              dropout)
        self.decoder = layers([code_size] + [units] * encoder_layers + [length * VOCAB_SIZE],
                              dropout)

        # Which tokens training has shown: generation never writes a pitch the model never saw
        # (an undertrained output layer still gives every unseen pitch a little chance).
        self.register_buffer("seen", torch.zeros(VOCAB_SIZE, dtype=torch.bool))

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.seen[tokens.long().flatten()] = True
        return self.encoder(self.embedding(tokens.long()).flatten(1))

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        return self.decoder(code).view(len(code), self.length, VOCAB_SIZE)


class AutoencoderNet(nn.Module):
    def __init__(self, c: AutoencoderConfig) -> None:
        super().__init__()
        self.sparse = c.code == "sparse"
        self.codec = SegmentCodec(c.length, c.units, c.encoder_layers, c.code_size, c.code_size,
                                  c.dropout)
        if self.sparse:  # start every code number active, so that none begins dead
            nn.init.constant_(self.codec.encoder[-1].bias, 0.5)
        self.register_buffer("code_mean", torch.zeros(c.code_size))
        self.register_buffer("code_std", torch.ones(c.code_size))

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        code = self.codec.encode(tokens)
        return F.relu(code) if self.sparse else code

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        code = self.encode(tokens)
        if self.training and len(code) > 1:
            with torch.no_grad():
                m = STATS_MOMENTUM
                self.code_mean.lerp_(code.mean(0).to(self.code_mean.dtype), m)
                self.code_std.lerp_(code.std(0).to(self.code_std.dtype), m)
        return self.codec.decode(code), code


def reconstruction(logits: torch.Tensor, tokens: torch.Tensor, valid: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """Per-example summed NLL over valid steps, the valid counts, and the stats."""
    logits = logits.float()
    nll = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), tokens.reshape(-1),
                          reduction="none").view_as(tokens)
    stats = classification_stats(logits, tokens, nll, mt.onset_of(tokens) & valid,
                                 mt.onset_of(logits.argmax(-1)), valid)
    return (nll * valid).sum(1), valid.sum(1).clamp(min=1), stats


class Autoencoder(Family):
    name = "autoencoder"
    models = {"autoencoder": {"code": "dense"}, "sparse-autoencoder": {"code": "sparse"}}
    title = "melody autoencoder"
    summary = ("Sums up a few bars of melody in a short code and rebuilds them; writes new "
               "melodies from codes and morphs between two melodies.")
    Config = AutoencoderConfig
    representation = "melody-segments/1"
    modes = ("melody", "interpolate")
    evaluation_note = ("The autoencoder's NLL is the error of rebuilding each segment from its "
                       "own code (the model sees the answer); it is not comparable with the "
                       "n-gram's prediction of unseen notes.")

    # -- representation -----------------------------------------------------------------------
    def examples(self, dataset: Dataset, split: str, *, training: bool) -> Examples:
        return ms.segments(dataset, split, self.config.voices, self.config.length,
                           training=training)

    def augment(self, batch, semitones, generator):
        return ms.transpose_tokens(batch, semitones, generator)

    def representation_card(self) -> dict:
        return {"name": self.representation, "voices": self.config.voices, "step": "16th",
                "segment_steps": self.config.length,
                "vocabulary": "0-127 pitch, 128 hold, 129 rest"}

    def baseline_sequences(self, dataset: Dataset, split: str) -> tuple[list[np.ndarray], int]:
        return mt.sequences(dataset, split, self.config.voices), VOCAB_SIZE

    # -- model --------------------------------------------------------------------------------
    def build(self) -> nn.Module:
        return AutoencoderNet(self.config)

    def loss(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> LossOutput:
        tokens, valid = batch["tokens"].long(), batch["valid"]
        logits, code = model(tokens)
        nll, count, stats = reconstruction(logits, tokens, valid)
        per_example = nll / count
        if self.config.code == "sparse" and self.config.sparsity:
            per_example = per_example + self.config.sparsity * code.float().abs().sum(1)
        return LossOutput(per_example.mean(), stats)

    # -- codes (the VAE overrides these) -------------------------------------------------------
    @torch.no_grad()
    def codes_of(self, model: nn.Module, segments: torch.Tensor) -> torch.Tensor:
        """The codes of (n, length) token segments (the model in evaluation mode)."""
        return model.eval().encode(segments)

    def random_codes(self, model: nn.Module, shape: tuple[int, int],
                     generator: torch.Generator) -> torch.Tensor:
        """(chains, segments, code) codes drawn from the spread of the training codes,
        consecutive segments correlated so that phrases relate."""
        walk = correlated_noise(shape + (self.config.code_size,), generator)
        code = model.code_mean.cpu() + model.code_std.cpu() * walk
        return F.relu(code) if self.config.code == "sparse" else code

    def perturb(self, model: nn.Module, codes: torch.Tensor, amount: float,
                generator: torch.Generator) -> torch.Tensor:
        noise = torch.randn(codes.shape, generator=generator)
        code = codes + amount * model.code_std.cpu() * noise
        return F.relu(code) if self.config.code == "sparse" else code

    def mix(self, a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
        """The code a fraction `t` of the way from `a` to `b`."""
        return torch.lerp(a, b, t)

    # -- generation ---------------------------------------------------------------------------
    def _decode(self, model: nn.Module, codes: torch.Tensor) -> torch.Tensor:
        """(rows, segments, code) codes -> (rows, segments * length) logits."""
        rows, segs, size = codes.shape
        device = next(model.parameters()).device
        logits = model.codec.decode(codes.reshape(rows * segs, size).to(device)).float()
        logits = logits.masked_fill(~model.codec.seen, float("-inf"))
        return logits.reshape(rows, segs * self.config.length, VOCAB_SIZE).cpu()

    def sample_melody(self, model: nn.Module, steps: int, options: SamplingOptions, *,
                      allowed_pitches: Sequence[int] | None = None,
                      steps_per_bar: int = 16) -> np.ndarray:
        if steps <= 0:
            raise GenerationError("the melody to generate needs at least one step")
        with torch_threads(1), torch.inference_mode():
            model.eval()
            gen = options.generator()
            segs = -(-steps // self.config.length)
            logits = self._decode(model, self.random_codes(model, (options.count, segs), gen))
            return ms.draw_tokens(logits[:, :steps], temperature=options.temperature,
                                  top_k=options.top_k, top_p=options.top_p, generator=gen,
                                  allowed_pitches=allowed_pitches)

    def vary_melody(self, model: nn.Module, melody: np.ndarray, options: SamplingOptions, *,
                    amount: float = 0.5, allowed_pitches: Sequence[int] | None = None
                    ) -> np.ndarray:
        """(count, steps) variations of the tokens `melody`: its code perturbed by `amount`
        (0 = the model's rebuilding of the melody, 1 = as far as melodies typically differ)."""
        if not 0.0 <= amount <= 4.0:
            raise GenerationError("the amount of variation must be between 0 and 4")
        with torch_threads(1), torch.inference_mode():
            model.eval()
            gen = options.generator()
            segments, steps = ms.split_melody(melody, self.config.length)
            device = next(model.parameters()).device
            codes = self.codes_of(model, torch.as_tensor(segments, device=device)).cpu()
            codes = codes[None].repeat(options.count, 1, 1)
            logits = self._decode(model, self.perturb(model, codes, amount, gen))
            return ms.draw_tokens(logits[:, :steps], temperature=options.temperature,
                                  top_k=options.top_k, top_p=options.top_p, generator=gen,
                                  allowed_pitches=allowed_pitches)

    def interpolate(self, model: nn.Module, first: np.ndarray, last: np.ndarray,
                    count: int, keep_rhythm: bool = True) -> np.ndarray:
        """`count` melodies (the first and last are the model's rebuilding of `first` and
        `last`), each as long as the longer of the two, decoded to the most likely tokens.
        With `keep_rhythm` their rhythm morphs bar by bar from that of `first` to that of
        `last` (`ms.morph_rhythms`) and the model chooses the pitches; without, the model's
        most likely rhythm, which between two codes is often an even pulse."""
        if count < 2:
            raise GenerationError("interpolation needs at least 2 steps (the two ends)")
        with torch_threads(1), torch.inference_mode():
            model.eval()
            a, n_a = ms.split_melody(first, self.config.length)
            b, n_b = ms.split_melody(last, self.config.length)
            segs = max(len(a), len(b))
            a, b = (np.concatenate([x, np.full((segs - len(x), x.shape[1]), REST)])
                    for x in (a, b))
            device = next(model.parameters()).device
            codes = self.codes_of(model, torch.as_tensor(np.concatenate([a, b]), device=device))
            ca, cb = codes[:segs].cpu(), codes[segs:].cpu()
            mixed = torch.stack([self.mix(ca, cb, i / (count - 1)) for i in range(count)])
            logits = self._decode(model, mixed)
            if keep_rhythm:
                return ms.draw_with_rhythm(logits, ms.morph_rhythms(first, last, count))
            return ms.draw_tokens(logits[:, :max(n_a, n_b)], greedy=True)


def correlated_noise(shape: tuple[int, int, int], generator: torch.Generator) -> torch.Tensor:
    """Standard normal (chains, segments, size) noise where each segment keeps
    PHRASE_CORRELATION of the previous one (every segment is still standard normal)."""
    noise = torch.randn(shape, generator=generator)
    rho = PHRASE_CORRELATION
    for s in range(1, shape[1]):
        noise[:, s] = rho * noise[:, s - 1] + (1 - rho * rho) ** 0.5 * noise[:, s]
    return noise
