"""The built-in folk-tune corpus: shipped without music21, licence notes, meters with pickups,
songs, statistics and the datasets listing."""

import numpy as np

from studio.cli import main
from studio.data import BUILTIN, load_dataset
from studio.data.folk import FOLK_PATH, folk_tunes
from studio.data.statistics import dataset_statistics
from studio.music.timing import bar_lines


def test_shipped_small_with_its_sources_and_without_essen():
    assert FOLK_PATH.stat().st_size < 6 * 2**20
    readme = (FOLK_PATH.parent / "README.md").read_text()
    assert "O'Neill" in readme and "Essen" in readme and "non-commercial" in readme
    tunes = folk_tunes()
    assert len(tunes) > 3000
    assert {t.collection.split(" ")[0] for t in tunes} >= {"O'Neill's", "Ryan's", "Aird's"}
    assert {t.name.split("/")[0] for t in tunes} == {"oneills", "ryans", "airds", "misc"}
    ds = load_dataset("folk")
    assert ds.builtin and "folk" in BUILTIN
    sizes = [len(ds.split(s)) for s in ("train", "valid", "test")]
    assert sizes[1] > 0.07 * len(ds) and sizes[2] > 0.07 * len(ds)
    assert ds.fingerprint() == load_dataset("folk").fingerprint()


def test_tunes_keep_their_meters_and_pickups():
    tunes = folk_tunes()
    meters = {(t.meters[-1][1], t.meters[-1][2]) for t in tunes}
    assert {(6, 8), (2, 4), (3, 4), (4, 4)} <= meters
    pickups = [t for t in tunes if len(t.meters) >= 2 and t.meters[1][0] > 0
               and t.meters[0][0] == 0 and t.meters[1][0] < 1920]
    assert len(pickups) > 500
    t = pickups[0]
    song = t.song()
    assert [tr.name for tr in song.tracks] == ["Melody"]
    lines = bar_lines(song.end, song.time_signatures)
    assert lines[1] == t.meters[1][0]  # the first bar line ends the pickup
    starts = np.array([n.start for n in song.tracks[0].notes])
    assert starts.min() == 0 and (np.diff(starts) >= 0).all()


def test_statistics_and_listing(capsys):
    stats = dataset_statistics(load_dataset("folk"))
    assert stats.pieces == len(folk_tunes()) and stats.notes > 100_000
    lo, hi = stats.pitch_range()
    assert 40 <= lo and hi <= 100
    assert main(["datasets"]) == 0
    assert any(line.startswith("folk ") for line in capsys.readouterr().out.splitlines())
