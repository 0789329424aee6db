"""The style critic on real music: JSB chorales against piano pieces, hand-crafted and learned
features; and its clear refusals of bad input."""

from __future__ import annotations

import numpy as np
import pytest

from studio.ml.analysis.corpus import corpus_from_songs, items
from studio.ml.analysis.critic import (
    HANDCRAFTED_CLASSIFIERS,
    compare_critics,
    default_plan,
    format_results,
    format_summary,
)
from studio.ml.analysis.errors import AnalysisCancelled, AnalysisError
from studio.ml.analysis.learned import LearnedFeatures, RollAutoencoder


@pytest.fixture(scope="module")
def chorales_vs_piano(jsb_corpus, piano_corpus):
    return items([jsb_corpus, piano_corpus], segment_bars=4, max_per_piece=8)


def test_kernel_svms_and_knn_separate_chorales_from_piano_music(chorales_vs_piano):
    results = compare_critics(chorales_vs_piano, folds=5)
    assert [r.classifier for r in results] == list(HANDCRAFTED_CLASSIFIERS)
    for r in results:
        assert r.classes == ["jsb", "piano"]
        assert r.confusion.sum() == len(chorales_vs_piano)
        assert len(r.fold_accuracy) == 5
        assert 0.5 < r.chance < 0.75
        assert r.accuracy > r.chance + 0.15, r.title  # well above always-guess-the-biggest
        assert np.all(r.recall > 0.5) and np.all(r.precision > 0.5)
    best = max(results, key=lambda r: r.accuracy)
    assert best.accuracy > 0.9
    text = format_results(results) + format_summary(results)
    assert "SVM, RBF kernel" in text and "jsb" in text and "piano" in text


def test_small_mlp_on_learned_autoencoder_features(chorales_vs_piano):
    songs = [i.song for i in chorales_vs_piano]
    model = RollAutoencoder(code_size=16, seed=1)
    start = model.reconstruction_loss(songs)
    losses = model.fit(songs, epochs=60)
    assert losses[-1] < 0.6 * losses[0]
    assert model.reconstruction_loss(songs) < 0.5 * start  # it learned to reconstruct
    learned = LearnedFeatures.from_model(model)
    assert learned.features(songs[:3]).shape == (3, 16)
    results = compare_critics(chorales_vs_piano, default_plan(learned)[1:], folds=4)
    by_kind = {r.classifier: r for r in results}
    assert set(by_kind) == {"mlp", "knn"}
    assert by_kind["mlp"].representation == "autoencoder code"
    assert by_kind["mlp"].accuracy > by_kind["mlp"].chance + 0.1


def test_any_extractor_plugs_into_the_critic(chorales_vs_piano):
    class PitchRange:  # a trivial "model" that encodes songs
        def encode(self, songs):
            return np.array([[max(n.pitch for _, n in s.iter_notes())
                              - min(n.pitch for _, n in s.iter_notes())] for s in songs])

    learned = LearnedFeatures.from_model(PitchRange(), "pitch range")
    (r,) = compare_critics(chorales_vs_piano, [(learned, ["mlp"])], folds=3)
    assert r.representation == "pitch range" and r.confusion.sum() == len(chorales_vs_piano)
    with pytest.raises(AnalysisError, match="cannot encode"):
        LearnedFeatures.from_model(object())


def test_one_class_is_refused_clearly(jsb_corpus):
    with pytest.raises(AnalysisError, match="at least two classes"):
        compare_critics(items([jsb_corpus], 4, 2))


def test_fewer_pieces_than_folds_is_refused_clearly(jsb_corpus, piano_corpus):
    three = corpus_from_songs("few", piano_corpus.pieces[:3])
    chosen = items([jsb_corpus, three], 4, 4)
    with pytest.raises(AnalysisError, match=r"'few' has 3 pieces; use 3 folds or fewer"):
        compare_critics(chosen, folds=5)
    results = compare_critics(chosen, folds=3)
    assert all(len(r.fold_accuracy) == 3 for r in results)


def test_nothing_with_notes_is_refused_clearly():
    from studio.music.song import Song, Track

    empty = corpus_from_songs("empty", [("a", Song([Track("t")]))])
    with pytest.raises(AnalysisError, match="nothing to analyse"):
        compare_critics(items([empty]))


def test_cancel_stops_between_steps(chorales_vs_piano):
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(AnalysisCancelled):
        compare_critics(chorales_vs_piano, cancel=cancel)
