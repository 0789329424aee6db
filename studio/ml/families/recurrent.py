"""Recurrent melody language model (RNN, LSTM or GRU) over pitch / hold / rest tokens.

The model reads one token per 16th note together with the position of the next step in its bar
(so it knows where the downbeats are) and predicts the next token. It writes new melodies and
continues the user's, drawing each next token with temperature and top-k / top-p.

    embedding(previous token) + embedding(bar position) -> RNN layers -> linear -> 130 logits
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from studio.ml import melody_tokens as mt
from studio.ml.errors import GenerationError
from studio.ml.families.recurrent_step import RecurrentStepper
from studio.ml.family import Examples, Family, LossOutput, SamplingOptions, classification_stats
from studio.ml.knobs import knob
from studio.ml.sampling import constrain_tokens, sample_next, torch_threads
from studio.music.tokens import HOLD, REST, VOCAB_SIZE

if TYPE_CHECKING:
    from studio.data import Dataset


@dataclass
class RecurrentConfig:
    cell: str = knob("lstm", choices=("lstm", "gru", "rnn"), help="The kind of recurrent unit: "
                     "LSTM and GRU remember over many bars, a plain RNN forgets quickly.")
    embedding: int = knob(64, low=4, high=512, help="Size of the vector each note token "
                          "becomes before it enters the network.")
    hidden: int = knob(256, low=8, high=2048, help="Memory cells per layer: more can learn "
                       "more, but train slower and may memorise the pieces.")
    layers: int = knob(2, low=1, high=6, help="Recurrent layers stacked on each other: deeper "
                       "can capture longer phrases, but is slower to train.")
    dropout: float = knob(0.2, low=0.0, high=0.8, help="Fraction of connections switched off "
                          "at random while training, so the model cannot just memorise.")
    window: int = knob(128, low=8, high=2048, help="Length of the training excerpts in 16th "
                       "notes (128 = 8 bars of 4/4).")
    voices: str = knob("soprano", choices=("soprano", "all", "melody"), help="Which lines "
                       "become training melodies: the top line only, every voice / track, or "
                       "the melody track (named by the melody track setting; the top line "
                       "of a song without one).")
    melody_track: str = knob("Melody", help="With the melody track as the lines to learn: "
                             "the name your melody track starts with (e.g. Lead Vocal).")


class RecurrentNet(nn.Module):
    def __init__(self, c: RecurrentConfig) -> None:
        super().__init__()
        self.token_embedding = nn.Embedding(mt.INPUT_VOCAB, c.embedding)
        self.position_embedding = nn.Embedding(mt.MAX_POSITIONS, c.embedding)
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[c.cell]
        self.rnn = rnn(c.embedding, c.hidden, c.layers, batch_first=True,
                       dropout=c.dropout if c.layers > 1 else 0.0)
        self.dropout = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.hidden, VOCAB_SIZE)

    def hidden(self, inputs: torch.Tensor, positions: torch.Tensor,
               state: tuple | torch.Tensor | None = None) -> tuple[torch.Tensor, object]:
        """The last layer's hidden state at every step (what the analysis reads as a song's
        features) and the recurrent state after the last step."""
        x = self.token_embedding(inputs) + self.position_embedding(positions)
        return self.rnn(x, state)

    def forward(self, inputs: torch.Tensor, positions: torch.Tensor,
                state: tuple | torch.Tensor | None = None) -> tuple[torch.Tensor, object]:
        h, state = self.hidden(inputs, positions, state)
        return self.head(self.dropout(h)), state


class Recurrent(Family):
    name = "recurrent"
    models = {"lstm": {"cell": "lstm"}, "gru": {"cell": "gru"}, "rnn": {"cell": "rnn"}}
    title = "recurrent melody model"
    summary = ("Learns melodies note by note and writes new ones or continues yours "
               "(LSTM, GRU or plain RNN).")
    Config = RecurrentConfig
    representation = "melody-tokens/1"
    modes = ("melody", "continue")

    # -- representation -----------------------------------------------------------------------
    @property
    def lines(self) -> str:
        """The lines to learn, as `melody_tokens` reads them: the voices setting, with the
        melody track's name when it is not the usual one."""
        c = self.config
        track = c.melody_track.strip()
        if c.voices == "melody" and track.lower() not in ("", "melody"):
            return f"melody:{track}"
        return c.voices

    def examples(self, dataset: Dataset, split: str, *, training: bool) -> Examples:
        return mt.windows(dataset, split, self.lines, self.config.window, training=training)

    def augment(self, batch, semitones, generator):
        return mt.transpose_batch(batch, semitones, generator)

    def representation_card(self) -> dict:
        return {"name": self.representation, "voices": self.config.voices,
                "step": "16th", "vocabulary": "0-127 pitch, 128 hold, 129 rest"}

    def baseline_sequences(self, dataset: Dataset, split: str) -> tuple[list[np.ndarray], int]:
        return mt.sequences(dataset, split, self.lines), VOCAB_SIZE

    # -- model --------------------------------------------------------------------------------
    def build(self) -> RecurrentNet:
        return RecurrentNet(self.config)

    def loss(self, model: nn.Module, batch: dict[str, torch.Tensor]) -> LossOutput:
        targets = batch["targets"].long()
        logits, _ = model(batch["inputs"].long(), batch["positions"].long())
        flat = logits.reshape(-1, VOCAB_SIZE).float()
        nll = F.cross_entropy(flat, targets.reshape(-1), ignore_index=mt.IGNORE,
                              reduction="none").view_as(targets)
        weight = targets != mt.IGNORE
        # A mean over the batch's examples of each example's mean token loss.
        per_example = (nll * weight).sum(1) / weight.sum(1).clamp(min=1)
        guess = logits.argmax(-1)
        stats = classification_stats(guess, targets, nll, mt.onset_of(targets) & weight,
                                     mt.onset_of(guess), weight)
        return LossOutput(per_example.mean(), stats)

    # -- generation ---------------------------------------------------------------------------
    def continue_melody(self, model: nn.Module, prime: np.ndarray, steps: int,
                        options: SamplingOptions, *, allowed_pitches: Sequence[int] | None = None,
                        steps_per_bar: int = 16) -> np.ndarray:
        with torch_threads(1), torch.inference_mode():
            return self._continue(model, prime, steps, options, allowed_pitches, steps_per_bar)

    def _continue(self, model: nn.Module, prime: np.ndarray, steps: int,
                  options: SamplingOptions, allowed_pitches: Sequence[int] | None,
                  steps_per_bar: int) -> np.ndarray:
        if steps < 0:
            raise GenerationError("the number of steps to generate cannot be negative")
        if not 1 <= steps_per_bar <= mt.MAX_POSITIONS:
            raise GenerationError(f"bars of {steps_per_bar} 16th notes are not supported")
        model.eval()
        device = next(model.parameters()).device
        gen = options.generator()
        count = options.count
        prime = np.asarray(prime, dtype=np.int64).reshape(-1)
        if len(prime) and (prime.min() < 0 or prime.max() >= VOCAB_SIZE):
            raise GenerationError("the melody to continue holds tokens outside 0-129")
        start = np.concatenate(([mt.BOS], prime))
        positions = np.arange(len(start)) % steps_per_bar  # position of each predicted step
        x = torch.as_tensor(start, device=device).repeat(count, 1)
        p = torch.as_tensor(positions, device=device).repeat(count, 1)
        logits, state = model(x, p)
        last = logits[:, -1].float()
        sounding = torch.full((count,), bool(len(prime)) and _sounding(prime), device=device)
        allowed = None
        if allowed_pitches is not None:
            chosen = sorted({int(q) for q in allowed_pitches})
            if not chosen or chosen[0] < 0 or chosen[-1] > 127:
                raise GenerationError("the allowed pitches must be MIDI notes 0-127, at least one")
            allowed = torch.as_tensor(chosen, dtype=torch.long, device=device)
        out = torch.empty((count, steps), dtype=torch.long, device=device)
        stepper = RecurrentStepper(model, state)
        pos = len(start)
        for i in range(steps):
            masked = constrain_tokens(last, allowed, sounding)
            token = sample_next(masked, options.temperature, options.top_k, options.top_p, gen)
            out[:, i] = token
            sounding = (token < HOLD) | (sounding & (token == HOLD))
            step_pos = torch.full((count,), pos % steps_per_bar, device=device)
            last = stepper.step(token, step_pos).float()
            pos += 1
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
            return bool(t != REST)
    return False
