"""Melody VAE: its bound on the NLL falls on real chorale melodies (below what note frequencies
give), the KL weight is annealed and resumes with the run, it samples melodies from the prior
and interpolates between two melodies; the results survive a MIDI round trip; `vae` in the
CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from studio.ml import melody_tokens as mt
from studio.ml.family import SamplingOptions
from studio.ml.registry import create_family
from studio.music.tokens import VOCAB_SIZE, tokens_to_pitches
from tests.ml.family_testing import (
    midi_roundtrip,
    notes_of,
    run_cli,
    small_jsb,
    train_briefly,
    unigram_nll,
    untrained_valid_loss,
)

SETTINGS = {"units": 128, "code_size": 16, "dropout": 0.0, "kl_warmup": 60}


@pytest.fixture(scope="module")
def data():
    return small_jsb()


@pytest.fixture(scope="module")
def trained(data):
    return train_briefly("vae", data, SETTINGS, lr=3e-3, epochs=8)


def test_vae_bound_falls_below_note_frequencies(data, trained):
    before = untrained_valid_loss("vae", data, SETTINGS)
    after = trained.history[-1]["valid_loss"]  # the negative ELBO per step, full KL weight
    assert before > 4.0
    assert after < 0.25 * before
    train, _ = trained.family.baseline_sequences(data, "train")
    valid, _ = trained.family.baseline_sequences(data, "valid")
    assert after < unigram_nll(train, valid, VOCAB_SIZE)  # a bound, yet better than unigrams
    # The code carries information: the KL part is well above zero (no posterior collapse).
    assert after - trained.history[-1]["valid_nll"] > 0.02


def test_kl_weight_rises_over_the_warmup(trained):
    fam = create_family("vae", {"kl_warmup": 100, "beta": 0.5})
    fam.on_train_step(0, 1000)
    assert fam.kl_weight(training=True) == 0.0
    fam.on_train_step(50, 1000)  # the trainer's global step, also after a resume
    assert fam.kl_weight(training=True) == pytest.approx(0.25)
    fam.on_train_step(400, 1000)
    assert fam.kl_weight(training=True) == pytest.approx(0.5)
    fam.on_train_step(0, 1000)
    assert fam.kl_weight(training=False) == 0.5  # validation always weighs the KL fully
    # The trainer drove the schedule of the trained model past its warm-up.
    assert trained.family.step > SETTINGS["kl_warmup"]
    assert trained.family.kl_weight(training=True) == 1.0


def test_vae_samples_melodies_from_the_prior(trained, tmp_path):
    fam, model = trained.family, trained.model
    tokens = fam.sample_melody(model, 96, SamplingOptions(seed=11, count=4, temperature=0.8))
    assert tokens.shape == (4, 96)
    assert len({row.tobytes() for row in tokens}) == 4  # four different melodies
    for row in tokens:
        pitches = tokens_to_pitches(row)
        sounding = pitches[pitches >= 0]
        assert (row < 128).sum() >= 8 and len(sounding) > 48  # mostly notes, not silence
        assert ((sounding >= 55) & (sounding <= 84)).mean() > 0.9  # where chorale tunes lie
    again = fam.sample_melody(model, 96, SamplingOptions(seed=11, count=4, temperature=0.8))
    assert np.array_equal(tokens, again)
    song = mt.melody_song(tokens[0])
    assert notes_of(midi_roundtrip(song, tmp_path)) == notes_of(song)


def test_vae_interpolates_between_two_melodies(trained, data, tmp_path):
    fam, model = trained.family, trained.model
    melodies = mt.sequences(data, "train", "soprano")
    first, last = melodies[2][:64], melodies[3][:64]
    path = fam.interpolate(model, first, last, 6)
    assert path.shape == (6, 64)

    def apart(a, b):
        pa, pb = tokens_to_pitches(a), tokens_to_pitches(b)
        both = (pa >= 0) & (pb >= 0)
        return float(np.abs(pa - pb)[both].mean())

    assert apart(path[0], first) < apart(path[0], last)
    assert apart(path[-1], last) < apart(path[-1], first)
    assert len({row.tobytes() for row in path}) >= 3  # it morphs through other melodies
    # The codes travel smoothly from one melody's code to the other's.
    codes = fam.codes_of(model, torch.as_tensor(np.stack([first[:32], last[:32]])))
    mids = torch.stack([fam.mix(codes[0], codes[1], t) for t in np.linspace(0, 1, 6)])
    assert torch.allclose(mids[0], codes[0], atol=1e-5)
    assert torch.allclose(mids[-1], codes[1], atol=1e-5)
    steps = (mids[1:] - mids[:-1]).norm(dim=-1)
    assert float(steps.max()) < 2.0 * float(steps.min()) + 1e-6
    song = mt.melody_song(np.concatenate(list(path)))
    assert notes_of(midi_roundtrip(song, tmp_path)) == notes_of(song)


def test_vae_in_the_command_line(tmp_path):
    out = tmp_path / "vae"
    code, _ = run_cli("train", "--model", "vae", "--units", "32", "--kl-warmup", "10",
                      "--epochs", "1", "--steps-per-epoch", "3", "--threads", "1", "--quiet",
                      "--output", out)
    assert code == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["family"] == "vae" and card["config"]["kl_warmup"] == 10
    assert card["modes"] == ["melody", "interpolate"]
    code, text = run_cli("eval", out, "--split", "valid", "--ngram-order", "2")
    assert code == 0 and "ELBO" in text
    code, _ = run_cli("grid", "--model", "vae", "--grid", "beta=0.5,1", "--units", "32",
                      "--epochs", "1", "--steps-per-epoch", "2", "--threads", "1", "--quiet",
                      "--output", tmp_path / "best")
    assert code == 0 and (tmp_path / "best.safetensors").exists()
