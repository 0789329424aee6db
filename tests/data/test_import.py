"""Importing real folders: pieces, metadata, splits, duplicates, re-import of changed folders."""

import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from studio.data import DatasetError, load_dataset, split_for
from studio.data.importer import import_folder
from studio.data.store import DatasetStore
from studio.midi import read_song, write_song
from studio.music.grids import song_to_satb
from studio.music.timing import duration_seconds
from tests.conftest import REPO
from tests.data.folders import copy_shared, generated_song, write_generated


def notes_of(song, drums=False):
    return sorted((n.pitch, n.start, n.duration, n.velocity)
                  for t in song.tracks if drums or not t.is_drum for n in t.notes)


def test_import_the_shared_files_then_reimport_only_what_changed(tmp_path):
    src = tmp_path / "music"
    files = copy_shared(src)
    seen = []
    report = import_folder(src, "mine", progress=seen.append)
    assert report.files == 21 and report.parsed == 21 and not report.bad
    assert [f for f, _ in report.filtered] == ["beat.mid"]  # drums only, drums excluded
    assert report.pieces == 20 and len(report.added) == 20
    assert seen[-1].phase == "saving" and max(p.done for p in seen) == 21

    ds = load_dataset("mine")
    assert len(ds) == 20
    by_file = {p.metadata["file"]: p for p in ds.pieces}
    for rel in ("debussy/menuet.mid", "bach/bach_846.mid", "230_bpm_multitrack.mid"):
        piece, original = by_file[rel], read_song(src / rel)
        assert notes_of(piece.song()) == notes_of(original)  # loaded from the store
        kept = [t for t in original.tracks if t.notes and not t.is_drum]  # drums excluded
        assert piece.metadata["notes"] == sum(len(t.notes) for t in kept)
        assert piece.metadata["tracks"] == len(kept)
        assert piece.metadata["seconds"] == pytest.approx(duration_seconds(original), abs=0.01)
        pitches = [n.pitch for t in original.tracks if not t.is_drum for n in t.notes]
        assert (piece.metadata["pitch_min"], piece.metadata["pitch_max"]) == (min(pitches),
                                                                            max(pitches))
        assert piece.split == split_for(piece.name)
    assert by_file["230_bpm_multitrack.mid"].metadata["tempo"] == 230.0
    assert by_file["debussy/menuet.mid"].name == "debussy/menuet"

    # Unchanged: nothing parsed again.
    again = import_folder(src, "mine")
    assert again.parsed == 0 and again.unchanged == 21 and again.pieces == 20

    # One file changed, one new, one deleted: exactly two parsed, one piece gone.
    write_song(generated_song(1), src / "debussy" / "menuet.mid")
    write_song(generated_song(2), src / "new.mid")
    (src / "joplin" / "TheEntertainer.mid").unlink()
    third = import_folder(src, "mine")
    assert third.parsed == 2 and sorted(third.added) == ["debussy/menuet.mid", "new.mid"]
    assert third.gone == ["joplin/TheEntertainer.mid"]
    ds = load_dataset("mine")
    names = {p.name for p in ds.pieces}
    assert "new" in names and "joplin/TheEntertainer" not in names and len(ds) == 20
    menuet = next(p for p in ds.pieces if p.name == "debussy/menuet")
    assert notes_of(menuet.song()) == notes_of(read_song(src / "debussy" / "menuet.mid"))
    # Every stored piece lies whole in a pack file; packs no piece uses are gone.
    m = DatasetStore().read("mine")
    pieces_dir = DatasetStore().folder("mine") / "pieces"
    assert {f.name for f in pieces_dir.iterdir()} == {r["pack"] for _, r in m.pieces()}
    for _, r in m.pieces():
        assert r["offset"] + r["stored_bytes"] <= (pieces_dir / r["pack"]).stat().st_size
    assert len(files) == 21


def test_duplicates_are_reported_and_skipped(tmp_path):
    src = tmp_path / "dups"
    write_generated(src, 3)
    (src / "copies").mkdir()
    shutil.copyfile(src / "gen_0001.mid", src / "copies" / "same as one.mid")
    shutil.copyfile(src / "gen_0001.mid", src / "copies" / "again.midi")
    report = import_folder(src, "dups")
    assert report.pieces == 3
    assert sorted(report.duplicates) == [("copies/again.midi", "gen_0001.mid"),
                                         ("copies/same as one.mid", "gen_0001.mid")]


