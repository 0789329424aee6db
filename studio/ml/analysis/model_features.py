"""Learned features from the studio's trained models: what a VAE, an autoencoder or an LSTM of
the model library "thinks" of each song.

Each song's melody (the highest line of its pitched tracks, turned into the 16th-note melody
tokens the melody families train on: `studio.ml.melody_tokens.song_melodies`) is read by a
trained model of the library, shipped (`models/`) or the user's own:

- autoencoder families (`vae`, `autoencoder`, `sparse-autoencoder`): the melody is cut into the
  model's segments (`studio.ml.melody_segments.split_melody`, the last one padded with rests)
  and each segment encoded by the family (`codes_of`: the posterior mean for the VAE); a song's
  row is the mean of its segment codes followed by their spread (zeros for a one-segment song);
- recurrent families (`lstm`, `gru`, `rnn`): the model reads the melody token by token as it
  does when continuing one; a song's row is the mean over time of the last layer's hidden
  state followed by the state after the last token.

Keys: by default each melody is first moved to C major / A minor (by the key estimated from all
its notes, as the hand-crafted features do) and into the octave that centres it near A#4, so a
song and its transposed copies get the same features (register is left out, as the invariant
hand-crafted features leave it out); `key_normalised=False` keeps the melodies as written
(the models were trained with random transpositions of up to 5 semitones, so their features
are only roughly invariant then). A song without notes is an `AnalysisError`, as for the
hand-crafted features; a very short melody is padded (segments) or read as it is (recurrent).
Everything runs batched on one torch thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from studio.ml.analysis.errors import AnalysisError
from studio.ml.analysis.features import estimate_keys, note_columns
from studio.ml.analysis.learned import LearnedFeatures
from studio.music.song import Song

if TYPE_CHECKING:
    from studio.ml.checkpoint import LoadedModel
    from studio.ml.library import ModelEntry

SEGMENT_FAMILIES = ("vae", "autoencoder")
RECURRENT_FAMILIES = ("recurrent",)
MAX_STEPS = 2048  # a recurrent model reads at most the first 128 bars of 4/4 of a song
SEGMENT_BATCH = 4096
# Recurrent batches: up to 128 songs of similar length and 32k steps in all. Bigger batches
# are slower on one CPU thread (about 66k steps/s at 128 x 200, 37k at 1024 x 64: cache).
RECURRENT_BATCH = 128
RECURRENT_TOKENS = 32 * 1024
PITCHES = 128
REGISTER = 70  # key-normalised melodies are moved by octaves to centre near this pitch (A#4)


def can_encode(entry: ModelEntry) -> bool:
    """Whether a library model can describe songs (a melody autoencoder, VAE or RNN)."""
    return not entry.problem and entry.family in SEGMENT_FAMILIES + RECURRENT_FAMILIES


def encoder_models() -> list[ModelEntry]:
    """The library's models that can encode songs: the user's first, then the shipped ones."""
    from studio.ml.library import list_models

    return [e for e in list_models() if can_encode(e)]


def feature_title(entry_or_loaded: ModelEntry | LoadedModel) -> str:
    """'melody VAE code (vae-melody)', 'LSTM hidden state (lstm-melody)', ..."""
    card = entry_or_loaded.card
    name = str(card.get("name", ""))
    family, kind = card.get("family"), str(card.get("model", card.get("family", "")))
    if family in RECURRENT_FAMILIES:
        return f"{kind.upper()} hidden state ({name})"
    if family == "vae":
        return f"melody VAE code ({name})"
    return f"{kind.replace('-', ' ')} code ({name})"


def _key_shifts(songs: Sequence[Song]) -> np.ndarray:
    """Semitones (-6..5) that move each song's estimated key to C major / A minor."""
    pcs = np.zeros((len(songs), 12))
    for i, song in enumerate(songs):
        pitch, _, dur, _ = note_columns(song)
        np.add.at(pcs[i], pitch % 12, dur.astype(np.float64))
    tonic, minor = estimate_keys(pcs)
    major_tonic = np.where(minor, tonic + 3, tonic) % 12
    return (6 - major_tonic) % 12 - 6


def song_melody_tokens(songs: Sequence[Song], key_normalised: bool = True) -> list[np.ndarray]:
    """The top-line melody tokens of each song (moved to C major / A minor when asked)."""
    from studio.ml.melody_tokens import song_melodies
    from studio.music.tokens import HOLD

    shifts = _key_shifts(songs) if key_normalised else np.zeros(len(songs), int)
    out = []
    for song, shift in zip(songs, shifts):
        melodies = song_melodies(song, "soprano")
        tokens = melodies[0].astype(np.int64) if melodies else np.zeros(0, np.int64)
        pitched = tokens < HOLD
        if not pitched.any():
            raise AnalysisError(f"{song.title or 'a song'} has no notes to encode")
        if key_normalised:  # the octave that puts the melody's middle nearest REGISTER
            middle = float(np.median(tokens[pitched])) + shift
            shift += 12 * int(np.floor((REGISTER - middle) / 12 + 0.5))
            low, high = tokens[pitched].min(), tokens[pitched].max()
            while low + shift < 0 and high + shift + 12 < PITCHES:
                shift += 12
            while high + shift >= PITCHES and low + shift - 12 >= 0:
                shift -= 12
            tokens[pitched] = np.clip(tokens[pitched] + shift, 0, PITCHES - 1)
        out.append(tokens)
    return out


