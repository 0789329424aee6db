"""Metric loggers, each a `TrainingCallback`: a terminal progress bar and a JSON-lines file.

The GUI is one more logger (in `studio.ui`); all of them receive the same reports.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from studio.ml.callbacks import EpochReport, RunInfo, StepReport, TrainingCallback, TrainResult


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def epoch_line(report: EpochReport, epochs: int) -> str:
    m = report.metrics
    parts = [f"epoch {report.epoch:>3}/{epochs}",
             f"train loss {m.get('train_loss', float('nan')):.4f}",
             f"valid loss {m.get('valid_loss', float('nan')):.4f}",
             f"nll {m.get('valid_nll', float('nan')):.4f}",
             f"acc {m.get('valid_accuracy', float('nan')):.3f}",
             f"onset F1 {m.get('valid_f1', float('nan')):.3f}",
             f"{m.get('seconds', 0.0):.1f}s"]
    return "  ".join(parts) + ("  *best" if report.is_best else "")


class ProgressBar(TrainingCallback):
    """A one-line progress bar on a terminal (redrawn at most 10 times a second) and one line
    per epoch; without a terminal, only the epoch lines."""

    def __init__(self, stream: TextIO | None = None, width: int = 24) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0
        self._epochs = 0

    def on_train_start(self, info: RunInfo) -> None:
        self._epochs = info.epochs
        resumed = f", resuming at epoch {info.start_epoch}" if info.start_step else ""
        world = f" x {info.world_size} processes" if info.world_size > 1 else ""
        self._write(f"training {info.model} on {info.dataset}: {info.parameters:,} weights, "
                    f"{info.train_examples} training / {info.valid_examples} validation excerpts, "
                    f"{info.steps_per_epoch} steps per epoch, device {info.device}{world}"
                    f"{resumed}\n")
        if info.skipped_pieces:
            self._write(f"  ({info.skipped_pieces} pieces shorter than the window were left "
                        "out)\n")
        if info.unreadable_pieces:
            self._write(f"  ({info.unreadable_pieces} pieces could not be read and were left "
                        "out)\n")

    def on_step_end(self, r: StepReport) -> None:
        now = time.monotonic()
        if not self.tty or (now - self._last < 0.1 and r.step_in_epoch < r.steps_per_epoch):
            return
        self._last = now
        done = int(self.width * r.step_in_epoch / max(1, r.steps_per_epoch))
        bar = "#" * done + "-" * (self.width - done)
        self._write(f"\repoch {r.epoch}/{self._epochs} [{bar}] {r.step_in_epoch}/"
                    f"{r.steps_per_epoch}  loss {r.loss:.4f}  lr {r.lr:.2g}  "
                    f"{r.samples_per_second:.0f} ex/s  left {_clock(r.eta)}\x1b[K")

    def on_epoch_end(self, report: EpochReport) -> None:
        self._write(("\r\x1b[K" if self.tty else "") + epoch_line(report, self._epochs) + "\n")

    def on_pause(self, paused: bool) -> None:
        self._write("\npaused\n" if paused else "resumed\n")

    def on_train_end(self, result: TrainResult) -> None:
        best = result.best_metrics
        text = f"{result.status} after {len(result.history)} epochs in {_clock(result.seconds)}"
        if best:
            text += f"; best epoch {result.best_epoch}: valid nll {best['valid_nll']:.4f}"
        if result.checkpoint:
            text += f"; saved {result.checkpoint}"
        self._write(text + "\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


class JsonlLog(TrainingCallback):
    """Appends every report as one JSON object per line to `path` (the run's log on disk)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO | None = None

    def _emit(self, kind: str, payload: dict) -> None:
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")
        self._file.write(json.dumps({"type": kind, "time": time.time(), **payload}) + "\n")

    def on_train_start(self, info: RunInfo) -> None:
        self._emit("start", dict(info.__dict__))
        self._file.flush()

    def on_step_end(self, report: StepReport) -> None:
        self._emit("step", dict(report.__dict__))

    def on_epoch_end(self, report: EpochReport) -> None:
        self._emit("epoch", dict(report.__dict__))
        self._file.flush()

    def on_train_end(self, result: TrainResult) -> None:
        self._emit("end", {"status": result.status, "best_epoch": result.best_epoch,
                           "seconds": result.seconds,
                           "checkpoint": str(result.checkpoint) if result.checkpoint else None})
        self._file.close()
        self._file = None


@dataclass
class RunLog:
    """A run read back from its JSON-lines log (for overlaying earlier runs' curves)."""

    info: dict = field(default_factory=dict)
    steps: list[dict] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)
    end: dict | None = None


def read_run_log(path: Path) -> RunLog:
    """The reports of a `JsonlLog` file; a truncated last line (a crash) is ignored. A file
    holding several runs (resumed) gives them in order."""
    log = RunLog()
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            kind = event.pop("type", "")
            if kind == "start":
                log.info = event
            elif kind == "step":
                log.steps.append(event)
            elif kind == "epoch":
                log.epochs.append(event)
            elif kind == "end":
                log.end = event
    return log
