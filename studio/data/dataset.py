"""The dataset model: named collections of pieces with a deterministic train/valid/test split.

A `Piece` is one piece of music: its name, its split, and its song (built lazily; the JSB chorales
also keep their four-voice arrays, which the SATB models use directly). The trainer reaches data
only through `Dataset.split(name)` and the pieces' `song()` / `satb`, never through file paths.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from studio.music.song import Song
from studio.storage import atomic_path, name_bytes

if TYPE_CHECKING:
    from studio.midi.parse import ParsedMidi

SPLITS = ("train", "valid", "test")
_ARRAY_CACHE: dict[tuple[str, str], dict[str, np.ndarray]] = {}


@dataclass(eq=False)
class Piece:
    name: str
    split: str
    source: str = ""
    satb: np.ndarray | None = None  # (steps, 4) int8 pitches, -1 silent (16th grid)
    metadata: dict = field(default_factory=dict)
    loader: Callable[[], Song] | None = None
    parsed_loader: Callable[[], ParsedMidi] | None = None  # the notes as arrays (statistics)
    _song: Song | None = None

    def song(self) -> Song:
        """The piece as a Song (built once, then cached)."""
        if self._song is None:
            if self.loader is not None:
                self._song = self.loader()
            elif self.satb is not None:
                from studio.music.grids import satb_to_song

                self._song = satb_to_song(self.satb)
                self._song.title = self.name
            else:
                raise ValueError(f"piece {self.name!r} has no music attached")
        return self._song


@dataclass(eq=False)
class Dataset:
    name: str
    pieces: list[Piece]
    description: str = ""
    builtin: bool = False
    path: Path | None = None  # the dataset's folder in the store (None: not stored)

    def split(self, name: str) -> list[Piece]:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; use one of {', '.join(SPLITS)}")
        return [p for p in self.pieces if p.split == name]

    def __len__(self) -> int:
        return len(self.pieces)

    def cached_arrays(self, key: str, compute: Callable[[], dict[str, np.ndarray]]
                      ) -> dict[str, np.ndarray]:
        """Encoded arrays for a representation (`key` names it and its settings), computed once.

        Kept in memory, and for stored datasets also on disk as `cache/*.npz` beside the manifest
        (numpy arrays only, loaded without pickle), so the next session starts at once. A cache
        made for other pieces (another fingerprint) is never used.
        """
        full = (self.fingerprint(), key)
        if full in _ARRAY_CACHE:
            return _ARRAY_CACHE[full]
        file = self._cache_file(key, full[0])
        arrays = _load_npz(file) if file is not None else None
        if arrays is None:
            arrays = compute()
            if file is not None:
                _save_npz(file, arrays)
        _ARRAY_CACHE[full] = arrays
        return arrays

    def _cache_file(self, key: str, fingerprint: str) -> Path | None:
        if self.path is None:
            return None
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", key)[:48]
        digest = hashlib.sha256(key.encode()).hexdigest()[:8]
        return self.path / "cache" / f"{slug}-{digest}-{fingerprint}.npz"

    def fingerprint(self) -> str:
        """A short hash of the pieces' names, splits and music, recorded in model cards."""
        h = hashlib.sha256(name_bytes(self.name))
        for p in self.pieces:
            h.update(name_bytes(f"{p.name}\0{p.split}\0"))
            if p.satb is not None:
                h.update(np.ascontiguousarray(p.satb).tobytes())
            else:
                h.update(name_bytes(p.source))
                h.update(str(p.metadata.get("content_hash", "")).encode())
        return h.hexdigest()[:16]


def split_for(name: str, valid_fraction: float = 0.1, test_fraction: float = 0.1) -> str:
    """Deterministic split by piece name: the same piece lands in the same split on every
    machine and every import, whatever else is in the dataset."""
    x = int.from_bytes(hashlib.sha256(name_bytes(name)).digest()[:8], "big") / 2**64
    if x < test_fraction:
        return "test"
    if x < test_fraction + valid_fraction:
        return "valid"
    return "train"


def _load_npz(file: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(file, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # damaged: recompute
        return None


def _save_npz(file: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write atomically (`studio.storage.atomic_path`); a cache that cannot be written (full
    disk, object arrays) stays in memory only."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        for old in file.parent.glob(file.name.rsplit("-", 1)[0] + "-*.npz"):
            old.unlink(missing_ok=True)  # the same representation for older pieces
        with atomic_path(file) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **{k: np.asarray(v) for k, v in arrays.items()})
            with np.load(tmp, allow_pickle=False) as z:  # refuse what would need pickle to load
                for k in z.files:
                    z[k]
    except (OSError, ValueError, TypeError):
        pass
