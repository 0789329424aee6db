"""The notes of each track as numpy columns sorted by start, for drawing and hit-testing fast.

The song (a list of `Note` objects per track) stays the truth; `NoteColumns` keeps one
`TrackColumns` per track and rebuilds only the tracks an edit touched (found from the edit and its
inverse, which `Document.changed` handlers can read as `document.last_change`). Queries cull by
time with a binary search on the sorted starts and on the running maximum of the ends, so a view
of a 100,000-note song only looks at the notes near the screen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.music.chord_lane import SetChords
from studio.music.edits import (
    AddNotes,
    ChangeNotes,
    ChangeSong,
    ChangeTrack,
    Compound,
    MoveNotesToTrack,
    RemoveNotes,
)
from studio.music.song import Song, Track


@dataclass
class TrackColumns:
    """One track's notes sorted by (start, pitch). `reach[i]` = max end of notes 0..i."""

    track_id: int
    start: np.ndarray
    end: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    id: np.ndarray
    reach: np.ndarray

    @classmethod
    def of(cls, track: Track) -> TrackColumns:
        n = len(track.notes)
        flat = np.fromiter((v for x in track.notes for v in (x.start, x.duration, x.pitch,
                                                              x.velocity, x.id)),
                           dtype=np.int64, count=5 * n).reshape(n, 5)
        order = np.lexsort((flat[:, 2], flat[:, 0])) if n else np.zeros(0, dtype=np.int64)
        flat = flat[order]
        start = flat[:, 0].copy()
        end = start + flat[:, 1]
        return cls(track.id, start, end, flat[:, 2].copy(), flat[:, 3].copy(),
                   flat[:, 4].copy(), np.maximum.accumulate(end) if n else end.copy())

    def __len__(self) -> int:
        return len(self.start)

    def visible(self, t0: float, t1: float, p_lo: int = 0, p_hi: int = 127) -> np.ndarray:
        """Indices of notes overlapping [t0, t1) with pitch in [p_lo, p_hi]."""
        i1 = int(np.searchsorted(self.start, t1, side="left"))
        i0 = int(np.searchsorted(self.reach, t0, side="right"))
        if i1 <= i0:
            return np.zeros(0, dtype=np.int64)
        s = slice(i0, i1)
        keep = (self.end[s] > t0) | (self.start[s] >= t0)
        if p_lo > 0 or p_hi < 127:
            p = self.pitch[s]
            keep &= (p >= p_lo) & (p <= p_hi)
        return np.flatnonzero(keep) + i0


class NoteColumns:
    """Cached `TrackColumns` for every track of a song."""

    def __init__(self) -> None:
        self._cache: dict[int, TrackColumns] = {}

    def clear(self) -> None:
        self._cache.clear()

    def invalidate(self, track_ids: set[int] | None) -> None:
        if track_ids is None:
            self._cache.clear()
        else:
            for tid in track_ids:
                self._cache.pop(tid, None)

    def of(self, track: Track) -> TrackColumns:
        cols = self._cache.get(track.id)
        if cols is None:
            cols = self._cache[track.id] = TrackColumns.of(track)
        return cols

    def hit(self, tracks: list[Track], tick: float, pitch: int) -> tuple[Track, int] | None:
        """The topmost note (last track first) under (tick, pitch): (track, index in columns)."""
        for track in reversed(tracks):
            cols = self.of(track)
            idx = cols.visible(tick, tick + 1e-6, pitch, pitch)
            idx = idx[cols.start[idx] <= tick]
            if len(idx):
                return track, int(idx[-1])
        return None

    def ids_in(self, tracks: list[Track], t0: float, t1: float, p_lo: int, p_hi: int
               ) -> set[int]:
        out: set[int] = set()
        for track in tracks:
            cols = self.of(track)
            out.update(cols.id[cols.visible(t0, t1, p_lo, p_hi)].tolist())
        return out

    def extent(self, tracks: list[Track], ids: set[int]) -> tuple[int, int] | None:
        """(first start, last end) of the notes with these ids."""
        if not ids:
            return None
        sel = np.fromiter(ids, dtype=np.int64, count=len(ids))
        lo, hi = None, None
        for track in tracks:
            cols = self.of(track)
            mask = np.isin(cols.id, sel)
            if mask.any():
                a, b = int(cols.start[mask].min()), int(cols.end[mask].max())
                lo = a if lo is None else min(lo, a)
                hi = b if hi is None else max(hi, b)
        return None if lo is None else (lo, hi)


def touched_track_ids(applied, inverse, song: Song) -> set[int] | None:
    """Track ids whose notes an edit (and its inverse) changed; None when unsure (all tracks)."""
    out: set[int] = set()
    for edit in (applied, inverse):
        ids = _touched(edit, song)
        if ids is None:
            return None
        out |= ids
    return out


def _touched(edit, song: Song) -> set[int] | None:
    if isinstance(edit, AddNotes):
        return {tid for tid, _ in edit.items}
    if isinstance(edit, RemoveNotes):
        return set()  # its partner (an AddNotes) names the tracks
    if isinstance(edit, ChangeNotes):
        try:
            return {song.find_note(nid)[0].id for nid, _ in edit.changes}
        except KeyError:
            return None
    if isinstance(edit, MoveNotesToTrack):
        return {edit.track_id}
    if isinstance(edit, (ChangeTrack, ChangeSong, SetChords)):
        return set()
    if isinstance(edit, Compound):
        out: set[int] = set()
        for e in edit.edits:
            ids = _touched(e, song)
            if ids is None:
                return None
            out |= ids
        return out
    return None
