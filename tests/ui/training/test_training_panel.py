"""The training panel in the real window, with the real engine on a real JSB subset: a run's
curves hold exactly the reported points, pause stops the steps and resume continues them, stop
saves a model that the library lists with its card, the GUI thread never blocks during the run,
and a diverging run or a too-small dataset shows its reason while a new run starts at once."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PySide6.QtCore import QObject, Qt

from studio.ml.checkpoint import card_path, read_card, weights_path
from studio.ml.train_state import state_path
from studio.ui.stall_probe import StallProbe
from studio.ui.training.training_curve_data import ema
from studio.ui.training.training_worker import warm_up_engine
from tests.ml.conftest import jsb_subset
from tests.ui.editor_driver import make_window

TINY = {"hidden": 16, "embedding": 8, "layers": 1, "window": 32, "dropout": 0.0}
FAST = {"batch_size": 8, "steps_per_epoch": 4, "lr": 0.01, "patience": 0}
WAIT_MS = 60_000


def training_window(qtbot, tmp_path, *, model="lstm", settings=None, training=None,
                    dataset=None):
    """The main window with the Training panel set up for a tiny run, its Curves tab shown,
    and the engine warmed up (as it is a moment after the studio opens)."""
    window = make_window(qtbot, tmp_path)
    panel = window.training_panel
    panel.setup.add_dataset(dataset or jsb_subset(4, 2, 1))
    panel.setup.select_model(model)
    panel.setup.set_family_settings(TINY if settings is None else settings)
    panel.setup.set_training({**FAST, **(training or {})})
    panel.tabs.setCurrentIndex(1)
    qtbot.waitUntil(warm_up_engine().isFinished, timeout=WAIT_MS)
    return window, panel


class Reports(QObject):
    """What the worker reported, as the GUI thread received it."""

    def __init__(self, runner) -> None:
        super().__init__()
        self.infos, self.steps, self.epochs, self.paused, self.ends = [], [], [], [], []
        runner.run_started.connect(self.infos.append)
        runner.step.connect(self.steps.append)
        runner.epoch.connect(self.epochs.append)
        runner.paused.connect(self.paused.append)
        runner.run_ended.connect(self.ends.append)


def data(item):
    x, y = item.getData()
    return (np.empty(0), np.empty(0)) if x is None else (np.asarray(x), np.asarray(y))


def test_run_curves_pause_resume_stop_and_the_library(qtbot, tmp_path):
    window, panel = training_window(qtbot, tmp_path, training={"epochs": 500})
    reports = Reports(panel.runner)
    probe = StallProbe()
    probe.start()
    assert panel.start()
    name = panel.job.name
    assert not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: len(reports.epochs) >= 2, timeout=WAIT_MS)
    qtbot.wait(300)  # the run goes on; the window keeps ticking
    probe.stop()

    # the curves hold exactly the points the worker reported
    panel.draw_frame()
    curves, run = panel.curves, panel.current
    info = reports.infos[0]
    assert info.model == "lstm" and info.dataset == "jsb-4-2-1" and info.steps_per_epoch == 4
    steps = np.array([r.step for r in reports.steps], dtype=float)
    losses = np.array([r.loss for r in reports.steps])
    assert len(steps) >= 2 and np.all(np.diff(steps) > 0)
    x, y = data(curves.items["train_raw"])
    assert np.array_equal(x, steps) and np.array_equal(y, losses)
    x, y = data(curves.items["train_smooth"])
    assert np.array_equal(x, steps) and np.allclose(y, ema(losses, curves.smoothing_weight))
    x, y = data(curves.items["lr"])
    assert np.array_equal(y, [r.lr for r in reports.steps])
    epochs = np.array([e.epoch for e in reports.epochs], dtype=float)
    for key, metric in (("valid", "valid_loss"), ("train_epoch", "train_loss"),
                        ("accuracy", "valid_accuracy"), ("f1", "valid_f1")):
        x, y = data(curves.items[key])
        assert np.array_equal(x, epochs * 4), key  # drawn where each epoch ended
        assert np.array_equal(y, [e.metrics[metric] for e in reports.epochs]), key
    best = reports.epochs[-1].best_epoch
    assert run.best_epoch == best and curves.best_line.value() == best * 4
    assert data(curves.best_star)[1][0] == reports.epochs[best - 1].metrics["valid_loss"]
    curves.set_axis("epoch")
    x, y = data(curves.items["valid"])
    assert np.array_equal(x, epochs) and not len(data(curves.items["train_raw"])[0])
    curves.set_axis("step")
    curves.log_scale.setChecked(True)
    assert curves.loss_plot.getAxis("left").logMode
    curves.log_scale.setChecked(False)
    assert "Epoch" in panel.message.text() and "step" in panel.progress.format()

    # pause: no optimizer step happens until resume
    panel.pause()
    qtbot.waitUntil(lambda: reports.paused == [True], timeout=WAIT_MS)
    assert panel.pause_button.text() == "Resume" and "Paused at step" in panel.message.text()
    stopped_at, seen = panel.runner.last_step, len(reports.steps)
    qtbot.wait(600)
    assert panel.runner.last_step == stopped_at and len(reports.steps) == seen
    probe.start()
    panel.resume()
    qtbot.waitUntil(lambda: panel.runner.last_step > stopped_at + 8, timeout=WAIT_MS)
    assert reports.paused == [True, False] and panel.pause_button.text() == "Pause"

    # stop: the run ends "cancelled", its model is saved and listed with its card
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        panel.stop()
    probe.stop()
    assert finished.args == ["cancelled"] and not panel.is_running()
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()
    assert "was stopped" in panel.message.text() and name in panel.message.text()
    assert len(probe.gaps) >= 5  # it ticked through the run (how often depends on its length)
    own, wall = max(probe.own_gaps), max(probe.gaps)
    assert own < 0.1, f"the GUI thread stalled for {own * 1000:.0f} ms ({wall * 1000:.0f} ms)"
    assert wall < 0.5, f"the GUI thread stalled for {wall * 1000:.0f} ms"
    output = panel.job.output
    assert weights_path(output).exists() and state_path(output).exists()
    card = read_card(card_path(output))
    assert card["status"] == "cancelled" and card["dataset"]["name"] == "jsb-4-2-1"
    assert len(card["metrics"]) >= 2
    library = panel.library
    entry = library.current_entry()
    assert entry is not None and entry.name == name and not entry.shipped
    assert entry.family == "recurrent" and entry.model == "lstm"
    html = library.card.toHtml()
    for text in (name, "jsb-4-2-1", "Validation loss", "cancelled", "melody"):
        assert text in html, text

    # the run's log can be overlaid on the next run's curves
    history = panel.history
    assert history.list.count() == 1
    history.set_checked(_first_log(history))
    overlay = panel.curves.overlays[0]
    # the log holds every step (the live curve got them merged, ten a second at most)
    assert list(overlay.steps) == list(range(1, int(run.steps[-1]) + 1))
    assert set(run.steps) <= set(overlay.steps) and overlay.epochs == run.epochs
    assert overlay.status == "cancelled" and overlay.label == _first_log(history).stem
    x, _ = data(panel.curves._overlay_items[0][1])
    assert np.array_equal(x, overlay.steps)

    # use for generation, rename and delete
    chosen, selected = [], []
    panel.model_chosen.connect(chosen.append)
    # the generation panel is another feature (built in parallel): its documented entry point
    window.generation_panel = SimpleNamespace(select_model=selected.append)
    library.use_selected()
    assert chosen == selected == [name] and window.selected_model_name == name
    assert library.rename_selected("my-chorale-model")
    assert library.current_entry().name == "my-chorale-model"
    assert weights_path(output.with_name("my-chorale-model")).exists()
    assert library.delete_selected(confirm=False)
    assert all(e.name != "my-chorale-model" for e in library.entries)
    assert not weights_path(output.with_name("my-chorale-model")).exists()


def _first_log(history) -> Path:
    return Path(history.list.item(0).data(Qt.ItemDataRole.UserRole))


def test_bad_input_shows_the_reason_and_a_new_run_starts_at_once(qtbot, tmp_path):
    # the local-view net (no batch norm) diverges at lr 10; the full view's batch norm may not
    diverging = {"channels": 16, "layers": 16, "window": 16, "pitch_view": "local"}
    window, panel = training_window(qtbot, tmp_path, model="cnn", settings=diverging,
                                    training={"lr": 10.0, "grad_clip": 0.0, "epochs": 3,
                                              "steps_per_epoch": 10})
    failures = []
    panel.run_failed.connect(failures.append)
    with qtbot.waitSignal(panel.run_failed, timeout=WAIT_MS):
        assert panel.start()
    assert "training diverged" in failures[0] and "lower the learning rate" in failures[0]
    assert panel.message.text().startswith("Training stopped:")
    assert "diverged" in window.statusBar().currentMessage()
    assert not panel.is_running() and panel.current.status == "failed"

    # at once: a model whose window is longer than every piece
    panel.setup.select_model("lstm")
    panel.setup.set_family_settings({**TINY, "window": 2048})
    with qtbot.waitSignal(panel.run_failed, timeout=WAIT_MS):
        assert panel.start()
    assert "window of 2048" in failures[1] and "window of 2048" in panel.message.text()

    # and a good run right after, which early stopping ends (marked on the curves)
    panel.setup.set_family_settings(TINY)
    panel.setup.set_training({"epochs": 60, "patience": 1})
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        assert panel.start()
    assert finished.args == ["early-stopped"] and len(failures) == 2
    run = panel.current
    last = run.epochs[-1]["epoch"]
    assert 1 < last < 60 and run.stop_epoch == last and run.best_epoch == last - 1
    assert panel.curves.stop_line.isVisible()
    assert panel.curves.stop_line.value() == last * run.steps_per_epoch
    assert "stopped early (no better validation loss for 1 epoch)" in panel.message.text()
    assert panel.library.current_entry().name == panel.job.name
