"""The originality check: the longest run of notes a generated line shares with the model's
training set, so the musician knows whether the model copied.

A line is read as notes; each note after the first becomes one symbol: (interval from the
previous note, time from the previous onset, its duration), on the 16th grid. Equal symbol runs
mean the same melody with the same rhythm, in any transposition (the models are trained on
transposed copies). All training lines (each voice of each training piece) are indexed in one
suffix automaton, an index of every n-gram of every length; matching a line against it finds
the longest shared run in one pass, together with the training piece it comes from.

Verdict thresholds come from Bach measured against Bach (`benchmarks/bench_melody.py` prints
them): half of the JSB test chorales' inner voices share 6 notes in a row with the training
chorales, three quarters 7, and basses 9 to 11 (cadence formulas, scale runs), so runs up to 10
notes are the style, not a copy. (Sopranos share far more: the collection harmonizes several
tunes more than once.)
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

import numpy as np

from studio.ml.generation.request import Originality
from studio.music.grids import SIXTEENTH
from studio.music.song import Note
from studio.music.tokens import tokens_to_track

STYLE_RUN = 10  # runs up to this many notes are common between Bach chorales themselves
COPY_SHARE = 0.5  # a run covering half of a line's notes (and over STYLE_RUN) is a copy


def symbols(notes: Sequence[Note], step: int = SIXTEENTH) -> list[tuple[int, int, int]]:
    """One symbol per note after the first: (interval, onset gap, duration) in 16ths."""
    ns = sorted(notes, key=lambda n: (n.start, -n.pitch))
    return [(b.pitch - a.pitch, round((b.start - a.start) / step), round(b.duration / step))
            for a, b in zip(ns, ns[1:])]


class SuffixAutomaton:
    """Smallest automaton accepting every substring of a text (Blumer et al.): states with
    transitions, suffix links, longest length and one end position."""

    def __init__(self) -> None:
        self.next: list[dict] = [{}]
        self.link = [-1]
        self.length = [0]
        self.end = [-1]
        self.last = 0
        self.size = 0  # symbols added

    def add(self, c) -> None:
        pos = self.size
        self.size += 1
        cur = len(self.length)
        self.next.append({})
        self.length.append(self.length[self.last] + 1)
        self.link.append(-1)
        self.end.append(pos)
        p = self.last
        while p != -1 and c not in self.next[p]:
            self.next[p][c] = cur
            p = self.link[p]
        if p == -1:
            self.link[cur] = 0
        else:
            q = self.next[p][c]
            if self.length[p] + 1 == self.length[q]:
                self.link[cur] = q
            else:
                clone = len(self.length)
                self.next.append(dict(self.next[q]))
                self.length.append(self.length[p] + 1)
                self.link.append(self.link[q])
                self.end.append(self.end[q])
                while p != -1 and self.next[p].get(c) == q:
                    self.next[p][c] = clone
                    p = self.link[p]
                self.link[q] = self.link[cur] = clone
        self.last = cur

    def longest_match(self, text: Sequence) -> tuple[int, int, int]:
        """(length, end position in `text` (exclusive), end position in the index (inclusive))
        of the longest substring of `text` that occurs in the indexed text."""
        v, n, best = 0, 0, (0, 0, -1)
        for i, c in enumerate(text):
            while v and c not in self.next[v]:
                v = self.link[v]
                n = self.length[v]
            if c in self.next[v]:
                v = self.next[v][c]
                n += 1
            if n > best[0]:
                best = (n, i + 1, self.end[v])
        return best


class OriginalityIndex:
    """Every training line of a model's training set, searchable for shared runs."""

    def __init__(self, lines: Iterable[tuple[str, Sequence[Note]]]) -> None:
        self.automaton = SuffixAutomaton()
        self.starts: list[int] = []  # index position where each line begins
        self.pieces: list[str] = []
        for k, (piece, notes) in enumerate(lines):
            self.starts.append(self.automaton.size)
            self.pieces.append(piece)
            for s in symbols(notes):
                self.automaton.add(s)
            self.automaton.add(("|", k))  # a separator no line contains: runs stay in a line
        self.lines = len(self.pieces)

    @classmethod
    def from_tokens(cls, lines: Iterable[tuple[str, np.ndarray]]) -> OriginalityIndex:
        return cls((name, tokens_to_track(tokens).notes) for name, tokens in lines)

    def check(self, lines: Sequence[Sequence[Note]]) -> Originality:
        """The longest run any of the candidate's new lines shares with the training set."""
        best_len, best_piece, best_span, total = 0, "", None, 0
        for notes in lines:
            ns = sorted(notes, key=lambda n: (n.start, -n.pitch))
            total += len(ns)
            if len(ns) < 2:
                continue
            length, stop, where = self.automaton.longest_match(symbols(ns))
            if length + 1 > best_len and length > 0:
                best_len = length + 1  # k symbols span k + 1 notes
                line = bisect.bisect_right(self.starts, where) - 1
                best_piece = self.pieces[line]
                first, last = ns[stop - length], ns[stop]
                best_span = (first.start, last.end)
        return Originality(best_len, total, best_piece, best_span,
                           verdict(best_len, total, best_piece))


def verdict(run: int, notes: int, piece: str, style_run: int = STYLE_RUN) -> str:
    """Plain words for a shared run of `run` notes out of `notes` new notes (runs up to
    `style_run` are usual for the style)."""
    if notes == 0:
        return "no new notes to compare"
    if run <= 1:
        return "original: no run of notes from the training set"
    where = f" of {piece}" if piece else ""
    if run > style_run and run >= COPY_SHARE * notes:
        return f"copies {run} of its {notes} notes in a row from the training set ({piece})"
    if run > style_run:
        return (f"quotes a phrase: {run} notes in a row match a passage{where} (of "
                f"{notes} new notes)")
    return (f"original: its longest run shared with the training set is {run} notes, usual "
            "for the style")
