"""The built-in JSB chorales: standard split sizes, songs built from the arrays."""

import numpy as np

from studio.data import load_dataset, split_for
from studio.music.grids import song_to_satb


def test_jsb_has_the_standard_split():
    ds = load_dataset("jsb")
    assert [len(ds.split(s)) for s in ("train", "valid", "test")] == [229, 76, 77]
    assert sum(len(p.satb) for p in ds.split("train")) == 55_228
    assert len(ds.fingerprint()) == 16 and ds.fingerprint() == load_dataset("jsb").fingerprint()


def test_pieces_become_four_voice_songs():
    piece = load_dataset("jsb").split("test")[5]
    song = piece.song()
    assert [t.name for t in song.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    np.testing.assert_array_equal(song_to_satb(song, steps=len(piece.satb)), piece.satb)


def test_split_by_name_is_deterministic_and_balanced():
    names = [f"piece {i}" for i in range(2000)]
    splits = [split_for(n) for n in names]
    assert splits == [split_for(n) for n in names]
    assert 0.07 < splits.count("test") / 2000 < 0.13
    assert 0.07 < splits.count("valid") / 2000 < 0.13
