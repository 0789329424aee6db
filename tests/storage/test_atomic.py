"""The one write path (`studio.storage`): permissions from the umask (exports used to be 0600
whatever the umask), no debris after errors or kills, read-only and full disks told in one line
while the old file stays whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from studio.midi import write_song
from studio.midi.errors import MidiWriteError
from studio.midi.render import RenderError, render_song
from studio.music.project import Project, ProjectError, load_project, save_project
from studio.storage import FileWriteError, atomic_file, remove_stale_temporaries, write_atomically
from tests.data.folders import generated_song
from tests.disk_fixtures import fill

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _mode(path) -> int:
    return os.stat(path).st_mode & 0o777


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def _debris(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_every_writer_gives_the_mode_the_umask_gives(tmp_path, umask):
    from studio.ml.checkpoint import card_path, save_checkpoint, weights_path
    from studio.ml.registry import create_family
    from tests.ml.conftest import TINY_LSTM

    song = generated_song(1, tracks=1, notes=20)
    family = create_family("gru", TINY_LSTM)
    for mask, expected in ((0o022, 0o644), (0o002, 0o664), (0o077, 0o600)):
        umask(mask)
        folder = tmp_path / f"m{mask:o}"
        folder.mkdir()
        write_song(song, folder / "a.mid")
        render_song(song, folder / "a.wav", tail_seconds=0.1)
        save_project(folder / "a.studio", Project(song))
        save_checkpoint(folder / "model", family, family.build())
        for f in ("a.mid", "a.wav", "a.studio", weights_path(folder / "model"),
                  card_path(folder / "model")):
            assert _mode(folder / f) == expected, (f, oct(_mode(folder / f)), oct(mask))
        assert _debris(folder) == []
    # An existing file keeps its own mode, as a normal open would leave it.
    target = tmp_path / "m22" / "a.mid"
    target.chmod(0o640)
    write_song(song, target)
    assert _mode(target) == 0o640


def test_an_error_while_writing_leaves_the_old_file_and_no_debris(tmp_path):
    target = tmp_path / "f.bin"
    write_atomically(target, b"old")
    with pytest.raises(RuntimeError):
        with atomic_file(target) as f:
            f.write(b"half of the new")
            raise RuntimeError("the writer failed")
    assert target.read_bytes() == b"old" and _debris(tmp_path) == []
    with pytest.raises(FileWriteError, match=r"cannot write .*nope.* does not exist"):
        write_atomically(tmp_path / "nope" / "f.bin", b"x")


def test_temporaries_of_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "model.safetensors"
    write_atomically(target, b"old")
    script = textwrap.dedent(f"""
        import sys, time
        from studio.storage import atomic_file
        with atomic_file({str(target)!r}) as f:
            f.write(b"x" * 1_000_000)
            f.flush()
            print("writing", flush=True)
            time.sleep(60)
    """)
    for _ in range(3):  # three runs killed mid-write: each removes the one before's debris
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                env={**os.environ, "PYTHONPATH": REPO})
        try:
            assert proc.stdout.readline().strip() == b"writing"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        debris = _debris(tmp_path)
        assert len(debris) == 1 and f".{proc.pid}." in debris[0]
        assert target.read_bytes() == b"old"
    other = f".other.bin.{proc.pid}.abcd.tmp"  # another target's, its writer gone too
    (tmp_path / other).write_bytes(b"")
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert _debris(tmp_path) == [other]  # another target's: not swept by this write
    assert remove_stale_temporaries(tmp_path) == 1 and _debris(tmp_path) == []


def test_a_read_only_folder_is_one_clear_error_and_keeps_the_old_file(read_only_folder):
    folder = read_only_folder
    song = generated_song(2, tracks=1, notes=10)
    with pytest.raises(FileWriteError) as e:
        write_atomically(folder / "old.txt", b"new")
    assert str(e.value).startswith(f"cannot write {folder / 'old.txt'}: ")
    assert (folder / "old.txt").read_text() == "old"
    with pytest.raises(MidiWriteError, match="cannot write the file"):
        write_song(song, folder / "x.mid")
    with pytest.raises(RenderError, match=str(folder / "x.wav")):
        render_song(song, folder / "x.wav", tail_seconds=0.1)
    with pytest.raises(ProjectError, match="cannot save"):
        save_project(folder / "x.studio", Project(song))
    assert sorted(p.name for p in folder.iterdir()) == ["old.txt"]


def test_a_full_disk_keeps_the_old_project_and_leaves_no_debris(full_folder):
    folder = full_folder
    song = generated_song(3, tracks=1, notes=10)
    save_project(folder / "song.studio", Project(song))
    before = (folder / "song.studio").read_bytes()
    fill(folder)
    big = generated_song(4, tracks=4, notes=3000)
    with pytest.raises(ProjectError, match="No space left on device"):
        save_project(folder / "song.studio", Project(big))
    assert (folder / "song.studio").read_bytes() == before
    assert load_project(folder / "song.studio").song.note_count == song.note_count
    assert _debris(folder) == []
    with pytest.raises(MidiWriteError, match="No space left"):
        write_song(big, folder / "big.mid")
    assert not (folder / "big.mid").exists() and _debris(folder) == []


def _cli(args, home, timeout=120):
    env = {**os.environ, "PYTHONPATH": REPO, "STUDIO_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "studio", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_train_and_map_to_a_read_only_disk_say_so_before_working(read_only_folder, tmp_path):
    out = read_only_folder / "model"
    run = _cli(["train", "--model", "gru", "--hidden", "8", "--embedding", "8", "--layers", "1",
                "--window", "16", "--threads", "1", "--epochs", "1", "--steps-per-epoch", "1",
                "--dataset", "jsb", "--output", out], tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert f"cannot write {out}.safetensors" in run.stderr
    folder = tmp_path / "pieces"
    folder.mkdir()
    for i in range(4):
        write_song(generated_song(10 + i, tracks=1, notes=40), folder / f"p{i}.mid")
    run = _cli(["map", folder, "-o", read_only_folder / "map.png"], tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip() == (f"studio: error: cannot write {read_only_folder / 'map.png'}"
                                  ": Read-only file system") or \
        "Permission denied" in run.stderr


def test_training_that_fills_the_disk_stops_with_one_line_and_no_debris(full_folder, tmp_path):
    fill(full_folder)
    filler = full_folder / "filler.bin"
    os.truncate(filler, max(0, filler.stat().st_size - 8192))  # room for the check, not a model
    run = _cli(["train", "--model", "gru", "--hidden", "64", "--embedding", "32", "--layers", "1",
                "--window", "16", "--threads", "1", "--epochs", "1", "--steps-per-epoch", "1",
                "--dataset", "jsb", "--output", full_folder / "model"], tmp_path)
    assert run.returncode == 2, run.stderr
    last = run.stderr.splitlines()[-1]  # after the progress lines: one line, no traceback
    assert last == (f"studio: error: cannot write {full_folder / 'model.safetensors'}: "
                    "No space left on device") and "Traceback" not in run.stderr
    assert sorted(p.name for p in full_folder.iterdir()) == ["filler.bin"]
