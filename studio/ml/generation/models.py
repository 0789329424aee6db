"""The models generation uses: which can do a mode, the default one per mode, loading (verified,
then kept in memory), and what each was trained on (for the originality check and the style
score).

Loading is `studio.ml.library.load_model` (here as `load`), which checks the weights against
their card; a missing, unreadable or tampered file becomes a `ModelUnavailableError` (a
GenerationError) with the reason. A loaded model is reused while its file is unchanged.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from studio.ml.checkpoint import LoadedModel
from studio.ml.errors import GenerationError
from studio.ml.library import ModelEntry, list_models
from studio.ml.library import load_model as load

if TYPE_CHECKING:
    from studio.data import Dataset
    from studio.ml.analysis import StyleReference
    from studio.ml.bar_bank import BarBank
    from studio.ml.generation.originality import OriginalityIndex

# The shipped models each mode prefers, best first.
DEFAULTS = {
    "harmonize": ("cnn-harmonizer", "minibach-harmonizer"),
    "infill": ("cnn-harmonizer", "minibach-harmonizer"),
    "melody": ("lstm-melody", "vae-melody"),
    "continue": ("lstm-melody",),
    "interpolate": ("vae-melody",),
    "accompany": ("pop-accompanist",),
    "pop-infill": ("pop-lstm",),
}
ACCOMPANIMENT_REPRESENTATION = "accompaniment/"  # any version
SATB_REPRESENTATION = "satb-roll/1"
STYLE_LIMIT = 120  # training pieces (or melodies) the style critic is fitted on


_lock = threading.RLock()
_indexes: dict[tuple, OriginalityIndex] = {}
_styles: dict[tuple, StyleReference] = {}
_ranges: dict[tuple, tuple[int, int]] = {}
_banks: dict[tuple, BarBank | None] = {}
BANK_REPRESENTATION = "bar-bank/2"  # /2: each bar with its chords up to transposition


def available_models(mode: str) -> list[ModelEntry]:
    """Shipped and user models that can generate `mode` and whose files are present (the
    user's first, then the shipped ones, each by name)."""
    return [e for e in list_models(mode) if not e.problem]


def default_model(mode: str) -> str:
    """The name of the model the panel preselects for `mode`."""
    entries = available_models(mode)
    names = {e.name for e in entries}
    for name in DEFAULTS.get(mode, ()):
        if name in names:
            return name
    if not entries:
        raise GenerationError(f"no model in the library can {mode}; train one first")
    shipped = [e for e in entries if e.shipped]
    return (shipped or entries)[0].name


def is_accompanist(loaded: LoadedModel) -> bool:
    return str(loaded.card.get("representation", {}).get("name", "")).startswith(
        ACCOMPANIMENT_REPRESENTATION)


def _accompaniment_lines(loaded: LoadedModel, dataset: Dataset) -> list[tuple[str, np.ndarray]]:
    """(piece name, (n, 3) pitch/start/duration) of the training pieces' accompaniments."""
    from studio.ml.accompaniment import track_rows

    out = []
    for p in dataset.split("train"):
        number = p.metadata.get("pop909")
        if number is not None:
            from studio.data.pop909 import pop909_song

            out.append((p.name, pop909_song(int(number)).track_notes(2)[:, :3]))
            continue
        try:
            rows = track_rows(p.song(), loaded.family.config.accompaniment_track)
        except Exception:  # an unreadable piece: nothing to compare with
            rows = None
        if rows is not None:
            out.append((p.name, rows[:, :3]))
    return out


def plays_songs_bars(loaded: LoadedModel) -> bool:
    """Whether an accompanist's card asks for bars of its training songs (`decoding.texture`
    "songs", `studio.ml.bar_bank`) rather than the texture network's own voicings."""
    return is_accompanist(loaded) and loaded.card.get("decoding", {}).get("texture") == "songs"


def bar_bank(loaded: LoadedModel) -> BarBank | None:
    """The bars of an accompanist's training songs (`studio.ml.bar_bank`), built once per
    dataset (the built-in POP909's ships ready in resources/data/pop909; a stored dataset keeps
    its own in its cache), or None when the songs are gone or hold no full bar."""
    from studio.ml.bar_bank import BarBank

    dataset = training_dataset(loaded)
    if dataset is None or not is_accompanist(loaded):
        return None
    config = loaded.family.config
    key = (dataset.fingerprint(), BANK_REPRESENTATION, config.melody_track,
           config.accompaniment_track)
    with _lock:
        if key not in _banks:
            bank = None
            if dataset.name == "pop909" and (config.melody_track, config.accompaniment_track) \
                    == ("MELODY", "PIANO"):
                from studio.data.pop909 import BAR_BANK_PATH

                bank = BarBank.load(BAR_BANK_PATH, key[0])
            if bank is None:
                def build() -> BarBank:
                    return BarBank.from_dataset(dataset, config.melody_track,
                                                config.accompaniment_track)

                arrays = dataset.cached_arrays(
                    f"{BANK_REPRESENTATION}:{config.melody_track}:{config.accompaniment_track}",
                    lambda: build().arrays())
                try:
                    bank = BarBank.from_arrays(arrays)
                except ValueError:  # a damaged cache file: read the songs again
                    bank = build()
            _banks[key] = bank if len(bank) else None
        return _banks[key]


def is_satb(loaded: LoadedModel) -> bool:
    return loaded.card.get("representation", {}).get("name") == SATB_REPRESENTATION


def melody_voices(loaded: LoadedModel) -> str:
    return str(getattr(loaded.family.config, "voices", "soprano"))


def training_dataset(loaded: LoadedModel) -> Dataset | None:
    """The dataset the model was trained on, if it is still there (None otherwise)."""
    from studio.data import load_dataset

    name = loaded.card.get("dataset", {}).get("name")
    if not name:
        return None
    try:
        return load_dataset(name)
    except Exception:  # a user dataset deleted since: no originality or style for it
        return None


def _training_lines(loaded: LoadedModel, dataset: Dataset) -> list[tuple[str, np.ndarray]]:
    """(piece name, melody tokens) of every training line the model learned from."""
    from studio.ml import melody_tokens as mt
    from studio.ml import satb_roll as sr
    from studio.music.tokens import pitches_to_tokens

    pieces = dataset.split("train")
    if is_satb(loaded):
        arrays = sr.pieces(dataset, "train")
        names = [p.name for p in pieces] if len(arrays) == len(pieces) else \
            [f"{dataset.name} training piece {i + 1}" for i in range(len(arrays))]
        return [(n, pitches_to_tokens(sr.to_pitches(a[:, v])))
                for n, a in zip(names, arrays) for v in range(4)]
    voices = melody_voices(loaded)
    if all(p.satb is not None for p in pieces):
        cols = [0, 1, 2, 3] if voices == "all" else [0]
        return [(p.name, pitches_to_tokens(p.satb[:, v])) for p in pieces for v in cols]
    seqs = mt.sequences(dataset, "train", voices)
    names = [p.name for p in pieces] if len(seqs) == len(pieces) else \
        [f"{dataset.name} training melody {i + 1}" for i in range(len(seqs))]
    return list(zip(names, seqs))


def _key(loaded: LoadedModel, dataset: Dataset) -> tuple:
    kind = SATB_REPRESENTATION if is_satb(loaded) else f"melody/{melody_voices(loaded)}"
    return (dataset.fingerprint(), kind)


def originality_index(loaded: LoadedModel) -> OriginalityIndex | None:
    """The index of the model's training lines (built once per dataset and representation)."""
    from studio.ml.generation.originality import OriginalityIndex

    dataset = training_dataset(loaded)
    if dataset is None:
        return None
    if is_accompanist(loaded):
        from studio.ml.generation.run_index import PIANO_STYLE_RUN, RunIndex

        key = (dataset.fingerprint(), ACCOMPANIMENT_REPRESENTATION,
               loaded.family.config.accompaniment_track)
        with _lock:
            if key not in _indexes:
                _indexes[key] = RunIndex(_accompaniment_lines(loaded, dataset),
                                         style_run=PIANO_STYLE_RUN)
            return _indexes[key]
    key = _key(loaded, dataset)
    with _lock:
        if key not in _indexes:
            _indexes[key] = OriginalityIndex.from_tokens(_training_lines(loaded, dataset))
        return _indexes[key]


def style_reference(loaded: LoadedModel) -> StyleReference | None:
    """The style critic of the model's training set: the pieces for four-voice models, the
    training melodies (as one-track songs) for melody models."""
    from studio.ml.analysis import StyleReference, reference_for_dataset
    from studio.ml.melody_tokens import melody_song

    dataset = training_dataset(loaded)
    if dataset is None or is_accompanist(loaded):  # no critic of piano parts yet
        return None
    if is_satb(loaded):
        return reference_for_dataset(dataset, limit=STYLE_LIMIT)
    key = _key(loaded, dataset)
    with _lock:
        if key not in _styles:
            lines = _training_lines(loaded, dataset)
            if len(lines) > STYLE_LIMIT:
                pick = np.linspace(0, len(lines) - 1, STYLE_LIMIT).round().astype(int)
                lines = [lines[i] for i in pick]
            _styles[key] = StyleReference.fit([(n, melody_song(t, name=n)) for n, t in lines])
        return _styles[key]


def melody_range(loaded: LoadedModel) -> tuple[int, int] | None:
    """Lowest and highest pitch of the model's training melodies (None: unknown)."""
    dataset = training_dataset(loaded)
    if dataset is None:
        return None
    key = _key(loaded, dataset)
    with _lock:
        if key not in _ranges:
            pitches = np.concatenate([t[t < 128] for _, t in _training_lines(loaded, dataset)]
                                     or [np.zeros(0, np.int16)])
            if not len(pitches):
                return None
            _ranges[key] = (int(pitches.min()), int(pitches.max()))
        return _ranges[key]


def warm_up(model: str) -> LoadedModel:
    """Load the model and build its originality index and style critic now (a few seconds the
    first time), so that the first generation does not wait for them."""
    loaded = load(model)
    originality_index(loaded)
    style_reference(loaded)
    if plays_songs_bars(loaded):
        bar_bank(loaded)
    if not is_satb(loaded) and not is_accompanist(loaded):
        melody_range(loaded)
    return loaded
