"""The Training panel's device list and TensorBoard setting, in the real window with the real
worker: on a machine with two CUDA GPUs (the driver faked as in tests/ml/test_device.py, torch's
own checks kept) each GPU is offered and the worker makes the chosen one current instead of
failing on torch's "specified index" ValueError; with TensorBoard ticked, a run writes events
that TensorBoard's own reader finds (curves and hyperparameters)."""

from __future__ import annotations

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.ml.test_device import FakeGpus
from tests.ui.training.test_training_panel import WAIT_MS, training_window


def test_each_gpu_is_offered_and_the_chosen_one_is_made_current(qtbot, tmp_path, monkeypatch):
    gpus = FakeGpus(monkeypatch, 2)
    window, panel = training_window(qtbot, tmp_path, training={"epochs": 1})
    # the form was built before the fake: build the device list again as a new window would
    from studio.ui.training.training_setup import TrainingSetup

    setup = TrainingSetup()
    qtbot.addWidget(setup)
    box = setup.device_box
    items = [(box.itemText(i), box.itemData(i)) for i in range(box.count())]
    assert items[:5] == [("auto", "auto"), ("CPU", "cpu"), ("CUDA GPU", "cuda"),
                         ("CUDA GPU 0 (Fake GPU 0)", "cuda:0"),
                         ("CUDA GPU 1 (Fake GPU 1)", "cuda:1")]

    panel.setup.device_box.addItem("CUDA GPU 1", "cuda:1")
    panel.setup.device_box.setCurrentIndex(panel.setup.device_box.count() - 1)
    failures = []
    panel.run_failed.connect(failures.append)
    with qtbot.waitSignal(panel.run_failed, timeout=WAIT_MS):
        assert panel.start()
    # GPU 1 was made current; the run then stops where this CPU-only torch cannot go on (it
    # has no CUDA kernels), with that reason, and not on the device set-up
    assert gpus.calls and set(gpus.calls) == {1} and gpus.current == 1
    assert "specified index" not in failures[0] and "CUDA" in failures[0]
    assert not panel.is_running()


def test_a_run_logged_for_tensorboard_reads_back_in_tensorboard(qtbot, tmp_path):
    window, panel = training_window(qtbot, tmp_path, training={"epochs": 2})
    setup = panel.setup
    assert setup.tensorboard_box.isEnabled() and not setup.tensorboard_dir.isEnabled()
    setup.tensorboard_box.setChecked(True)
    assert setup.tensorboard_dir.isEnabled()
    setup.tensorboard_dir.setText(str(tmp_path / "tb"))
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        assert panel.start()
    assert finished.args == ["completed"]
    folders = [p for p in (tmp_path / "tb").iterdir() if p.is_dir()]
    assert len(folders) == 1 and folders[0].name.startswith(panel.job.name)
    events = EventAccumulator(str(folders[0]))
    events.Reload()
    run = panel.current
    valid = [e.value for e in events.Scalars("epoch/valid_loss")]
    assert [e.step for e in events.Scalars("epoch/valid_loss")] == [1, 2]
    assert valid == pytest.approx([m["valid_loss"] for m in run.epochs], rel=1e-6)
    assert len(events.Scalars("step/train_loss")) == 8  # 4 steps per epoch
    hparams = events.PluginTagToContent("hparams")
    assert {"_hparams_/session_start_info", "_hparams_/session_end_info"} <= set(hparams)
    assert b"train.lr" in hparams["_hparams_/session_start_info"]
