"""The built-in POP909 corpus: the shipped file, its fixed split, bars from the annotated
downbeats (not the files' time signatures), chords and keys kept, songs and statistics."""

import numpy as np

from studio.cli import main
from studio.data import BUILTIN, load_dataset
from studio.data.pop909 import POP909_PATH, key_of, pop909_song, pop909_songs, split_of
from studio.data.statistics import dataset_statistics
from studio.music.timing import bar_lines


def test_shipped_with_licence_and_a_fixed_split_by_number():
    folder = POP909_PATH.parent
    assert "MIT License" in (folder / "LICENSE").read_text()
    assert "ISMIR 2020" in (folder / "README.md").read_text()
    assert POP909_PATH.stat().st_size < 8 * 2**20
    ds = load_dataset("pop909")
    assert ds.builtin and "pop909" in BUILTIN
    assert [len(ds.split(s)) for s in ("train", "valid", "test")] == [696, 83, 82]
    for p in ds.pieces:
        n = p.metadata["pop909"]
        assert p.split == split_of(n) and p.name == f"pop909-{n:03d}"
    assert {p.metadata["pop909"] % 10 for p in ds.split("test")} == {0}
    assert ds.fingerprint() == load_dataset("pop909").fingerprint()


def test_bars_follow_the_annotated_downbeats_with_a_pickup():
    s = pop909_song(1)  # 1 beat before the first downbeat, then bars of 4 beats
    song = s.song()
    assert [t.name for t in song.tracks] == ["MELODY", "BRIDGE", "PIANO"]
    assert [len(t.notes) for t in song.tracks] == [264, 307, 985]  # as in 001.mid
    assert (s.beats % 480 == 0).all() and (np.diff(s.beats) == 480).all()
    lines = set(bar_lines(int(s.beats[-1]), song.time_signatures))
    downbeats = s.beats[s.downbeats]
    assert set(downbeats.tolist()) <= lines
    assert len(lines) == len(downbeats) + 1  # the pickup bar before the first downbeat
    assert song.time_signatures[0].numerator == 1 and song.time_signatures[1].numerator == 4
    # the original file says 2/4: its bars are not the real ones
    assert (song.time_signatures[1].numerator, song.time_signatures[1].denominator) == (4, 4)


def test_six_beat_songs_keep_their_bars():
    six = [s for s in pop909_songs()
           if np.median(np.diff(np.flatnonzero(s.downbeats))) == 6]
    assert len(six) >= 20
    song = six[0].song()
    assert max(ts.numerator for ts in song.time_signatures) == 6


def test_chords_and_keys_are_kept_on_beats():
    s = pop909_song(1)
    assert s.chords[4:6] == [(2400, 3360, "B:maj"), (3360, 4320, "C#:maj")]  # 2.72-4.06 s
    assert all(a % 480 == 0 and b % 480 == 0 and a <= b for a, b, _ in s.chords)
    assert s.keys[0][2] == "Gb:maj" and key_of("Gb:maj") == (6, False)
    assert key_of("C#:min") == (1, True)
    labels = {lab for x in pop909_songs() for _, _, lab in x.chords}
    assert {"C:maj", "A:min7", "N", "G:sus4(b7)"} <= labels
    # most melody notes sit on the 16th grid after the conversion
    mel = s.track_notes(0)
    assert (mel[:, 1] % 120 == 0).mean() > 0.95


def test_statistics_and_the_datasets_command(capsys):
    stats = dataset_statistics(load_dataset("pop909"))
    assert stats.pieces == 861 and stats.notes == 1_453_434
    assert main(["datasets"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("pop909 "))
    assert " 861 " in line and "696/83/82" in line
