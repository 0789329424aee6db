"""Training off the GUI thread: one job (a single run or a grid search) on a `QThread`.

`TrainingRunner.start(job)` runs the engine's `Trainer` (or `run_grid`) on a fresh thread. The
engine's callbacks, wrapped in `ThrottledCallback` (about 10 step updates a second, epochs and
pauses at once), become Qt signals that arrive on the GUI thread; every report is also written to
the run's log (`studio.ml.loggers.JsonlLog`) for comparing runs later. `pause()`, `resume()` and
`stop()` go through the engine's thread-safe `TrainingControl`; a stopped run with an output saves
its model and a resumable state. `shutdown()` stops and waits; a thread keeps itself alive until
it has finished, so no `QThread` is ever destroyed while it runs.

Torch's thread count and the device are set inside the worker. Engine errors (`StudioMLError`:
NaN loss, out of memory, too little data) arrive as `failed(message)`; anything else is reported
the same way with its traceback printed, never as a crash (`studio.ui.jobs.failure_message`, as
for every background job).
"""

from __future__ import annotations

import dataclasses
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal

from studio import paths
from studio.ml.callbacks import (
    EpochReport,
    RunInfo,
    StepReport,
    ThrottledCallback,
    TrainingControl,
    TrainResult,
)
from studio.ml.grid import GridCallback, GridRow
from studio.ml.loggers import JsonlLog
from studio.ml.train_config import TrainConfig
from studio.ui.jobs import failure_message
from studio.ui.worker_thread import WorkerThread

if TYPE_CHECKING:
    from studio.data import Dataset

UPDATE_INTERVAL = 0.1  # seconds between two step updates sent to the GUI


def default_threads() -> int:
    """Torch threads for a run whose settings leave it to us: every core but one, so the
    window stays responsive."""
    return max(1, (os.cpu_count() or 2) - 1)


@dataclass
class TrainingJob:
    """What to train: a model name of the registry with its settings, the training settings,
    a dataset (by name, loaded in the worker, or already in memory), and the library name of
    the model it makes. With `grid`, a grid search over those values instead of one run."""

    model: str
    settings: dict[str, Any]
    training: TrainConfig
    dataset: str | Dataset
    name: str
    grid: dict[str, list[Any]] | None = None
    folder: Path | None = None  # where the model files go (default: the user's library)
    tensorboard: Path | None = None  # also log for TensorBoard there
    parent: str | None = None  # fine-tune this model (library name) instead of from scratch
    freeze: int = 0  # fine-tuning: lowest layer groups kept as they are
    compare_scratch: bool = False  # fine-tuning: also train one from scratch, to compare
    stamp: str = field(default_factory=lambda: datetime.now().strftime("%Y%m%d-%H%M%S"))

    @property
    def output(self) -> Path:
        return (self.folder or paths.user_models_dir()) / self.name

    def log_path(self, run_index: int = 0) -> Path:
        """The run's JSON-lines log under `studio.paths.runs_dir()`."""
        suffix = f"-run{run_index + 1:03d}" if self.grid is not None else ""
        return paths.runs_dir() / f"{self.name}-{self.stamp}{suffix}.jsonl"

    @property
    def dataset_name(self) -> str:
        return self.dataset if isinstance(self.dataset, str) else self.dataset.name


class _RunLogs(GridCallback):
    """One `JsonlLog` per run (a grid writes one file per run, so each can be overlaid)."""

    def __init__(self, job: TrainingJob) -> None:
        self.job = job
        self.log: JsonlLog | None = None

    def on_train_start(self, info: RunInfo) -> None:
        self.log = JsonlLog(self.job.log_path(info.run_index))
        self.log.on_train_start(info)

    def on_step_end(self, report: StepReport) -> None:
        if self.log is not None:
            self.log.on_step_end(report)

    def on_epoch_end(self, report: EpochReport) -> None:
        if self.log is not None:
            self.log.on_epoch_end(report)

    def on_train_end(self, result: TrainResult) -> None:
        if self.log is not None:
            self.log.on_train_end(result)
            self.log = None

    def close_failed(self, run_index: int) -> None:
        """Write the end of a run that raised (so its log says so)."""
        if self.log is not None:
            self.log.on_train_end(TrainResult("failed", [], 0, run_index=run_index))
            self.log = None


