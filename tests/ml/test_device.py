"""Device choice on CUDA (one or several GPUs, with or without an index), Apple MPS and the CPU,
without a GPU here: `FakeGpus` stands in for the driver only (how many GPUs, which is current,
the low-level "set current device" call); torch's own `torch.cuda.set_device` still runs with its
real argument checks, so the ValueError the training panel once raised is the real one.

Also: metric sums in float32 where float64 is missing (MPS), a GPU failing mid-run stops with a
clear message and a checkpoint that resumes on the CPU exactly where the run stopped.
"""

from __future__ import annotations

import pytest
import torch

from studio.ml import device as D
from studio.ml.callbacks import TrainingCallback
from studio.ml.errors import ConfigError, DeviceLostError
from studio.ml.registry import create_family
from studio.ml.train_state import state_path
from studio.ml.trainer import Trainer
from tests.ml.family_testing import training


class FakeGpus:
    """`count` CUDA GPUs as the driver reports them; `calls` records set-device requests."""

    def __init__(self, monkeypatch, count: int) -> None:
        self.count, self.current, self.calls = count, 0, []
        monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
        monkeypatch.setattr(torch.cuda, "current_device", lambda: self.current)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=None: f"Fake GPU {i}")
        monkeypatch.setattr(torch._C, "_cuda_setDevice", self._set, raising=False)

    def _set(self, index: int) -> None:
        if not 0 <= index < self.count:
            raise RuntimeError("CUDA error: invalid device ordinal")
        self.calls.append(index)
        self.current = index


@pytest.fixture
def two_gpus(monkeypatch):
    return FakeGpus(monkeypatch, 2)


@pytest.fixture
def one_gpu(monkeypatch):
    return FakeGpus(monkeypatch, 1)


@pytest.fixture
def no_gpu(monkeypatch):
    FakeGpus(monkeypatch, 0)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_the_fake_keeps_torchs_own_check_of_an_unindexed_device(one_gpu):
    # the call the training worker made: torch refuses a CUDA device without an index
    with pytest.raises(ValueError, match="specified index"):
        torch.cuda.set_device(torch.device("cuda"))
    torch.cuda.set_device(torch.device("cuda", 0))
    assert one_gpu.calls == [0]


def test_cuda_names_become_indexed_devices_made_current(two_gpus):
    assert D.pick_device("auto") == torch.device("cuda", 0)
    assert D.prepare_device("cuda") == torch.device("cuda", 0)
    assert D.prepare_device("cuda:1") == torch.device("cuda", 1)
    assert two_gpus.calls == [0, 1] and two_gpus.current == 1
    # "cuda" and "auto" mean the current GPU (as torch's own unindexed calls do)
    assert D.pick_device("cuda") == torch.device("cuda", 1)
    assert D.pick_device("auto") == torch.device("cuda", 1)
    assert D.activate(torch.device("cuda")) == torch.device("cuda", 1)


def test_a_gpu_that_does_not_exist_is_a_clear_error(two_gpus, one_gpu):
    with pytest.raises(ConfigError, match=r"no GPU cuda:1: this computer has 1 CUDA GPU \(cuda:0"):
        D.pick_device("cuda:1")


def test_several_gpus_are_offered_one_by_one(two_gpus):
    assert D.available_devices() == ["auto", "cpu", "cuda", "cuda:0", "cuda:1"] or \
        D.available_devices() == ["auto", "cpu", "cuda", "cuda:0", "cuda:1", "mps"]
    assert D.device_label("cuda:1") == "CUDA GPU 1 (Fake GPU 1)"


def test_without_gpus_cuda_and_mps_are_refused_and_auto_is_the_cpu(no_gpu):
    assert D.pick_device("auto") == torch.device("cpu")
    assert D.available_devices() == ["auto", "cpu"]
    for name, words in (("cuda", "no CUDA GPU"), ("cuda:0", "no CUDA GPU"),
                        ("mps", "no Apple GPU")):
        with pytest.raises(ConfigError, match=words):
            D.pick_device(name)
    for bad in ("gpu", "cuda:", "cuda:x", "CPU", ""):
        with pytest.raises(ConfigError, match="device must be"):
            D.pick_device(bad)


