"""Epoch metrics from the summed stats of `LossOutput`: NLL per prediction, accuracy, and
precision / recall / F1 of predicted note onsets (onsets are rare among 16th-note steps, so
accuracy alone flatters a model that never starts a note)."""

from __future__ import annotations

import math

import torch

from studio.ml.family import STAT_KEYS


def zero_stats(device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Zeroed sums, in the widest float the device has (see `accumulator_dtype`)."""
    from studio.ml.device import accumulator_dtype

    device = torch.device(device)
    return {k: torch.zeros((), dtype=accumulator_dtype(device), device=device) for k in STAT_KEYS}


def add_stats(total: dict[str, torch.Tensor], stats: dict[str, torch.Tensor]) -> None:
    """Add a batch's stats into `total` in place (on the device, no synchronisation)."""
    for k, v in stats.items():
        if k in total:
            total[k] += v.detach().to(total[k].dtype)


def summarize(stats: dict[str, float], prefix: str) -> dict[str, float]:
    """`{prefix}_nll`, `_accuracy`, `_precision`, `_recall`, `_f1` from summed stats."""
    count = stats.get("count", 0.0)
    tp, fp, fn = (stats.get(k, 0.0) for k in ("onset_tp", "onset_fp", "onset_fn"))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    nan = math.nan
    return {f"{prefix}_nll": stats.get("nll", nan) / count if count else nan,
            f"{prefix}_accuracy": stats.get("correct", nan) / count if count else nan,
            f"{prefix}_precision": precision, f"{prefix}_recall": recall, f"{prefix}_f1": f1}


def to_floats(stats: dict[str, torch.Tensor]) -> dict[str, float]:
    return {k: float(v) for k, v in stats.items()}
