"""The n-gram baseline is a proper distribution that learns repetition; the library lists,
finds, renames and deletes models, shipped ones read-only."""

from __future__ import annotations

import numpy as np
import pytest

from studio import paths
from studio.ml.checkpoint import card_path, save_checkpoint
from studio.ml.errors import StudioMLError, UnknownModelError
from studio.ml.library import delete_model, find_model, list_models, open_model, rename_model
from studio.ml.ngram import KneserNey, baseline
from studio.ml.registry import create_family
from tests.ml.conftest import TINY_CNN, TINY_LSTM


def test_kneser_ney_is_a_distribution_that_learns_context():
    rng = np.random.default_rng(0)
    pattern = np.tile([3, 1, 4, 1, 5], 40)
    noise = rng.integers(0, 9, 200)
    model = KneserNey(3, 10).fit([pattern, noise])
    for ctx in [(), (3,), (1, 4), (9, 9), (4, 1)]:
        p = model.distribution(ctx)
        assert p.shape == (10,) and p.min() > 0 and p.sum() == pytest.approx(1.0)
    assert model.distribution((1, 4)).argmax() == 1 and model.distribution((4, 1))[5] > 0.8
    learned = baseline([pattern], [pattern[:50]], 10, order=3)
    unigram = baseline([pattern], [pattern[:50]], 10, order=1)
    assert learned["nll"] < 0.3 < 1.0 < unigram["nll"] and learned["accuracy"] > 0.9
    assert learned["count"] == 50


def test_baseline_on_real_chorale_melodies(jsb_small):
    family = create_family("lstm", TINY_LSTM)
    train, vocab = family.baseline_sequences(jsb_small, "train")
    test, _ = family.baseline_sequences(jsb_small, "test")
    result = baseline(train, test, vocab, order=4)
    assert result["count"] == sum(len(p.satb) for p in jsb_small.split("test"))
    assert 0.4 < result["nll"] < 1.5 and 0.6 < result["accuracy"] < 0.95


def test_library_lists_user_and_shipped_models(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    monkeypatch.setattr(paths, "SHIPPED_MODELS_DIR", shipped)
    cnn, lstm = create_family("cnn", TINY_CNN), create_family("lstm", TINY_LSTM)
    save_checkpoint(shipped / "harmonizer", cnn, cnn.build(), {"dataset": {"name": "jsb"}})
    save_checkpoint(paths.user_models_dir() / "mine", lstm, lstm.build())
    save_checkpoint(paths.user_models_dir() / "harmonizer", lstm, lstm.build())
    card_path(paths.user_models_dir() / "broken").write_text("{")
    (paths.user_models_dir() / "broken.safetensors").write_bytes(b"x")
    (paths.user_models_dir() / "search.grid.json").write_text("{}")  # not a model

    entries = list_models()
    assert [(e.name, e.shipped) for e in entries] == [
        ("broken", False), ("harmonizer", False), ("mine", False), ("harmonizer", True)]
    assert "unreadable model card" in entries[0].problem
    assert [e.name for e in list_models("harmonize")] == ["harmonizer"]
    assert entries[3].dataset == "jsb" and entries[3].modes == ["harmonize", "infill"]
    # The user's model of the same name comes first; a path reaches the shipped one.
    assert find_model("harmonizer") == paths.user_models_dir() / "harmonizer.safetensors"
    assert open_model(shipped / "harmonizer.json").card["family"] == "coconet"
    with pytest.raises(UnknownModelError, match="models: broken, harmonizer, mine"):
        find_model("nothing")

    renamed = rename_model(entries[2], "my melody")
    assert renamed.path.name == "my melody.safetensors"
    assert open_model("my melody").card["name"] == "my melody"
    with pytest.raises(StudioMLError, match="cannot be a model name"):
        rename_model(renamed, "../escape")
    with pytest.raises(StudioMLError, match="shipped model"):
        delete_model(entries[3])
    delete_model(renamed)
    assert [e.name for e in list_models()] == ["broken", "harmonizer", "harmonizer"]
    (paths.user_models_dir() / "harmonizer.safetensors").unlink()
    assert "weights file is missing" in list_models()[1].problem
