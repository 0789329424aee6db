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
    assert not (store.folder("edit me") / "pieces" / f"{victim.metadata['content_hash']}.piece"
                ).exists()
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
    file = DatasetStore().folder("damaged") / "pieces" / \
        f"{ds.pieces[0].metadata['content_hash']}.piece"
    file.write_bytes(file.read_bytes()[:100])
    with pytest.raises(DatasetError, match="import the folder again"):
        ds.pieces[0].song()
    assert ds.pieces[1].song().note_count == 600
    # Importing again restores it.
    import_folder(src, "damaged")
    assert load_dataset("damaged").pieces[0].song().note_count == 600
