"""`--tensorboard DIR` on `studio train` and `studio grid`: the runs read back with TensorBoard's
own event reader (the curves, and hyperparameters with final metrics for the HParams view, one
folder per grid run); without the tensorboard package, a clear error before any training."""

from __future__ import annotations

import sys

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from studio.ml.checkpoint import read_card
from studio.ml.errors import ConfigError
from tests.ml.family_testing import run_cli

QUICK = ["--dataset", "jsb", "--threads", "1", "--steps-per-epoch", "3", "--batch-size", "16",
         "--context", "4", "--quiet"]


def events(folder):
    acc = EventAccumulator(str(folder))
    acc.Reload()
    return acc


def test_train_logs_curves_and_hparams(tmp_path):
    out, tb = tmp_path / "m", tmp_path / "tb"
    code, _ = run_cli("train", "--model", "softmax", "--epochs", "2", "--output", out,
                      "--tensorboard", tb, *QUICK)
    assert code == 0
    [folder] = [p for p in tb.iterdir() if p.is_dir()]
    assert folder.name == "m"
    acc = events(folder)
    history = read_card(out)["metrics"]
    for key in ("train_loss", "valid_loss", "valid_nll", "valid_accuracy"):
        scalars = acc.Scalars(f"epoch/{key}")
        assert [s.step for s in scalars] == [1, 2]
        assert [s.value for s in scalars] == pytest.approx([m[key] for m in history], rel=1e-6)
    assert [s.step for s in acc.Scalars("step/train_loss")] == list(range(1, 7))
    assert len(acc.Scalars("step/learning_rate")) == 6
    hparams = acc.PluginTagToContent("hparams")
    assert b"train.epochs" in hparams["_hparams_/session_start_info"]
    assert b"model.context" in hparams["_hparams_/session_start_info"]


def test_grid_runs_each_get_a_folder_with_their_hparams(tmp_path):
    tb = tmp_path / "tb"
    code, _ = run_cli("grid", "--model", "softmax", "--grid", "lr=0.01,0.003", "--epochs", "1",
                      "--output", tmp_path / "g", "--tensorboard", tb, *QUICK)
    assert code == 0
    folders = sorted(p for p in tb.iterdir() if p.is_dir())
    assert [p.name for p in folders] == ["g-run000", "g-run001"]
    starts = [events(p).PluginTagToContent("hparams")["_hparams_/session_start_info"]
              for p in folders]
    assert starts[0] != starts[1]  # the learning rates differ
    for p in folders:
        acc = events(p)
        assert len(acc.Scalars("epoch/valid_loss")) == 1
        assert "hparam/valid_loss" in acc.Tags()["scalars"]


def test_without_tensorboard_installed_the_request_is_refused_before_training(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard -> ImportError
    from studio.ml.tensorboard_log import TensorBoardLog

    with pytest.raises(ConfigError, match="pip install tensorboard"):
        TensorBoardLog(tmp_path / "tb")
    code, _ = run_cli("train", "--model", "softmax", "--epochs", "1", "--output",
                      tmp_path / "m", "--tensorboard", tmp_path / "tb", *QUICK)
    assert code != 0 and "pip install tensorboard" in capsys.readouterr().err
    assert not (tmp_path / "m.safetensors").exists()
