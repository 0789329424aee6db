"""What the model-family tests share: a small real subset of the JSB chorales, brief training
with the real trainer, the validation loss of the same model before training, simple data
baselines (what a model that ignores all context scores), and a MIDI round trip."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import torch

from studio.data import Dataset, load_dataset
from studio.midi import read_song, write_song
from studio.ml.callbacks import TrainResult
from studio.ml.evaluate import score
from studio.ml.family import Family
from studio.ml.knobs import config_from_dict
from studio.ml.registry import create_family
from studio.ml.train_config import TrainConfig
from studio.ml.trainer import Trainer, derived_seed
from studio.music.song import Song


def small_jsb(train: int = 40, valid: int = 12, test: int = 6) -> Dataset:
    """The first pieces of each split of the built-in chorales."""
    full = load_dataset("jsb")
    pieces = (full.split("train")[:train] + full.split("valid")[:valid] +
              full.split("test")[:test])
    return Dataset(f"jsb-{train}-{valid}-{test}", pieces, "a subset of the JSB chorales")


def training(**changes) -> TrainConfig:
    """Brief, single-threaded training (the machine is shared), no early stop."""
    values = {"epochs": 3, "batch_size": 32, "seed": 0, "patience": 0, "threads": 1, **changes}
    return config_from_dict(TrainConfig, values)


def train_briefly(model: str, dataset: Dataset, settings: dict | None = None,
                  **train_changes) -> TrainResult:
    family = create_family(model, settings or {})
    return Trainer(family, dataset, training(**train_changes)).run()


def untrained_valid_loss(model: str, dataset: Dataset, settings: dict | None = None,
                         **train_changes) -> float:
    """The validation loss the trainer would report for its initial weights (same seed, same
    validation masks)."""
    config = training(**train_changes)
    family: Family = create_family(model, settings or {})
    torch.manual_seed(config.seed)
    valid = family.examples(dataset, "valid", training=False)
    net = family.build()
    loss, _ = score(family, net, valid, config.batch_size,
                    lambda i: derived_seed(config.seed, 3, i))
    return float(loss) / len(valid)


def unigram_nll(train: list[np.ndarray], valid: list[np.ndarray], classes: int) -> float:
    """NLL per symbol on `valid` of symbol frequencies counted on `train` (add-half smoothing):
    the score of a model that knows which notes are common but nothing of context."""
    counts = np.bincount(np.concatenate(train).astype(np.int64), minlength=classes) + 0.5
    logp = np.log(counts / counts.sum())
    return float(-logp[np.concatenate(valid).astype(np.int64)].mean())


def midi_roundtrip(song: Song, folder: Path, name: str = "generated.mid") -> Song:
    path = Path(folder) / name
    write_song(song, path)
    return read_song(path)


def notes_of(song: Song) -> list[list[tuple[int, int, int]]]:
    """(pitch, start, duration) of every note, per non-empty track."""
    return [sorted((n.pitch, n.start, n.duration) for n in t.notes)
            for t in song.tracks if t.notes]


def run_cli(*args: str) -> tuple[int, str]:
    """`studio ARGS` in this process (torch is already imported); the exit code and stdout."""
    from studio.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([str(a) for a in args])
    return code, out.getvalue()
