"""The model library: the shipped models (`models/` in the repository) and the user's own
(`studio.paths.user_models_dir()`), each a `NAME.safetensors` (with its card inside) and a
`NAME.json` copy of the card (older models: the card only beside).

Listing reads only the cards (the weights file's header, or the JSON; no weights are loaded);
a card that cannot be read (damaged, nested 10 000 deep) is listed with its problem, never
raised. Loading goes through `studio.ml.checkpoint.load_checkpoint`, which verifies the model. A
user's model with the same name as a shipped one comes first when looked up by name.
`load_model` keeps what it loaded in memory while the files are unchanged: generation and the
style analysis share it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio import paths
from studio.ml.checkpoint import (
    CARD_SUFFIX,
    WEIGHTS_SUFFIX,
    LoadedModel,
    card_path,
    load_checkpoint,
    read_card,
    weights_path,
)
from studio.ml.errors import (
    CheckpointError,
    GenerationError,
    ModelUnavailableError,
    StudioMLError,
    UnknownModelError,
)
from studio.storage import remove_stale_temporaries

_lock = threading.RLock()
_loaded: dict[tuple[Path, str], tuple[tuple[int, int, int, int], LoadedModel]] = {}


@dataclass
class ModelEntry:
    """One model of the library, as its card describes it."""

    name: str
    path: Path  # the .safetensors file
    shipped: bool
    card: dict[str, Any]
    problem: str = ""  # why the card could not be read, if so

    @property
    def family(self) -> str:
        return str(self.card.get("family", "?"))

    @property
    def model(self) -> str:
        return str(self.card.get("model", self.family))

    # A card is a file from anywhere: every field is checked for its type before use.
    @property
    def modes(self) -> list[str]:
        from studio.ml.modes import model_modes

        modes = self.card.get("modes", [])
        return model_modes(modes, self.family) if isinstance(modes, list) else []

    @property
    def dataset(self) -> str:
        dataset = self.card.get("dataset", {})
        return str(dataset.get("name", "?")) if isinstance(dataset, dict) else "?"

    @property
    def created(self) -> str:
        return str(self.card.get("created", ""))

    @property
    def best_metrics(self) -> dict[str, float]:
        best, history = self.card.get("best_epoch", 0), self.card.get("metrics", [])
        if isinstance(best, bool) or not isinstance(best, int) or not isinstance(history, list):
            return {}
        row = history[best - 1] if 0 < best <= len(history) else {}
        return {k: float(v) for k, v in row.items() if isinstance(v, (int, float))} \
            if isinstance(row, dict) else {}

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0


def library_dirs() -> list[tuple[Path, bool]]:
    """(folder, shipped) pairs, the user's folder first."""
    return [(paths.user_models_dir(), False), (paths.SHIPPED_MODELS_DIR, True)]


def list_models(mode: str | None = None) -> list[ModelEntry]:
    """Every model with a card, the user's then the shipped ones, each sorted by name; with
    `mode`, only those that can generate it. Unreadable cards are listed with `problem`."""
    out: list[ModelEntry] = []
    for folder, shipped in library_dirs():
        if not folder.is_dir():
            continue
        if not shipped:
            remove_stale_temporaries(folder)  # of runs killed while writing
        stems = {p.name[:-len(CARD_SUFFIX)] for p in folder.glob("*" + CARD_SUFFIX)
                 if not p.name.endswith(".grid" + CARD_SUFFIX)}  # not a grid's results table
        stems |= {p.name[:-len(WEIGHTS_SUFFIX)] for p in folder.glob("*" + WEIGHTS_SUFFIX)
                  if not p.name.endswith(".state" + WEIGHTS_SUFFIX)}  # not a training state
        for stem in sorted(stems):
            if stem.startswith("."):
                continue
            weights = folder / (stem + WEIGHTS_SUFFIX)
            try:
                entry = ModelEntry(stem, weights, shipped, read_card(weights))
            except CheckpointError as e:
                entry = ModelEntry(stem, weights, shipped, {}, str(e))
            if not weights.exists():
                entry.problem = f"{weights}: the weights file is missing"
            if mode is None or mode in entry.modes:
                out.append(entry)
    return out


