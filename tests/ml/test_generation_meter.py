"""Bars follow the song's own meter in generation: 2/4, 3/4, 6/8 and pickups."""

from __future__ import annotations

import numpy as np
import pytest

from studio.ml.errors import GenerationError
from studio.ml.family import SamplingOptions
from studio.ml.generation import GenerationRequest, generate
from studio.ml.generation import material as mat
from studio.music.grids import satb_to_song
from studio.music.song import TimeSignature
from tests.ml.generation_testing import chorale, snapshot


def _song(bars_of_4_4: int, *signatures: TimeSignature):
    a = np.tile(chorale(0, 8)[:, :1], (-(-bars_of_4_4 // 8), 1))[:bars_of_4_4 * 16]
    song = satb_to_song(a, names=["Melody"])
    song.time_signatures = list(signatures)
    return song


def test_a_long_two_four_song_is_counted_in_its_own_bars():
    song = _song(70, TimeSignature(0, 2, 4))  # 140 bars of 2/4
    assert mat.bar_count(song, 0, song.end) == 140
    before = snapshot(song)
    with pytest.raises(GenerationError) as info:
        generate(GenerationRequest("harmonize", "cnn-harmonizer", song, (song.tracks[0].id,)))
    assert "140 bars of 2/4" in str(info.value) and "at most 128 bars" in str(info.value)
    assert snapshot(song) == before


def test_harmonize_names_bars_of_three_four():
    song = _song(6, TimeSignature(0, 3, 4))  # 8 bars of 3/4
    c = generate(GenerationRequest("harmonize", "cnn-harmonizer", song, (song.tracks[0].id,),
                                   options=SamplingOptions(seed=1, count=1)))[0]
    assert "bars 1-8" in c.description


def test_pickup_and_six_eight_bars():
    song = _song(4, TimeSignature(0, 1, 8), TimeSignature(240, 6, 8))
    assert mat.pickup_end(song) == 240
    assert mat.steps_per_bar(song, 0) == 12  # the bar after the pickup, not the pickup
    assert mat.bar_count(song, 0, 240 + 1440 * 2) == 3
    c = generate(GenerationRequest("melody", "lstm-melody", song, bars=2, playhead=1000,
                                   options=SamplingOptions(seed=3, count=1)))[0]
    start = 240  # the bar line before the playhead
    notes = c.preview.tracks[-1].notes
    assert min(n.start for n in notes) >= start
    assert max(n.start for n in notes) < start + 2 * 1440  # two bars of 6/8 = 24 16ths
    assert "from bar 2" in c.description


def test_a_range_inside_the_pickup_is_refused():
    song = _song(4, TimeSignature(0, 1, 4), TimeSignature(480, 4, 4))
    tid = song.tracks[0].id
    before = snapshot(song)
    with pytest.raises(GenerationError) as info:
        generate(GenerationRequest("infill", "cnn-harmonizer", song, (tid,),
                                   time_range=(120, 360)))
    assert "pickup bar" in str(info.value)
    assert snapshot(song) == before


def test_the_folk_model_continues_a_jig_in_bars_of_six_eight():
    from studio.data import load_dataset

    piece = next(p for p in load_dataset("folk").split("test")
                 if (p.song().time_signatures[-1].numerator,
                     p.song().time_signatures[-1].denominator) == (6, 8))
    song = piece.song()
    track = song.tracks[0]
    bar = mat.bar_start(song, 1440 * 4 + 10)
    before = snapshot(song)
    c = generate(GenerationRequest("continue", "folk-lstm", song, (track.id,), bars=2,
                                   playhead=bar, options=SamplingOptions(seed=2, count=1)))[0]
    assert snapshot(song) == before
    old = {n.id for n in track.notes}
    new = [n for n in c.preview.tracks[0].notes if n.id not in old]
    assert new and bar <= min(n.start for n in new)
    assert max(n.start for n in new) < bar + 2 * 1440  # two bars of 6/8
