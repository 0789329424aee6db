"""Fine-tuning: start from a trained model (a shipped one or the user's) and teach it the few songs
a musician has, instead of training from scratch.

    start = starting_point("lstm-melody", freeze=1)          # the parent, checked
    dataset = with_validation(my_songs)                      # holds back songs if none are valid
    config = fine_tune_training(start, {"epochs": 20}, dataset)  # defaults for few songs
    result = Trainer(start.family, dataset, config, start_from=start, output=...).run()
    print(training_warnings(result.history))

The child keeps the parent's architecture and vocabulary (its family and settings come from the
parent's card), starts from the parent's weights, can keep its lowest layers frozen, and records
its parent in its card. `check_fit` refuses a dataset the parent cannot read, with what to do;
`compare_models` scores parent, child and a from-scratch model on the same songs.
"""

from __future__ import annotations

import dataclasses
import math
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from studio.ml.errors import DatasetTooSmallError, StudioMLError
from studio.ml.family import Family

if TYPE_CHECKING:
    from studio.data import Dataset
    from studio.ml.callbacks import TrainResult

HOLD_BACK = 0.15  # share of the training songs held back for early stopping when none are valid
LR_FACTOR = 1.0  # fine-tuning learning rate: the parent's own (measured on the validation
#                   songs of bench_finetune: better than 0.5 for all five models)
ANCHOR = 0.0  # L2-SP pull towards the parent: off by default (measured: bench_finetune)
FEW_KEYS_BITS = 3.3  # key_spread under this: the songs share a key or two (folk 3.08,
#                      Palestrina 3.02, 25 POP909 songs 3.54 bits)
KEEP_TRANSPOSING = frozenset({"vae"})  # its 2-bar segments of 25 tunes overfit in 3 epochs
#                                        without transposed copies (bench_finetune)
FINE_TUNE_DEFAULTS = {"epochs": 40, "patience": 6, "restore_best": True, "schedule": "constant",
                      "warmup_steps": 0}
_LAYER = re.compile(r"(?:^|[._])(?:l|layers?\.|blocks?\.|convs?\.|cells?\.)?(\d+)(?:[._]|$)")


class FineTuneError(StudioMLError):
    """The parent cannot be fine-tuned on this dataset (missing, tampered, or songs it cannot
    read); the message says what to do."""


@dataclass
class StartingPoint:
    """A parent model to start from: its family (settings from its card), weights and the
    names of the parameters kept frozen. `weights` is None when a run is resumed (its state
    holds the weights)."""

    parent: str
    sha256: str
    family: Family
    weights: dict[str, torch.Tensor] | None
    freeze: int = 0
    frozen: tuple[str, ...] = ()
    parent_training: dict[str, Any] = field(default_factory=dict)
    parent_decoding: dict[str, Any] = field(default_factory=dict)

    def apply(self, model: torch.nn.Module) -> None:
        """Load the parent's weights into `model` and freeze the chosen layers."""
        if self.weights is not None:
            model.load_state_dict(self.weights, strict=True)
        for name, p in model.named_parameters():
            if name in self.frozen:
                p.requires_grad_(False)

    def parent_model(self) -> torch.nn.Module:
        """The parent as it is, in eval mode (read from its file again when resuming)."""
        if self.weights is None:
            from studio.ml.checkpoint import load_checkpoint
            from studio.ml.library import find_model

            return load_checkpoint(find_model(self.parent)).model
        model = self.family.build()
        model.load_state_dict(self.weights, strict=True)
        return model.eval()

    def anchor(self, device: torch.device) -> Anchor:
        """The L2-SP pull towards the parent's weights (read from its file again when
        resuming), for the trainer's `anchor` setting."""
        weights = self.weights if self.weights is not None else \
            self.parent_model().state_dict()
        return Anchor({k: v.detach().to(device) for k, v in weights.items()})

    def refrozen(self, freeze: int) -> StartingPoint:
        """The same parent with another number of frozen layer groups (a grid over freeze)."""
        return dataclasses.replace(self, freeze=freeze,
                                   frozen=frozen_names(self.family.build(), freeze))

    def card_entry(self) -> dict[str, Any]:
        return {"name": self.parent, "sha256": self.sha256, "freeze": self.freeze,
                "frozen": list(self.frozen)}