def find_model(name_or_path: str | os.PathLike) -> Path:
    """The weights path of a model given by library name or by path."""
    p = Path(name_or_path)
    if p.suffix in (WEIGHTS_SUFFIX, CARD_SUFFIX) or os.sep in str(name_or_path) or p.exists():
        if card_path(p).exists() or weights_path(p).exists():
            return weights_path(p)
        raise CheckpointError(f"{p}: no such model file")
    for folder, _ in library_dirs():
        if weights_path(folder / p.name).exists() or card_path(folder / p.name).exists():
            return weights_path(folder / p.name)
    names = ", ".join(e.name for e in list_models()) or "none yet"
    raise UnknownModelError(f"no model called {name_or_path!r} in the library (models: {names})")


def open_model(name_or_path: str | os.PathLike, *, family: str | None = None,
               device: str = "cpu") -> LoadedModel:
    """Find and load (verified) a model by library name or path, onto `device` (a name as
    `studio.ml.device.prepare_device` takes: auto, cpu, cuda, cuda:N, mps)."""
    from studio.ml.device import prepare_device

    return load_checkpoint(find_model(name_or_path), family=family,
                           device=prepare_device(device))


def _stamp(path: Path) -> tuple[int, int, int, int]:
    w = path.stat()
    try:  # the JSON card is only a copy for models that carry their card inside
        c = path.with_suffix(".json").stat()
    except FileNotFoundError:
        return (w.st_mtime_ns, w.st_size, 0, -1)
    return (w.st_mtime_ns, w.st_size, c.st_mtime_ns, c.st_size)


def load_model(model: str | os.PathLike, device: str = "cpu") -> LoadedModel:
    """The model, loaded and verified, on `device` (kept while its files are unchanged). A
    missing, unreadable or tampered file, or a name not in the library, is a
    `ModelUnavailableError`."""
    try:
        path = find_model(model).resolve()
        with _lock:
            stamp = _stamp(path)
            hit = _loaded.get((path, device))
            if hit is not None and hit[0] == stamp:
                return hit[1]
            loaded = open_model(path, device=device)
            _loaded[(path, device)] = (stamp, loaded)
            return loaded
    except FileNotFoundError:
        raise ModelUnavailableError(f"{model}: the model file is missing") from None
    except GenerationError:
        raise
    except StudioMLError as e:
        raise ModelUnavailableError(str(e)) from None


def _user_entry(entry: ModelEntry) -> None:
    if entry.shipped:
        raise StudioMLError(f"{entry.name} is a shipped model; it cannot be changed")


def delete_model(entry: ModelEntry) -> None:
    """Remove a user's model (weights, card and any training state)."""
    _user_entry(entry)
    from studio.ml.train_state import state_path

    for p in (entry.path, card_path(entry.path), state_path(entry.path)):
        p.unlink(missing_ok=True)


def rename_model(entry: ModelEntry, new_name: str) -> ModelEntry:
    """Give a user's model another name (files renamed, the card's name updated)."""
    from studio.ml.checkpoint import rewrite_card

    _user_entry(entry)
    new_name = new_name.strip()
    if not new_name or any(c in new_name for c in '/\\:*?"<>|') or new_name.startswith("."):
        raise StudioMLError(f"{new_name!r} cannot be a model name")
    target = entry.path.with_name(new_name + WEIGHTS_SUFFIX)
    if target.exists() or card_path(target).exists():
        raise StudioMLError(f"a model called {new_name} already exists")
    card = rewrite_card(entry.path, target, dict(entry.card, name=new_name))
    for old in (entry.path, card_path(entry.path)):
        old.unlink(missing_ok=True)
    return ModelEntry(new_name, target, False, card)
