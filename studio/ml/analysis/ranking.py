"""Ranking generated variations: how much each candidate sounds like the model's training set.

A `StyleReference` is fitted once on a model's training set (segments of its pieces). It scores
each candidate song with

- a **style score** in 0..1 from a critic trained on the training set: by default a one-class
  SVM (RBF kernel) that learns the region of feature space the training music occupies; the score
  is the share of held-out training segments the candidate looks at least as typical as (0.5 is
  "as typical as a median training segment", near 0 is "unlike anything in it"). Given a contrast
  set (other styles), it is instead the probability an RBF SVM gives to "training style";
- a **nearest-neighbour distance** (kNN, k=1): how far the candidate is from the closest training
  segment in standardised feature units (small = close to something in the training set).

`rank_candidates(scores, by="style" | "distance")` sorts the candidates either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from studio.ml.analysis.corpus import Corpus, corpus_from_songs, has_notes, items, segment_song
from studio.ml.analysis.errors import AnalysisError
from studio.ml.analysis.features import (
    FeatureExtractor,
    HandcraftedFeatures,
    featurize,
    standardiser,
)
from studio.music.song import Song

RANK_KEYS = ("style", "distance")


@dataclass
class CandidateScore:
    """One candidate's scores; `index` is its position in the list that was scored."""

    index: int
    name: str
    style_score: float  # 0..1, higher = more like the training set
    nearest_distance: float  # >= 0, lower = closer to some training segment; inf: no notes
    nearest_piece: str  # the training piece of the nearest segment
    note: str = ""


