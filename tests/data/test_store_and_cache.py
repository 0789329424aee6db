"""The stored dataset: editing pieces and splits, persistent cached arrays, the manifest on disk."""

import json

import numpy as np
import pytest

import studio.data.dataset as dataset_module
from studio.data import DatasetError, load_dataset, split_for
from studio.data.importer import import_folder
from studio.data.store import DatasetStore
from tests.data.folders import write_generated


def test_remove_pieces_and_change_splits(tmp_path):
    src = tmp_path / "songs"
    write_generated(src, 6)
    import_folder(src, "edit me")
    store = DatasetStore()
    ds = load_dataset("edit me")
    victim, mover = ds.pieces[0], ds.pieces[1]
    assert store.remove_pieces("edit me", [victim.name]) == 1
    target = "test" if mover.split != "test" else "valid"
    store.set_split("edit me", mover.name, target)
    ds = load_dataset("edit me")
    assert victim.name not in {p.name for p in ds.pieces} and len(ds) == 5
    assert next(p for p in ds.pieces if p.name == mover.name).split == target
    assert "removed by you" in store.read("edit me").files[victim.metadata["file"]]["reason"]
    # A re-import keeps the user's choices: the removed piece stays out, the split stays.
    again = import_folder(src, "edit me")
    assert again.parsed == 0
    ds = load_dataset("edit me")
    assert len(ds) == 5 and next(p for p in ds.pieces if p.name == mover.name).split == target
    store.set_split("edit me", mover.name, split_for(mover.name))
    assert next(p for p in load_dataset("edit me").pieces
                if p.name == mover.name).split == split_for(mover.name)
    with pytest.raises(DatasetError):
        store.set_split("edit me", mover.name, "holiday")
    manifest = json.loads((store.folder("edit me") / "manifest.json").read_text())
    assert manifest["name"] == "edit me" and manifest["complete"] is True
    store.delete("edit me")
    assert "edit me" not in store.names() and src.exists()


def test_cached_arrays_are_kept_on_disk_for_stored_datasets(tmp_path):
    src = tmp_path / "songs"
    write_generated(src, 4)
    import_folder(src, "cached")
    calls = []

    def compute():
        calls.append(1)
        ds = load_dataset("cached")
        return {"notes": np.array([p.song().note_count for p in ds.pieces]),
                "lengths": np.arange(5, dtype=np.float32)}

    first = load_dataset("cached").cached_arrays("notes v1", compute)
    dataset_module._ARRAY_CACHE.clear()  # as in a new session
    second = load_dataset("cached").cached_arrays("notes v1", compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(first["notes"], second["notes"])
    files = list((DatasetStore().folder("cached") / "cache").glob("*.npz"))
    assert len(files) == 1
    with np.load(files[0], allow_pickle=False) as z:  # plain arrays, no pickle
        assert sorted(z.files) == ["lengths", "notes"]
    # Other pieces (a split changed) -> another fingerprint -> computed again, old file replaced.
    ds = load_dataset("cached")
    DatasetStore().set_split("cached", ds.pieces[0].name,
                             "test" if ds.pieces[0].split != "test" else "train")
    load_dataset("cached").cached_arrays("notes v1", compute)
    assert len(calls) == 2
    assert len(list((DatasetStore().folder("cached") / "cache").glob("*.npz"))) == 1


def test_a_damaged_stored_piece_gives_a_clear_error(tmp_path):
    src = tmp_path / "songs"
    write_generated(src, 2)
    import_folder(src, "damaged")
    ds = load_dataset("damaged")
    m = DatasetStore().read("damaged")
    first, second = (m.files[p.metadata["file"]] for p in ds.pieces)
    pack = DatasetStore().folder("damaged") / "pieces" / first["pack"]
    data = bytearray(pack.read_bytes())
    data[first["offset"]:first["offset"] + 4] = b"JUNK"  # the piece's bytes are damaged
    pack.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match="import the folder again"):
        ds.pieces[0].song()
    assert ds.pieces[1].song().note_count == 600
    # A pack cut short (lost blocks) is noticed by the next import, which parses again.
    cut = min(first["offset"], second["offset"]) + 10
    for r in (first, second):
        p = DatasetStore().folder("damaged") / "pieces" / r["pack"]
        p.write_bytes(p.read_bytes()[:cut])
    again = import_folder(src, "damaged")
    assert again.parsed == 2
    assert [p.song().note_count for p in load_dataset("damaged").pieces] == [600, 600]


def test_one_import_per_dataset_at_a_time(tmp_path):
    import fcntl

    src = tmp_path / "songs"
    write_generated(src, 2)
    folder = DatasetStore().folder("busy")
    folder.mkdir(parents=True)
    with open(folder / ".lock", "a+") as held:  # as another process's import holds it
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(DatasetError, match="being imported already"):
            import_folder(src, "busy")
    assert import_folder(src, "busy").pieces == 2
