"""Tempo map: conversion between ticks and seconds, a song's duration, and bar/beat positions.

The player, the ruler and `studio info` all ask this one object, so a tempo change moves every
clock the same way.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from studio.music.song import PPQ, Song, TempoChange, TimeSignature


class TempoMap:
    """Piecewise-constant tempo; `seconds(tick)` and `tick_at(seconds)` are exact inverses."""

    def __init__(self, tempos: Sequence[TempoChange], ppq: int = PPQ) -> None:
        tempos = sorted(tempos, key=lambda t: t.tick)
        if not tempos or tempos[0].tick > 0:
            tempos = [TempoChange(0, tempos[0].qpm if tempos else 120.0), *tempos]
        self.ppq = ppq
        self.ticks = [t.tick for t in tempos]
        self.seconds_per_tick = [60.0 / (t.qpm * ppq) for t in tempos]
        self.start_seconds = [0.0]
        for i in range(1, len(tempos)):
            span = self.ticks[i] - self.ticks[i - 1]
            self.start_seconds.append(self.start_seconds[-1] + span * self.seconds_per_tick[i - 1])

    def seconds(self, tick: float) -> float:
        i = max(0, bisect.bisect_right(self.ticks, tick) - 1)
        return self.start_seconds[i] + (tick - self.ticks[i]) * self.seconds_per_tick[i]

    def seconds_array(self, ticks: np.ndarray) -> np.ndarray:
        ticks = np.asarray(ticks, dtype=np.float64)
        i = np.clip(np.searchsorted(self.ticks, ticks, side="right") - 1, 0, None)
        return (np.asarray(self.start_seconds)[i]
                + (ticks - np.asarray(self.ticks)[i]) * np.asarray(self.seconds_per_tick)[i])

    def tick_at(self, seconds: float) -> float:
        i = max(0, bisect.bisect_right(self.start_seconds, seconds) - 1)
        return self.ticks[i] + (seconds - self.start_seconds[i]) / self.seconds_per_tick[i]

    def qpm_at(self, tick: float) -> float:
        i = max(0, bisect.bisect_right(self.ticks, tick) - 1)
        return 60.0 / (self.seconds_per_tick[i] * self.ppq)


def duration_seconds(song: Song) -> float:
    """How long `song` lasts (to its last note's end), through its tempo changes."""
    return TempoMap(song.tempos).seconds(song.end)


def bar_beat(tick: int, time_signatures: Sequence[TimeSignature]) -> tuple[int, int, int]:
    """(bar, beat, tick within beat), bars and beats counted from 1."""
    sigs = sorted(time_signatures, key=lambda s: s.tick) or [TimeSignature(0)]
    if sigs[0].tick > 0:
        sigs = [TimeSignature(0, sigs[0].numerator, sigs[0].denominator), *sigs]
    bar = 0
    for i, ts in enumerate(sigs):
        nxt = sigs[i + 1].tick if i + 1 < len(sigs) else None
        if nxt is not None and tick >= nxt:
            bar += -(-(nxt - ts.tick) // ts.bar_ticks)
            continue
        offset = tick - ts.tick
        bar += offset // ts.bar_ticks
        within = offset % ts.bar_ticks
        beat_ticks = PPQ * 4 // ts.denominator
        return bar + 1, within // beat_ticks + 1, within % beat_ticks
    raise AssertionError("unreachable")


def bar_at(tick: int, time_signatures: Sequence[TimeSignature]) -> tuple[int, int]:
    """(tick of the bar line at or before `tick`, length of that bar in ticks)."""
    sigs = sorted(time_signatures, key=lambda s: s.tick) or [TimeSignature(0)]
    if sigs[0].tick > 0:
        sigs = [TimeSignature(0, sigs[0].numerator, sigs[0].denominator), *sigs]
    start, length = 0, sigs[0].bar_ticks
    for i, ts in enumerate(sigs):
        nxt = sigs[i + 1].tick if i + 1 < len(sigs) else None
        length = max(1, ts.bar_ticks)
        if nxt is None or tick < nxt:
            start = ts.tick + (tick - ts.tick) // length * length
            break
    return start, length


def bar_lines(end: int, time_signatures: Sequence[TimeSignature]) -> list[int]:
    """Tick of every bar start up to `end` (inclusive of 0)."""
    sigs = sorted(time_signatures, key=lambda s: s.tick) or [TimeSignature(0)]
    if sigs[0].tick > 0:
        sigs = [TimeSignature(0, sigs[0].numerator, sigs[0].denominator), *sigs]
    out: list[int] = []
    for i, ts in enumerate(sigs):
        stop = sigs[i + 1].tick if i + 1 < len(sigs) else end + 1
        out.extend(range(ts.tick, min(stop, end + 1), max(1, ts.bar_ticks)))
    return out


def meter_from_downbeats(beat_ticks: Sequence[int], downbeats: Sequence[bool],
                         denominator: int = 4) -> list[TimeSignature]:
    """Time signatures that put a bar line on every annotated downbeat.

    `beat_ticks`: tick of every beat (a `denominator` note apart); `downbeats`: which of them
    start a bar. Beats before the first downbeat make a pickup bar (a short first bar, as MIDI
    files write anacruses); a bar of another length than the one before starts a new time
    signature. A song without downbeats keeps one bar of 4 beats.
    """
    ticks = np.asarray(beat_ticks, dtype=np.int64)
    marks = np.flatnonzero(np.asarray(downbeats, dtype=bool))
    beat = PPQ * 4 // denominator
    if not len(marks):
        return [TimeSignature(0, 4, denominator)]
    out: list[TimeSignature] = []
    first = int(ticks[marks[0]])
    lengths = [int(round((ticks[b] - ticks[a]) / beat)) for a, b in zip(marks[:-1], marks[1:])]
    lengths.append(lengths[-1] if lengths else 4)
    if first > 0:
        pickup = first // beat
        if pickup and first % beat == 0 and pickup <= 16:
            out.append(TimeSignature(0, pickup, denominator))
        else:  # not a whole number of beats: an unmarked first bar of the song's meter
            out.append(TimeSignature(0, lengths[0], denominator))
            first = 0 if first % (lengths[0] * beat) else first
    for i, n in enumerate(lengths):
        tick = int(ticks[marks[i]])
        n = max(1, min(n, 32))
        if not out or out[-1].numerator != n or out[-1].denominator != denominator:
            out.append(TimeSignature(tick, n, denominator))
    return out


def step_positions(time_signatures: Sequence[TimeSignature], steps: int,
                   step: int = PPQ // 4) -> np.ndarray:
    """Position of each grid step within its bar (0 = on the bar line), for `steps` steps of
    `step` ticks from tick 0. A pickup (a first bar shorter than the bars after it) counts from
    the end of a full bar of the meter that follows, so its last step is a bar's last."""
    sigs = sorted(time_signatures, key=lambda s: s.tick) or [TimeSignature(0)]
    ticks = np.arange(steps, dtype=np.int64) * step
    lines = np.asarray(bar_lines(int(ticks[-1]) + 1 if steps else 0, sigs), dtype=np.int64)
    start = lines[np.searchsorted(lines, ticks, side="right") - 1] if steps else ticks
    pos = (ticks - start) // step
    if len(sigs) >= 2 and sigs[0].tick == 0 and sigs[1].tick == sigs[0].bar_ticks \
            and sigs[0].bar_ticks < sigs[1].bar_ticks:
        first = ticks < sigs[1].tick
        pos[first] += (sigs[1].bar_ticks - sigs[0].bar_ticks) // step
    return pos
