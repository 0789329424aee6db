"""The Training panel: set up a run, start / pause / resume / stop it, watch it learn, search a
grid of settings, and manage the model library.

A run bar (buttons, a progress bar with epoch, step and time left, and a message line) sits above
four tabs: Set-up (`TrainingSetup`), Curves (`CurvesView` with `RunHistory` to compare earlier
runs), Grid search (`GridView`) and Library (`LibraryView`). Training runs on a worker thread
(`TrainingRunner`); its reports arrive as signals, about ten a second, and update the curves while
the rest of the window stays free to use. Failures (NaN loss, out of memory, too little data) are
shown with their reason in the message line, and a new run can start at once.

Signals for other features: `run_started(RunInfo)`, `epoch_reported(EpochReport)`,
`run_finished(status)` (when a job ends without an error), `run_failed(message)` and
`model_chosen(name)` ("Use for generation" in the library).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.ml.callbacks import EpochReport, RunInfo, StepReport, TrainResult
from studio.ml.errors import StudioMLError
from studio.ml.grid import GridResult, GridRow
from studio.ui.training.training_curve_data import RunCurves
from studio.ui.training.training_curves import CurvesView
from studio.ui.training.training_grid import GridView
from studio.ui.training.training_library import LibraryView
from studio.ui.training.training_messages import (
    compared_text,
    ended_text,
    epoch_text,
    progress_text,
    started_text,
)
from studio.ui.training.training_runs import RunHistory
from studio.ui.training.training_setup import TrainingSetup
from studio.ui.training.training_worker import TrainingJob, TrainingRunner, warm_up_engine

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

ERROR_STYLE = "color: #ff6b6b;"
FRAME_MS = 200  # the curves and the progress bar are redrawn at most 5 times a second
WARM_UP_DELAY_MS = 1500


class TrainingPanel(QWidget):
    run_started = Signal(object)  # RunInfo
    epoch_reported = Signal(object)  # EpochReport
    run_finished = Signal(str)  # the last run's status
    run_failed = Signal(str)  # the reason
    model_chosen = Signal(str)

    def __init__(self, window: MainWindow | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_ = window
        self.runner = TrainingRunner(self)
        self.job: TrainingJob | None = None
        self.current: RunCurves | None = None
        self.last_status = ""
        self.last_error = ""
        self._saved_name: str | None = None  # the model the last job saved
        self.runs: dict[int, RunCurves] = {}  # the job's runs by index (one unless a grid)
        self._dirty: list[RunCurves] = []  # runs with points not drawn yet
        self._pending_step: StepReport | None = None  # the progress not shown yet
        self._frame = QTimer(self)
        self._frame.setInterval(FRAME_MS)
        self._frame.timeout.connect(self.draw_frame)
        self.comparison: dict | None = None  # the last fine-tune's comparison with its parent
        self._build()
        self.runner.run_started.connect(self._run_started)
        self.runner.step.connect(self._step)
        self.runner.epoch.connect(self._epoch)
        self.runner.paused.connect(self._paused)
        self.runner.run_ended.connect(self._run_ended)
        self.runner.failed.connect(self._failed)
        self.runner.grid_run_started.connect(self.grid.run_started)
        self.runner.grid_run_ended.connect(self._grid_run_ended)
        self.runner.grid_finished.connect(self._grid_finished)
        self.runner.compared.connect(self._compared)
        self.runner.running_changed.connect(self._running_changed)
        self.setup.model_changed.connect(self.grid.set_model)
        self.grid.set_model(self.setup.model_name)
        self.grid.start_requested.connect(self.start_grid)
        self.grid.table.itemSelectionChanged.connect(self._grid_row_chosen)
        self.history.overlays_changed.connect(self.curves.set_overlays)
        self.library.model_chosen.connect(self.use_model)
        self.library.message.connect(self._status)
        self.library.error.connect(lambda title, text: self._show_message(text, error=True))
        self._update_buttons()

    def _build(self) -> None:
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("start_training")
        self.start_button.setToolTip("Train the model set up in Set-up")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pause_training")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stop_training")
        self.stop_button.setToolTip("Stop now; the best model so far is kept in the library")
        self.start_button.clicked.connect(lambda: self.start())
        self.pause_button.clicked.connect(self._toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        self.progress = QProgressBar()
        self.progress.setObjectName("training_progress")
        self.progress.setTextVisible(True)
        self.progress.setFormat("not training")
        self.progress.setValue(0)
        self.message = QLabel("Choose a dataset and a model in Set-up, then press Start.")
        self.message.setObjectName("training_message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # three lines, fixed: a new message never re-lays out the panel (and its plots)
        self.message.setFixedHeight(3 * self.message.fontMetrics().lineSpacing() + 4)
        self.setup = TrainingSetup()
        self.curves = CurvesView()
        self.history = RunHistory()
        curves_tab = QSplitter(Qt.Orientation.Vertical)
        curves_tab.addWidget(self.curves)
        curves_tab.addWidget(self.history)
        curves_tab.setStretchFactor(0, 4)
        curves_tab.setStretchFactor(1, 1)
        self.grid = GridView()
        self.library = LibraryView()
        self.tabs = QTabWidget()
        # Each tab scrolls when the dock is smaller than it: the panel never forces the
        # window's minimum size.
        for widget, title in ((self.setup, "Set-up"), (curves_tab, "Curves"),
                              (self.grid, "Grid search"), (self.library, "Library")):
            holder = QScrollArea()
            holder.setWidgetResizable(True)
            holder.setWidget(widget)
            holder.setFrameShape(QScrollArea.Shape.NoFrame)
            self.tabs.addTab(holder, title)
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.setContentsMargins(4, 4, 4, 4)
        inner.addLayout(buttons)
        inner.addWidget(self.progress)
        inner.addWidget(self.message)
        inner.addWidget(self.tabs, 1)
        outer = QScrollArea()  # scrolls only in a very narrow dock: never forces the window's size
        outer.setWidgetResizable(True)
        outer.setFrameShape(QScrollArea.Shape.NoFrame)
        outer.setWidget(content)
        outer.setMinimumSize(90, 120)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(outer)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        QTimer.singleShot(WARM_UP_DELAY_MS, self, warm_up_engine)

    # -- control --------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.runner.is_running()

    def start(self, job: TrainingJob | None = None) -> bool:
        """Start a run (the set-up form's unless `job` is given); False if it cannot start,
        with the reason in the message line."""
        if self.runner.is_running():
            self._show_message("A run is already going: stop it first.", error=True)
            return False
        try:
            job = job or self.setup.job()
        except StudioMLError as e:
            self._show_message(str(e), error=True)
            return False
        self.job, self.runs, self.last_status, self.last_error = job, {}, "", ""
        self._saved_name: str | None = None
        self.current = self._run(0)
        self.curves.set_run(self.current)
        if self.tabs.currentIndex() == 0:
            self.tabs.setCurrentIndex(1)
        self.progress.setRange(0, 0)  # busy until the first report: data is being prepared
        self.progress.setFormat("preparing the data…")
        self._show_message(f"Preparing {job.dataset_name} for {job.model}…")
        self.runner.start(job)
        self.setup.after_start(job.name)
        return True

    def start_grid(self) -> bool:
        """Start a grid search over the grid view's values (on top of the set-up form)."""
        if self.runner.is_running():
            self._show_message("A run is already going: stop it first.", error=True)
            return False
        try:
            grid = self.grid.grid()
            job = self.setup.job(grid=grid)
        except StudioMLError as e:
            self._show_message(str(e), error=True)
            return False
        self.grid.begin(grid)
        self.tabs.setCurrentIndex(2)
        return self.start(job)

    def pause(self) -> None:
        if self.runner.is_running() and not self.runner.is_paused:
            self.runner.pause()
            self._show_message("Pausing after this step…")
            self._update_buttons()

    def resume(self) -> None:
        if self.runner.is_paused:
            self.runner.resume()
            self._show_message("Training again.")
            self._update_buttons()

    def _toggle_pause(self) -> None:
        self.resume() if self.runner.is_paused else self.pause()

    def stop(self) -> None:
        if self.runner.is_running():
            self.runner.stop()
            self._show_message("Stopping… the model so far is being saved.")

    def shutdown(self) -> None:
        """Stop training, let it save, and wait for the thread (the window is closing)."""
        self.setup.shutdown()
        if self.runner.is_running():
            self._status("Stopping training and saving the model…")
            self.runner.shutdown()

    def _update_buttons(self) -> None:
        running = self.runner.is_running()
        self.start_button.setEnabled(not running)
        self.grid.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Resume" if self.runner.is_paused else "Pause")

    # -- reports from the worker ----------------------------------------------------------------
    def _run(self, index: int) -> RunCurves:
        if index not in self.runs:
            is_grid = self.job is not None and self.job.grid is not None
            self.runs[index] = self.grid.curves_for(index) if is_grid else \
                RunCurves(self.job.name if self.job else "")
        return self.runs[index]

    def _run_started(self, info: RunInfo) -> None:
        self.current = self._run(info.run_index)
        self.current.start(info)
        self.curves.set_run(self.current)
        self.progress.setRange(0, max(1, info.total_steps))
        self.progress.setValue(info.start_step)
        self.progress.setFormat(f"epoch {info.start_epoch}/{info.epochs}")
        self._show_message(started_text(info, grid=bool(self.job and self.job.grid)))
        self.run_started.emit(info)

    def _step(self, report: StepReport) -> None:
        run = self._run(report.run_index)
        run.add_step(report)
        self._pending_step = report
        self._mark_dirty(run)

    def _mark_dirty(self, run: RunCurves) -> None:
        """`run` has new points: the next frame draws them (reports may come faster than
        frames; drawing stays at most five times a second however fast they come)."""
        if run not in self._dirty:
            self._dirty.append(run)
        if not self._frame.isActive():
            self._frame.start()

    def draw_frame(self) -> None:
        """Draw what arrived since the last frame: new points, the progress."""
        dirty, self._dirty = self._dirty, []
        for run in dirty:
            self._redraw(run)
        report, self._pending_step = self._pending_step, None
        if report is not None:
            run = self._run(report.run_index)
            self._set_progress(report.step, progress_text(report, run.info.get("epochs", "?")))
        if not dirty and report is None:
            self._frame.stop()  # nothing came in a whole frame: sleep until the next step

    def _set_progress(self, value: int, text: str) -> None:
        # QProgressBar.setValue repaints at once (the whole window, offscreen): with updates
        # held, the bar is drawn with the curves in the next paint instead.
        self.progress.setUpdatesEnabled(False)
        self.progress.setValue(value)
        self.progress.setFormat(text)
        self.progress.setUpdatesEnabled(True)

    def _epoch(self, report: EpochReport) -> None:
        run = self._run(report.run_index)
        run.add_epoch(report)
        self._mark_dirty(run)
        self._show_message(epoch_text(report))
        self.epoch_reported.emit(report)

    def _redraw(self, run: RunCurves) -> None:
        if run is self.curves.run:
            self.curves.refresh()
        if run is self.grid.run_curves.run:
            self.grid.run_curves.refresh()

    def _paused(self, paused: bool) -> None:
        self.draw_frame()
        self._update_buttons()
        if paused:
            self._show_message(f"Paused at step {self.runner.last_step}. Resume when you like.")
            self.progress.setFormat("paused · " + self.progress.format())

    def _run_ended(self, result: TrainResult) -> None:
        run = self._run(result.run_index)
        run.finish(result.status, result.best_epoch)
        self.draw_frame()
        self._redraw(run)
        self.last_status = result.status
        single = self.job is not None and self.job.grid is None
        if result.checkpoint is not None and single:
            self._saved_name = self.job.name
        patience = run.info.get("training", {}).get("patience", "?")
        self._show_message(ended_text(result, patience, self._saved_name if single else None))

    def _compared(self, comparison: dict) -> None:
        self.comparison = comparison
        extra = compared_text(comparison)
        if extra:
            self._show_message(f"{self.message.text()}\n{extra}")

    def _failed(self, message: str) -> None:
        self.last_status, self.last_error = "failed", message
        self.draw_frame()
        if self.current is not None:
            self.current.finish("failed")
            self._redraw(self.current)
        self._show_message(f"Training stopped: {message}", error=True)
        self.run_failed.emit(message)

    def _grid_run_ended(self, row: GridRow) -> None:
        self.grid.run_ended(row)
        if row.status == "failed":
            self._run(row.index).finish("failed")

    def _grid_finished(self, result: GridResult) -> None:
        stopped = "cancelled" if any(r.status == "cancelled" for r in result.rows) else ""
        self.grid.finish(result.rows, stopped)
        if result.best is not None and self.job is not None:
            self._saved_name = self.job.name
            self._show_message(f"Grid search done: run {result.best.index + 1} was best "
                               f"(validation loss {result.best.metrics['valid_loss']:.3f}); "
                               f"saved as {self.job.name} in the Library.")
            self.grid.select_run(result.best.index)
        else:
            self._show_message("Grid search ended without a finished run.", error=True)

    def _grid_row_chosen(self) -> None:
        items = self.grid.table.selectedItems()
        if items:
            run = self.grid.curves.get(items[0].data(Qt.ItemDataRole.UserRole))
            if run is not None:
                self.curves.set_run(run)

    def _running_changed(self, running: bool) -> None:
        self._update_buttons()
        if running:
            return
        if self.progress.maximum() == 0:  # ended while preparing the data
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
        self.progress.setFormat({"": "not training", "failed": "failed"}.get(
            self.last_status, f"not training · last run {self.last_status}"))
        self.history.refresh()
        self.library.refresh(select=self._saved_name)
        if self.job is not None and self.job.grid is not None:  # rows that never ran
            self.grid.finish(status="failed" if self.last_status == "failed" else "cancelled")
        if self.last_status != "failed":
            self.run_finished.emit(self.last_status)

    # -- the library ----------------------------------------------------------------------------
    def use_model(self, name: str) -> None:
        """Make `name` the model of the generation panel (when there is one)."""
        window = self.window_
        if window is not None:
            window.selected_model_name = name
            generation = window.generation_panel
            if generation is not None:
                generation.select_model(name)
                dock = window.docks.get("Generation")
                if dock is not None:
                    dock.raise_()
        self._status(f"{name} is the model for generation")
        self.model_chosen.emit(name)

    # -- messages -------------------------------------------------------------------------------
    def _show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        if error:
            self._status(text)

    def _status(self, text: str, timeout_ms: int = 8000) -> None:
        if self.window_ is not None:
            self.window_.show_status(text, timeout_ms)

    def settings_snapshot(self) -> dict[str, Any]:
        """The set-up form's values (for tests and for other features)."""
        return {"model": self.setup.model_name, "dataset": self.setup.dataset_name,
                "settings": self.setup.family_settings(),
                "training": self.setup.training_form.values()}