class _Throttled(ThrottledCallback, GridCallback):
    """`ThrottledCallback` that also forwards the grid hooks (after flushing the steps)."""

    def on_grid_run_start(self, row: GridRow) -> None:
        self._flush()
        self.inner.on_grid_run_start(row)

    def on_grid_run_end(self, row: GridRow) -> None:
        self._flush()
        self.inner.on_grid_run_end(row)


class TrainingThread(WorkerThread):
    """Runs one job; every signal is emitted on this thread and queued to the GUI."""

    run_started = Signal(object)  # RunInfo
    step = Signal(object)  # StepReport (merged by the throttle)
    epoch = Signal(object)  # EpochReport
    paused = Signal(bool)
    run_ended = Signal(object)  # TrainResult without the model
    grid_run_started = Signal(object)  # GridRow
    grid_run_ended = Signal(object)  # GridRow
    grid_finished = Signal(object)  # GridResult
    failed = Signal(str)  # a message for the user
    compared = Signal(object)  # fine-tuning: parent / child / scratch scores and warnings

    _live: set[TrainingThread] = set()  # threads keep themselves alive until finished

    def __init__(self, job: TrainingJob) -> None:
        super().__init__()
        self.job = job
        self.control = TrainingControl()
        self.last_step = 0  # global step of the last optimizer step (unthrottled)
        self.run_index = 0
        self.error = ""
        self._logs = _RunLogs(job)
        self._lock = threading.Lock()
        TrainingThread._live.add(self)
        self.finished.connect(self._forget)

    def _forget(self) -> None:
        self.wait()  # `finished` comes just before the thread ends: let it end
        TrainingThread._live.discard(self)

    # -- the engine's callbacks, called on this thread ------------------------------------------
    def on_train_start(self, info: RunInfo) -> None:
        self.run_index = info.run_index
        self.run_started.emit(info)

    def on_step_end(self, report: StepReport) -> None:
        self.step.emit(report)

    def on_epoch_end(self, report: EpochReport) -> None:
        self.epoch.emit(report)

    def on_pause(self, paused: bool) -> None:
        self.paused.emit(paused)

    def on_train_end(self, result: TrainResult) -> None:
        self.run_ended.emit(dataclasses.replace(result, model=None, family=None))

    def on_grid_run_start(self, row: GridRow) -> None:
        self.grid_run_started.emit(dataclasses.replace(row))

    def on_grid_run_end(self, row: GridRow) -> None:
        if row.status == "failed":
            self._logs.close_failed(row.index)
        self.grid_run_ended.emit(dataclasses.replace(row))

    # -- the thread ---------------------------------------------------------------------------
    def run(self) -> None:
        import torch

        before = torch.get_num_threads()
        try:
            self._train(torch)
        except Exception as e:  # shown in the panel, never a crash of the app
            self._logs.close_failed(self.run_index)
            message = failure_message(e, "an internal error stopped training")
            self.error = message
            self.failed.emit(message)
        finally:
            torch.set_num_threads(before)

    def _train(self, torch) -> None:
        from studio.data import load_dataset
        from studio.ml.device import prepare_device
        from studio.ml.grid import run_grid
        from studio.ml.registry import create_family
        from studio.ml.trainer import Trainer

        job = self.job
        torch.set_num_threads(job.training.threads or default_threads())
        prepare_device(job.training.device)  # checked (a clear error) and made current
        dataset = load_dataset(job.dataset) if isinstance(job.dataset, str) else job.dataset
        callbacks = [self._logs, _Throttled(self, UPDATE_INTERVAL), _StepCounter(self)]
        if job.tensorboard is not None:
            from studio.ml.tensorboard_log import TensorBoardLog

            callbacks.append(TensorBoardLog(job.tensorboard, f"{job.name}-{job.stamp}",
                                            grid=job.grid is not None))
        if job.grid is not None:
            result = run_grid(job.model, dataset, job.grid, job.training, settings=job.settings,
                              output=job.output, callbacks=callbacks, control=self.control)
            self.grid_finished.emit(result)
        elif job.parent:
            self._fine_tune(dataset, callbacks)
        else:
            family = create_family(job.model, job.settings)
            Trainer(family, dataset, job.training, callbacks=callbacks, control=self.control,
                    output=job.output).run()

    def _fine_tune(self, dataset, callbacks) -> None:
        """Start from the job's parent; then compare parent, child (and scratch)."""
        from studio.ml import finetune as F
        from studio.ml.trainer import Trainer

        job = self.job
        start, dataset, notes = F.fine_tune_setup(job.parent, dataset, job.freeze)
        training, note = F.keys_rule(start, job.training, dataset)
        if note:
            notes = [*notes, note]
        result = Trainer(start.family, dataset, training, callbacks=callbacks,
                         control=self.control, output=job.output, start_from=start,
                         command=F.fine_tune_command(start, training, dataset.name,
                                                     job.output)).run()
        comparison = F.compare_with_parent(start, result, dataset, training,
                                           scratch=job.compare_scratch, control=self.control)
        self.compared.emit({**comparison, "notes": notes,
                            "lines": F.comparison_lines(comparison, dataset.name)})


