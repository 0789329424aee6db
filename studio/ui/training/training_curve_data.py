"""The points of a training run's learning curves, as the panel received them (no Qt).

A `RunCurves` grows from the engine's reports (`add_step`, `add_epoch`, `finish`) or is rebuilt
from a run's log on disk (`from_log`, for overlaying earlier runs). `ema` is the smoothing of
TensorBoard: an exponential moving average, debiased so the first points are not pulled towards
zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from studio.ml.callbacks import EpochReport, RunInfo, StepReport
from studio.ml.loggers import RunLog, read_run_log


def ema(values: Sequence[float], weight: float) -> np.ndarray:
    """Debiased exponential moving average (`weight` 0 = no smoothing, towards 1 = smoother);
    non-finite values pass through without disturbing the average."""
    out = np.asarray(values, dtype=float).copy()
    if weight <= 0 or len(out) == 0:
        return out
    last, n = 0.0, 0
    for i, v in enumerate(out):
        if not math.isfinite(v):
            continue
        n += 1
        last = last * weight + (1 - weight) * v
        out[i] = last / (1 - weight ** n)
    return out


class RunningEma:
    """`ema` kept up to date as points arrive: each call smooths only the new points (a live
    curve of many thousand steps costs nothing per update)."""

    def __init__(self) -> None:
        self._owner: object = None
        self._weight = -1.0
        self._out = _Growing()
        self._last, self._n = 0.0, 0

    def __call__(self, values: np.ndarray, weight: float, owner: object = None) -> np.ndarray:
        if owner is not self._owner or weight != self._weight or len(values) < len(self._out):
            self._owner, self._weight = owner, weight
            self._out, self._last, self._n = _Growing(), 0.0, 0
        if weight <= 0:
            return np.asarray(values, dtype=float)
        for v in values[len(self._out):]:
            v = float(v)
            if math.isfinite(v):
                self._n += 1
                self._last = self._last * weight + (1 - weight) * v
                v = self._last / (1 - weight ** self._n)
            self._out.append(v)
        return self._out.values


class _Growing:
    """A float array that grows by appending (amortised), read as a view."""

    def __init__(self) -> None:
        self._data = np.empty(256)
        self._n = 0

    def append(self, value: float) -> None:
        if self._n == len(self._data):
            self._data = np.resize(self._data, 2 * len(self._data))
        self._data[self._n] = value
        self._n += 1

    def __len__(self) -> int:
        return self._n

    @property
    def values(self) -> np.ndarray:
        return self._data[:self._n]


@dataclass
class RunCurves:
    """One run: step losses and learning rates, the epochs' metrics, the best epoch, and where
    (and why) the run ended."""

    label: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    epochs: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    status: str = "running"  # running, completed, early-stopped, cancelled, failed
    steps_per_epoch: int = 0

    def __post_init__(self) -> None:
        self._step, self._loss, self._lr = _Growing(), _Growing(), _Growing()

    # -- growing --------------------------------------------------------------------------------
    def start(self, info: RunInfo | dict[str, Any]) -> None:
        self.info = dict(info if isinstance(info, dict) else info.__dict__)
        self.steps_per_epoch = int(self.info.get("steps_per_epoch", 0))

    def add_step(self, report: StepReport | dict[str, Any]) -> None:
        r = report if isinstance(report, dict) else report.__dict__
        self._step.append(r["step"])
        self._loss.append(r["loss"])
        self._lr.append(r["lr"])

    def add_epoch(self, report: EpochReport | dict[str, Any]) -> None:
        r = report if isinstance(report, dict) else report.__dict__
        self.epochs.append({**r["metrics"], "epoch": r["epoch"]})
        self.best_epoch = r["best_epoch"]

    def finish(self, status: str, best_epoch: int | None = None) -> None:
        self.status = status
        if best_epoch is not None:
            self.best_epoch = best_epoch

    @classmethod
    def from_log(cls, log: RunLog | Path, label: str = "") -> RunCurves:
        """A run read back from its JSON-lines log."""
        if not isinstance(log, RunLog):
            label = label or Path(log).stem
            log = read_run_log(Path(log))
        curves = cls(label)
        curves.start(log.info)
        for s in log.steps:
            curves.add_step(s)
        for e in log.epochs:
            curves.add_epoch(e)
        if log.end is not None:
            curves.finish(log.end.get("status", "completed"), log.end.get("best_epoch"))
        else:
            curves.finish("interrupted")
        return curves

    # -- reading --------------------------------------------------------------------------------
    @property
    def steps(self) -> np.ndarray:
        return self._step.values

    @property
    def step_losses(self) -> np.ndarray:
        return self._loss.values

    @property
    def step_lrs(self) -> np.ndarray:
        return self._lr.values

    @property
    def epoch_numbers(self) -> np.ndarray:
        return np.array([e["epoch"] for e in self.epochs], dtype=float)

    def epoch_series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(epochs, values) of a per-epoch metric; epochs without it are left out."""
        pairs = [(e["epoch"], e[key]) for e in self.epochs if key in e]
        if not pairs:
            return np.empty(0), np.empty(0)
        x, y = zip(*pairs)
        return np.array(x, dtype=float), np.array(y, dtype=float)

    def epoch_end_step(self, epoch: float) -> float:
        """The global step at which `epoch` ended (for drawing epochs on the step axis)."""
        return epoch * self.steps_per_epoch

    def has(self, key: str) -> bool:
        return any(key in e and math.isfinite(e[key]) for e in self.epochs)

    @property
    def stop_epoch(self) -> int:
        """The epoch after which early stopping ended the run (0 if it did not)."""
        return int(self.epochs[-1]["epoch"]) if self.status == "early-stopped" and \
            self.epochs else 0

    @property
    def best_metrics(self) -> dict[str, float]:
        return next((e for e in self.epochs if e["epoch"] == self.best_epoch), {})

    def describe(self) -> str:
        """One line for lists: model, dataset, status and the best validation loss."""
        parts = [self.info.get("model", "?"), "on", self.info.get("dataset", "?"),
                 f"· {len(self.epochs)} epochs · {self.status}"]
        best = self.best_metrics.get("valid_loss")
        if best is not None:
            parts.append(f"· best valid loss {best:.3f}")
        return " ".join(parts)
