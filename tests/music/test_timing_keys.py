"""Tempo map and key estimation."""

import numpy as np

from studio.music.keys import estimate_key, key_name, pitch_class_histogram, sharps_for
from studio.music.song import KeySignature, TempoChange, TimeSignature
from studio.music.timing import TempoMap, bar_at, bar_beat, bar_lines


def test_tempo_map_seconds_and_back():
    tm = TempoMap([TempoChange(0, 120.0), TempoChange(960, 60.0)])
    assert tm.seconds(480) == 0.5
    assert tm.seconds(960) == 1.0
    assert tm.seconds(1440) == 2.0
    for t in (0, 100, 959, 960, 5000):
        assert abs(tm.tick_at(tm.seconds(t)) - t) < 1e-6
    np.testing.assert_allclose(tm.seconds_array([480, 1440]), [0.5, 2.0])


def test_bars_with_meter_change():
    sigs = [TimeSignature(0, 4, 4), TimeSignature(1920 * 2, 3, 4)]
    assert bar_beat(0, sigs) == (1, 1, 0)
    assert bar_beat(1920 + 480, sigs) == (2, 2, 0)
    assert bar_beat(3840 + 1440, sigs) == (4, 1, 0)
    assert bar_lines(3840 + 2880, sigs) == [0, 1920, 3840, 5280, 6720]


def test_key_names_and_signatures():
    assert KeySignature(0, -1, False).name == "F major"
    assert KeySignature(0, 3, True).name == "F# minor"
    assert key_name(1, False) == "Db major"
    assert sharps_for(9, True) == 0 and sharps_for(2, False) == 2 and sharps_for(5, False) == -1


def test_estimate_key_of_scales():
    d_major = [62, 64, 66, 67, 69, 71, 73, 74, 62, 66, 69]
    tonic, minor, r = estimate_key(pitch_class_histogram(d_major))
    assert (tonic, minor) == (2, False) and r > 0.6
    a_minor = [57, 59, 60, 62, 64, 65, 68, 69, 57, 60, 64, 57]
    assert estimate_key(pitch_class_histogram(a_minor))[:2] == (9, True)


def test_meter_from_downbeats_with_pickup_and_changes():
    from studio.music.song import TimeSignature
    from studio.music.timing import bar_lines, meter_from_downbeats

    beats = [480 * i for i in range(20)]
    down = [i in (2, 6, 10, 13, 16) for i in range(20)]
    sigs = meter_from_downbeats(beats, down)
    assert sigs == [TimeSignature(0, 2, 4), TimeSignature(960, 4, 4), TimeSignature(4800, 3, 4)]
    assert bar_lines(480 * 19, sigs) == [0, 960, 2880, 4800, 6240, 7680, 9120]
    assert meter_from_downbeats(beats, [False] * 20) == [TimeSignature(0, 4, 4)]
    assert meter_from_downbeats(beats, [i % 6 == 0 for i in range(20)]) == \
        [TimeSignature(0, 6, 4)]


def test_step_positions_follow_pickups_and_meter_changes():
    from studio.music.song import TimeSignature
    from studio.music.timing import step_positions

    jig = step_positions([TimeSignature(0, 1, 8), TimeSignature(240, 6, 8)], 16)
    assert jig.tolist() == [10, 11, *range(12), 0, 1]  # the upbeat ends a 6/8 bar
    change = step_positions([TimeSignature(0, 4, 4), TimeSignature(1920, 3, 4)], 30)
    assert change.tolist() == [*range(16), *range(12), 0, 1]


def test_bar_at_follows_meter_changes():
    sigs = [TimeSignature(0, 4, 4), TimeSignature(3840, 3, 4), TimeSignature(6720, 6, 8)]
    assert bar_at(0, sigs) == (0, 1920)
    assert bar_at(3839, sigs) == (1920, 1920)
    assert bar_at(3840, sigs) == (3840, 1440)
    assert bar_at(6000, sigs) == (5280, 1440)
    assert bar_at(9000, sigs) == (8160, 1440)    # 6/8: six eighths = 1440 ticks
    assert bar_at(100, []) == (0, 1920)
