"""The model-family protocol: what a family module provides so the engine can train, save,
evaluate and generate with it.

A family is one small module in `studio/ml/families/` (see `recurrent.py` for a complete one)
with a subclass of `Family` that declares:

- `name`: the id written in model cards; `models`: the names offered in the CLI and the panel,
  each with config overrides (`{"lstm": {"cell": "lstm"}, "gru": {"cell": "gru"}}`);
- `Config`: a `@dataclass` of `knob(...)` fields (defaults, ranges, one-line help);
- its representation: `examples(dataset, split)` encodes a split into tensors (`Examples`),
  `augment` transposes a batch, `prepare` draws per-batch randomness (masks), and the family's
  generation methods decode back to pitches or tokens;
- `build()` the `torch.nn.Module` and `loss(model, batch)` a `LossOutput` (a mean over the
  batch's examples, so that data-parallel shards average to the whole batch's loss), with
  `on_train_step` for schedules inside the loss (KL annealing);
- `modes`: what it can generate, each mode a method with the signature given here.

The registry finds the module by itself; adding a family touches no other file.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from studio.ml.errors import GenerationError
from studio.ml.knobs import knob, validate

if TYPE_CHECKING:
    from studio.data import Dataset

STAT_KEYS = ("nll", "count", "correct", "onset_tp", "onset_fp", "onset_fn")


@dataclass
class Examples:
    """Encoded examples of one split: tensors sharing their first dimension."""

    tensors: dict[str, torch.Tensor]
    pieces: int = 0  # pieces that contributed
    skipped: int = 0  # pieces too short for the window
    unreadable: int = 0  # pieces whose music could not be read

    def __len__(self) -> int:
        return len(next(iter(self.tensors.values()))) if self.tensors else 0

    def batch(self, index: torch.Tensor | slice) -> dict[str, torch.Tensor]:
        return {k: v[index] for k, v in self.tensors.items()}

    def to(self, device: torch.device) -> Examples:
        return Examples({k: v.to(device) for k, v in self.tensors.items()}, self.pieces,
                        self.skipped, self.unreadable)


@dataclass
class LossOutput:
    """What `Family.loss` returns.

    `loss` is minimised; it must be a mean over the batch's examples (so data-parallel shards
    average to the loss of the whole batch). `stats` are detached sums over the batch, with the
    keys of `STAT_KEYS` (missing ones count as zero): summed negative log-likelihood (nats) over
    `count` predictions, `correct` argmax hits, and true/false positives / false negatives of
    predicted note onsets.
    """

    loss: torch.Tensor
    stats: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class SamplingOptions:
    """How generation draws notes; shared by every family and mode."""

    temperature: float = knob(1.0, low=0.05, high=3.0, help="Below 1 the model plays safe and "
                              "repeats what it knows best; above 1 it takes more risks.")
    top_k: int = knob(0, low=0, high=130, help="Draw only among the k most likely choices "
                      "(0 = all).")
    top_p: float = knob(1.0, low=0.05, high=1.0, help="Draw only among the most likely choices "
                        "that together have this probability (1 = all).")
    seed: int = knob(-1, low=-1, high=2**31 - 1, help="The same seed gives the same result "
                     "again (-1 = a new result each time).")
    count: int = knob(1, low=1, high=32, help="How many variations to generate at once.")
    iterations: int = knob(0, low=0, high=1000, help="Refinement passes for models that "
                           "revise their output, such as Gibbs steps of the CNN (0 = the "
                           "model's default).")

    def generator(self) -> torch.Generator:
        g = torch.Generator()
        # a fresh seed without touching torch's global generator (a run may be training)
        g.manual_seed(self.seed if self.seed >= 0 else secrets.randbits(31))
        return g


class Family:
    """Base class of model families. Subclasses fill in the class attributes and methods."""

    name: ClassVar[str] = ""
    models: ClassVar[dict[str, dict[str, Any]]] = {}
    title: ClassVar[str] = ""
    summary: ClassVar[str] = ""  # one plain-words sentence for the model picker
    Config: ClassVar[type]
    representation: ClassVar[str] = ""  # e.g. "melody-tokens/1"
    modes: ClassVar[tuple[str, ...]] = ()
    evaluation_note: ClassVar[str] = ""  # what its NLL measures, if not next-step prediction

    def __init__(self, config: Any = None) -> None:
        self.config = validate(config if config is not None else self.Config())

    # -- representation -----------------------------------------------------------------------
    def examples(self, dataset: Dataset, split: str, *, training: bool) -> Examples:
        """The split encoded as training examples (windows/crops). Raise DatasetTooSmallError
        when nothing usable is left."""
        raise NotImplementedError

    def augment(self, batch: dict[str, torch.Tensor], semitones: int,
                generator: torch.Generator) -> dict[str, torch.Tensor]:
        """The batch transposed by random shifts of up to +-`semitones` (default: unchanged)."""
        return batch

    def prepare(self, batch: dict[str, torch.Tensor],
                generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Per-batch randomness drawn on the whole batch before it is sharded (masks)."""
        return batch

    def representation_card(self) -> dict[str, Any]:
        """What a model card records about the representation."""
        return {"name": self.representation}

    def baseline_sequences(self, dataset: Dataset, split: str) -> tuple[list[np.ndarray], int]:
        """Integer sequences and vocabulary size for the n-gram baseline of `studio eval`."""
        raise NotImplementedError

    # -- model --------------------------------------------------------------------------------
    def build(self) -> torch.nn.Module:
        raise NotImplementedError

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> LossOutput:
        """The batch's loss; `model.training` tells training steps from validation. A family
        whose update is not the gradient of a loss (an RBM trained by CD-k) returns a surrogate
        whose gradient is that update, and puts its reconstruction error in the stats."""
        raise NotImplementedError

    def on_train_step(self, step: int, total_steps: int) -> None:
        """Called before each training step (global step from 0, also when resuming), for
        schedules inside the loss such as KL annealing."""

    # -- generation (a family implements the modes it lists) ----------------------------------
    def sample_melody(self, model: torch.nn.Module, steps: int, options: SamplingOptions,
                      *, allowed_pitches: Sequence[int] | None = None,
                      steps_per_bar: int = 16) -> np.ndarray:
        """(count, steps) melody tokens (studio.music.tokens) of a new melody."""
        raise self._cannot("melody")

    def continue_melody(self, model: torch.nn.Module, prime: np.ndarray, steps: int,
                        options: SamplingOptions, *, allowed_pitches: Sequence[int] | None = None,
                        steps_per_bar: int = 16) -> np.ndarray:
        """(count, steps) tokens that continue the tokens `prime` (the prime not included)."""
        raise self._cannot("continue")

    def harmonize(self, model: torch.nn.Module, melody: np.ndarray, options: SamplingOptions,
                  *, allowed_pitches: Sequence[int] | None = None) -> np.ndarray:
        """(count, steps, 4) SATB pitches (-1 silent) whose soprano is `melody` (steps,)."""
        raise self._cannot("harmonize")

    def infill(self, model: torch.nn.Module, satb: np.ndarray, regenerate: np.ndarray,
               options: SamplingOptions, *, allowed_pitches: Sequence[int] | None = None
               ) -> np.ndarray:
        """(count, steps, 4) pitches equal to `satb` where `regenerate` (steps, 4) is False."""
        raise self._cannot("infill")

    def interpolate(self, model: torch.nn.Module, first: np.ndarray, last: np.ndarray,
                    count: int, keep_rhythm: bool = True) -> np.ndarray:
        """(count, steps) tokens morphing from melody `first` to `last` (both tokens); with
        `keep_rhythm` the rhythm morphs from the first's to the last's."""
        raise self._cannot("interpolate")

    def _cannot(self, mode: str) -> GenerationError:
        can = ", ".join(self.modes) or "nothing"
        return GenerationError(f"a {self.title} model cannot {_MODE_WORDS[mode]}; it can: {can}")