def test_training_settings_accept_an_indexed_gpu_and_refuse_nonsense():
    assert training(device="cuda:1").device == "cuda:1"
    with pytest.raises(ConfigError, match="device must be"):
        training(device="tpu")


def test_apple_gpu_is_chosen_by_auto_and_sums_in_float32(monkeypatch, no_gpu):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert D.pick_device("auto") == torch.device("mps")
    assert D.accumulator_dtype(torch.device("mps")) == torch.float32
    assert D.accumulator_dtype(torch.device("cpu")) == torch.float64
    assert D.accumulator_dtype(torch.device("cuda", 0)) == torch.float64


def test_training_with_float32_sums_matches_float64(monkeypatch, jsb_tiny):
    """The trainer on a device without float64 (as on MPS): every sum in float32, the same
    metrics to float32 precision."""
    settings = {"context": 4}

    def run():
        return Trainer(create_family("softmax", settings), jsb_tiny,
                       training(epochs=2, device="cpu")).run().history

    wide = run()
    monkeypatch.setitem(D.NO_FLOAT64, "cpu", torch.float32)
    narrow = run()
    for a, b in zip(wide, narrow):
        for key in ("train_loss", "valid_loss", "valid_nll", "valid_accuracy"):
            assert b[key] == pytest.approx(a[key], rel=1e-5), key


class _GpuFailsAt(TrainingCallback):
    """What the GPU driver raises when the GPU fails or is pulled mid-run, at one step."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, report) -> None:
        if report.step == self.step:
            raise torch.AcceleratorError("CUDA error: unspecified launch failure")


def test_a_gpu_failing_mid_run_stops_clearly_and_resumes_on_the_cpu(tmp_path, jsb_tiny):
    settings = {"context": 4}
    config = training(epochs=3, device="cpu", batch_size=8)
    steps = len(create_family("softmax", settings).examples(jsb_tiny, "train", training=True)) // 8
    whole = Trainer(create_family("softmax", settings), jsb_tiny, config).run()
    out = tmp_path / "run"
    with pytest.raises(DeviceLostError) as failure:
        Trainer(create_family("softmax", settings), jsb_tiny, config, output=out,
                callbacks=[_GpuFailsAt(steps + 2)]).run()  # in the second epoch
    message = str(failure.value)
    assert "stopped working" in message and "unspecified launch failure" in message
    assert f"--resume --output {out}" in message and "--device cpu" in message
    assert state_path(out).exists()
    resumed = Trainer(create_family("softmax", settings), jsb_tiny, config, output=out,
                      resume=True).run()
    assert resumed.status == "completed" and len(resumed.history) == 3
    for a, b in zip(whole.history, resumed.history):
        assert b["valid_loss"] == a["valid_loss"]


def test_out_of_memory_and_lost_gpus_are_told_apart():
    assert D.is_device_lost(RuntimeError("CUDA error: an illegal memory access was encountered"))
    assert D.is_device_lost(torch.AcceleratorError("CUDA error: device-side assert triggered"))
    assert not D.is_device_lost(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert D.is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert not D.is_device_lost(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))


def test_generation_runs_where_asked_and_refuses_a_missing_gpu(tmp_path, no_gpu, capsys):
    from tests.ml.family_testing import run_cli

    code, _ = run_cli("generate", "melody", "-o", tmp_path / "a.mid", "--bars", "2",
                      "--seed", "1", "--device", "auto")  # auto: the CPU here
    assert code == 0 and (tmp_path / "a.mid").exists()
    code, _ = run_cli("generate", "melody", "-o", tmp_path / "b.mid", "--bars", "2",
                      "--device", "cuda:1")
    assert code != 0 and "no CUDA GPU is available here" in capsys.readouterr().err
    assert not (tmp_path / "b.mid").exists()
