"""The Coconet-style CNN learns four-part chorale harmony, and its Gibbs sampler harmonizes and
fills in regions that survive a MIDI round trip, keeping every given note."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.midi import read_song, write_song
from studio.ml import satb_roll as sr
from studio.ml.errors import GenerationError
from studio.ml.evaluate import evaluate
from studio.ml.family import SamplingOptions
from studio.ml.registry import create_family
from studio.ml.train_config import TrainConfig
from studio.ml.trainer import Trainer
from studio.music.grids import VOICE_RANGES, satb_to_song, song_to_satb
from tests.ml.conftest import TINY_CNN


@pytest.fixture(scope="module")
def trained(jsb_small):
    family = create_family("cnn", TINY_CNN)
    torch.manual_seed(0)
    initial = evaluate(family, family.build(), jsb_small, "valid", ngram_order=0)
    result = Trainer(family, jsb_small, TrainConfig(epochs=4, batch_size=32, lr=5e-3,
                                                    steps_per_epoch=15)).run()
    return family, result, initial


def test_cnn_learns_chorale_harmony(trained):
    family, result, initial = trained
    assert result.status == "completed"
    assert initial.metrics["loss"] > 3.5  # about log(47): a uniform guess
    assert result.history[-1]["valid_loss"] < 0.7 * initial.metrics["loss"]
    assert result.history[-1]["valid_accuracy"] > 2 * initial.metrics["accuracy"]


def test_classes_round_trip_and_fold_out_of_range_notes():
    satb = np.array([[60, 52, 46, -1], [81, 74, 69, 36], [84, 50, 40, 30]], np.int16)
    classes = sr.to_classes(satb)
    assert classes.dtype == np.int8 and classes.min() >= 0 and classes.max() < sr.CLASSES
    assert np.array_equal(sr.to_pitches(classes)[:2], satb[:2])
    assert sr.to_pitches(classes)[2].tolist() == [72, 50, 40, 42]


def test_masks_hide_whole_voices_or_random_cells(trained, jsb_small):
    family, _, _ = trained
    ex = family.examples(jsb_small, "train", training=True)
    g = torch.Generator().manual_seed(0)
    hidden = family.prepare(ex.batch(slice(0, 256)), g)["hidden"]
    whole = (hidden.all(1) | ~hidden.any(1)).all(1)  # every voice fully hidden or shown
    assert 0.15 < whole.float().mean() < 0.6
    assert hidden.any((1, 2)).all()
    # a share hides only alto, tenor and bass cells, the soprano given (as when harmonizing)
    under_soprano = ~hidden[..., 0].any(1) & ~whole
    assert 0.2 < under_soprano.float().mean() < 0.5


def test_harmonization_keeps_the_melody_and_voice_ranges(trained, jsb_small, tmp_path):
    family, result, _ = trained
    melody = jsb_small.split("test")[1].satb[:64, 0]
    out = family.harmonize(result.model, melody, SamplingOptions(seed=2, count=2))
    assert out.shape == (2, 64, 4)
    assert (out[:, :, 0] == melody).all()
    for v, (lo, hi) in enumerate(VOICE_RANGES[1:], start=1):
        sounding = out[:, :, v][out[:, :, v] >= 0]
        assert len(sounding) > 40 and sounding.min() >= lo and sounding.max() <= hi
    song = satb_to_song(out[0])
    write_song(song, tmp_path / "harmony.mid")
    assert np.array_equal(song_to_satb(read_song(tmp_path / "harmony.mid"), steps=64), out[0])
    again = family.harmonize(result.model, melody, SamplingOptions(seed=2, count=2))
    assert np.array_equal(out, again)


def test_infill_changes_only_the_region(trained, jsb_small):
    family, result, _ = trained
    satb = jsb_small.split("test")[2].satb[:48].astype(np.int16)
    region = np.zeros(satb.shape, bool)
    region[16:32, 1:3] = True
    out = family.infill(result.model, satb, region, SamplingOptions(seed=4, iterations=6))
    assert np.array_equal(out[0][~region], satb[~region])
    assert (out[0][region] >= 0).mean() > 0.9


def test_bad_requests_get_clear_errors(trained):
    family, result, _ = trained
    with pytest.raises(GenerationError, match="C8 is outside the range"):
        family.harmonize(result.model, np.array([60, 62, 108]), SamplingOptions())
    with pytest.raises(GenerationError, match="region is empty"):
        family.infill(result.model, np.full((8, 4), 60), np.zeros((8, 4), bool),
                      SamplingOptions())
    with pytest.raises(GenerationError, match="cannot write a new melody"):
        family.sample_melody(result.model, 16, SamplingOptions())
