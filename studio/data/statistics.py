"""Dataset statistics: pitch and note-length histograms, pieces per key and meter, totals.

Stored datasets keep each piece's histograms from the import (`stats.npz`), so statistics of
thousands of pieces take milliseconds; other pieces (the built-in chorales, augmented pieces) are
summarised from their SATB arrays or songs once and remembered in `piece.metadata`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from studio.data.dataset import SPLITS, Dataset, Piece
from studio.data.piece_content import (
    LENGTH_LABELS,
    histograms,
    parsed_from_song,
    piece_metadata,
)
from studio.midi.parse import ParsedMidi, ParsedTrack
from studio.music.grids import SIXTEENTH, VOICE_NAMES


@dataclass
class DatasetStatistics:
    pieces: int = 0
    notes: int = 0
    seconds: float = 0.0
    splits: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    pitch_hist: np.ndarray = field(default_factory=lambda: np.zeros(128, np.int64))
    length_hist: np.ndarray = field(default_factory=lambda: np.zeros(len(LENGTH_LABELS),
                                                                     np.int64))
    keys: Counter = field(default_factory=Counter)
    meters: Counter = field(default_factory=Counter)
    instruments: Counter = field(default_factory=Counter)
    length_labels: tuple[str, ...] = LENGTH_LABELS

    def pitch_range(self) -> tuple[int, int] | None:
        used = np.nonzero(self.pitch_hist)[0]
        return (int(used[0]), int(used[-1])) if len(used) else None


def satb_parsed(satb: np.ndarray, qpm: float = 90.0) -> ParsedMidi:
    """Four-voice arrays as parsed tracks (a note per run of equal pitch), without Song objects."""
    tracks = []
    for v in range(satb.shape[1]):
        voice = satb[:, v].astype(np.int64)
        change = np.ones(len(voice), dtype=bool)
        change[1:] = voice[1:] != voice[:-1]
        starts = np.nonzero(change)[0]
        ends = np.append(starts[1:], len(voice))
        keep = voice[starts] >= 0
        starts, ends = starts[keep], ends[keep]
        notes = np.stack([voice[starts], starts * SIXTEENTH, (ends - starts) * SIXTEENTH,
                          np.full(len(starts), 80)], axis=1).astype(np.int32) \
            if len(starts) else np.zeros((0, 4), np.int32)
        tracks.append(ParsedTrack(VOICE_NAMES[v] if v < 4 else f"Voice {v + 1}", 0, False, notes))
    return ParsedMidi(480, 1, tracks, [(0, round(60_000_000 / qpm))], [(0, 4, 4)], [])


def piece_summary(piece: Piece) -> tuple[dict, np.ndarray, np.ndarray]:
    """(metadata, pitch histogram, length histogram) of any piece; computed once per piece."""
    cached = piece.metadata.get("_hists")
    if cached is not None and "notes" in piece.metadata:
        return piece.metadata, cached[0], cached[1]
    if piece.satb is not None:
        parsed = satb_parsed(piece.satb)
    elif piece.parsed_loader is not None:
        parsed = piece.parsed_loader()
    else:
        parsed = parsed_from_song(piece.song())
    for k, v in piece_metadata(parsed).items():
        piece.metadata.setdefault(k, v)
    pitch, length = histograms(parsed)
    piece.metadata["_hists"] = (pitch, length)
    return piece.metadata, pitch, length


def _stored_histograms(dataset: Dataset, manifest=None
                       ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if manifest is not None:
        return manifest.hists
    if dataset.path is None:
        return {}
    from studio.data.store import Manifest, _read_stats, replay_journal

    hists = _read_stats(dataset.path / "stats.npz")
    m = Manifest(dataset.name, hists=hists)
    replay_journal(dataset.path / "journal.jsonl", m)
    return m.hists


def dataset_statistics(dataset: Dataset, manifest=None) -> DatasetStatistics:
    """`manifest`: the stored dataset's `Manifest` when the caller has it (saves a read)."""
    stats = DatasetStatistics()
    stored = _stored_histograms(dataset, manifest)
    for piece in dataset.pieces:
        h = stored.get(str(piece.metadata.get("content_hash")))
        if h is not None and "notes" in piece.metadata:
            meta, pitch, length = piece.metadata, h[0], h[1]
        else:
            meta, pitch, length = piece_summary(piece)
        stats.pieces += 1
        stats.splits[piece.split] = stats.splits.get(piece.split, 0) + 1
        stats.notes += int(meta.get("notes", 0))
        stats.seconds += float(meta.get("seconds", 0.0))
        stats.pitch_hist += pitch
        stats.length_hist += length
        if meta.get("key"):
            stats.keys[meta["key"]] += 1
        for m in meta.get("time_signatures", [])[:1]:
            stats.meters[m] += 1
        for inst in meta.get("instruments", []):
            stats.instruments[inst] += 1
    return stats
