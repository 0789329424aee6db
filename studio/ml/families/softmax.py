"""Softmax regression (multinomial logistic regression): the next note of a melody from the few
notes before it, by one linear layer and a softmax. The baseline every other family is compared
with.

    one-hot of each of the last `context` tokens (+ one-hot of the bar position)
      -> one linear layer -> 130 logits -> softmax

The one-hot layer is stored as a table with one row of 130 weights per (distance, token) pair,
summed (an `EmbeddingBag`): the same arithmetic as a linear layer over the concatenated one-hot
vectors, without multiplying the zeros. Weights start at zero, so the untrained model gives
every token the same chance. There is no hidden layer: the model can only add up what each
recent note says about the next one, which is why the other families exist.

An example is one note with its context (BOS before the melody's start), taken from the melody
tokens of `studio.ml.melody_tokens`; generation draws one token at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from studio.ml import melody_tokens as mt
from studio.ml.errors import DatasetTooSmallError, GenerationError
from studio.ml.family import Examples, Family, LossOutput, SamplingOptions, classification_stats
from studio.ml.knobs import knob
from studio.ml.sampling import constrain_tokens, sample_next, torch_threads
from studio.music.tokens import HOLD, VOCAB_SIZE

if TYPE_CHECKING:
    from studio.data import Dataset


@dataclass
class SoftmaxConfig:
    context: int = knob(16, low=1, high=128, help="How many 16th notes before the next note "
                        "the model looks at (16 = one bar of 4/4).")
    bar_position: bool = knob(True, help="Also tell the model where in the bar the next note "
                              "falls, so it can learn that notes start more often on beats.")
    voices: str = knob("soprano", choices=("soprano", "all", "melody"), help="Which lines "
                       "become training melodies: the top line only, every voice / track, or "
                       "the track named Melody (the top line where there is none).")


def context_examples(dataset: Dataset, split: str, voices: str, context: int) -> Examples:
    """`context` (n, context) previous tokens (BOS before the start), `positions` (n,) bar
    position of the predicted step, `targets` (n,): one example per token of every melody."""
    arrays = mt.encode_dataset(dataset, voices)
    tok, pos, off = (arrays[f"{split}_{k}"] for k in ("tokens", "positions", "offsets"))
    contexts, positions, targets = [], [], []
    for i in range(len(off) - 1):
        t = tok[off[i]:off[i + 1]]
        padded = np.concatenate((np.full(context, mt.BOS, np.int16), t[:-1]))
        contexts.append(sliding_window_view(padded, context))
        positions.append(pos[off[i]:off[i + 1]])
        targets.append(t)
    if not targets:
        raise DatasetTooSmallError(f"the {split} split of dataset {dataset.name!r} has no "
                                   "melodies to learn from")
    return Examples({"context": torch.from_numpy(np.concatenate(contexts)),
                     "positions": torch.from_numpy(np.concatenate(positions)),
                     "targets": torch.from_numpy(np.concatenate(targets))}, len(targets))


class SoftmaxNet(nn.Module):
    """(batch, context) tokens (oldest first) + (batch,) bar positions -> (batch, 130) logits."""

    def __init__(self, c: SoftmaxConfig) -> None:
        super().__init__()
        self.context, self.use_position = c.context, c.bar_position
        rows = c.context * mt.INPUT_VOCAB + (mt.MAX_POSITIONS if c.bar_position else 0)
        self.weight = nn.EmbeddingBag(rows, VOCAB_SIZE, mode="sum")
        self.bias = nn.Parameter(torch.zeros(VOCAB_SIZE))
        nn.init.zeros_(self.weight.weight)
        offsets = torch.arange(c.context) * mt.INPUT_VOCAB
        self.register_buffer("offsets", offsets, persistent=False)

    def forward(self, context: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        rows = context.long() + self.offsets
        if self.use_position:
            where = self.context * mt.INPUT_VOCAB + positions.long().clamp(0, mt.MAX_POSITIONS - 1)
            rows = torch.cat([rows, where[:, None]], 1)
        return self.weight(rows) + self.bias


class Softmax(Family):
    name = "softmax"
    models = {"softmax": {}}
    title = "softmax regression melody model"
    summary = ("The simplest melody model: one layer that weighs the last few notes to guess "
               "the next; the yardstick for the others.")
    Config = SoftmaxConfig
    representation = "melody-context/1"
    modes = ("melody", "continue")

    # -- representation -----------------------------------------------------------------------
    def examples(self, dataset: Dataset, split: str, *, training: bool) -> Examples:
        return context_examples(dataset, split, self.config.voices, self.config.context)

    def augment(self, batch, semitones, generator):
        moved = mt.transpose_batch({"inputs": batch["context"],
                                    "targets": batch["targets"][:, None]}, semitones, generator)
        return {**batch, "context": moved["inputs"], "targets": moved["targets"][:, 0]}

    def representation_card(self) -> dict:
        return {"name": self.representation, "voices": self.config.voices, "step": "16th",
                "context": self.config.context,
                "vocabulary": "0-127 pitch, 128 hold, 129 rest, 130 start (context only)"}

    def baseline_sequences(self, dataset: Dataset, split: str) -> tuple[list[np.ndarray], int]:
        return mt.sequences(dataset, split, self.config.voices), VOCAB_SIZE

    # -- model --------------------------------------------------------------------------------
    def build(self) -> SoftmaxNet:
        return SoftmaxNet(self.config)

    def loss(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> LossOutput:
        targets = batch["targets"].long()
        logits = model(batch["context"], batch["positions"]).float()
        nll = F.cross_entropy(logits, targets, reduction="none")
        stats = classification_stats(logits, targets, nll, mt.onset_of(targets),
                                     mt.onset_of(logits.argmax(-1)))
        return LossOutput(nll.mean(), stats)

    # -- generation ---------------------------------------------------------------------------
    def continue_melody(self, model: nn.Module, prime: np.ndarray, steps: int,
                        options: SamplingOptions, *, allowed_pitches: Sequence[int] | None = None,
                        steps_per_bar: int = 16) -> np.ndarray:
        if steps < 0:
            raise GenerationError("the number of steps to generate cannot be negative")
        if not 1 <= steps_per_bar <= mt.MAX_POSITIONS:
            raise GenerationError(f"bars of {steps_per_bar} 16th notes are not supported")
        prime = np.asarray(prime, dtype=np.int64).reshape(-1)
        if len(prime) and (prime.min() < 0 or prime.max() >= VOCAB_SIZE):
            raise GenerationError("the melody to continue holds tokens outside 0-129")
        with torch_threads(1), torch.inference_mode():
            model.eval()
            device = next(model.parameters()).device
            gen = options.generator()
            c, count = self.config.context, options.count
            history = torch.as_tensor(np.concatenate((np.full(c, mt.BOS), prime)),
                                      device=device).repeat(count, 1)
            allowed = None if allowed_pitches is None else torch.as_tensor(
                sorted({int(p) for p in allowed_pitches}), dtype=torch.long, device=device)
            sounding = torch.full((count,), _sounding(prime), device=device)
            out = torch.empty((count, steps), dtype=torch.long, device=device)
            for i in range(steps):
                where = torch.full((count,), (len(prime) + i) % steps_per_bar, device=device)
                logits = model(history[:, -c:], where).float()
                token = sample_next(constrain_tokens(logits, allowed, sounding),
                                    options.temperature, options.top_k, options.top_p, gen)
                out[:, i] = token
                sounding = (token < HOLD) | (sounding & (token == HOLD))
                history = torch.cat([history[:, 1:], token[:, None]], 1)
            return out.cpu().numpy().astype(np.int16)

    def sample_melody(self, model: nn.Module, steps: int, options: SamplingOptions, *,
                      allowed_pitches: Sequence[int] | None = None,
                      steps_per_bar: int = 16) -> np.ndarray:
        return self.continue_melody(model, np.zeros(0, np.int64), steps, options,
                                    allowed_pitches=allowed_pitches, steps_per_bar=steps_per_bar)


def _sounding(tokens: np.ndarray) -> bool:
    """Whether a note is still sounding at the end of the tokens (a HOLD may follow)."""
    for t in tokens[::-1]:
        if t != HOLD:
            return bool(t < HOLD)
    return False
