"""Bad input during an import: every bad file is reported with its reason, the import goes on,
and everything already imported is kept."""

import os
import random
import shutil
import signal
import struct
import subprocess
import sys

import pytest

from studio.data import load_dataset
from studio.data.importer import import_folder
from studio.data.store import DatasetStore
from studio.data.worker_pool import WorkerPool
from studio.midi import song_to_midi_bytes
from tests.conftest import MIDI_DIR, REPO
from tests.data.folders import generated_song, write_generated


def test_corrupt_empty_truncated_huge_and_fake_files(tmp_path):
    src = tmp_path / "messy"
    write_generated(src, 4)
    real = (MIDI_DIR / "debussy" / "menuet.mid").read_bytes()
    (src / "empty.mid").write_bytes(b"")
    (src / "truncated.mid").write_bytes(real[: len(real) // 2])
    (src / "text.mid").write_text("Dear diary, today I named a text file .mid\n" * 20)
    (src / "picture.midi").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    rng = random.Random(5)
    corrupt = bytearray(real)
    for _ in range(40):
        corrupt[rng.randrange(14, len(corrupt))] = rng.randrange(256)
    corrupt[18:22] = struct.pack(">I", 0xFFFFFF)  # first track claims far too many bytes
    (src / "corrupt.mid").write_bytes(bytes(corrupt))
    with open(src / "huge.mid", "wb") as f:  # 100 MiB (sparse), over the 64 MiB limit
        f.write(b"MThd")
        f.truncate(100 * 2**20)
    (src / "notes.txt").write_text("not a music file, not even looked at")

    report = import_folder(src, "messy")
    reasons = dict(report.bad)
    assert sorted(reasons) == ["corrupt.mid", "empty.mid", "huge.mid", "picture.midi",
                               "text.mid", "truncated.mid"]
    assert "empty" in reasons["empty.mid"]
    assert "truncated" in reasons["truncated.mid"]
    assert "not a MIDI file" in reasons["text.mid"] and "not a MIDI file" in reasons["picture.midi"]
    assert "limit" in reasons["huge.mid"]
    assert "claims" in reasons["corrupt.mid"]
    assert report.pieces == 4 and len(load_dataset("messy")) == 4
    # The report is kept with the dataset, and a re-import does not try the same files again.
    problems = dict(DatasetStore().read("messy").problems())
    assert problems["huge.mid"]["reason"] == reasons["huge.mid"]
    assert import_folder(src, "messy").parsed == 0


def test_fuzzed_files_never_stop_the_import(tmp_path):
    src = tmp_path / "fuzz"
    src.mkdir()
    rng = random.Random(11)
    base = song_to_midi_bytes(generated_song(3, notes=60))
    for i in range(30):
        b = bytearray(base)
        for _ in range(rng.randint(1, 30)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        (src / f"fuzz_{i:02d}.mid").write_bytes(bytes(b[: rng.randint(10, len(b))]))
    report = import_folder(src, "fuzz")
    assert report.pieces + len(report.bad) + len(report.filtered) + len(report.duplicates) == 30
    assert all(reason for _, reason in report.bad)
    assert len(load_dataset("fuzz")) == report.pieces


def test_a_worker_crash_marks_one_file_and_the_import_goes_on(tmp_path):
    src = tmp_path / "crashy"
    write_generated(src, 30, notes=1500)
    pool = WorkerPool(2)
    killed = []

    def progress(p):
        if p.done == 3 and not killed:
            pid = pool.worker_pids()[0]
            os.kill(pid, signal.SIGSEGV)  # the native parser dies as a segfault would
            killed.append(pid)

    try:
        report = import_folder(src, "crashy", progress=progress, pool=pool)
    finally:
        pool.close()
    assert killed and pool.crashes >= 1
    crashed = [f for f, reason in report.bad if "crashed" in reason]
    assert len(crashed) <= 1 and len(report.bad) == len(crashed)
    assert report.pieces + len(crashed) == 30
    # The crash was not the file's fault on a second try: importing again retries nothing
    # that was imported, and the crashed file stays reported.
    assert len(load_dataset("crashy")) == report.pieces


def test_the_pool_survives_a_hanging_worker(tmp_path):
    good = write_generated(tmp_path / "g", 2)
    pool = WorkerPool(1)
    try:
        from studio.data.worker_pool import Job

        dest = tmp_path / "out"
        dest.mkdir()
        pool.submit(Job("a", {"path": str(good[0]), "dest": str(dest), "options": {},
                                    "pack": "t"}))
        pool.submit(Job("b", {"path": str(good[1]), "dest": str(dest), "options": {},
                                    "pack": "t"}))
        os.kill(pool.worker_pids()[0], signal.SIGSTOP)  # hangs like an endless parse
        pool._workers[0].replied = True  # its start-up allowance is over
        pool._workers[0].last_reply -= 60
        done, requeue = pool.collect(0.1)
        assert [j.key for j, _ in done] == ["a"] and "too long" in done[0][1]["reason"]
        assert [j.key for j in requeue] == ["b"]
        pool.submit(requeue[0])
        finished = []
        for _ in range(200):
            finished += pool.collect(0.05)[0]
            if finished:
                break
        assert finished[0][0].key == "b" and finished[0][1]["ok"]
    finally:
        pool.close(kill=True)


def test_a_file_that_hangs_inside_a_batch_is_the_only_one_reported(tmp_path, monkeypatch):
    """Small files go to the workers several per message; when a worker hangs on one of them,
    the batch's files are tried again one by one, so only the file that hangs is reported."""
    from studio.data import worker_pool
    from studio.midi import limits

    # 2 s per message and 5 s for a fresh worker's start: short, with room for a loaded machine
    monkeypatch.setattr(limits, "PARSER_TIMEOUT_S", 0.5)
    monkeypatch.setattr(worker_pool, "STARTUP_ALLOWANCE_S", 5.0)
    src = tmp_path / "hangs"
    write_generated(src, 40, notes=40)
    os.mkfifo(src / "gen_0020_hang.mid")  # opening it waits forever for a writer
    pool = WorkerPool(2)
    batches = []
    submit_batch = pool.submit_batch
    monkeypatch.setattr(pool, "submit_batch", lambda jobs: (batches.append(len(jobs)),
                                                            submit_batch(jobs)))
    try:
        report = import_folder(src, "hangs", pool=pool)
    finally:
        pool.close(kill=True)
    assert max(batches) > 1 and pool.crashes >= 2  # killed in its batch, then alone
    assert [f for f, _ in report.bad] == ["gen_0020_hang.mid"]
    assert "too long" in dict(report.bad)["gen_0020_hang.mid"]
    assert report.pieces == 40 and len(load_dataset("hangs")) == 40


def test_unreadable_files_are_reported(tmp_path):
    # Root reads anything. The import runs without the capabilities that let root ignore file
    # permissions (the interpreter lives under /root, so it cannot run as 'nobody' here): the
    # kernel's permission check is real, in the importer and in its worker processes.
    src = tmp_path / "music"
    write_generated(src, 3)
    write_generated(src / "locked", 1, start_seed=50)
    os.chmod(src / "gen_0001.mid", 0o000)
    os.chmod(src / "locked", 0o000)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    try:
        out = subprocess.run(["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
                              sys.executable, "-m", "studio", "import", str(src), "--name",
                              "perm"], env=env, capture_output=True, text=True, timeout=60)
    finally:
        os.chmod(src / "locked", 0o755)
    assert out.returncode == 0, out.stderr
    assert "gen_0001.mid: permission denied" in out.stdout
    assert "locked/: cannot open the folder" in out.stdout
    m = DatasetStore().read("perm")
    assert len(m.pieces()) == 2
    assert "permission denied" in m.files["gen_0001.mid"]["reason"]
    # Once readable, the next import takes them (the files themselves are unchanged).
    os.chmod(src / "gen_0001.mid", 0o644)
    again = import_folder(src, "perm")
    assert again.parsed == 2 and again.pieces == 4 and not again.bad


def test_a_folder_that_vanishes_mid_import(tmp_path):
    src = tmp_path / "usb stick"
    write_generated(src, 40)

    def progress(p):
        if p.done == 5 and src.exists():
            shutil.rmtree(src)  # the stick is pulled out

    report = import_folder(src, "vanishing", progress=progress)
    gone = [f for f, reason in report.bad if "disappeared" in reason]
    assert report.pieces >= 5 and gone
    assert report.pieces + len(gone) == 40
    ds = load_dataset("vanishing")
    assert len(ds) == report.pieces
    assert all(p.song().note_count == 600 for p in ds.pieces)  # kept, from the store


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_keeps_what_fit_and_the_next_import_adds_the_rest(tmp_path, small_disk,
                                                                        monkeypatch):
    src = tmp_path / "big songs"
    write_generated(src, 30, tracks=4, notes=1000)  # about 64 KiB per stored piece
    monkeypatch.setenv("STUDIO_HOME", str(small_disk))
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * 400_000)

    report = import_folder(src, "full")
    full = [f for f, reason in report.bad if "disk is full" in reason]
    assert full and report.pieces > 0
    assert report.pieces + len(full) == 30
    ds = load_dataset("full")
    assert len(ds) == report.pieces
    assert all(p.song().note_count == 4000 for p in ds.pieces)
    assert {f for f, _ in DatasetStore().read("full").problems()} == set(full)

    filler.unlink()  # make some room: the next import stores more, parsing only those
    shutil.rmtree(small_disk / "datasets" / "full" / "cache", ignore_errors=True)
    again = import_folder(src, "full")
    assert again.parsed == len(full)
    assert again.pieces > report.pieces


MUSICXML = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1"><part-list><score-part id="P1"><part-name>Flute</part-name>
</score-part></part-list><part id="P1"><measure number="1"><attributes><divisions>1</divisions>
<time><beats>4</beats><beat-type>4</beat-type></time></attributes>
<note><pitch><step>C</step><octave>5</octave></pitch><duration>2</duration></note>
<note><pitch><step>E</step><octave>5</octave></pitch><duration>2</duration></note>
</measure></part></score-partwise>
"""


def test_musicxml_is_imported_with_music21_or_reported_without_it(tmp_path):
    from studio.data.musicxml import INSTALL_HINT, music21_available

    src = tmp_path / "scores"
    write_generated(src, 1)
    (src / "tune.musicxml").write_text(MUSICXML)
    report = import_folder(src, "scores")
    if music21_available():
        assert report.pieces == 2 and not report.bad
        tune = next(p for p in load_dataset("scores").pieces if p.name == "tune")
        assert sorted(n.pitch for t in tune.song().tracks for n in t.notes) == [72, 76]
    else:
        assert report.pieces == 1 and report.bad == [("tune.musicxml", INSTALL_HINT)]
