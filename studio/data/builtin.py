"""Built-in corpora, available offline at first launch: the JSB chorales (382 Bach chorales,
16th-note grid, four voices, with the standard 229 / 76 / 77 split used in published work) and
POP909 (861 pop songs with melody, bridge and piano accompaniment; `studio.data.pop909`) and
folk tunes (melodies from music21's public-domain collections; `studio.data.folk`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from studio.data.dataset import SPLITS, Dataset, Piece

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
JSB_PATH = RESOURCES / "data" / "jsb" / "jsb_chorales_16th.npz"


def jsb_arrays(path: Path = JSB_PATH) -> dict[str, list[np.ndarray]]:
    """The chorales as (steps, 4) int8 arrays per split."""
    with np.load(path) as z:
        out = {}
        for split in SPLITS:
            p, o = z[f"{split}_pitches"], z[f"{split}_offsets"]
            out[split] = [p[o[i]:o[i + 1]].copy() for i in range(len(o) - 1)]
    return out


@lru_cache(maxsize=1)
def _jsb_cached() -> dict[str, list[np.ndarray]]:
    return jsb_arrays()


def jsb_chorales() -> Dataset:
    """The JSB chorales dataset (a new Dataset object each call; arrays are shared, read-only)."""
    pieces = []
    for split, arrays in _jsb_cached().items():
        for i, a in enumerate(arrays):
            a.setflags(write=False)
            pieces.append(Piece(f"jsb-{split}-{i:03d}", split, f"builtin:jsb/{split}/{i}", a,
                                {"steps": len(a)}))
    return Dataset("jsb", pieces, "J. S. Bach chorales, four voices, 16th-note grid",
                   builtin=True)


def _pop909() -> Dataset:
    from studio.data.pop909 import pop909

    return pop909()


def _folk() -> Dataset:
    from studio.data.folk import folk

    return folk()


BUILTIN = {"jsb": jsb_chorales, "pop909": _pop909, "folk": _folk}
