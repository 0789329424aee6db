"""Melody autoencoders, plain and sparse: learn to rebuild real chorale melodies from a short
code, the sparse one with mostly-zero codes; generate from sampled codes, vary a melody by
perturbing its code, interpolate; the results survive a MIDI round trip; both are CLI models."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from studio.ml import melody_segments as ms
from studio.ml import melody_tokens as mt
from studio.ml.errors import GenerationError
from studio.ml.family import SamplingOptions
from studio.music.tokens import HOLD, REST, VOCAB_SIZE, tokens_to_pitches
from tests.ml.family_testing import (
    midi_roundtrip,
    notes_of,
    run_cli,
    small_jsb,
    train_briefly,
    unigram_nll,
    untrained_valid_loss,
)

SETTINGS = {"units": 128, "code_size": 16, "dropout": 0.0}


@pytest.fixture(scope="module")
def data():
    return small_jsb()


@pytest.fixture(scope="module")
def dense(data):
    return train_briefly("autoencoder", data, SETTINGS, lr=3e-3, epochs=8)


@pytest.fixture(scope="module")
def sparse(data):
    return train_briefly("sparse-autoencoder", data, {**SETTINGS, "sparsity": 0.002}, lr=3e-3,
                         epochs=8)


def test_autoencoder_learns_to_rebuild_melodies(data, dense):
    before = untrained_valid_loss("autoencoder", data, SETTINGS)
    after = dense.history[-1]["valid_loss"]
    assert before > 4.0  # about log(130)
    assert after < 0.25 * before
    train, _ = dense.family.baseline_sequences(data, "train")
    valid, _ = dense.family.baseline_sequences(data, "valid")
    assert dense.history[-1]["valid_nll"] < 0.85 * unigram_nll(train, valid, VOCAB_SIZE)


def test_l1_penalty_makes_the_code_sparse(data, sparse):
    """The same ReLU code trained without the penalty is the control."""
    control = train_briefly("sparse-autoencoder", data, {**SETTINGS, "sparsity": 0.0},
                            lr=3e-3, epochs=8)
    assert sparse.family.config.code == "sparse"
    assert sparse.history[-1]["valid_nll"] < 0.3 * np.log(VOCAB_SIZE)  # still rebuilds
    segments = ms.segments(data, "valid", "soprano", 32, training=False).tensors["tokens"]
    with torch.no_grad():
        codes = sparse.model.eval().encode(segments)
        free = control.model.eval().encode(segments)
    assert (codes >= 0).all()
    assert float((codes == 0).float().mean()) > float((free == 0).float().mean())
    assert float(codes.sum(1).mean()) < 0.75 * float(free.sum(1).mean())
    assert (codes > 0).any(1).float().mean() > 0.9  # yet almost every melody has some code


@pytest.mark.parametrize("variant", ["dense", "sparse"])
def test_autoencoder_generates_varies_and_interpolates(variant, dense, sparse, data, tmp_path):
    result = dense if variant == "dense" else sparse
    fam, model = result.family, result.model
    tokens = fam.sample_melody(model, 80, SamplingOptions(seed=5, count=3, temperature=0.8))
    assert tokens.shape == (3, 80)
    for row in tokens:
        assert (row < 128).sum() >= 5  # notes, not silence
        sounding = np.r_[False, (mt.onset_of(torch.as_tensor(row)).numpy() | (row == HOLD))[:-1]]
        assert not ((row == HOLD) & ~sounding).any()  # no hold after a rest
    melodies = mt.sequences(data, "train", "soprano")  # melodies it learned to rebuild
    first, last = melodies[0][:64], melodies[1][:64]
    varied = fam.vary_melody(model, first, SamplingOptions(seed=1, count=2), amount=0.5)
    assert varied.shape == (2, 64)
    path = fam.interpolate(model, first, last, 5)
    assert path.shape == (5, 64)
    # The ends are the model's rebuilding of each melody: each nearer its own melody.
    assert apart(path[0], first) < apart(path[0], last)
    assert apart(path[-1], last) < apart(path[-1], first)
    song = mt.melody_song(np.concatenate(list(path)))
    back = midi_roundtrip(song, tmp_path)
    assert notes_of(back) == notes_of(song) and len(notes_of(song)[0]) >= 20
    with pytest.raises(GenerationError):
        fam.interpolate(model, first, last, 1)
    with pytest.raises(GenerationError):
        fam.vary_melody(model, np.array([], np.int16), SamplingOptions())


def apart(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance in semitones between two melodies where both sound."""
    pa, pb = tokens_to_pitches(a), tokens_to_pitches(b)
    both = (pa >= 0) & (pb >= 0)
    return float(np.abs(pa - pb)[both].mean())


def test_leading_hold_becomes_the_held_note(data):
    segs = ms.segments(data, "train", "soprano", 32, training=True).tensors["tokens"]
    assert not (segs[:, 0] == HOLD).any()
    assert ((segs[:, 0] < 128) | (segs[:, 0] == REST)).all()


@pytest.mark.parametrize("model", ["autoencoder", "sparse-autoencoder"])
def test_autoencoders_in_the_command_line(model, tmp_path):
    out = tmp_path / model
    code, _ = run_cli("train", "--model", model, "--units", "32", "--epochs", "1",
                      "--steps-per-epoch", "3", "--threads", "1", "--quiet", "--output", out)
    assert code == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert (card["family"], card["model"]) == ("autoencoder", model)
    assert card["modes"] == ["melody", "interpolate"]
    code, text = run_cli("eval", out, "--split", "valid", "--ngram-order", "2")
    assert code == 0 and "2-gram baseline" in text and "rebuilding" in text
    code, _ = run_cli("grid", "--model", model, "--grid", "code_size=4,8", "--units", "32",
                      "--epochs", "1", "--steps-per-epoch", "2", "--threads", "1", "--quiet",
                      "--output", tmp_path / "best")
    assert code == 0 and (tmp_path / "best.safetensors").exists()
