"""Colours of the style map's points, shared by the interactive view and the PNG renderer.

By dataset: a qualitative palette in the order the datasets were added (added songs, such as the
open song and generated results, always get black outlined markers). By key: the hue follows the
circle of fifths, so neighbouring keys get neighbouring colours; minor keys are lighter.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QColor

from studio.music.keys import FLAT_NAMES, SHARP_NAMES

COLOUR_MODES = {"dataset": "Dataset", "key": "Key"}
# Tableau 10: distinct, colour-blind friendly enough, readable on white.
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac")
UNKNOWN = QColor("#9e9e9e")


def _tonic_index(key: str) -> int | None:
    name = key.split(" ")[0] if key else ""
    for names in (SHARP_NAMES, FLAT_NAMES):
        if name in names:
            return names.index(name)
    return None


def key_colour(key: str) -> QColor:
    """Hue by the tonic's place on the circle of fifths; minor keys lighter."""
    tonic = _tonic_index(key)
    if tonic is None:
        return QColor(UNKNOWN)
    fifths = (tonic * 7) % 12
    minor = key.endswith("minor")
    return QColor.fromHsv(int(fifths * 30) % 360, 120 if minor else 220, 245 if minor else 200)


def key_sort_order(key: str) -> tuple[int, int]:
    tonic = _tonic_index(key)
    return ((tonic * 7) % 12 if tonic is not None else 99, int(key.endswith("minor")))


def point_colours(labels: Sequence[str], keys: Sequence[str], mode: str,
                  order: Sequence[str] | None = None) -> tuple[list[QColor], list[tuple[str, QColor]]]:
    """A colour per point and the legend entries (text, colour) for `mode` ('dataset'|'key')."""
    if mode == "key":
        colours = [key_colour(k) for k in keys]
        present = sorted({k for k in keys if k}, key=key_sort_order)
        return colours, [(k, key_colour(k)) for k in present]
    names = list(order) if order is not None else list(dict.fromkeys(labels))
    table = {n: QColor(PALETTE[i % len(PALETTE)]) for i, n in enumerate(names)}
    colours = [table.get(label, UNKNOWN) for label in labels]
    return colours, [(n, table[n]) for n in names]
