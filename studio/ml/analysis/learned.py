"""Learned features: what a trained model "thinks" of a song, as a `FeatureExtractor`.

`LearnedFeatures` wraps any trained model that can encode songs: the code of an autoencoder or
VAE, the hidden state of an LSTM. It takes the model object and calls its `encode_songs(songs)`
(or `encode(songs)`) method, or any callable from songs to an (n, dim) array, so the model
families plug in without this package knowing them.

`RollAutoencoder` is a small autoencoder of this package's own, over a time-normalised
pitch-class roll of each song: it is fitted on the very songs being analysed (unsupervised, the
labels are never seen) and gives the critic and the map a learned representation even where no
trained model of the studio's families is at hand. The trained models themselves (melody VAE,
autoencoders, LSTM / GRU / RNN) become extractors in `studio.ml.analysis.model_features`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager

import numpy as np

from studio.ml.analysis.errors import AnalysisCancelled, AnalysisError
from studio.ml.analysis.features import note_columns
from studio.music.song import Song

ENCODE_METHODS = ("encode_songs", "encode")


@contextmanager
def _one_thread():
    """A model this small runs fastest on one thread (several threads fight on a busy CPU)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class LearnedFeatures:
    """A `FeatureExtractor` over a trained model's encoding of songs."""

    def __init__(self, encode: Callable[[Sequence[Song]], object], name: str = "learned") -> None:
        self._encode = encode
        self.name = name

    @classmethod
    def from_model(cls, model: object, name: str | None = None) -> LearnedFeatures:
        """Use `model.encode_songs(songs)` or else `model.encode(songs)`."""
        for method in ENCODE_METHODS:
            fn = getattr(model, method, None)
            if callable(fn):
                label = name or getattr(model, "feature_name", None) or type(model).__name__
                return cls(fn, label)
        raise AnalysisError(f"{type(model).__name__} cannot encode songs (it has no "
                            f"{' or '.join(ENCODE_METHODS)} method)")

    def features(self, songs: Sequence[Song]) -> np.ndarray:
        out = self._encode(list(songs))
        if hasattr(out, "detach"):  # a torch tensor
            out = out.detach().cpu().numpy()
        x = np.asarray(out, dtype=np.float64)
        if x.ndim == 1 and len(songs) == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[0] != len(songs):
            raise AnalysisError(f"{self.name} encoded {len(songs)} songs as shape {x.shape}; "
                                "expected one row per song")
        return x

    def __repr__(self) -> str:
        return f"LearnedFeatures({self.name!r})"


def song_roll(song: Song, bins: int = 32) -> np.ndarray:
    """A flat input vector: the pitch-class roll over `bins` equal time slices of the song
    (duration-weighted, each slice scaled to sum 1), onsets per slice, and the octave profile."""
    pitch, start, dur, _ = note_columns(song)
    if not len(pitch):
        raise AnalysisError(f"{song.title or 'a song'} has no notes to encode")
    t0, t1 = int(start.min()), int((start + dur).max())
    edges = np.linspace(t0, t1, bins + 1)
    end = start + dur
    overlap = np.clip(np.minimum(end[:, None], edges[None, 1:])
                      - np.maximum(start[:, None], edges[None, :-1]), 0, None)
    chroma = np.zeros((12, bins))
    np.add.at(chroma, pitch % 12, overlap)
    chroma /= np.maximum(chroma.sum(axis=0, keepdims=True), 1e-9)
    onset_bin = np.minimum(np.searchsorted(edges, start, side="right") - 1, bins - 1)
    onsets = np.bincount(onset_bin, minlength=bins).astype(np.float64)
    onsets /= max(1.0, onsets.max())
    octaves = np.bincount(np.minimum(pitch // 12, 10), weights=dur.astype(np.float64),
                          minlength=11)
    octaves /= octaves.sum()
    return np.concatenate((chroma.T.ravel(), onsets, octaves)).astype(np.float32)


class RollAutoencoder:
    """A small fully connected autoencoder; its code is the learned feature of a song."""

    feature_name = "autoencoder code"

    def __init__(self, code_size: int = 16, hidden: int = 64, bins: int = 32, seed: int = 0
                 ) -> None:
        import torch
        from torch import nn

        self.bins = bins
        self.code_size = code_size
        dim = bins * 12 + bins + 11
        gen = torch.Generator().manual_seed(seed)
        self._seed = seed
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
            self.encoder = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(),
                                         nn.Linear(hidden, code_size))
            self.decoder = nn.Sequential(nn.Linear(code_size, hidden), nn.ReLU(),
                                         nn.Linear(hidden, dim))
        self.loss_history: list[float] = []

    def inputs(self, songs: Sequence[Song]):
        import torch

        return torch.from_numpy(np.stack([song_roll(s, self.bins) for s in songs]))

    def reconstruction_loss(self, songs: Sequence[Song]) -> float:
        import torch

        x = self.inputs(songs)
        with torch.no_grad():
            return float(torch.mean((self.decoder(self.encoder(x)) - x) ** 2))

    def fit(self, songs: Sequence[Song], epochs: int = 60, batch: int = 64, lr: float = 3e-3,
            cancel: Callable[[], bool] | None = None) -> list[float]:
        """Train on `songs` (no labels); returns the mean loss of each epoch."""
        import torch

        if len(songs) < 2:
            raise AnalysisError("the autoencoder needs at least two songs to learn from")
        x = self.inputs(songs)
        params = [*self.encoder.parameters(), *self.decoder.parameters()]
        opt = torch.optim.Adam(params, lr=lr)
        gen = torch.Generator().manual_seed(self._seed)
        self.encoder.train()
        self.decoder.train()
        with _one_thread():
            self._train(x, opt, epochs, batch, gen, cancel)
        self.encoder.eval()
        self.decoder.eval()
        return self.loss_history

    def _train(self, x, opt, epochs: int, batch: int, gen, cancel) -> None:
        import torch

        for _ in range(epochs):
            if cancel is not None and cancel():
                raise AnalysisCancelled()
            order = torch.randperm(len(x), generator=gen)
            total = 0.0
            for i in range(0, len(x), batch):
                xb = x[order[i:i + batch]]
                loss = torch.mean((self.decoder(self.encoder(xb)) - xb) ** 2)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(xb)
            self.loss_history.append(total / len(x))

    def encode_songs(self, songs: Sequence[Song]) -> np.ndarray:
        import torch

        with torch.no_grad(), _one_thread():
            return self.encoder(self.inputs(songs)).numpy().astype(np.float64)


def fitted_roll_autoencoder(songs: Sequence[Song], epochs: int = 60, seed: int = 0,
                            cancel: Callable[[], bool] | None = None) -> LearnedFeatures:
    """A `RollAutoencoder` trained on `songs`, wrapped as a feature extractor."""
    model = RollAutoencoder(seed=seed)
    model.fit(songs, epochs=epochs, cancel=cancel)
    return LearnedFeatures.from_model(model, f"{model.feature_name} (fitted here)")