def test_filters_and_track_selection(tmp_path):
    from studio.data.piece_content import ImportOptions

    src = tmp_path / "mixed"
    src.mkdir()
    write_song(generated_song(1, notes=16, qpm=120), src / "short.mid")  # about 2 s
    write_song(generated_song(2, notes=400, meter=(3, 4), drums=True), src / "waltz.mid")
    write_song(generated_song(3, notes=400, tracks=4), src / "four.mid")

    r = import_folder(src, "long 4/4", ImportOptions(min_seconds=5, meters=("4/4",)))
    assert r.pieces == 1
    assert dict(r.filtered) == {"short.mid": pytest.approx(dict(r.filtered)["short.mid"]),
                                "waltz.mid": "meter 3/4 is not 4/4"}
    assert "shorter than 5 s" in dict(r.filtered)["short.mid"]

    r = import_folder(src, "drums kept", ImportOptions(exclude_drums=False))
    waltz = next(p for p in load_dataset("drums kept").pieces if p.name == "waltz")
    assert any(t.is_drum for t in waltz.song().tracks) and "Drums" in waltz.metadata["instruments"]
    r = import_folder(src, "no drums", ImportOptions())
    waltz = next(p for p in load_dataset("no drums").pieces if p.name == "waltz")
    assert not any(t.is_drum for t in waltz.song().tracks)

    import_folder(src, "melodies", ImportOptions(tracks="melody"))
    for piece in load_dataset("melodies").pieces:
        song = piece.song()
        assert len(song.tracks) == 1
        notes = sorted(song.tracks[0].notes, key=lambda n: n.start)
        assert all(a.end <= b.start for a, b in zip(notes, notes[1:]))  # one line
        original = read_song(src / piece.metadata["file"])
        top = max((t for t in original.tracks if not t.is_drum),
                  key=lambda t: np.mean([n.pitch for n in t.notes]))
        assert {n.pitch for n in notes} <= {n.pitch for n in top.notes}

    import_folder(src, "voices", ImportOptions(tracks="satb"))
    ds = load_dataset("voices")
    assert len(ds) == 3
    for piece in ds.pieces:
        assert piece.satb is not None and piece.satb.shape[1] == 4 and piece.satb.dtype == np.int8
        assert [t.name for t in piece.song().tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
        original = read_song(src / piece.metadata["file"])
        original.tracks = [t for t in original.tracks if not t.is_drum]
        np.testing.assert_array_equal(piece.satb, song_to_satb(original))
        np.testing.assert_array_equal(song_to_satb(piece.song(), steps=len(piece.satb)),
                                      piece.satb)


def test_cancel_keeps_what_was_imported_and_the_next_import_continues(tmp_path):
    src = tmp_path / "many"
    write_generated(src, 24)
    done = []
    r = import_folder(src, "partial", progress=lambda p: done.append(p.done),
                      cancel=lambda: max(done, default=0) >= 6)
    assert r.cancelled and 6 <= r.pieces < 24
    store = DatasetStore()
    assert not store.read("partial").complete
    assert len(load_dataset("partial")) == r.pieces
    rest = import_folder(src, "partial")
    assert not rest.cancelled and rest.pieces == 24
    assert rest.parsed == 24 - r.pieces  # only what was not done
    assert store.read("partial").complete


def test_user_errors(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        import_folder(tmp_path / "nope", "x")
    with pytest.raises(DatasetError, match="built-in"):
        import_folder(tmp_path, "jsb")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    import_folder(tmp_path / "a", "set")
    with pytest.raises(DatasetError, match="another name"):
        import_folder(tmp_path / "b", "set")
    with pytest.raises(KeyError):
        load_dataset("never imported")


def test_an_import_killed_mid_way_resumes(tmp_path):
    src = tmp_path / "many"
    write_generated(src, 160, tracks=2, notes=300)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "studio", "import", str(src), "--name",
                             "killed", "--workers", "1"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    journal = DatasetStore().folder("killed") / "journal.jsonl"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_text().count("\n") >= 10:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # the app and its workers die at once (power cut)
    proc.wait()
    store = DatasetStore()
    m = store.read("killed")  # the manifest as it was, plus the journal
    assert not m.complete and 10 <= len(m.pieces()) < 160
    assert len(load_dataset("killed")) == len(m.pieces())
    rest = import_folder(src, "killed")
    assert rest.pieces == 160 and rest.parsed == 160 - len(m.pieces())
    assert store.read("killed").complete and not journal.exists()


def test_a_file_without_notes_is_said_to_have_none(tmp_path):
    src = tmp_path / "m"
    write_generated(src, 1, notes=30)
    write_song(generated_song(5, tracks=0, notes=0), src / "silent.mid")
    write_song(generated_song(6, tracks=0, notes=20, drums=True), src / "drums.mid")
    report = import_folder(src, "quiet")
    reasons = dict(report.filtered)
    assert reasons["silent.mid"] == "this file has no notes"
    assert reasons["drums.mid"] == "no notes once drums are excluded"
