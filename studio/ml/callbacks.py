"""How a training run talks to the outside world without knowing it: reports, callbacks, and a
control object for pause / resume / cancel.

The trainer calls each `TrainingCallback` (the minGPT idea of `on_batch_end` hooks) with plain
dataclasses; metric loggers are just callbacks (torchtune's idea): `ProgressBar` for the terminal
(`studio.ml.loggers`), `JsonlLog` for disk, and the training panel adds its own one that turns
reports into Qt signals. `TrainingControl` is thread-safe: the GUI thread pauses or cancels,
the training thread checks it between steps.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunInfo:
    """Sent once when a run starts (after data and model are ready)."""

    model: str  # model name, e.g. "lstm"
    family: str
    dataset: str
    config: dict[str, Any]  # the family's knobs
    training: dict[str, Any]  # the TrainConfig knobs
    device: str
    parameters: int
    train_examples: int
    valid_examples: int
    steps_per_epoch: int
    epochs: int
    total_steps: int
    start_epoch: int = 1  # > 1 when resuming
    start_step: int = 0  # global steps already done when resuming
    skipped_pieces: int = 0  # pieces shorter than the window
    unreadable_pieces: int = 0  # pieces whose music could not be read
    world_size: int = 1
    run_index: int = 0  # position in a grid search


@dataclass
class StepReport:
    """After every `log_every` optimizer steps: the mean training loss over those steps."""

    epoch: int  # 1-based
    step: int  # global steps done (1-based)
    step_in_epoch: int
    steps_per_epoch: int
    total_steps: int
    loss: float
    lr: float
    elapsed: float  # seconds of training, pauses excluded
    samples_per_second: float
    run_index: int = 0

    @property
    def eta(self) -> float:
        """Seconds left at the current speed (validation excluded)."""
        return self.elapsed / max(1, self.step) * max(0, self.total_steps - self.step)


@dataclass
class EpochReport:
    """After each epoch: train and valid metrics (`train_loss`, `valid_loss`, `valid_nll`,
    `valid_accuracy`, `valid_precision`, `valid_recall`, `valid_f1`, the same for train, `lr`,
    `seconds`)."""

    epoch: int
    metrics: dict[str, float]
    best_epoch: int
    is_best: bool
    epochs_without_improvement: int
    elapsed: float
    run_index: int = 0


@dataclass
class TrainResult:
    """What a finished run returns and `on_train_end` receives."""

    status: str  # "completed", "early-stopped" or "cancelled"
    history: list[dict[str, float]]  # one metrics dict per epoch (with "epoch")
    best_epoch: int  # 0 when no epoch finished
    model: Any = None  # the trained nn.Module (best weights when restore_best)
    family: Any = None
    checkpoint: Path | None = None
    card: dict[str, Any] | None = None
    seconds: float = 0.0
    run_index: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def best_metrics(self) -> dict[str, float]:
        return self.history[self.best_epoch - 1] if self.best_epoch else {}


class TrainingCallback:
    """Override what you need; every hook runs on the training thread. A hook may raise
    `studio.ml.errors.TrainingCancelled` to stop the run cleanly."""

    def on_train_start(self, info: RunInfo) -> None:
        pass

    def on_step_end(self, report: StepReport) -> None:
        pass

    def on_epoch_end(self, report: EpochReport) -> None:
        pass

    def on_pause(self, paused: bool) -> None:
        pass

    def on_train_end(self, result: TrainResult) -> None:
        pass


class TrainingControl:
    """Pause, resume and cancel a run from another thread."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()  # wake a paused run so it can stop

    def pause(self) -> None:
        if not self._cancel.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> float:
        """Block while paused (until resumed or cancelled); returns the seconds spent."""
        if self._running.is_set():
            return 0.0
        t0 = time.perf_counter()
        self._running.wait()
        return time.perf_counter() - t0


class ThrottledCallback(TrainingCallback):
    """Forwards step reports to `inner` at most once per `interval` seconds, merged (the loss is
    the mean of the merged reports); everything else is forwarded at once. For GUIs that plot
    at about 10 updates per second."""

    def __init__(self, inner: TrainingCallback, interval: float = 0.1) -> None:
        self.inner, self.interval = inner, interval
        self._last = -math.inf
        self._pending: list[StepReport] = []

    def on_train_start(self, info: RunInfo) -> None:
        self._last, self._pending = -math.inf, []
        self.inner.on_train_start(info)

    def on_step_end(self, report: StepReport) -> None:
        self._pending.append(report)
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._flush()
            self._last = now

    def _flush(self) -> None:
        if not self._pending:
            return
        last = self._pending[-1]
        loss = sum(r.loss for r in self._pending) / len(self._pending)
        self._pending = []
        self.inner.on_step_end(StepReport(**{**last.__dict__, "loss": loss}))

    def on_epoch_end(self, report: EpochReport) -> None:
        self._flush()
        self.inner.on_epoch_end(report)

    def on_pause(self, paused: bool) -> None:
        self._flush()
        self.inner.on_pause(paused)

    def on_train_end(self, result: TrainResult) -> None:
        self._flush()
        self.inner.on_train_end(result)
