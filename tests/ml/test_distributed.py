"""Data-parallel training: two CPU processes under torchrun (gloo), each with half of every
batch, reach the same weights as one process with the whole batch; only rank 0 writes."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from studio.cli import main
from studio.ml.checkpoint import load_checkpoint, read_card
from studio.ml.registry import create_family

# Adam for the LSTM; SGD for the CNN, whose zero-initialised residual branches make Adam's
# first steps divide float rounding noise by nearly zero. The CNN's local pitch view: the full
# view's batch norm normalises each process's half batch on its own (and runs in bfloat16 on
# AMX CPUs), so two processes match one only approximately.
SETTINGS = {
    "lstm": ["--hidden", "32", "--embedding", "16", "--layers", "1", "--window", "32",
             "--dropout", "0", "--optimizer", "adam", "--lr", "1e-2"],
    "cnn": ["--channels", "8", "--layers", "4", "--window", "16", "--optimizer", "sgd",
            "--lr", "0.5", "--pitch-view", "local"],
}


def train(args, tmp_path, name, distributed):
    args = ["train", *args, "--output", str(tmp_path / name), "--quiet"]
    if distributed:
        out = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                              "--nproc_per_node=2", "-m", "studio", *args, "--distributed"],
                             capture_output=True, text=True, timeout=240)
        assert out.returncode == 0, out.stdout + out.stderr
    else:
        assert main(args) == 0
    return load_checkpoint(tmp_path / name)


@pytest.mark.parametrize("model", ["lstm", "cnn"])
def test_two_gloo_processes_match_one_process(model, tmp_path):
    args = ["--model", model, *SETTINGS[model], "--epochs", "2", "--steps-per-epoch", "2",
            "--batch-size", "8", "--transpose", "2", "--patience", "0", "--threads", "1"]
    single = train(args, tmp_path, "single", False)
    ddp = train(args, tmp_path, "ddp", True)
    torch.manual_seed(0)
    initial = create_family(model, single.card["config"]).build().state_dict()
    for (name, a), b in zip(single.model.state_dict().items(), ddp.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-4), name
        assert (a - initial[name]).abs().max() > 1e-4, f"{name} did not train"
    card = read_card(tmp_path / "ddp")
    for a, b in zip(read_card(tmp_path / "single")["metrics"], card["metrics"]):
        assert a["valid_loss"] == pytest.approx(b["valid_loss"], rel=1e-5)
        assert a["valid_f1"] == pytest.approx(b["valid_f1"], rel=1e-5)
    assert card["command"].startswith("torchrun --nproc_per_node=2 -m studio train")
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        ["ddp.json", "ddp.safetensors", "single.json", "single.safetensors"]