class _StepCounter(GridCallback):
    """Counts optimizer steps without throttling (what pause and the benchmark check)."""

    def __init__(self, thread: TrainingThread) -> None:
        self.thread = thread

    def on_step_end(self, report: StepReport) -> None:
        self.thread.last_step = report.step


class _EngineWarmUp(WorkerThread):
    """Makes torch's first optimizer once per process, off the GUI thread. That first one
    imports `torch._dynamo` (about 2 s of imports that hold Python's lock in long stretches):
    done while the studio sits idle after opening, rather than in the first run, where the
    window would stutter."""

    def run(self) -> None:
        import torch

        torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])


_warm_up: _EngineWarmUp | None = None


def warm_up_engine() -> QThread:
    """Start the warm-up (once per process); returns its thread (`isFinished()` when done)."""
    global _warm_up
    if _warm_up is None:
        _warm_up = _EngineWarmUp()
        _warm_up.start(QThread.Priority.LowPriority)  # joined at exit as every WorkerThread
    return _warm_up


class TrainingRunner(QObject):
    """One training job at a time; forwards the thread's signals (see `TrainingThread`)."""

    run_started = Signal(object)
    step = Signal(object)
    epoch = Signal(object)
    paused = Signal(bool)
    run_ended = Signal(object)
    grid_run_started = Signal(object)
    grid_run_ended = Signal(object)
    grid_finished = Signal(object)
    compared = Signal(object)
    failed = Signal(str)
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread: TrainingThread | None = None

    def is_running(self) -> bool:
        return self.thread is not None

    @property
    def job(self) -> TrainingJob | None:
        return self.thread.job if self.thread is not None else None

    @property
    def last_step(self) -> int:
        return self.thread.last_step if self.thread is not None else 0

    def start(self, job: TrainingJob) -> None:
        if self.thread is not None:
            raise RuntimeError("a training job is already running")
        thread = TrainingThread(job)
        for name in ("run_started", "step", "epoch", "paused", "run_ended", "grid_run_started",
                     "grid_run_ended", "grid_finished", "compared"):
            getattr(thread, name).connect(getattr(self, name))
        thread.failed.connect(self._thread_failed)
        thread.finished.connect(self._thread_finished)
        self.thread = thread
        thread.start()
        self.running_changed.emit(True)

    def _thread_finished(self) -> None:
        # Queued after every signal the thread emitted, so listeners saw them all.
        if self.thread is not None and self.sender() is self.thread:
            self._forget_thread()

    def _thread_failed(self, message: str) -> None:
        # The thread's last act: once it has ended, `failed` listeners may start a new run.
        if self.thread is None or self.sender() is not self.thread:
            return
        self.thread.wait()
        self.thread = None
        self.failed.emit(message)
        if self.thread is None:  # no listener started a new run
            self.running_changed.emit(False)

    def _forget_thread(self) -> None:
        self.thread.wait()
        self.thread = None
        self.running_changed.emit(False)

    def pause(self) -> None:
        if self.thread is not None:
            self.thread.control.pause()

    def resume(self) -> None:
        if self.thread is not None:
            self.thread.control.resume()

    def stop(self) -> None:
        """Ask the run to stop; it saves what it has and ends with status "cancelled"."""
        if self.thread is not None:
            self.thread.control.cancel()

    @property
    def is_paused(self) -> bool:
        return self.thread is not None and self.thread.control.paused

    def shutdown(self) -> None:
        """Stop the run and wait until its thread has finished (the window is closing)."""
        thread = self.thread
        if thread is None:
            return
        thread.control.cancel()
        thread.wait()
        self.thread = None
        self.running_changed.emit(False)