class Anchor:
    """L2-SP (Li et al. 2018): `anchor(model)` is the squared distance of the model's learning
    weights from the parent's, summed; the trainer adds it times the `anchor` setting to the
    loss."""

    def __init__(self, weights: dict[str, torch.Tensor]) -> None:
        self.weights = weights

    def __call__(self, model: torch.nn.Module) -> torch.Tensor:
        terms = [(p - self.weights[n]).pow(2).sum() for n, p in model.named_parameters()
                 if p.requires_grad and n in self.weights]
        return torch.stack(terms).sum() if terms else torch.zeros(())

    def distance(self, model: torch.nn.Module) -> float:
        """The root of the squared distance (a number to compare runs by)."""
        with torch.no_grad():
            return float(self(model)) ** 0.5


def layer_groups(model: torch.nn.Module) -> list[list[str]]:
    """The model's parameters from input to output in groups a musician can freeze: what comes
    before the first numbered layer (embeddings, input projections), then each numbered layer
    (`lstm.weight_ih_l0`, `blocks.3.conv.weight`), then the rest (the output head)."""
    before, numbered, after = [], {}, []
    for name, _ in model.named_parameters():
        m = _LAYER.search(name)
        if m:
            numbered.setdefault(int(m.group(1)), []).append(name)
        elif numbered:
            after.append(name)
        else:
            before.append(name)
    groups = ([before] if before else []) + [numbered[k] for k in sorted(numbered)]
    return groups + ([after] if after else [])


def frozen_names(model: torch.nn.Module, freeze: int) -> tuple[str, ...]:
    groups = layer_groups(model)
    if freeze < 0 or freeze >= len(groups):
        raise FineTuneError(f"this model has {len(groups)} layer groups; freeze 0 to "
                            f"{len(groups) - 1} of them (the output layer always learns)")
    return tuple(n for g in groups[:freeze] for n in g)


def starting_point(parent: str, freeze: int = 0, *, resume: bool = False) -> StartingPoint:
    """The parent model (library name or path), verified, as a starting point."""
    from studio.ml.checkpoint import load_checkpoint
    from studio.ml.library import find_model

    try:
        loaded = load_checkpoint(find_model(parent))
    except StudioMLError as e:
        raise FineTuneError(f"cannot start from {parent}: {e}") from None
    model = loaded.model
    frozen = frozen_names(model, freeze)
    weights = None if resume else {k: v.detach().clone() for k, v in model.state_dict().items()}
    return StartingPoint(loaded.name,
                         str(loaded.card.get("weights", {}).get("sha256", "")), loaded.family,
                         weights, freeze, frozen, dict(loaded.card.get("training", {})),
                         dict(loaded.card.get("decoding") or {}))


def fine_tune_setup(parent: str, dataset: Dataset, freeze: int = 0, *, resume: bool = False
                    ) -> tuple[StartingPoint, Dataset, list[str]]:
    """The one way into a fine-tune (`studio train|grid --from`, the Training panel): the parent
    checked, validation songs held back when there are none, the songs checked against the
    parent (a FineTuneError, or notes for songs it reads only in part)."""
    start = starting_point(parent, freeze, resume=resume)
    dataset = with_validation(dataset)
    return start, dataset, check_fit(start, dataset)


def fine_tune_command(start: StartingPoint, config: Any, dataset: str,
                      output: Path | None) -> str:
    """The `studio train --from ...` command recorded in the child's card."""
    from studio.ml.commandline import knob_options

    parts = ["studio", "train", "--from", start.parent, "--dataset", dataset]
    if start.freeze:
        parts += ["--freeze", str(start.freeze)]
    parts += knob_options(config)
    return shlex.join(parts + (["--output", str(output)] if output is not None else []))


