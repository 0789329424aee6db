"""Statistics (from stored histograms and from the chorales) and transposition within ranges."""

from collections import Counter

import numpy as np

from studio.data import load_dataset
from studio.data.augment import augment_transpositions, with_transpositions
from studio.data.importer import import_folder
from studio.data.piece_content import LENGTH_LABELS
from studio.data.statistics import dataset_statistics
from studio.music.grids import VOICE_RANGES, voice_to_notes
from tests.data.folders import copy_shared


def test_statistics_of_an_import_match_the_songs(tmp_path):
    copy_shared(tmp_path / "m")
    import_folder(tmp_path / "m", "stats")
    ds = load_dataset("stats")
    s = dataset_statistics(ds)
    pitches = Counter(n.pitch for p in ds.pieces for t in p.song().tracks for n in t.notes)
    expected = np.zeros(128, np.int64)
    for k, v in pitches.items():
        expected[k] = v
    np.testing.assert_array_equal(s.pitch_hist, expected)
    assert s.notes == sum(pitches.values()) == s.length_hist.sum()
    assert s.pieces == 20 and sum(s.splits.values()) == 20
    assert sum(s.keys.values()) == 20 and s.meters["4/4"] >= 10
    quarters = [n.duration / 480 for p in ds.pieces for t in p.song().tracks for n in t.notes]
    sixteenths = sum(1 for q in quarters if 0.177 <= q < 0.354)
    assert s.length_hist[LENGTH_LABELS.index("1/16")] == sixteenths


def test_statistics_of_the_chorales():
    ds = load_dataset("jsb")
    s = dataset_statistics(ds)
    lo = min(r[0] for r in VOICE_RANGES)
    hi = max(r[1] for r in VOICE_RANGES)
    assert s.pitch_range()[0] >= lo and s.pitch_range()[1] <= hi
    piece = ds.split("test")[0]
    notes = sum(len(voice_to_notes(piece.satb[:, v])) for v in range(4))
    assert piece.metadata["notes"] == notes and piece.metadata["tracks"] == 4
    assert s.pieces == 382 and s.splits == {"train": 229, "valid": 76, "test": 77}
    assert s.keys.most_common(1)[0][1] > 20  # chorales favour a few keys


def test_transpositions_stay_within_the_voice_ranges():
    ds = load_dataset("jsb")
    pieces = ds.split("train")[:20]
    out = augment_transpositions(pieces, range(-6, 7))
    assert len(out) > len(pieces) * 3
    for p in out:
        for v, (lo, hi) in enumerate(VOICE_RANGES):
            voice = p.satb[:, v]
            assert voice[voice >= 0].min() >= lo and voice[voice >= 0].max() <= hi
    shifted = next(p for p in out if p.metadata.get("transposed") == 2)
    original = next(p for p in pieces if shifted.name.startswith(p.name + " "))
    np.testing.assert_array_equal(shifted.satb[original.satb >= 0],
                                  original.satb[original.satb >= 0] + 2)
    aug = with_transpositions(ds, range(-2, 3))
    assert len(aug.split("valid")) == 76 and len(aug.split("train")) > 229
    assert aug.fingerprint() != ds.fingerprint()


def test_transposing_imported_songs_keeps_drums_and_range(tmp_path):
    copy_shared(tmp_path / "m")
    import_folder(tmp_path / "m", "songs")
    piece = next(p for p in load_dataset("songs").pieces if p.name == "debussy/menuet")
    out = augment_transpositions([piece], range(-3, 4), song_range=(21, 108))
    assert [p.metadata.get("transposed", 0) for p in out] == [-3, -2, -1, 0, 1, 2, 3]
    up = out[-1].song()
    assert sorted(n.pitch for t in up.tracks for n in t.notes) == \
        sorted(n.pitch + 3 for t in piece.song().tracks for n in t.notes)
    tight = augment_transpositions([piece], range(-3, 4),
                                   song_range=(piece.metadata["pitch_min"] - 1,
                                               piece.metadata["pitch_max"] + 2))
    assert [p.metadata.get("transposed", 0) for p in tight] == [-1, 0, 1, 2]
