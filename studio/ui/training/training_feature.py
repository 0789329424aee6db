"""The Training feature: puts the Training panel in the window's "Training" dock.

Publishes `window.training_panel` (a `TrainingPanel`: `start()`, `pause()`, `resume()`,
`stop()`, `is_running()`, `use_model(name)`; signals `run_started`, `epoch_reported`,
`run_finished`, `run_failed`, `model_chosen`). Closing the window (its `about_to_close` signal,
or the application quitting) stops a run, lets it save its model, and waits for the thread. The
dataset panel's datasets appear in the set-up form as they are imported or chosen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.ui.training.training_panel import TrainingPanel

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


def install(window: MainWindow) -> TrainingPanel:
    panel = TrainingPanel(window)
    panel.setObjectName("training_panel")
    window.dock_panel("Training", panel, panel.shutdown)
    window.training_panel = panel
    datasets = window.dataset_panel
    if datasets is not None:
        datasets.dataset_loaded.connect(lambda ds: _offer(panel, ds))
        datasets.import_finished.connect(lambda *_: panel.setup.refresh_datasets())
    return panel


def _offer(panel: TrainingPanel, dataset) -> None:
    """The dataset chosen in the dataset panel becomes the one to train on (between runs)."""
    setup = panel.setup
    setup.refresh_datasets()
    if setup.dataset_box.findData(dataset.name) < 0:
        setup.add_dataset(dataset, select=False)
    if not panel.is_running():
        setup.select_dataset(dataset.name)
