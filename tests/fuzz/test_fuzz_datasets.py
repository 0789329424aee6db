"""Fuzz: hostile dataset folders, derived deterministically from a real import of the fuzz seed
files. One file of the dataset is damaged per case (the manifest, the summary, the journal, the
statistics or a pack of stored pieces); listing, showing, loading and reading every piece then
work or fail with a `DatasetError`, and `studio datasets` answers in one line."""

from __future__ import annotations

import random
import shutil

import pytest

from studio.cli import main
from studio.data.errors import DatasetError
from studio.data.store import DatasetStore
from studio.midi import write_song
from tests.fuzz.cases import SEEDS, mutate_bytes, mutate_json, seed_songs

CASES = 40
BATCH = 10
NAME = "fuzz set"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    from studio.data.importer import import_folder

    root = tmp_path_factory.mktemp("template")
    music = root / "music"
    music.mkdir()
    shutil.copyfile(SEEDS / "bach_format0.mid", music / "bach_format0.mid")
    for i, song in enumerate(seed_songs()):
        write_song(song, music / f"chorale {i}.mid")
    store = DatasetStore(root / "datasets")
    report = import_folder(music, NAME, store=store, workers=1)
    assert len(report.added) == 4
    return store.folder(NAME)


def _damage(folder, rng: random.Random) -> str:
    target = rng.choice(["manifest.json", "manifest.json", "info.json", "journal.jsonl",
                         "stats.npz", "pack"])
    if target == "pack":
        path = rng.choice(sorted((folder / "pieces").iterdir()))
        path.write_bytes(mutate_bytes(path.read_bytes(), rng))
    elif target == "journal.jsonl":
        manifest = (folder / "manifest.json").read_bytes()
        line = mutate_json(b'{"rel": "chorale 0.mid", "record": {"status": "ok", "name": "x",'
                           b' "hash": "00", "pack": "pack-x.bin", "offset": 0,'
                           b' "stored_bytes": 9}}', rng)
        (folder / "journal.jsonl").write_bytes(line.replace(b"\n", b" ") + b"\n")
        assert manifest
    elif target == "stats.npz":
        path = folder / target
        path.write_bytes(mutate_bytes(path.read_bytes(), rng))
    else:
        path = folder / target
        path.write_bytes(mutate_json(path.read_bytes(), rng))
    return target


@pytest.mark.parametrize("batch", range(CASES // BATCH))
def test_hostile_dataset_folders(batch, template, tmp_path, monkeypatch, capsys):
    rng = random.Random(1000 + batch)
    for i in range(BATCH):
        home = tmp_path / f"home{i}"
        monkeypatch.setenv("STUDIO_HOME", str(home))
        store = DatasetStore()
        shutil.copytree(template, store.folder(NAME))
        damaged = _damage(store.folder(NAME), rng)
        for name in store.names():
            try:
                dataset = store.load(name)
            except DatasetError:
                continue
            for piece in dataset.pieces:
                try:
                    assert piece.song() is not None
                except DatasetError as e:
                    assert "\n" not in str(e), damaged
        for argv in (["datasets"], ["datasets", "show", NAME]):
            code = main(argv)
            err = capsys.readouterr().err
            assert code in (0, 2), (damaged, err)
            if code == 2:
                assert err.startswith("studio: error:") and err.count("\n") == 1, (damaged, err)