def fine_tune_defaults(parent_training: dict[str, Any], dataset: Dataset | None = None,
                       family: str = "") -> dict[str, Any]:
    """Training settings for a fine-tune of a model trained with `parent_training` (its card's
    "training"): the parent's optimizer, batch, transposition and learning rate, no
    pull towards the parent (ANCHOR), early stopping on the validation songs. Given the
    `dataset`, songs that share a key or two (`in_few_keys`) are learnt as they are, without
    transposing them, except by a family in KEEP_TRANSPOSING (measured: bench_finetune)."""
    base = {k: v for k, v in parent_training.items()
            if k in ("optimizer", "batch_size", "grad_clip", "weight_decay", "transpose")}
    if dataset is not None and base.get("transpose") and family not in KEEP_TRANSPOSING \
            and in_few_keys(dataset):
        base["transpose"] = 0
    lr = float(parent_training.get("lr", 1e-3)) * LR_FACTOR
    return {**base, **FINE_TUNE_DEFAULTS, "anchor": ANCHOR, "lr": max(1e-6, lr)}


def fine_tune_training(start: StartingPoint, given: dict[str, Any],
                       dataset: Dataset | None = None) -> dict[str, Any]:
    """`fine_tune_defaults` of the parent (for `dataset`); whatever the musician set
    explicitly wins."""
    return {**fine_tune_defaults(start.parent_training, dataset, start.family.name), **given}


def keys_rule(start: StartingPoint, training: Any, dataset: Dataset) -> tuple[Any, str]:
    """(training settings, note) for a run whose settings were filled in before the songs were
    known (the Training panel): a transposition left at the parent's own is dropped when the
    songs share a key or two, as `fine_tune_defaults` does given the dataset; a transposition
    the musician changed stays."""
    from dataclasses import replace

    parent = int(start.parent_training.get("transpose", 0) or 0)
    if not parent or training.transpose != parent or start.family.name in KEEP_TRANSPOSING \
            or not in_few_keys(dataset):
        return training, ""
    return replace(training, transpose=0), ("your songs share a key or two: they are learnt as "
                                            "they are, not transposed into other keys")


def key_spread(dataset: Dataset) -> float:
    """The entropy in bits of the pitch classes of all the training songs together: about 3 for
    songs in one key or two (a diatonic scale dominates), near log2(12) = 3.58 for songs in
    many keys; NaN without readable notes."""
    counts = np.zeros(12)
    for piece in dataset.split("train"):
        pitches = _pitches(piece)
        if pitches is not None:
            counts += np.bincount(pitches[pitches >= 0] % 12, minlength=12)[:12]
    if not counts.sum():
        return math.nan
    share = counts / counts.sum()
    return float(-(share[share > 0] * np.log2(share[share > 0])).sum())


def in_few_keys(dataset: Dataset) -> bool:
    """Whether the training songs share a key or two (`key_spread` under FEW_KEYS_BITS): then
    transposing them while fine-tuning teaches keys they are never in."""
    spread = key_spread(dataset)
    return math.isfinite(spread) and spread < FEW_KEYS_BITS


def with_validation(dataset: Dataset, fraction: float = HOLD_BACK, seed: int = 0) -> Dataset:
    """`dataset` itself when it has validation songs; else a copy with a fraction of its
    training songs (at least one) held back as the validation split."""
    from studio.data import Dataset as DatasetClass
    from studio.data.dataset import Piece

    train, valid = dataset.split("train"), dataset.split("valid")
    if valid:
        return dataset
    if len(train) < 2:
        raise DatasetTooSmallError(f"{dataset.name} has {len(train)} training song(s) and no "
                                   "validation songs: fine-tuning needs at least two songs")
    n = max(1, round(fraction * len(train)))
    held = set(np.random.default_rng(seed).choice(len(train), n, replace=False).tolist())
    moved = {id(p) for i, p in enumerate(train) if i in held}
    pieces = [Piece(p.name, "valid", p.source, p.satb, p.metadata, p.loader, p._song)
              if id(p) in moved else p for p in dataset.pieces]
    return DatasetClass(dataset.name, pieces, dataset.description + f" ({n} training songs "
                        "held back for validation)", dataset.builtin, dataset.path)


