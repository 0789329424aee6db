"""Learned features from the shipped models (melody VAE code, LSTM hidden state) on real music:
they tell JSB chorales from piano pieces, what transposition does to them, and clear errors for
missing, tampered and unsuitable models and for songs without notes."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from studio import paths
from studio.ml.analysis.corpus import items
from studio.ml.analysis.critic import compare_critics, default_plan
from studio.ml.analysis.errors import AnalysisError
from studio.ml.analysis.model_features import encoder_models, model_features
from studio.ml.melody_tokens import melody_song
from studio.music.operations import transpose
from studio.music.song import Song, Track

SHIPPED = {"vae-melody": ("melody VAE code (vae-melody)", 64),
           "lstm-melody": ("LSTM hidden state (lstm-melody)", 512)}


@pytest.fixture(scope="module")
def chorales_vs_piano(jsb_corpus, piano_corpus):
    return items([jsb_corpus, piano_corpus], segment_bars=4, max_per_piece=8, max_per_label=160)


@pytest.mark.parametrize("name", SHIPPED)
def test_small_mlp_on_model_features_separates_chorales_from_piano(name, chorales_vs_piano):
    learned = model_features(name)
    title, dim = SHIPPED[name]
    assert learned.name == title
    songs = [i.song for i in chorales_vs_piano]
    x = learned.features(songs)
    assert x.shape == (len(songs), dim) and np.isfinite(x).all()
    assert np.allclose(learned.features(songs[:5]), x[:5], atol=1e-5)  # batching changes nothing
    results = compare_critics(chorales_vs_piano, default_plan(learned)[1:], folds=5)
    by_kind = {r.classifier: r for r in results}
    assert set(by_kind) == {"mlp", "knn"} and by_kind["mlp"].representation == title
    mlp = by_kind["mlp"]
    assert 0.5 < mlp.chance < 0.75
    assert mlp.accuracy > mlp.chance + 0.15 and mlp.accuracy > 0.85, mlp.accuracy
    assert np.all(mlp.recall > 0.6)


def _distances(x: np.ndarray) -> np.ndarray:
    return np.linalg.norm(x[:, None] - x[None], axis=-1)


@pytest.mark.parametrize("name", SHIPPED)
def test_transposed_copies(name, jsb_corpus):
    chorales = [song for _, song in jsb_corpus.pieces[:10]]
    copies = [transpose(chorales[0], k) for k in (-5, -2, 3, 7)]
    songs = [chorales[0], *copies, *chorales[1:]]
    # Key-normalised (the default): a chorale and its transposed copies are one point, apart
    # from every other chorale.
    d = _distances(model_features(name).features(songs))
    assert d[:5, :5].max() < 1e-4
    assert d[:5, 5:].min() > 0.5
    # As written, the models read absolute pitches: the features are not invariant, a copy
    # moves about as far as the typical step between two different chorales.
    d = _distances(model_features(name, key_normalised=False).features(songs))
    between_chorales = np.median(d[5:, 5:][np.triu_indices(len(chorales) - 1, 1)])
    assert d[0, 1:5].min() > 0.3 * between_chorales


def test_short_melodies_are_encoded_and_songs_without_notes_refused():
    one_note = melody_song(np.array([67, 128, 128, 128]), name="one note")
    empty = Song(title="empty song")
    empty.tracks.append(Track("nothing"))
    for name, (_, dim) in SHIPPED.items():
        learned = model_features(name)
        assert learned.features([one_note]).shape == (1, dim)
        with pytest.raises(AnalysisError, match="empty song has no notes"):
            learned.features([one_note, empty])


def test_missing_tampered_unknown_and_unsuitable_models_are_told_clearly():
    names = [e.name for e in encoder_models()]
    assert {"vae-melody", "lstm-melody"} <= set(names)
    assert not any("harmonizer" in n for n in names)
    with pytest.raises(AnalysisError, match="no model called 'no-such-model'"):
        model_features("no-such-model")
    with pytest.raises(AnalysisError, match="cnn-harmonizer is a coconet model.*vae-melody"):
        model_features("cnn-harmonizer")

    mine = paths.user_models_dir()
    mine.mkdir(parents=True, exist_ok=True)
    for suffix in (".safetensors", ".json"):
        shutil.copy(paths.SHIPPED_MODELS_DIR / f"vae-melody{suffix}", mine / f"mine{suffix}")
    assert model_features("mine").features([melody_song(np.array([60, 62, 64]))]).shape == (1, 64)
    weights = bytearray((mine / "mine.safetensors").read_bytes())
    weights[-100] ^= 0xFF
    (mine / "mine.safetensors").write_bytes(bytes(weights))
    with pytest.raises(AnalysisError, match="cannot use the model mine for features"):
        model_features("mine")
    (mine / "mine.safetensors").unlink()
    with pytest.raises(AnalysisError, match="cannot use the model mine for features.*missing"):
        model_features("mine")
