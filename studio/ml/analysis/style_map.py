"""The style map: every piece or segment as a point in 2-D, near points sounding alike.

Features (hand-crafted or learned) are standardised and projected to two dimensions by PCA
(linear, fast, and new songs can be placed exactly), t-SNE (scikit-learn; keeps neighbourhoods,
new songs are placed among their nearest neighbours) or UMAP (only when the `umap` package is
installed). Songs added later (the open song, generated results) land on the same map without
recomputing it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from studio.ml.analysis.corpus import AnalysisItem
from studio.ml.analysis.errors import AnalysisCancelled, AnalysisError
from studio.ml.analysis.features import (
    FeatureExtractor,
    HandcraftedFeatures,
    featurize,
    song_keys,
    standardiser,
)
from studio.music.song import Song

METHOD_TITLES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
ADDED_LABEL = "added"


def available_methods() -> list[str]:
    """The projections this installation offers: PCA and t-SNE always, UMAP when importable."""
    methods = ["pca", "tsne"]
    try:
        import umap  # noqa: F401
    except Exception:
        return methods
    return [*methods, "umap"]


def song_key(song: Song) -> str:
    """The estimated key of a song, e.g. 'G major' ('' when it has no pitched notes)."""
    return song_keys([song])[0]


@dataclass(eq=False)
class StyleMap:
    """Map points (`coords`, one row per item) with what is needed to place more songs."""

    items: list[AnalysisItem]
    coords: np.ndarray
    keys: list[str]
    method: str
    extractor: FeatureExtractor
    features: np.ndarray  # standardised features of the map's own items
    mean: np.ndarray
    scale: np.ndarray
    explained: tuple[float, float] | None = None  # PCA: variance share of the two axes
    added: list[int] = field(default_factory=list)  # indices of songs placed with `add`
    _pca: object | None = field(default=None, repr=False)
    _umap: object | None = field(default=None, repr=False)

    @property
    def labels(self) -> list[str]:
        return [i.label for i in self.items]

    @property
    def title(self) -> str:
        return f"{self.extractor.name}, {METHOD_TITLES.get(self.method, self.method)}"

    def place(self, songs: Sequence[Song], neighbours: int = 5) -> np.ndarray:
        """Map coordinates for songs that are not part of the map (the map stays as it is)."""
        if not len(songs):
            return np.zeros((0, 2))
        x = (featurize(self.extractor, songs) - self.mean) / self.scale
        if self._pca is not None:
            return self._pca.transform(x)
        if self._umap is not None:
            return np.asarray(self._umap.transform(x), dtype=np.float64)
        d = np.sqrt(((x[:, None, :] - self.features[None, :, :]) ** 2).sum(axis=2))
        k = min(neighbours, len(self.features))
        near = np.argsort(d, axis=1)[:, :k]
        w = 1.0 / (np.take_along_axis(d, near, axis=1) + 1e-6)
        return (self.coords[near] * w[:, :, None]).sum(axis=1) / w.sum(axis=1, keepdims=True)

    def add(self, named_songs: Sequence[tuple[str, Song]], label: str = ADDED_LABEL
            ) -> list[int]:
        """Place songs on the map as new points under `label`; returns their indices."""
        if not named_songs:
            return []
        xy = self.place([s for _, s in named_songs])
        start = len(self.items)
        for (name, song), _ in zip(named_songs, xy):
            self.items.append(AnalysisItem(name, label, song, name))
            self.keys.append(song_key(song))  # one at a time: few songs are added
        self.coords = np.vstack((self.coords, xy))
        self.added.extend(range(start, len(self.items)))
        return list(range(start, len(self.items)))

    def remove_added(self, label: str) -> None:
        """Take the songs added under `label` off the map again."""
        drop = {i for i in self.added if self.items[i].label == label}
        if not drop:
            return
        keep = [i for i in range(len(self.items)) if i not in drop]
        self.items = [self.items[i] for i in keep]
        self.keys = [self.keys[i] for i in keep]
        self.coords = self.coords[keep]
        new_index = {old: new for new, old in enumerate(keep)}
        self.added = [new_index[i] for i in self.added if i not in drop]

    def axis_titles(self) -> tuple[str, str]:
        """Axis captions: PCA axes with the share of variance they show."""
        if self.explained is not None:
            return (f"PC 1 ({self.explained[0]:.0%} of variance)",
                    f"PC 2 ({self.explained[1]:.0%} of variance)")
        name = METHOD_TITLES.get(self.method, self.method)
        return f"{name} 1", f"{name} 2"

    def distances(self, i: int) -> np.ndarray:
        """Euclidean map distance from point `i` to every point."""
        return np.sqrt(((self.coords - self.coords[i]) ** 2).sum(axis=1))


def build_style_map(items: Sequence[AnalysisItem], extractor: FeatureExtractor | None = None,
                    method: str = "pca", seed: int = 0,
                    progress: Callable[[float, str], None] | None = None,
                    cancel: Callable[[], bool] | None = None) -> StyleMap:
    """Project the items' features to 2-D with `method` (see `available_methods`)."""
    extractor = extractor or HandcraftedFeatures()
    if method not in METHOD_TITLES:
        raise AnalysisError(f"unknown map method {method!r}; use one of "
                            f"{', '.join(available_methods())}")
    if method not in available_methods():
        raise AnalysisError(f"{METHOD_TITLES[method]} needs the '{method}' package, which is not "
                            "installed; use PCA or t-SNE")
    if len(items) < 3:
        raise AnalysisError(f"a map needs at least 3 pieces or segments with notes, got "
                            f"{len(items)}")

    def stage(fraction: float, text: str) -> None:
        if cancel is not None and cancel():
            raise AnalysisCancelled()
        if progress is not None:
            progress(fraction, text)

    stage(0.0, f"features of {len(items)} items")
    raw = featurize(extractor, [i.song for i in items], cancel=cancel,
                    progress=lambda d, n: stage(0.6 * d / n, f"features {d}/{n}"))
    mean, scale = standardiser(raw)
    x = (raw - mean) / scale
    stage(0.6, f"{METHOD_TITLES[method]} projection")
    pca = umap_model = None
    explained = None
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed).fit(x)
        coords = pca.transform(x)
        explained = tuple(float(v) for v in pca.explained_variance_ratio_[:2])
    elif method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(2.0, (len(x) - 1) / 3.0)))
        from threadpoolctl import threadpool_limits  # installed with scikit-learn

        # One thread below a few thousand points: OpenMP threads cost more than they save
        # there, and on a busy CPU their spin-waiting can make t-SNE ten times slower.
        small = len(x) < 3000
        with threadpool_limits(1 if small else None):
            coords = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
                          learning_rate="auto", n_jobs=1 if small else None).fit_transform(x)
    else:
        import umap

        umap_model = umap.UMAP(n_components=2, random_state=seed,
                               n_neighbors=min(15, len(x) - 1)).fit(x)
        coords = np.asarray(umap_model.embedding_, dtype=np.float64)
    stage(0.95, "keys")
    keys = song_keys([i.song for i in items])
    stage(1.0, "done")
    return StyleMap(list(items), np.asarray(coords, dtype=np.float64), keys, method, extractor,
                    x, mean, scale, explained, [], pca, umap_model)