_MODE_WORDS = {"melody": "write a new melody", "continue": "continue a melody",
               "harmonize": "harmonize a melody", "infill": "fill in a region",
               "interpolate": "interpolate between melodies",
               "accompany": "accompany a melody"}


def classification_stats(logits: torch.Tensor, targets: torch.Tensor, nll: torch.Tensor,
                         target_onset: torch.Tensor, predicted_onset: torch.Tensor,
                         weight: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """The standard stats of a classifier: `logits` (..., classes) or their argmax (shaped like
    `targets`), `nll` the per-prediction losses, the onset tensors say whether the target / the
    predicted class starts a note; `weight` (0/1) selects the predictions that count.
    Everything is detached."""
    with torch.no_grad():
        w = torch.ones_like(nll) if weight is None else weight.to(nll.dtype)
        guess = logits.argmax(-1) if logits.dim() == targets.dim() + 1 else logits
        hit = (guess == targets).to(nll.dtype)
        t_on, p_on = target_onset.to(nll.dtype) * w, predicted_onset.to(nll.dtype) * w
        return {"nll": (nll.detach() * w).sum(), "count": w.sum(), "correct": (hit * w).sum(),
                "onset_tp": (t_on * p_on).sum(), "onset_fp": ((1 - t_on) * p_on).sum(),
                "onset_fn": (t_on * (1 - p_on)).sum()}
