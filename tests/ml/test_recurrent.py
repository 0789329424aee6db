"""The recurrent melody model learns real chorale melodies, and writes and continues melodies
that survive a MIDI round trip, within the constraints asked."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.midi import read_song, write_song
from studio.ml.errors import GenerationError
from studio.ml.evaluate import evaluate
from studio.ml.family import SamplingOptions
from studio.ml.melody_tokens import BOS, melody_song, transpose_batch, windows
from studio.ml.registry import create_family
from studio.ml.train_config import TrainConfig
from studio.ml.trainer import Trainer
from studio.music.tokens import HOLD, REST
from tests.ml.conftest import TINY_LSTM


@pytest.fixture(scope="module")
def trained(jsb_small):
    family = create_family("lstm", TINY_LSTM)
    torch.manual_seed(0)
    initial = evaluate(family, family.build(), jsb_small, "valid", ngram_order=0)
    result = Trainer(family, jsb_small, TrainConfig(epochs=4, batch_size=16, lr=1e-2,
                                                    transpose=2)).run()
    return family, result, initial


def test_lstm_learns_chorale_melodies(trained):
    family, result, initial = trained
    assert result.status == "completed" and len(result.history) == 4
    final = result.history[-1]
    # From a uniform guess over 130 tokens (~4.9 nats) to well under a fifth of it.
    assert initial.metrics["loss"] > 4.5
    assert final["valid_loss"] < 0.25 * initial.metrics["loss"]
    assert final["valid_accuracy"] > 0.7 and final["train_loss"] < result.history[0]["train_loss"]


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_other_cells_train(cell, jsb_tiny):
    family = create_family(cell, TINY_LSTM)
    result = Trainer(family, jsb_tiny, TrainConfig(epochs=2, batch_size=8, lr=1e-2)).run()
    assert type(result.model.rnn).__name__ == cell.upper()
    assert result.history[-1]["valid_loss"] < result.history[0]["valid_loss"] < 5


def test_windows_predict_every_token_once(jsb_small):
    ex = windows(jsb_small, "valid", "soprano", 32, training=False)
    total = sum(len(p.satb) for p in jsb_small.split("valid"))
    assert int((ex.tensors["targets"] >= 0).sum()) == total
    assert (ex.tensors["inputs"][:, 0] == BOS).sum() == len(jsb_small.split("valid"))
    train = windows(jsb_small, "train", "soprano", 32, training=True)
    assert (train.tensors["targets"] >= 0).all()
    # The input is the target shifted by one step.
    assert torch.equal(train.tensors["inputs"][:, 1:], train.tensors["targets"][:, :-1])


def test_transposition_keeps_shape_and_shifts_whole_windows(jsb_small):
    batch = windows(jsb_small, "train", "soprano", 32, training=True).batch(slice(0, 64))
    g = torch.Generator().manual_seed(3)
    out = transpose_batch(batch, 5, g)
    for a, b in zip(batch["targets"], out["targets"]):
        pitched = a < 128
        shifts = set((b[pitched] - a[pitched]).tolist())
        assert len(shifts) <= 1 and all(-5 <= s <= 5 for s in shifts)
        assert torch.equal(a[~pitched], b[~pitched])
    assert len({int((o - i)[i < 128][0]) for i, o in zip(batch["targets"], out["targets"])}) > 3


def test_sampled_melody_round_trips_through_midi(trained, tmp_path):
    family, result, _ = trained
    tokens = family.sample_melody(result.model, 64, SamplingOptions(seed=5, count=3,
                                                                    temperature=0.9))
    assert tokens.shape == (3, 64) and tokens.dtype == np.int16
    assert ((tokens >= 0) & (tokens <= REST)).all()
    assert not (tokens[:, 0] == HOLD).any()  # no hold before any note
    song = melody_song(tokens[0])
    assert song.note_count > 3
    write_song(song, tmp_path / "melody.mid")
    back = read_song(tmp_path / "melody.mid")
    assert [n.key()[:3] for n in back.tracks[0].notes] == \
        [n.key()[:3] for n in song.tracks[0].notes]
    again = family.sample_melody(result.model, 64, SamplingOptions(seed=5, count=3,
                                                                   temperature=0.9))
    assert np.array_equal(tokens, again)


def test_continuation_respects_allowed_pitches_and_greedy_is_deterministic(trained, jsb_small):
    family, result, _ = trained
    from studio.music.tokens import pitches_to_tokens

    prime = pitches_to_tokens(jsb_small.split("test")[0].satb[:32, 0])
    c_major = [p for p in range(128) if p % 12 in (0, 2, 4, 5, 7, 9, 11) and 60 <= p <= 79]
    out = family.continue_melody(result.model, prime, 48, SamplingOptions(seed=1, count=4),
                                 allowed_pitches=c_major)
    pitches = out[out < HOLD]
    assert len(pitches) and set(pitches.tolist()) <= set(c_major)
    greedy = [family.continue_melody(result.model, prime, 16, SamplingOptions(seed=s, top_k=1))
              for s in (1, 2)]
    assert np.array_equal(*greedy)


def test_generation_refuses_bad_requests(trained):
    family, result, _ = trained
    with pytest.raises(GenerationError, match="outside 0-129"):
        family.continue_melody(result.model, np.array([200]), 4, SamplingOptions())
    with pytest.raises(GenerationError, match="at least one"):
        family.sample_melody(result.model, 4, SamplingOptions(top_k=1), allowed_pitches=[])
    with pytest.raises(GenerationError, match="cannot harmonize"):
        family.harmonize(result.model, np.zeros(16), SamplingOptions())


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_the_sampling_stepper_computes_what_the_module_does(cell):
    """Generation steps through the weights by hand (faster than the fused module on one
    token); the logits must equal the module's over a sequence, state carried across steps."""
    from studio.ml.families.recurrent_step import RecurrentStepper

    torch.manual_seed(1)
    net = create_family(cell, {"hidden": 48, "layers": 2, "embedding": 16}).build().eval()
    tokens = torch.randint(0, 130, (3, 12))
    positions = torch.arange(12).repeat(3, 1) % 16
    with torch.inference_mode():
        whole, _ = net(tokens, positions)
        _, state = net(tokens[:, :4], positions[:, :4])
        stepper = RecurrentStepper(net, state)
        stepped = [stepper.step(tokens[:, i], positions[:, i]) for i in range(4, 12)]
    assert torch.allclose(torch.stack(stepped, 1), whole[:, 4:], atol=1e-5)
