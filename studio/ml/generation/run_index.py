"""The originality check for large training sets of many notes (piano parts: about a million
notes in POP909's training songs), where the suffix automaton of `originality` would take too
much memory.

The same symbols as `originality.symbols` (interval, onset gap, duration on the 16th grid, one per
note after the first, notes in order of onset then pitch from the top), coded as integers; a run
of L symbols is found by a 64-bit polynomial hash of every L-symbol window of the training lines
(windows never cross from one line into the next). The longest shared run is found by binary
search on L, each length's hashes computed once and kept.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

import numpy as np

from studio.ml.generation.originality import STYLE_RUN, verdict
from studio.ml.generation.request import Originality
from studio.music.grids import SIXTEENTH
from studio.music.song import Note

_BASE = np.uint64(1_000_003)
# Runs up to this many notes are usual between real piano accompaniments: 95 % of the 82 POP909
# test songs' piano parts (first 32 bars) share at most 17 notes in a row with the training
# songs' parts (median 8; benchmarks/bench_accompaniment.py), where Bach chorale lines share 10.
PIANO_STYLE_RUN = 17


def symbol_codes(rows: np.ndarray, step: int = SIXTEENTH) -> np.ndarray:
    """Integer symbols of (n, >=3) pitch/start/duration rows (after sorting)."""
    if len(rows) < 2:
        return np.zeros(0, np.uint64)
    r = rows[np.lexsort((-rows[:, 0], rows[:, 1]))].astype(np.int64)
    interval = np.clip(np.diff(r[:, 0]), -127, 127) + 128
    gap = np.clip(np.round(np.diff(r[:, 1]) / step), 0, 1023).astype(np.int64)
    duration = np.clip(np.round(r[1:, 2] / step), 0, 1023).astype(np.int64)
    return ((interval * 1024 + gap) * 1024 + duration + 1).astype(np.uint64)


def _powers(base: int, n: int) -> np.ndarray:
    p = np.full(n, np.uint64(base % 2**64), np.uint64)
    p[0] = 1
    with np.errstate(over="ignore"):
        return np.cumprod(p, dtype=np.uint64)


def _window_hashes(codes: np.ndarray, length: int) -> np.ndarray:
    """sum_j codes[i + j] * BASE^j (mod 2^64) of every window [i, i + length): prefix sums of
    codes * BASE^k, shifted back by the inverse of BASE^i (BASE is odd, so invertible)."""
    n = len(codes)
    with np.errstate(over="ignore"):
        prefix = np.zeros(n + 1, np.uint64)
        prefix[1:] = np.cumsum(codes * _powers(int(_BASE), n), dtype=np.uint64)
        i = np.arange(n - length + 1)
        inverse = _powers(pow(int(_BASE), -1, 2**64), n - length + 1)
        return (prefix[i + length] - prefix[i]) * inverse


class RunIndex:
    """Training lines (name, (n, 3) pitch/start/duration rows) searchable for shared runs;
    `style_run`: the longest run the verdict calls usual for the style."""

    def __init__(self, lines: Iterable[tuple[str, np.ndarray]], style_run: int = STYLE_RUN
                 ) -> None:
        self.style_run = style_run
        codes, starts, names = [], [], []
        at = 0
        for name, rows in lines:
            c = symbol_codes(np.asarray(rows))
            if not len(c):
                continue
            starts.append(at)
            names.append(name)
            codes.append(c)
            at += len(c)
        self.codes = np.concatenate(codes) if codes else np.zeros(0, np.uint64)
        self.starts, self.pieces = starts, names
        self.line_of = np.repeat(np.arange(len(codes)), [len(c) for c in codes])
        self._by_length: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.lines = len(names)

    def _table(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        """(sorted window hashes, their start positions) of windows inside one line."""
        if length not in self._by_length:
            n = len(self.codes)
            if n < length:
                self._by_length[length] = (np.zeros(0, np.uint64), np.zeros(0, np.int64))
            else:
                h = _window_hashes(self.codes, length)
                pos = np.arange(n - length + 1)
                same = self.line_of[pos] == self.line_of[pos + length - 1]
                h, pos = h[same], pos[same]
                order = np.argsort(h)
                self._by_length[length] = (h[order], pos[order])
        return self._by_length[length]

    def _find(self, query: np.ndarray, length: int) -> tuple[int, int] | None:
        """(query start, index start) of a shared window of `length`, or None."""
        table, pos = self._table(length)
        if len(query) < length or not len(table):
            return None
        h = _window_hashes(query, length)
        at = np.searchsorted(table, h)
        at = np.minimum(at, len(table) - 1)
        hit = np.flatnonzero(table[at] == h)
        if not len(hit):
            return None
        return int(hit[0]), int(pos[at[hit[0]]])

    def longest(self, rows: np.ndarray) -> tuple[int, int, int]:
        """(symbols in the longest shared run, query start, index start) of one line."""
        query = symbol_codes(rows)
        lo, hi, best = 0, len(query), (0, 0, 0)
        while lo < hi:  # largest length with a match
            mid = (lo + hi + 1) // 2
            found = self._find(query, mid)
            if found is None:
                hi = mid - 1
            else:
                lo, best = mid, (mid, *found)
        return best

    def check(self, lines: Sequence[Sequence[Note]]) -> Originality:
        best_len, best_piece, best_span, total = 0, "", None, 0
        for notes in lines:
            ns = sorted(notes, key=lambda n: (n.start, -n.pitch))
            total += len(ns)
            if len(ns) < 2:
                continue
            rows = np.array([(n.pitch, n.start, n.duration) for n in ns], np.int64)
            length, qstart, istart = self.longest(rows)
            if length and length + 1 > best_len:
                best_len = length + 1
                best_piece = self.pieces[bisect.bisect_right(self.starts, istart) - 1]
                best_span = (ns[qstart].start, ns[qstart + length].end)
        return Originality(best_len, total, best_piece, best_span,
                           verdict(best_len, total, best_piece, self.style_run))