def check_fit(start: StartingPoint, dataset: Dataset) -> list[str]:
    """Refuse a dataset the parent cannot learn from (FineTuneError with what to do); return
    warnings for one it can read only in part."""
    from studio.ml.family import Examples

    family = start.family
    try:
        train: Examples = family.examples(dataset, "train", training=True)
    except DatasetTooSmallError as e:
        raise FineTuneError(f"{dataset.name} does not fit {start.parent}: {e}") from None
    warnings = []
    if train.unreadable:
        warnings.append(f"{train.unreadable} songs could not be read and are left out")
    if train.skipped:
        warnings.append(f"{train.skipped} songs are shorter than the model's window and are "
                        "left out")
    outside = _share_outside_range(family, dataset)
    if outside > 0.25:
        raise FineTuneError(
            f"{outside:.0%} of the notes of {dataset.name} lie outside the range "
            f"{start.parent} was trained on: transpose the songs into it, or train a model "
            "from scratch")
    if outside > 0:
        warnings.append(f"{outside:.0%} of the notes lie outside the model's range and are "
                        "moved by octaves into it")
    return warnings


def _share_outside_range(family: Family, dataset: Dataset) -> float:
    rep = family.representation_card()
    low, high = rep.get("lowest"), rep.get("highest")
    if low is None or high is None:
        return 0.0
    total = outside = 0
    for piece in dataset.split("train"):
        pitches = _pitches(piece)
        if pitches is None:
            continue
        sounding = pitches[pitches >= 0]
        total += len(sounding)
        outside += int(((sounding < low) | (sounding > high)).sum())
    return outside / total if total else 0.0


def _pitches(piece: Any) -> np.ndarray | None:
    """Every pitch of a piece (-1 for rests in four-voice grids); None if it cannot be read."""
    try:
        return piece.satb.ravel().astype(int) if piece.satb is not None else \
            np.array([n.pitch for t in piece.song().tracks if not t.is_drum for n in t.notes],
                     dtype=int)
    except Exception:  # noqa: BLE001 - an unreadable piece is counted by check_fit
        return None


def training_warnings(history: list[dict[str, float]]) -> list[str]:
    """What a musician should know about a finished run: stopped while still improving
    (undertrained), validation loss rising while the training loss fell (overfitting), onset
    F1 near zero (it barely knows where notes start)."""
    if not history:
        return ["no epoch finished: the model is untrained"]
    out = []
    valid = [h["valid_loss"] for h in history]
    train = [h["train_loss"] for h in history]
    best = int(np.argmin(valid))
    if len(valid) >= 2 and best == len(valid) - 1 and valid[-2] - valid[-1] > \
            0.01 * abs(valid[-2]):
        out.append(f"still improving when it stopped (validation loss fell "
                   f"{valid[-2] - valid[-1]:.3f} in the last epoch): undertrained, train more "
                   "epochs")
    if best < len(valid) - 1 and valid[-1] > valid[best] * 1.03 and train[-1] < train[best]:
        out.append(f"overfitting: the validation loss rose after epoch {best + 1} while the "
                   "training loss kept falling (the best epoch was kept)")
    f1 = history[best].get("valid_f1")
    if f1 is not None and math.isfinite(f1) and f1 < 0.05 and \
            history[best].get("valid_recall", 1.0) < 0.05:
        out.append(f"onset F1 {f1:.2f}: it hardly ever predicts where notes start, so its "
                   "rhythms will be erratic; train longer or start from a shipped model")
    return out


