"""Softmax regression: learns the next note on real chorales, writes and continues melodies
that survive a MIDI round trip, and is a `softmax` model in the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studio.ml import melody_tokens as mt
from studio.ml.errors import GenerationError
from studio.ml.family import SamplingOptions
from studio.music.tokens import HOLD, REST
from tests.ml.family_testing import (
    midi_roundtrip,
    notes_of,
    run_cli,
    small_jsb,
    train_briefly,
    unigram_nll,
    untrained_valid_loss,
)


@pytest.fixture(scope="module")
def data():
    return small_jsb()


@pytest.fixture(scope="module")
def trained(data):
    return train_briefly("softmax", data, {"context": 8}, lr=1e-2, batch_size=256, epochs=3)


def test_softmax_learns_the_next_note(data, trained):
    before = untrained_valid_loss("softmax", data, {"context": 8}, batch_size=256)
    assert before == pytest.approx(np.log(130), abs=1e-3)  # zero weights: every token as likely
    after = trained.history[-1]["valid_loss"]
    assert after < 0.2 * before
    # Context matters: well below what note frequencies alone give.
    fam = trained.family
    train, _ = fam.baseline_sequences(data, "train")
    valid, _ = fam.baseline_sequences(data, "valid")
    assert after < 0.75 * unigram_nll(train, valid, 130)
    assert trained.history[-1]["valid_accuracy"] > 0.75


def test_softmax_writes_and_continues_melodies(trained, tmp_path):
    fam, model = trained.family, trained.model
    options = SamplingOptions(seed=3, count=2, temperature=0.9)
    tokens = fam.sample_melody(model, 64, options)
    assert tokens.shape == (2, 64)
    assert np.array_equal(tokens, fam.sample_melody(model, 64, options))  # the seed repeats
    for row in tokens:
        assert ((row < 128) | (row == HOLD) | (row == REST)).all()
        assert (row < 128).sum() >= 4  # real notes, not one long rest
    prime = mt.sequences(small_jsb(), "valid", "soprano")[0][:32]
    allowed = [60, 62, 64, 65, 67, 69, 71, 72, 74]  # C major, one octave and a bit
    more = fam.continue_melody(model, prime, 48, SamplingOptions(seed=1),
                               allowed_pitches=allowed)[0]
    assert set(more[more < 128].tolist()) <= set(allowed)
    song = mt.melody_song(np.concatenate([prime, more]))
    back = midi_roundtrip(song, tmp_path)
    assert notes_of(back) == notes_of(song) and len(notes_of(song)[0]) >= 4
    with pytest.raises(GenerationError):
        fam.continue_melody(model, np.array([200]), 4, SamplingOptions())


def test_softmax_in_the_command_line(tmp_path):
    out = tmp_path / "soft"
    code, _ = run_cli("train", "--model", "softmax", "--context", "4", "--epochs", "1",
                      "--steps-per-epoch", "20", "--batch-size", "128", "--threads", "1",
                      "--quiet", "--output", out)
    assert code == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["family"] == "softmax" and card["config"]["context"] == 4
    assert card["modes"] == ["melody", "continue"]
    code, text = run_cli("eval", out, "--split", "valid", "--ngram-order", "2")
    assert code == 0 and "model" in text and "2-gram baseline" in text
    code, text = run_cli("grid", "--model", "softmax", "--grid", "context=2,4", "--epochs", "1",
                         "--steps-per-epoch", "5", "--batch-size", "128", "--threads", "1",
                         "--quiet", "--output", tmp_path / "best")
    assert code == 0 and (tmp_path / "best.safetensors").exists()
    table = json.loads((tmp_path / "best.grid.json").read_text())
    assert sorted(r["params"]["context"] for r in table["runs"]) == [2, 4]