class ModelEncoder:
    """Songs -> one row each, read by a loaded model of the library (see the module doc)."""

    def __init__(self, loaded: LoadedModel, key_normalised: bool = True) -> None:
        family = loaded.card.get("family")
        if family not in SEGMENT_FAMILIES + RECURRENT_FAMILIES:
            usable = ", ".join(e.name for e in encoder_models()) or "none yet"
            raise AnalysisError(f"{loaded.name} is a {family} model; only melody autoencoders, "
                                "VAEs and recurrent models (LSTM, GRU, RNN) can describe songs "
                                f"(in your library: {usable})")
        self.loaded = loaded
        self.key_normalised = key_normalised
        self.recurrent = family in RECURRENT_FAMILIES
        self.feature_name = feature_title(loaded)

    def encode_songs(self, songs: Sequence[Song]) -> np.ndarray:
        import torch

        from studio.ml.sampling import torch_threads

        melodies = song_melody_tokens(songs, self.key_normalised)
        with torch_threads(1), torch.inference_mode():
            self.loaded.model.eval()
            if self.recurrent:
                return self._states(melodies, songs)
            return self._codes(melodies)

    def _codes(self, melodies: list[np.ndarray]) -> np.ndarray:
        import torch

        from studio.ml.melody_segments import split_melody

        family, model = self.loaded.family, self.loaded.model
        segs = [split_melody(m, family.config.length)[0] for m in melodies]
        counts = np.array([len(s) for s in segs])
        flat = torch.from_numpy(np.concatenate(segs).astype(np.int64))
        codes = np.concatenate([family.codes_of(model, flat[i:i + SEGMENT_BATCH]).float().numpy()
                                for i in range(0, len(flat), SEGMENT_BATCH)]).astype(np.float64)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        mean = np.add.reduceat(codes, starts, axis=0) / counts[:, None]
        square = np.add.reduceat(codes ** 2, starts, axis=0) / counts[:, None]
        spread = np.sqrt(np.maximum(square - mean ** 2, 0.0))
        return np.hstack((mean, spread))

    def _states(self, melodies: list[np.ndarray], songs: Sequence[Song]) -> np.ndarray:
        import torch

        from studio.ml import melody_tokens as mt
        from studio.music.tokens import REST

        model = self.loaded.model
        inputs = [np.concatenate(([mt.BOS], m[:MAX_STEPS])) for m in melodies]
        bars = [mt.steps_per_bar(s) for s in songs]
        order = np.argsort([-len(x) for x in inputs], kind="stable")  # longest first
        hidden = model.rnn.hidden_size
        out = np.zeros((len(songs), 2 * hidden))
        i = 0
        while i < len(order):  # batches of songs of similar length, padded at the end
            longest = len(inputs[order[i]])
            batch = order[i:i + max(1, min(RECURRENT_BATCH, RECURRENT_TOKENS // longest))]
            x = np.full((len(batch), longest), REST, np.int64)
            p = np.zeros((len(batch), longest), np.int64)
            for row, j in enumerate(batch):
                x[row, :len(inputs[j])] = inputs[j]
                p[row, :len(inputs[j])] = np.arange(len(inputs[j])) % bars[j]
            h, _ = model.hidden(torch.from_numpy(x), torch.from_numpy(p))
            lengths = torch.tensor([len(inputs[j]) for j in batch])
            valid = (torch.arange(longest)[None, :] < lengths[:, None]).float()[..., None]
            mean = (h * valid).sum(1) / lengths[:, None]
            last = h[torch.arange(len(batch)), lengths - 1]
            out[batch] = torch.cat((mean, last), 1).double().numpy()
            i += len(batch)
        return out


def load_encoder_model(model: str | os.PathLike) -> LoadedModel:
    """The library model (by name or path), verified; an `AnalysisError` says why not."""
    from studio.ml.errors import StudioMLError
    from studio.ml.library import load_model

    try:
        return load_model(model)
    except StudioMLError as e:
        raise AnalysisError(f"cannot use the model {model} for features: {e}") from None


def model_features(model: str | os.PathLike, key_normalised: bool = True) -> LearnedFeatures:
    """A `LearnedFeatures` over a library model, by name (e.g. `vae-melody`) or path."""
    encoder = ModelEncoder(load_encoder_model(model), key_normalised)
    return LearnedFeatures.from_model(encoder)


DEFAULT_LEARNED = "vae-melody"  # separates styles better than the fitted autoencoder, and faster
FITTED_AUTOENCODER = "autoencoder"


def default_learned() -> str:
    """`DEFAULT_LEARNED` when it is in the library, else the fitted autoencoder."""
    return DEFAULT_LEARNED if any(e.name == DEFAULT_LEARNED for e in encoder_models()) \
        else FITTED_AUTOENCODER


def learned_features(choice: str, songs: Sequence[Song], seed: int = 0,
                     cancel: Callable[[], bool] | None = None) -> LearnedFeatures:
    """`"autoencoder"`: the small autoencoder fitted on `songs`; anything else: the library
    model of that name (or path) as a feature extractor."""
    if choice == FITTED_AUTOENCODER:
        from studio.ml.analysis.learned import fitted_roll_autoencoder

        return fitted_roll_autoencoder(songs, seed=seed, cancel=cancel)
    return model_features(choice)
