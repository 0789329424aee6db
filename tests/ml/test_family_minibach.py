"""MiniBach MLP: learns alto, tenor and bass from the soprano on real chorales, harmonizes a
real chorale melody (voice-leading decoding and plain sampling) into music that survives a MIDI
round trip, re-harmonizes a region, and is the `mlp` model in the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studio.ml import satb_roll as sr
from studio.ml.errors import GenerationError
from studio.ml.family import SamplingOptions
from studio.ml.knobs import with_changes
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

SETTINGS = {"bars": 1, "units": 128}


@pytest.fixture(scope="module")
def data():
    return small_jsb()


@pytest.fixture(scope="module")
def trained(data):
    return train_briefly("mlp", data, SETTINGS, lr=3e-3, epochs=3)


@pytest.fixture(scope="module")
def melody(data):
    return data.split("valid")[0].satb[:96, 0].astype(np.int16)  # six bars of a real chorale


def test_mlp_learns_the_lower_voices(data, trained):
    before = untrained_valid_loss("mlp", data, SETTINGS)
    after = trained.history[-1]["valid_loss"]
    assert before > 3.5  # about log(47): no idea yet
    assert after < 0.65 * before
    # It hears the soprano: better than each voice's note frequencies alone.
    train, _ = trained.family.baseline_sequences(data, "train")
    valid, _ = trained.family.baseline_sequences(data, "valid")
    assert trained.history[-1]["valid_nll"] < unigram_nll(train, valid, sr.CLASSES) - 0.2


def test_mlp_harmonizes_a_chorale_melody(trained, melody, tmp_path):
    fam, model = trained.family, trained.model
    assert fam.config.decoding == "voice-leading"  # the default
    out = fam.harmonize(model, melody, SamplingOptions(seed=2, count=2))
    assert out.shape == (2, len(melody), 4)
    assert np.array_equal(out[:, :, 0], np.repeat(melody[None], 2, 0))  # the melody is kept
    for v in range(1, 4):
        lo, hi = VOICE_RANGES[v]
        sung = out[:, melody >= 0, v]
        assert ((sung >= lo) & (sung <= hi)).all()
    song = satb_to_song(out[0])
    back = midi_roundtrip(song, tmp_path)
    assert notes_of(back) == notes_of(song) and len(notes_of(song)) == 4


def test_voice_leading_decoding_cuts_parallels(trained, data):
    fam, model = trained.family, trained.model
    sampler = type(fam)(with_changes(fam.config, decoding="sample"))
    led, sampled = [], []
    for piece in data.split("valid")[:3]:
        soprano = piece.satb[:128, 0]
        led.append(count(fam.harmonize(model, soprano, SamplingOptions(seed=1))[0]))
        sampled.append(count(sampler.harmonize(model, soprano, SamplingOptions(seed=1))[0]))

    def parallels(counts):
        return sum(c.parallel_fifths + c.parallel_octaves for c in counts)

    def moves(counts):
        return sum(c.pair_moves for c in counts)

    assert parallels(sampled) >= 10  # notes drawn one by one move in parallel often
    assert parallels(led) / moves(led) < 0.2 * parallels(sampled) / moves(sampled)


def test_mlp_reharmonizes_a_region_only(trained, data):
    fam, model = trained.family, trained.model
    satb = data.split("valid")[1].satb[:64].astype(np.int16)
    region = np.zeros(satb.shape, bool)
    region[16:48, 1:] = True
    out = fam.infill(model, satb, region, SamplingOptions(seed=0))[0]
    assert np.array_equal(out[~region], satb[~region])
    with pytest.raises(GenerationError, match="soprano"):
        bad = region.copy()
        bad[20, 0] = True
        fam.infill(model, satb, bad, SamplingOptions())
    with pytest.raises(GenerationError, match="outside the range"):
        fam.harmonize(model, np.full(16, 100), SamplingOptions())


def test_mlp_in_the_command_line(tmp_path):
    out = tmp_path / "mlp"
    code, _ = run_cli("train", "--model", "mlp", "--bars", "1", "--units", "32", "--epochs", "1",
                      "--steps-per-epoch", "3", "--threads", "1", "--quiet", "--output", out)
    assert code == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert (card["family"], card["model"]) == ("minibach", "mlp")
    assert card["modes"] == ["harmonize", "infill"]
    code, text = run_cli("eval", out, "--split", "valid", "--ngram-order", "2")
    assert code == 0 and "2-gram baseline" in text
    code, text = run_cli("grid", "--model", "mlp", "--bars", "1", "--grid", "units=16,32",
                         "--epochs", "1", "--steps-per-epoch", "2", "--threads", "1", "--quiet",
                         "--output", tmp_path / "best")
    assert code == 0 and (tmp_path / "best.json").exists()
    assert len(json.loads((tmp_path / "best.grid.json").read_text())["runs"]) == 2

