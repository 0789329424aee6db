"""Model files under attack: a card nested 10 000 deep in the library, NaN and infinite weights,
and kills in the middle of saving (weights and card are one atomic unit)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from studio import paths
from studio.cli import main
from studio.ml.checkpoint import (
    card_path,
    load_checkpoint,
    save_checkpoint,
)
from studio.ml.errors import CheckpointError
from studio.ml.generation.models import default_model
from studio.ml.library import list_models
from studio.ml.registry import create_family
from tests.ml.conftest import TINY_LSTM

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _cli(args, timeout=180):
    env = {**os.environ, "PYTHONPATH": REPO}
    return subprocess.run([sys.executable, "-m", "studio", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_a_deeply_nested_card_in_the_library_is_listed_not_raised(capsys):
    library = paths.user_models_dir()
    nested = b"[" * 10_000 + b"]" * 10_000
    (library / "deep.json").write_bytes(nested)
    (library / "deep.safetensors").write_bytes(b"\x10" + b"\0" * 7 + b"[" * 16)
    entries = {e.name: e for e in list_models()}
    assert "nested too deeply" in entries["deep"].problem
    assert "lstm-melody" in entries and not entries["lstm-melody"].problem
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "deep" in out and "unreadable card" in out
    assert default_model("melody") == "lstm-melody"  # `generate` without --model
    with pytest.raises(CheckpointError, match="nested too deeply"):
        load_checkpoint(library / "deep")


def test_nan_or_infinite_weights_are_refused_at_load(tmp_path):
    family = create_family("gru", TINY_LSTM)
    model = family.build()
    for name, bad in (("nan", float("nan")), ("inf", float("inf"))):
        state = {k: v.clone() for k, v in model.state_dict().items()}
        state["head.weight"][3, 5] = bad
        save_checkpoint(tmp_path / name, family, state)
        with pytest.raises(CheckpointError, match=r"NaN or infinite values \(in head.weight\)"):
            load_checkpoint(tmp_path / name)
    run = _cli(["generate", "melody", "--model", tmp_path / "nan.safetensors", "--bars", "2",
                "-o", tmp_path / "x.mid"])
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "NaN or infinite values" in run.stderr and not (tmp_path / "x.mid").exists()


def test_a_kill_at_any_moment_of_saving_leaves_a_loadable_model(tmp_path):
    """A forked writer saves two different models over the same name in a loop and is killed
    (SIGKILL) at 12 moments; every time, what is on disk loads and its card is its own."""
    target = tmp_path / "model"
    script = textwrap.dedent(f"""
        import json, os, signal, time
        import torch
        torch.set_num_threads(1)
        from studio.ml.checkpoint import load_checkpoint, read_card, save_checkpoint
        from studio.ml.registry import create_family
        family = create_family("gru", {TINY_LSTM!r})
        models = [family.build(), family.build()]
        rounds, debris = [], []
        for k in range(12):
            pid = os.fork()
            if pid == 0:
                i = 1000 * k
                while True:
                    save_checkpoint({str(target)!r}, family, models[i % 2], {{"round": i}})
                    i += 1
            time.sleep(0.03 + 0.011 * k)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            if os.path.exists({str(target) + ".safetensors"!r}):
                loaded = load_checkpoint({str(target)!r})
                assert read_card({str(target)!r})["round"] == loaded.card["round"]
                rounds.append(loaded.card["round"])
            debris.append(len([n for n in os.listdir({str(tmp_path)!r}) if n.endswith(".tmp")]))
        print(json.dumps({{"rounds": rounds, "debris": debris}}))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": REPO})
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert len(result["rounds"]) >= 10 and len(set(result["rounds"])) >= 8
    assert max(result["debris"]) <= 2  # the killed writer's, removed by the next write
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".tmp"))
    assert names == ["model.json", "model.safetensors"]


def test_a_model_whose_json_copy_is_missing_or_stale_loads_and_is_listed(tmp_path):
    family = create_family("gru", TINY_LSTM)
    library = paths.user_models_dir()
    save_checkpoint(library / "mine", family, family.build(), {"round": 1})
    old_copy = card_path(library / "mine").read_bytes()
    save_checkpoint(library / "mine", family, family.build(), {"round": 2})
    card_path(library / "mine").write_bytes(old_copy)  # a kill before the copy was written
    assert load_checkpoint(library / "mine").card["round"] == 2
    card_path(library / "mine").unlink()
    entry = {e.name: e for e in list_models()}["mine"]
    assert not entry.problem and entry.card["round"] == 2
    assert json.loads(json.dumps(entry.card))["weights"]["file"] == "mine.safetensors"
    assert torch.isfinite(next(load_checkpoint(entry.path).model.parameters())).all()


def test_resume_says_when_the_state_of_a_stopped_run_was_never_written(tmp_path):
    from studio.ml.train_state import read_state_info

    family = create_family("gru", TINY_LSTM)
    save_checkpoint(tmp_path / "stopped", family, family.build(), {"status": "cancelled"})
    with pytest.raises(CheckpointError, match="training state of this stopped run was never "
                                              "written .* train it again with --force"):
        read_state_info(tmp_path / "stopped")
    save_checkpoint(tmp_path / "done", family, family.build(), {"status": "completed"})
    with pytest.raises(CheckpointError, match="nothing to resume"):
        read_state_info(tmp_path / "done")


def test_a_weights_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from studio.ml import checkpoint

    family = create_family("gru", TINY_LSTM)
    save_checkpoint(tmp_path / "big", family, family.build())
    monkeypatch.setattr(checkpoint, "MAX_WEIGHTS_BYTES", 1000)
    with pytest.raises(CheckpointError, match="big.safetensors: the file is over the"):
        load_checkpoint(tmp_path / "big")
