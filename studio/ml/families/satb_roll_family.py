"""`SatbRollFamily`: what the families over the four-voice roll (`satb-roll/1`: coconet, rbm,
minibach) share. Excerpts of the roll as training examples, transposition, the n-gram baseline
over the voices, the model card's representation, harmonizing as filling in the three lower
voices, and the checks every four-voice request passes before any sampling.

A subclass's config says how long its excerpts are (`config.length`, in 16th steps); the
subclass says what its card adds (`representation_layout`) and which voices the baseline
predicts (`baseline_voices`), and writes `build`, `loss` and `fill` (the request checked), or
`infill` itself when its checks differ. It has no `name`, so the registry never offers it as a
family.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from studio.ml import satb_roll as sr
from studio.ml.errors import GenerationError
from studio.ml.family import Examples, Family, SamplingOptions, classification_stats
from studio.music.keys import pitch_name

if TYPE_CHECKING:
    from studio.data import Dataset

MAX_STEPS = 4096  # 256 bars of 4/4


class SatbRollFamily(Family):
    representation = "satb-roll/1"
    modes = ("harmonize", "infill")
    baseline_voices: ClassVar[tuple[int, ...]] = (0, 1, 2, 3)

    def representation_layout(self) -> dict[str, Any]:
        """What the card says about the voices (and window) besides the roll's range."""
        return {"voices": ["S", "A", "T", "B"]}

    # -- representation -----------------------------------------------------------------------
    def examples(self, dataset: Dataset, split: str, *, training: bool) -> Examples:
        return sr.crops(dataset, split, self.config.length, training=training)

    def augment(self, batch, semitones, generator):
        return sr.transpose_batch(batch, semitones, generator)

    def representation_card(self) -> dict:
        return {"name": self.representation, "step": "16th", **self.representation_layout(),
                "lowest": sr.LOWEST, "highest": sr.HIGHEST, "classes": "0 silent, 1-46 pitch"}

    def baseline_sequences(self, dataset: Dataset, split: str) -> tuple[list[np.ndarray], int]:
        return ([p[:, v].astype(np.int64) for p in sr.pieces(dataset, split)
                 for v in self.baseline_voices], sr.CLASSES)

    # -- generation ---------------------------------------------------------------------------
    def harmonize(self, model: nn.Module, melody: np.ndarray, options: SamplingOptions, *,
                  allowed_pitches: Sequence[int] | None = None) -> np.ndarray:
        """Alto, tenor and bass filled in under the melody."""
        melody = np.asarray(melody).reshape(-1)
        satb = np.full((len(melody), 4), -1, np.int16)
        satb[:, 0] = melody
        regenerate = np.zeros(satb.shape, bool)
        regenerate[:, 1:] = True
        return self.infill(model, satb, regenerate, options, allowed_pitches=allowed_pitches)

    def infill(self, model: nn.Module, satb: np.ndarray, regenerate: np.ndarray,
               options: SamplingOptions, *, allowed_pitches: Sequence[int] | None = None
               ) -> np.ndarray:
        """(count, steps, 4) pitches: `satb` with the `regenerate` cells written by the model."""
        satb = np.asarray(satb)
        regenerate = np.asarray(regenerate, bool)
        check_region(satb, regenerate)
        self.check_options(options)
        check_in_range(satb[~regenerate])
        return self.fill(model, satb, regenerate, options, allowed_pitches)

    def check_options(self, options: SamplingOptions) -> None:
        """Refuse sampling options the family cannot use (before the pitches are checked)."""

    def fill(self, model: nn.Module, satb: np.ndarray, regenerate: np.ndarray,
             options: SamplingOptions, allowed_pitches: Sequence[int] | None) -> np.ndarray:
        """`infill` once the request is checked; a family that writes no region says so, as the
        base family does for every mode it lacks."""
        raise self._cannot("infill")


def check_region(satb: np.ndarray, regenerate: np.ndarray, what: str = "fill") -> None:
    """Four voices, a region of the same shape, 1 to MAX_STEPS steps, something to generate."""
    if satb.ndim != 2 or satb.shape[1] != 4 or regenerate.shape != satb.shape:
        raise GenerationError("infill needs four voices and a region of the same shape")
    if not 0 < len(satb) <= MAX_STEPS:
        raise GenerationError(f"the music to {what} must be 1 to {MAX_STEPS} 16th notes long "
                              f"(here {len(satb)})")
    if not regenerate.any():
        raise GenerationError("nothing to generate: the region is empty")


def check_in_range(pitches: np.ndarray) -> None:
    """Every given pitch is one the roll knows (36 to 81), else a message that says which."""
    bad = sr.out_of_range(pitches)
    if len(bad):
        worst = int(bad.min()) if bad.min() < sr.LOWEST else int(bad.max())
        raise GenerationError(
            f"{pitch_name(worst)} is outside the range this model knows "
            f"({pitch_name(sr.LOWEST)} to {pitch_name(sr.HIGHEST)}); transpose the melody")


def onset_stats(scores: torch.Tensor, target: torch.Tensor, nll: torch.Tensor,
                weight: torch.Tensor) -> dict[str, torch.Tensor]:
    """`classification_stats` over (..., steps) voice targets, a note onset being a sounding
    class other than the one of the step before."""
    previous = F.pad(target, (1, 0), value=-1)[..., :-1]
    guess = scores.argmax(-1) if scores.dim() == target.dim() + 1 else scores
    return classification_stats(scores, target, nll, (target != previous) & (target > 0),
                                (guess != previous) & (guess > 0), weight)