UNDERTRAINED_EPOCHS = 10   # a run this short that was still improving is undertrained


def generation_warnings(card: dict[str, Any]) -> list[str]:
    """The training warnings that matter to someone generating with a model: it barely learned
    (no epoch, onset F1 near zero) or stopped after a few epochs while still improving. A long
    run still improving a little, and overfitting (the best epoch was kept), are left out:
    the shipped models have those and generate well. A card without a training history (a
    model made elsewhere) has nothing to say."""
    history = card.get("metrics")
    if not isinstance(history, list):
        return []
    out = []
    for warning in training_warnings(history):
        if warning.startswith("overfitting"):
            continue
        if warning.startswith("still improving") and len(history) >= UNDERTRAINED_EPOCHS:
            continue
        out.append(warning)
    if out and len(history) < UNDERTRAINED_EPOCHS and history:
        out.insert(0, f"trained for only {len(history)} epoch{'s' if len(history) > 1 else ''}")
    return out


def compare_models(models: dict[str, tuple[Family, torch.nn.Module]], dataset: Dataset,
                   split: str = "test", batch: int = 64) -> dict[str, float]:
    """Each model's NLL per prediction on `split` of `dataset` (the same masks for all)."""
    from studio.ml.evaluate import score
    from studio.ml.trainer import derived_seed

    out = {}
    for label, (family, model) in models.items():
        examples = family.examples(dataset, split, training=False)
        if not len(examples):
            raise DatasetTooSmallError(f"{dataset.name} has no {split} songs to compare on")
        device = next(model.parameters()).device
        _, stats = score(family, model.eval(), examples.to(device), batch,
                         lambda i: derived_seed(0, 3, i))
        out[label] = float(stats["nll"]) / max(1.0, float(stats["count"]))
    return out


def compare_with_parent(start: StartingPoint, result: TrainResult, dataset: Dataset,
                        config: Any, *, scratch: bool = False, control: Any = None
                        ) -> dict[str, Any]:
    """After a fine-tune: the parent as it is, the child and (with `scratch`) a model trained
    from scratch on the same songs with the same settings, scored on the same songs; with the
    run's warnings. {"split", "songs", "scores": {label: NLL}, "warnings"}."""
    from studio.ml.knobs import config_to_dict
    from studio.ml.registry import create_family, model_name_of
    from studio.ml.trainer import Trainer

    out: dict[str, Any] = {"split": comparison_split(dataset), "scores": {},
                           "warnings": training_warnings(result.history)}
    out["songs"] = len(dataset.split(out["split"]))
    if result.model is None or not result.history or result.status == "cancelled":
        return out
    models = {f"{start.parent} (parent, as it is)": (start.family, start.parent_model()),
              "fine-tuned": (result.family, result.model)}
    if scratch:
        fresh = Trainer(create_family(model_name_of(start.family),
                                      config_to_dict(start.family.config)),
                        dataset, config, control=control).run()
        if fresh.status == "cancelled":
            return out
        models["from scratch"] = (fresh.family, fresh.model)
    out["scores"] = compare_models(models, dataset, out["split"])
    return out


def comparison_lines(comparison: dict[str, Any], dataset_name: str) -> list[str]:
    """The comparison as lines of text, best first."""
    lines = []
    if comparison["scores"]:
        lines.append(f"NLL per prediction on the {comparison['songs']} {comparison['split']} "
                     f"songs of {dataset_name} (lower is better):")
        best = min(comparison["scores"].values())
        for label, nll in comparison["scores"].items():
            lines.append(f"  {label}: {nll:.4f}{'  (best)' if nll == best else ''}")
    return lines + [f"warning: {w}" for w in comparison["warnings"]]


def comparison_split(dataset: Dataset) -> str:
    """The split the comparison is made on: test songs, else the validation songs."""
    return "test" if dataset.split("test") else "valid"


