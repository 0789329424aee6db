"""Two processes on one dataset: a deletion during an import is refused (it used to leave a
"successful" import of a dataset that no longer existed, or a listed dataset with no readable
pieces), a deletion leaves the list in one step, and a process that has a dataset open keeps
reading it while another process imports it again."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from studio.data import load_dataset
from studio.data.errors import DatasetError
from studio.data.importer import import_folder
from studio.data.store import TRASH_PREFIX, DatasetStore, dataset_lock
from tests.data.folders import write_generated

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _cli(args, timeout=120, wait=True):
    cmd = [sys.executable, "-m", "studio", *map(str, args)]
    env = {**os.environ, "PYTHONPATH": REPO}
    if not wait:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_delete_during_an_import_is_refused_and_the_import_stays_whole(tmp_path):
    src = tmp_path / "songs"
    write_generated(src, 60, notes=400)
    store = DatasetStore()
    # The deleting process is started first, ready, and deletes the moment the import has begun.
    journal = store.folder("busy") / "journal.jsonl"
    deleter = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import os, sys, time
            from studio.cli import build_parser, main
            import studio.data.store
            build_parser()
            print("ready", flush=True)
            while not os.path.exists({str(journal)!r}):
                time.sleep(0.002)
            sys.exit(main(["datasets", "delete", "busy"]))
        """)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": REPO})
    try:
        assert deleter.stdout.readline().strip() == "ready"
        importing = _cli(["import", src, "--name", "busy", "--workers", "1"], wait=False)
        _, deleted_err = deleter.communicate(timeout=60)
        assert importing.poll() is None  # the import was still running
        out, err = importing.communicate(timeout=120)
    finally:
        for proc in (deleter, *([importing] if "importing" in locals() else [])):
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
    assert deleter.returncode == 2 and deleted_err.count("\n") == 1, deleted_err
    assert "'busy' is being imported" in deleted_err
    assert importing.returncode == 0, err
    assert "60 pieces from 60 files" in out
    ds = load_dataset("busy")
    assert len(ds) == 60 and all(p.song().note_count > 1000 for p in ds.pieces)
    # With the import done, the deletion goes through and takes the whole dataset at once.
    assert _cli(["datasets", "delete", "busy"]).returncode == 0
    assert "busy" not in store.names() and not store.folder("busy").exists()
    assert [p.name for p in store.root.iterdir()] == []


def test_a_lock_held_by_another_process_refuses_delete_and_import(tmp_path):
    src = tmp_path / "songs"
    write_generated(src, 2)
    import_folder(src, "held")
    store = DatasetStore()
    with dataset_lock(store.folder("held"), "held"):  # as an import in this process does
        run = subprocess.run(
            [sys.executable, "-c", "from studio.cli import main\n"
             "print(main(['datasets', 'delete', 'held']), main(['import', "
             f"{str(src)!r}, '--name', 'held']))"], capture_output=True, text=True,
            timeout=120, env={**os.environ, "PYTHONPATH": REPO})
    assert run.stdout.strip() == "2 2", run.stderr
    assert "'held' is being imported (in another window" in run.stderr
    assert "'held' is being imported already" in run.stderr
    assert len(load_dataset("held")) == 2


def test_a_deletion_killed_half_way_leaves_nothing_listed(tmp_path):
    src = tmp_path / "songs"
    write_generated(src, 3)
    import_folder(src, "gone")
    store = DatasetStore()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, timeout=60).stdout.strip()
    # What a deletion killed after its rename leaves: the folder under the trash name.
    trash = store.root / f"{TRASH_PREFIX}{dead}-{store.folder('gone').name}"
    os.replace(store.folder("gone"), trash)
    assert store.names() == [] and not trash.exists()  # listing finishes the deletion


def test_an_open_dataset_keeps_reading_while_another_process_imports_it_again(tmp_path):
    src = tmp_path / "songs"
    files = write_generated(src, 6)
    import_folder(src, "shared")
    opened = load_dataset("shared")  # this process has it open
    packs_before = set(os.listdir(DatasetStore().folder("shared") / "pieces"))
    files[0].unlink()
    # Other options: the other process parses and stores every piece again, in new packs.
    run = _cli(["import", src, "--name", "shared", "--workers", "1", "--keep-drums"])
    assert run.returncode == 0, run.stderr
    packs_after = set(os.listdir(DatasetStore().folder("shared") / "pieces"))
    assert not packs_before & packs_after  # the packs this process knew are gone
    removed = next(p for p in opened.pieces if p.metadata["file"] == files[0].name)
    for piece in opened.pieces:
        if piece is removed:
            with pytest.raises(DatasetError, match="no longer in the dataset 'shared'"):
                piece.song()
        else:
            assert piece.song().note_count == 3 * 200
