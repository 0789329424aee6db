"""Ranking candidates against a training set: real chorales outrank piano music and random
notes by style score and by neighbour distance; empty candidates sort last, never crash."""

from __future__ import annotations

import numpy as np
import pytest

from studio.data import load_dataset
from studio.ml.analysis.errors import AnalysisError
from studio.ml.analysis.ranking import StyleReference, rank_candidates, reference_for_dataset
from studio.music.operations import transpose
from studio.music.song import Note, Song, Track


def _random_notes(seed: int) -> Song:
    rng = np.random.default_rng(seed)
    t = Track("random")
    start = 0
    for _ in range(96):
        d = int(rng.choice([60, 120, 240, 360]))
        t.notes.append(Note(int(rng.integers(30, 100)), start + int(rng.integers(0, 40)), d))
        start += d
    return Song([t], title=f"random {seed}")


@pytest.fixture(scope="module")
def reference():
    return reference_for_dataset(load_dataset("jsb"), limit=60)


def test_unseen_chorales_outrank_other_music(reference, piano_corpus):
    chorales = [p.song() for p in load_dataset("jsb").split("test")[:4]]
    others = [piano_corpus.pieces[0][1], piano_corpus.pieces[-1][1], _random_notes(1),
              _random_notes(2)]
    candidates = others[:2] + chorales + others[2:] + [Song([Track("silent")])]
    scores = reference.score(candidates)
    assert [s.index for s in scores] == list(range(len(candidates)))
    good = {2, 3, 4, 5}
    by_style = rank_candidates(scores, "style")
    by_distance = rank_candidates(scores, "distance")
    assert {s.index for s in by_style[:4]} == good
    assert {s.index for s in by_distance[:4]} == good
    assert by_style[-1].index == by_distance[-1].index == len(candidates) - 1
    last = scores[-1]
    assert last.note == "no notes" and last.style_score == 0 and last.nearest_distance == np.inf
    for s in scores[2:6]:
        assert 0.05 < s.style_score <= 1 and s.nearest_piece.startswith("jsb-")
    assert max(s.style_score for s in scores[:2] + scores[6:8]) < min(
        s.style_score for s in scores[2:6])


def test_transposing_a_candidate_does_not_change_its_scores(reference):
    chorale = load_dataset("jsb").split("test")[7].song()
    a, b = reference.score([chorale, transpose(chorale, 3)])
    assert a.style_score == pytest.approx(b.style_score)
    assert a.nearest_distance == pytest.approx(b.nearest_distance)


def test_reference_is_reused_and_contrast_critic_works(reference, piano_corpus, jsb_corpus):
    assert reference_for_dataset(load_dataset("jsb"), limit=60) is reference
    contrast = StyleReference.fit(jsb_corpus, contrast=piano_corpus)
    chorale = load_dataset("jsb").split("test")[0].song()
    hi, lo = contrast.score([chorale, piano_corpus.pieces[2][1]])
    assert hi.style_score > 0.8 > 0.2 > lo.style_score
    with pytest.raises(AnalysisError, match="rank by"):
        rank_candidates([hi, lo], "loudness")
    with pytest.raises(AnalysisError, match="too little music"):
        StyleReference.fit([("one note", Song([Track("t", notes=[Note(60, 0, 480)])]))])