class StyleReference:
    """A critic and a neighbour index fitted on one training set; scores candidate songs."""

    def __init__(self, extractor: FeatureExtractor, features: np.ndarray, pieces: list[str],
                 mean: np.ndarray, scale: np.ndarray, scorer, calibration: np.ndarray | None,
                 segment_bars: int | None, label: str) -> None:
        self.extractor = extractor
        self.features = features  # standardised training features
        self.pieces = pieces
        self.mean, self.scale = mean, scale
        self._scorer = scorer
        self._calibration = calibration  # sorted held-out decision values (one-class)
        self.segment_bars = segment_bars
        self.label = label

    @classmethod
    def fit(cls, training: Corpus | Sequence[tuple[str, Song]], extractor: FeatureExtractor
            | None = None, contrast: Corpus | Sequence[tuple[str, Song]] | None = None,
            segment_bars: int | None = 4, max_per_piece: int = 6, seed: int = 0,
            cancel: Callable[[], bool] | None = None) -> StyleReference:
        """Fit on the training set (a `Corpus` or (name, song) pairs)."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import SVC, OneClassSVM

        extractor = extractor or HandcraftedFeatures()
        train = training if isinstance(training, Corpus) else corpus_from_songs("training",
                                                                                 training)
        train_items = items([train], segment_bars, max_per_piece)
        if len(train_items) < 5:
            raise AnalysisError(f"the training set {train.label!r} has too little music to "
                                f"score against ({len(train_items)} segments with notes)")
        raw = featurize(extractor, [i.song for i in train_items], cancel=cancel)
        mean, scale = standardiser(raw)
        x = (raw - mean) / scale
        pieces = [i.piece for i in train_items]
        calibration = None
        if contrast is not None:
            other = contrast if isinstance(contrast, Corpus) else corpus_from_songs("contrast",
                                                                                   contrast)
            other_items = items([other], segment_bars, max_per_piece)
            if not other_items:
                raise AnalysisError("the contrast set has no music with notes")
            xo = (featurize(extractor, [i.song for i in other_items], cancel=cancel) - mean) \
                / scale
            # Platt scaling (sigmoid calibration) turns SVM margins into probabilities.
            scorer = CalibratedClassifierCV(SVC(kernel="rbf", gamma="scale",
                                                class_weight="balanced", random_state=seed),
                                            method="sigmoid", cv=3, ensemble=False)
            scorer.fit(np.vstack((x, xo)), np.r_[np.ones(len(x)), np.zeros(len(xo))])
        else:
            names = sorted(set(pieces))
            rng = np.random.default_rng(seed)
            held = set(rng.choice(names, size=max(1, len(names) // 5), replace=False)) \
                if len(names) >= 5 else set()
            fit_rows = np.array([p not in held for p in pieces])
            scorer = OneClassSVM(kernel="rbf", gamma="scale", nu=0.1)
            scorer.fit(x[fit_rows])
            cal_rows = ~fit_rows if (~fit_rows).any() else fit_rows
            calibration = np.sort(scorer.decision_function(x[cal_rows]))
        return cls(extractor, x, pieces, mean, scale, scorer, calibration, segment_bars,
                   train.label)

    def _segments(self, song: Song) -> list[Song]:
        if self.segment_bars is None:
            return [song]
        segs = [s for _, s in segment_song(song, self.segment_bars) if s.note_count >= 4]
        return segs or [song]

    def _style(self, x: np.ndarray) -> np.ndarray:
        if self._calibration is None:
            return self._scorer.predict_proba(x)[:, 1]
        d = self._scorer.decision_function(x)
        return np.searchsorted(self._calibration, d, side="right") / len(self._calibration)

    def score(self, candidates: Sequence[Song], names: Sequence[str] | None = None
              ) -> list[CandidateScore]:
        """Scores of each candidate, in the order given. A candidate without notes gets style
        score 0 and an infinite distance (it sorts last), never an error."""
        names = list(names) if names is not None else [
            s.title or f"candidate {i + 1}" for i, s in enumerate(candidates)]
        out: list[CandidateScore] = []
        segs, owner = [], []
        for i, song in enumerate(candidates):
            if has_notes(song):
                for seg in self._segments(song):
                    segs.append(seg)
                    owner.append(i)
        owner_arr = np.array(owner, dtype=np.int64)
        if segs:
            x = (featurize(self.extractor, segs) - self.mean) / self.scale
            style = self._style(x)
            d = np.sqrt(((x[:, None, :] - self.features[None, :, :]) ** 2).mean(axis=2))
            nearest = d.argmin(axis=1)
            nearest_d = d[np.arange(len(d)), nearest]
        for i, name in enumerate(names):
            rows = np.nonzero(owner_arr == i)[0] if segs else np.array([], dtype=np.int64)
            if not len(rows):
                out.append(CandidateScore(i, name, 0.0, float("inf"), "", "no notes"))
                continue
            best = rows[np.argmin(nearest_d[rows])]
            out.append(CandidateScore(i, name, float(style[rows].mean()),
                                      float(nearest_d[rows].mean()),
                                      self.pieces[nearest[best]]))
        return out


def rank_candidates(scores: Sequence[CandidateScore], by: str = "style") -> list[CandidateScore]:
    """Best first: highest style score (`by="style"`) or smallest neighbour distance
    (`by="distance"`). Equal style scores are ordered by distance, equal distances by style
    score, and then the original order."""
    if by == "style":
        return sorted(scores, key=lambda s: (-s.style_score, s.nearest_distance, s.index))
    if by == "distance":
        return sorted(scores, key=lambda s: (s.nearest_distance, -s.style_score, s.index))
    raise AnalysisError(f"rank by 'style' or 'distance', not {by!r}")


_REFERENCES: dict[tuple[str, str], StyleReference] = {}


def reference_for_dataset(dataset, extractor: FeatureExtractor | None = None,
                          split: str = "train", limit: int | None = 120,
                          cancel: Callable[[], bool] | None = None) -> StyleReference:
    """A `StyleReference` for a `studio.data.Dataset` (its `split` pieces, at most `limit`
    spread evenly), fitted once per dataset content and extractor, then reused."""
    extractor = extractor or HandcraftedFeatures()
    which = repr(extractor) if isinstance(extractor, HandcraftedFeatures) else \
        f"{extractor.name}@{id(extractor)}"
    key = (dataset.fingerprint(), f"{which}/{split}/{limit}")
    if key not in _REFERENCES:
        pieces = dataset.split(split) or list(dataset.pieces)
        if limit is not None and 0 < limit < len(pieces):
            pick = np.linspace(0, len(pieces) - 1, limit).round().astype(int)
            pieces = [pieces[i] for i in pick]
        corpus = corpus_from_songs(dataset.name, [(p.name, p.song()) for p in pieces])
        _REFERENCES[key] = StyleReference.fit(corpus, extractor, cancel=cancel)
    return _REFERENCES[key]
