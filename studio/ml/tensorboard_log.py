"""An optional TensorBoard logger: one more `TrainingCallback` beside the studio's own JSON lines.

    studio train --model lstm --dataset jsb --tensorboard runs/tb
    tensorboard --logdir runs/tb

Each run (each run of a grid search too) writes to its own folder under the directory given:
the training loss and learning rate per step, every epoch metric (train/valid loss, NLL,
accuracy, onset F1, seconds), and at the end its hyperparameters (the family's knobs and the
training knobs) with its best metrics, so that the runs of a grid compare in TensorBoard's HParams
view. The writer is PyTorch's own (`torch.utils.tensorboard`), which needs the `tensorboard`
package (`pip install tensorboard`, or the `tensorboard` extra of Studio); without it, asking for
the logger is a clear error before training starts.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from studio.ml.callbacks import EpochReport, RunInfo, StepReport, TrainingCallback, TrainResult
from studio.ml.errors import ConfigError

INSTALL_HINT = "TensorBoard logging needs the tensorboard package: pip install tensorboard"


def tensorboard_available() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def _writer_class():
    if not tensorboard_available():
        raise ConfigError(INSTALL_HINT)
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter


def _hparam(value: Any) -> Any:
    """HParams holds numbers, text and booleans only."""
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


class TensorBoardLog(TrainingCallback):
    """Writes each run's reports as TensorBoard events under `directory` (see the module)."""

    def __init__(self, directory: str | Path, name: str = "", *, grid: bool = False) -> None:
        self.directory = Path(directory)
        self.grid = grid  # every run's folder numbered, the first one too
        self.name = re.sub(r"[^\w.-]+", "_", name).strip("_")
        self._writer_cls = _writer_class()  # fails now, not mid-run, without tensorboard
        self._writer = None
        self._info: RunInfo | None = None
        self.run_dirs: list[Path] = []

    def _run_dir(self, info: RunInfo) -> Path:
        base = self.name or f"{info.model}-{info.dataset}"
        if self.grid or info.run_index:
            base += f"-run{info.run_index:03d}"
        folder, n = self.directory / base, 2
        while folder in self.run_dirs or (folder.exists() and not info.start_step):
            folder, n = self.directory / f"{base}-{n}", n + 1  # a fresh run never mixes
        return folder

    def on_train_start(self, info: RunInfo) -> None:
        self._close()
        folder = self._run_dir(info)
        try:
            self._writer = self._writer_cls(log_dir=str(folder), purge_step=info.start_step or
                                            None)
        except OSError as e:
            raise ConfigError(f"{folder}: cannot write TensorBoard logs there "
                              f"({e.strerror or e})") from None
        self._info = info
        self.run_dirs.append(folder)
        self._writer.add_text("run", f"{info.model} on {info.dataset}, device {info.device}, "
                              f"{info.parameters:,} weights", info.start_step)

    def on_step_end(self, report: StepReport) -> None:
        if self._writer is None:
            return
        self._writer.add_scalar("step/train_loss", report.loss, report.step)
        self._writer.add_scalar("step/learning_rate", report.lr, report.step)

    def on_epoch_end(self, report: EpochReport) -> None:
        if self._writer is None:
            return
        for key, value in report.metrics.items():
            if key != "epoch" and isinstance(value, (int, float)) and math.isfinite(value):
                self._writer.add_scalar(f"epoch/{key}", value, report.epoch)
        self._writer.flush()

    def on_train_end(self, result: TrainResult) -> None:
        if self._writer is None or self._info is None:
            return
        info = self._info
        hparams = {"model": info.model, "dataset": info.dataset,
                   **{f"model.{k}": _hparam(v) for k, v in info.config.items()},
                   **{f"train.{k}": _hparam(v) for k, v in info.training.items()}}
        best = result.best_metrics or {}
        metrics = {f"hparam/{k}": float(v) for k, v in best.items()
                   if k != "epoch" and isinstance(v, (int, float)) and math.isfinite(v)}
        metrics["hparam/best_epoch"] = float(result.best_epoch)
        # run_name "." keeps the HParams record in the run's own folder, beside its scalars
        self._writer.add_hparams(hparams, metrics, run_name=".")
        self._close()

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
