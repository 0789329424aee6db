"""The training set-up form is generated from the registry and the knobs: every model's settings
with their ranges, defaults (model overrides included, and fixed) and plain-words tooltips; the
training settings; the devices of this computer; the job it makes; the smoothing of the curves."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from studio import paths
from studio.ml.callbacks import TrainingCallback
from studio.ml.device import available_devices
from studio.ml.errors import ConfigError
from studio.ml.knobs import config_from_dict, config_to_dict, knob, knobs_of
from studio.ml.loggers import JsonlLog
from studio.ml.registry import create_family, model_names
from studio.ml.train_config import TrainConfig
from studio.ml.trainer import Trainer
from studio.ui.training.training_curve_data import RunCurves, RunningEma, ema
from studio.ui.training.training_form import KnobForm, NumberBox
from studio.ui.training.training_setup import TrainingSetup
from tests.ml.conftest import jsb_subset


@pytest.fixture
def setup(qtbot):
    form = TrainingSetup()
    qtbot.addWidget(form)
    return form


def test_every_registered_model_gets_its_form(setup):
    offered = [setup.model_box.itemData(i) for i in range(setup.model_box.count())]
    assert offered == list(model_names()) and {"lstm", "gru", "rnn", "cnn"} <= set(offered)
    for model, (family_class, overrides) in model_names().items():
        setup.select_model(model)
        form = setup.family_form
        knobs = knobs_of(family_class.Config)
        assert list(form.controls) == [k.name for k in knobs]
        assert form.values() == config_to_dict(create_family(model).config)
        for k in knobs:
            control = form.controls[k.name]
            assert k.help in control.toolTip() and "Default:" in control.toolTip()
            # (a melody model's melody track setting is greyed out unless it learns that track)
            idle_track = k.name == "melody_track" and form.values().get("voices", "melody") != "melody"
            assert control.isEnabled() == (k.name not in overrides and not idle_track)
            if k.choices:
                assert isinstance(control, QComboBox)
                assert [control.itemData(i) for i in range(control.count())] == list(k.choices)
            elif k.type is int:
                assert isinstance(control, QSpinBox)
                assert (control.minimum(), control.maximum()) == (k.low, k.high)
            elif k.type is float:
                assert isinstance(control, QDoubleSpinBox)
                assert (control.minimum(), control.maximum()) == (k.low, k.high)
            elif k.type is bool:
                assert isinstance(control, QCheckBox)
        assert setup.summary.text() == family_class.summary
    setup.select_model("gru")
    assert setup.family_settings()["cell"] == "gru"
    assert not setup.family_form.controls["cell"].isEnabled()


def test_training_settings_and_devices(setup):
    knobs = [k for k in knobs_of(TrainConfig) if k.name != "device"]
    form = setup.training_form
    assert list(form.controls) == [k.name for k in knobs]
    assert form.values() == {k.name: k.default for k in knobs}
    lr = form.controls["lr"]
    assert "too high and learning goes wild" in lr.toolTip()
    advanced = {k.name for k in knobs if k.advanced}
    assert all(form.extra.isAncestorOf(form.controls[n]) for n in advanced)
    assert not form.extra.isAncestorOf(form.controls["epochs"])
    devices = [setup.device_box.itemData(i) for i in range(setup.device_box.count())]
    assert devices == available_devices() and devices[:2] == ["auto", "cpu"]
    setup.device_box.setCurrentIndex(1)
    setup.set_training({"epochs": 7, "lr": 3e-4, "optimizer": "sgd", "nesterov": True})
    config = setup.train_config()
    assert (config.epochs, config.lr, config.optimizer, config.nesterov, config.device) == \
        (7, 3e-4, "sgd", True, "cpu")


@dataclass
class NewFamilyConfig:
    """Knobs of every kind a family added later may declare."""

    instrument: str = knob("piano", help="Free text: the instrument to imitate.")
    size: int = knob(3, low=1, high=9, help="A whole number in a range.")
    rate: float = knob(0.5, low=0.0, high=1.0, help="A number in a range.")
    beta: float = knob(1e-3, low=1e-6, high=1.0, log=True, help="A logarithmic number.")
    binarize: bool = knob(True, help="A switch.")
    mode: str = knob("fast", choices=("fast", "slow"), help="A choice.", advanced=True)


def test_a_form_for_knobs_of_every_kind(qtbot):
    form = KnobForm(knobs_of(NewFamilyConfig))
    qtbot.addWidget(form)
    kinds = {name: type(c).__name__ for name, c in form.controls.items()}
    assert kinds == {"instrument": "QLineEdit", "size": "QSpinBox", "rate": "NumberBox",
                     "beta": "NumberBox", "binarize": "QCheckBox", "mode": "QComboBox"}
    assert form.values() == config_to_dict(NewFamilyConfig())
    form.set_values({"instrument": "cello", "size": 7, "beta": 2e-4, "mode": "slow"})
    config = config_from_dict(NewFamilyConfig, form.values())
    assert (config.instrument, config.size, config.beta, config.mode) == \
        ("cello", 7, 2e-4, "slow")
    assert form.extra.isAncestorOf(form.controls["mode"]) and form.more.isVisibleTo(form)
    form.reset()
    assert form.values() == config_to_dict(NewFamilyConfig())


def test_learning_rate_box_reads_any_notation_and_steps_one_two_five(setup):
    box = setup.training_form.controls["lr"]
    assert isinstance(box, NumberBox) and box.log
    box.lineEdit().setText("1e-4")
    box.interpretText()
    assert box.value() == pytest.approx(1e-4)
    box.stepBy(1)
    assert box.value() == pytest.approx(2e-4)
    box.stepBy(2)
    assert box.value() == pytest.approx(1e-3)
    box.stepBy(-1)
    assert box.value() == pytest.approx(5e-4)
    assert box.text() == "0.0005"


def test_job_from_the_form_and_refused_names(setup):
    tiny = jsb_subset(3, 2, 1, name="tiny-set")
    setup.add_dataset(tiny)
    setup.select_model("lstm")
    setup.set_family_settings({"hidden": 24, "window": 32})
    assert setup.name_edit.text() == "lstm-tiny-set"
    job = setup.job()
    assert job.model == "lstm" and job.dataset is tiny and job.name == "lstm-tiny-set"
    assert job.settings["hidden"] == 24 and job.training.epochs == 30
    assert job.output == paths.user_models_dir() / "lstm-tiny-set"
    assert str(job.output).startswith(os.environ["STUDIO_HOME"])
    job.output.with_suffix(".json").write_text("{}")  # a model of that name exists now
    with pytest.raises(ConfigError, match="already in your library"):
        setup.job()
    setup.after_start(job.name)
    assert setup.name_edit.text() == "lstm-tiny-set-2"
    job.output.with_suffix(".json").unlink()  # gone from disk, but started in this session
    with pytest.raises(ConfigError, match="already in your library"):
        setup.name_edit.setText("lstm-tiny-set")
        setup.job()
    setup.name_edit.setText("bad/name")
    with pytest.raises(ConfigError, match="cannot be a model name"):
        setup.job()


def test_debiased_ema_as_tensorboard():
    values = [4.0, 2.0, 3.0, 1.0, 5.0]
    w = 0.6
    expected, last = [], 0.0
    for i, v in enumerate(values):
        last = last * w + (1 - w) * v
        expected.append(last / (1 - w ** (i + 1)))
    assert np.allclose(ema(values, w), expected)
    assert ema(values, w)[0] == 4.0  # debiased: the first point is itself
    assert np.array_equal(ema(values, 0.0), values)
    running, owner = RunningEma(), object()
    arr = np.array(values)
    assert np.allclose(running(arr[:2], w, owner), expected[:2])
    assert np.allclose(running(arr, w, owner), expected)  # continued, not recomputed
    assert np.allclose(running(arr, 0.9, owner), ema(values, 0.9))
    with_nan = ema([1.0, math.nan, 3.0], 0.5)
    assert math.isnan(with_nan[1]) and with_nan[2] == pytest.approx(ema([1.0, 3.0], 0.5)[1])


def test_run_curves_read_back_from_a_real_run_log(tmp_path):
    class Collect(TrainingCallback):
        def __init__(self):
            self.curves = RunCurves("live")

        def on_train_start(self, info):
            self.curves.start(info)

        def on_step_end(self, report):
            self.curves.add_step(report)

        def on_epoch_end(self, report):
            self.curves.add_epoch(report)

        def on_train_end(self, result):
            self.curves.finish(result.status, result.best_epoch)

    live = Collect()
    family = create_family("lstm", {"hidden": 16, "embedding": 8, "layers": 1, "window": 32})
    Trainer(family, jsb_subset(3, 2, 1), TrainConfig(epochs=2, batch_size=8, steps_per_epoch=3),
            callbacks=[live, JsonlLog(tmp_path / "run.jsonl")]).run()
    back = RunCurves.from_log(tmp_path / "run.jsonl")
    assert back.label == "run" and back.status == "completed" and back.best_epoch >= 1
    assert np.array_equal(back.steps, live.curves.steps) and list(back.steps) == [1, 2, 3, 4, 5, 6]
    assert np.array_equal(back.step_losses, live.curves.step_losses)
    assert back.epochs == live.curves.epochs and back.steps_per_epoch == 3
    x, y = back.epoch_series("valid_loss")
    assert list(x) == [1, 2] and list(y) == [e["valid_loss"] for e in live.curves.epochs]
    assert "lstm on jsb-3-2-1" in back.describe()
