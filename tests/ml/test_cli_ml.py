"""`studio train`, `grid`, `eval` and `models` from the command line: progress, files, the
library, one-line errors, Ctrl+C then --resume, and out-of-memory."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from studio import paths
from studio.cli import main
from studio.ml.checkpoint import load_checkpoint, read_card, weights_path
from studio.ml.train_state import read_state_info, state_path

TINY = ["--hidden", "32", "--embedding", "16", "--layers", "1", "--window", "32",
        "--threads", "1"]


def studio_run(args, capsys):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def trained_lstm(capsys):
    code, _, err = studio_run(["train", "--model", "gru", *TINY, "--epochs", "2",
                               "--steps-per-epoch", "5", "--lr", "1e-2"], capsys)
    assert code == 0, err
    return err


def test_train_writes_to_the_library_with_progress(trained_lstm, capsys):
    assert "training gru on jsb:" in trained_lstm
    assert "epoch   1/2  train loss" in trained_lstm and "valid loss" in trained_lstm
    path = paths.user_models_dir() / "gru-jsb"
    card = read_card(path)
    assert card["command"] == ("studio train --model gru --dataset jsb --embedding 16 --hidden 32"
                               " --layers 1 --window 32 --epochs 2 --lr 0.01 --steps-per-epoch 5"
                               f" --threads 1 --output {path}")
    assert card["training"]["lr"] == 0.01 and card["config"]["cell"] == "gru"
    assert list(paths.runs_dir().glob("gru-jsb-*.jsonl"))
    code, out, _ = studio_run(["models"], capsys)
    assert code == 0 and "gru-jsb" in out and "yours" in out and "melody,continue" in out
    code, out, _ = studio_run(["models", "--mode", "harmonize"], capsys)
    assert "gru-jsb" not in out


def test_eval_prints_model_beside_ngram_baseline(trained_lstm, capsys):
    code, out, err = studio_run(["eval", "gru-jsb", "--split", "valid", "--ngram-order", "3"],
                                capsys)
    assert code == 0, err
    assert "valid split of jsb: 616 excerpts, 18,408 predictions" in out
    model_line = next(line for line in out.splitlines() if line.startswith("model "))
    base_line = next(line for line in out.splitlines() if line.startswith("3-gram baseline"))
    assert 0 < float(model_line.split()[1]) < 5 and 0.5 < float(base_line.split()[2]) < 1.5


def test_errors_are_one_line(trained_lstm, capsys):
    code, _, err = studio_run(["train", "--model", "gru", *TINY, "--epochs", "1"], capsys)
    assert code == 2 and "gru-jsb.safetensors exists; choose another --output" in err
    code, _, err = studio_run(["train", "--model", "lstm", "--channels", "8"], capsys)
    assert code == 2 and err.startswith("studio: error: --channels: not a setting of lstm")
    code, _, err = studio_run(["eval", "no-such-model"], capsys)
    assert code == 2 and "no model called 'no-such-model'" in err and "gru-jsb" in err
    code, _, err = studio_run(["train", "--model", "cnn", "--dataset", "mine"], capsys)
    assert code == 2 and "no dataset named 'mine'" in err


def test_grid_ranks_runs_and_keeps_the_best(tmp_path, capsys):
    out_path = tmp_path / "best"
    code, out, err = studio_run(
        ["grid", "--model", "cnn", "--channels", "8", "--layers", "2", "--window", "16",
         "--epochs", "1", "--steps-per-epoch", "4", "--threads", "1", "--grid", "lr=1e-4,1e-2",
         "--grid", "max-dilation=1,2", "--output", out_path, "-q"], capsys)
    assert code == 0, err
    assert "run 4/4: lr=0.01 max_dilation=2" in err
    table = json.loads((tmp_path / "best.grid.json").read_text())
    losses = [r["metrics"]["valid_loss"] for r in table["runs"]]
    assert losses == sorted(losses) and len(losses) == 4
    best = table["runs"][0]
    assert best["params"]["lr"] == 0.01 and f"best model: run {best['index'] + 1}" in out
    card = load_checkpoint(out_path).card
    assert card["training"]["lr"] == 0.01 and card["grid"]["runs"][0] == best
    assert "--lr 0.01 " in card["command"] and card["command"].endswith(f"--output {out_path}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.grid.json", "best.json",
                                                         "best.safetensors"]


def test_ctrl_c_keeps_the_run_and_resume_finishes_it(tmp_path, capsys):
    out_path = tmp_path / "stopped"
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "train", "--model", "lstm", *TINY, "--epochs", "100",
         "--steps-per-epoch", "20", "--output", str(out_path)],
        stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if line.startswith("epoch   1/100"):
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    assert proc.wait(60) == 130
    assert "--resume" in rest and state_path(out_path).exists()
    assert read_card(out_path)["status"] == "cancelled"
    epoch = read_state_info(out_path)["epoch"]
    code, _, err = studio_run(["train", "--output", out_path, "--resume", "--epochs", epoch],
                              capsys)
    assert code == 0, err
    card = read_card(out_path)
    assert card["status"] == "completed" and len(card["metrics"]) == epoch
    assert card["config"]["hidden"] == 32 and not state_path(out_path).exists()


def test_out_of_memory_is_a_clear_error_and_writes_nothing(tmp_path):
    script = ("import resource, sys\nimport torch\nfrom studio.cli import main\n"
              "vm = int(open('/proc/self/statm').read().split()[0]) * resource.getpagesize()\n"
              "resource.setrlimit(resource.RLIMIT_AS, (vm + 3 * 2**30, resource.RLIM_INFINITY))\n"
              "sys.exit(main(sys.argv[1:]))\n")
    # the local pitch view's (time x pitch) feature maps need far more memory than 3 GB
    out = subprocess.run([sys.executable, "-c", script, "train", "--model", "cnn", "--channels",
                          "256", "--layers", "4", "--window", "64", "--batch-size", "2048",
                          "--pitch-view", "local", "--threads", "1",
                          "--output", str(tmp_path / "big")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines()[-1] == (
        "studio: error: out of memory on cpu with batches of 2048; choose a smaller batch "
        "size, window or model")
    assert not weights_path(tmp_path / "big").exists() and list(tmp_path.iterdir()) == []
