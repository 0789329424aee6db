"""RBM: contrastive divergence lowers its pseudo-likelihood NLL on real chorale windows (below
what each voice's note frequencies give), the pseudo-likelihood is computed exactly, Gibbs
sampling harmonizes a real melody and fills a region into music that survives a MIDI round
trip, and `rbm` is a CLI model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from studio.ml import satb_roll as sr
from studio.ml.errors import GenerationError
from studio.ml.family import SamplingOptions
from studio.ml.knobs import with_changes
from studio.ml.registry import create_family
from studio.music.grids import VOICE_RANGES, satb_to_song
from studio.music.voice_leading import count
from tests.ml.family_testing import (
    midi_roundtrip,
    notes_of,
    run_cli,
    small_jsb,
    train_briefly,
    unigram_nll,
    untrained_valid_loss,
)

SETTINGS = {"units": 128}


@pytest.fixture(scope="module")
def data():
    return small_jsb()


@pytest.fixture(scope="module")
def trained(data):
    return train_briefly("rbm", data, SETTINGS, lr=1e-2, epochs=3)


def test_contrastive_divergence_lowers_the_pseudo_likelihood_nll(data, trained):
    before = untrained_valid_loss("rbm", data, SETTINGS)
    assert before == pytest.approx(np.log(sr.CLASSES), abs=0.05)  # small weights: no idea
    after = trained.history[-1]["valid_loss"]
    assert after < 0.5 * before
    train, _ = trained.family.baseline_sequences(data, "train")
    valid, _ = trained.family.baseline_sequences(data, "valid")
    assert after < unigram_nll(train, valid, sr.CLASSES) - 0.5  # it uses the other voices


def test_pseudo_likelihood_is_exact():
    """p(v_i | rest) from the fast formula equals the ratio of exp(-free energy) computed by
    brute force over every class of the cell."""
    fam = create_family("rbm", {"units": 16})
    torch.manual_seed(0)
    net = fam.build()
    with torch.no_grad():
        net.weight.normal_(0, 0.3)
        net.visible_bias.normal_(0, 0.3)
        v = torch.randint(0, sr.CLASSES, (2, net.cells))
        cells = torch.tensor([[0, 5], [17, 63]])
        fast = torch.log_softmax(net.pseudo_logits(v, cells), -1)
        for b in range(2):
            for j, cell in enumerate(cells[b]):
                trial = v[b].repeat(sr.CLASSES, 1)
                trial[:, cell] = torch.arange(sr.CLASSES)
                slow = torch.log_softmax(-net.free_energy(trial), -1)
                assert torch.allclose(fast[b, j], slow, atol=1e-4)


def test_rbm_harmonizes_a_chorale_melody(trained, data, tmp_path):
    fam, model = trained.family, trained.model
    melody = data.split("valid")[0].satb[:64, 0]
    options = SamplingOptions(seed=4, count=2, iterations=30)
    out = fam.harmonize(model, melody, options)
    assert out.shape == (2, 64, 4)
    assert np.array_equal(out[:, :, 0], np.repeat(melody[None], 2, 0))
    assert np.array_equal(out, fam.harmonize(model, melody, options))  # the seed repeats
    for v in range(1, 4):
        lo, hi = VOICE_RANGES[v]
        sung = out[:, :, v][out[:, :, v] >= 0]
        assert ((sung >= lo) & (sung <= hi)).all()
        assert (out[:, melody >= 0, v] >= 0).mean() > 0.9  # the voices sing with the melody
    song = satb_to_song(out[0])
    back = midi_roundtrip(song, tmp_path)
    assert notes_of(back) == notes_of(song) and len(notes_of(song)) == 4


def test_voice_leading_decoding_of_the_gibbs_chances(trained, data):
    fam, model = trained.family, trained.model
    led = type(fam)(with_changes(fam.config, decoding="voice-leading"))
    plain, searched = [], []
    for piece in data.split("valid")[:3]:
        soprano = piece.satb[:96, 0]
        plain.append(count(fam.harmonize(model, soprano, SamplingOptions(seed=1))[0]))
        out = led.harmonize(model, soprano, SamplingOptions(seed=1))[0]
        assert np.array_equal(out[:, 0], soprano)
        searched.append(count(out))

    def parallels(counts):
        return sum(c.parallel_fifths + c.parallel_octaves for c in counts)

    assert parallels(plain) >= 3
    assert parallels(searched) <= parallels(plain) / 3


def test_rbm_fills_a_region_and_keeps_the_rest(trained, data):
    fam, model = trained.family, trained.model
    satb = data.split("valid")[1].satb[:48].astype(np.int16)
    region = np.zeros(satb.shape, bool)
    region[8:40, 1:3] = True  # alto and tenor in the middle
    out = fam.infill(model, satb, region, SamplingOptions(seed=0, iterations=20))[0]
    assert np.array_equal(out[~region], satb[~region])
    assert (out[region] >= 0).mean() > 0.9
    with pytest.raises(GenerationError, match="empty"):
        fam.infill(model, satb, np.zeros(satb.shape, bool), SamplingOptions())
    with pytest.raises(GenerationError, match="no note to sing"):
        fam.harmonize(model, satb[:, 0], SamplingOptions(), allowed_pitches=[100])


def test_rbm_in_the_command_line(tmp_path):
    out = tmp_path / "rbm"
    code, _ = run_cli("train", "--model", "rbm", "--units", "32", "--cd-steps", "2",
                      "--epochs", "1", "--steps-per-epoch", "3", "--threads", "1", "--quiet",
                      "--output", out)
    assert code == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["family"] == "rbm" and card["config"]["cd_steps"] == 2
    assert card["modes"] == ["harmonize", "infill"]
    code, text = run_cli("eval", out, "--split", "valid", "--ngram-order", "2")
    assert code == 0 and "pseudo-likelihood" in text
    code, _ = run_cli("grid", "--model", "rbm", "--grid", "cd_steps=1,3", "--units", "32",
                      "--epochs", "1", "--steps-per-epoch", "2", "--threads", "1", "--quiet",
                      "--output", tmp_path / "best")
    assert code == 0 and (tmp_path / "best.safetensors").exists()
