"""Datasets of ordinary MIDI files (not chorale arrays) are encoded from their songs: melodies
from the top line or every track with bar positions from the time signature, four voices by
`song_to_satb`; both families train on them."""

from __future__ import annotations

import numpy as np
import pytest

from studio.data import Dataset, Piece
from studio.midi import read_song
from studio.ml import melody_tokens as mt
from studio.ml import satb_roll as sr
from studio.ml.registry import create_family
from studio.ml.train_config import TrainConfig
from studio.ml.trainer import Trainer
from studio.music.tokens import HOLD, REST
from tests.ml.conftest import TINY_CNN, TINY_LSTM


@pytest.fixture(scope="module")
def midi_dataset(midi_files):
    files = [p for p in midi_files if p.stat().st_size > 2000][:12]
    splits = ["train"] * 8 + ["valid"] * 2 + ["test"] * 2
    pieces = [Piece(p.stem, split, str(p), loader=lambda p=p: read_song(p))
              for p, split in zip(files, splits)]
    return Dataset("shared-midi", pieces, "the shared test MIDI files")


def test_melodies_and_bar_positions_come_from_the_songs(midi_dataset):
    arrays = mt.encode_dataset(midi_dataset, "soprano")
    tokens, positions = arrays["train_tokens"], arrays["train_positions"]
    assert len(tokens) > 1000 and ((tokens <= REST) & (tokens >= 0)).all()
    assert (tokens < HOLD).sum() > 100  # real notes, not just holds and rests
    first = midi_dataset.split("train")[0].song()
    bar = mt.steps_per_bar(first)
    assert positions.max() < mt.MAX_POSITIONS and positions[:bar].tolist() == list(range(bar))
    per_track = mt.encode_dataset(midi_dataset, "all")
    assert len(per_track["train_offsets"]) > len(arrays["train_offsets"])


def test_four_voices_come_from_the_songs(midi_dataset):
    pieces = sr.pieces(midi_dataset, "train")
    assert len(pieces) >= 6  # a drums-only file has no voices
    for classes in pieces:
        assert classes.dtype == np.int8 and classes.shape[1] == 4
        assert 0 <= classes.min() and classes.max() < sr.CLASSES
    assert sum((c > 0).sum() for c in pieces) > 1000


@pytest.mark.parametrize("model,settings", [("lstm", TINY_LSTM), ("cnn", TINY_CNN)])
def test_families_train_on_midi_files(midi_dataset, model, settings):
    result = Trainer(create_family(model, settings), midi_dataset,
                     TrainConfig(epochs=2, batch_size=16, lr=5e-3, steps_per_epoch=8)).run()
    assert result.history[-1]["valid_loss"] < result.history[0]["valid_loss"]
