"""File, track and dataset names from a hostile or unlucky folder: a file name that is not
valid UTF-8, and names holding terminal escape sequences. The commands run as real processes
with a strict UTF-8 terminal encoding (as a shell would), so an unprintable name would crash."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from studio.midi import read_song, write_song
from tests.conftest import MIDI_DIR
from tests.data.folders import generated_song

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ESC = "\x1b[31m"


def _cli_session(commands: list[list], home, timeout=120) -> list[tuple[int, bytes]]:
    """Run `studio` commands one after the other in one real process whose terminal encoding
    is strict UTF-8 (as a shell's); returns (exit code, output) per command."""
    script = ("import os, sys\nfrom studio.cli import main\n"
              "for args in eval(sys.argv[1]):\n"
              "    code = main([os.fsdecode(a) for a in args])\n"
              "    sys.stdout.flush(); sys.stderr.flush()\n"
              "    print(f'\\n@@rc {code}@@', flush=True)\n")
    env = {**os.environ, "PYTHONPATH": REPO, "STUDIO_HOME": str(home), "LANG": "C.UTF-8",
           "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8:strict"}
    encoded = repr([[os.fsencode(str(a)) for a in args] for args in commands])
    run = subprocess.run([sys.executable, "-c", script, encoded], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    parts = run.stdout.split(b"@@rc ")
    results = []
    for i in range(1, len(parts)):
        code = int(parts[i].split(b"@@")[0])
        results.append((code, parts[i - 1].split(b"@@", 1)[-1]))
    assert len(results) == len(commands), run.stdout.decode(errors="replace")
    return results


def _folder(tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    raw = os.fsencode(folder) + b"/caf\xe9 \xff.mid"  # Latin-1 bytes: not UTF-8
    shutil.copyfile(MIDI_DIR / "230_bpm_multitrack.mid", raw)
    song = generated_song(7, tracks=1, notes=60)
    song.tracks[0].name = f"lead{ESC}red\x07"
    write_song(song, folder / f"esc{ESC}.mid")
    shutil.copyfile(MIDI_DIR / "joplin" / "TheEntertainer.mid", folder / "plain.mid")
    return folder


def test_names_that_are_not_utf8_or_hold_escapes_never_crash_or_reach_the_terminal(
        tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    commands = [["import", folder, "--name", f"odd{ESC}set"], ["datasets"],
                ["datasets", "show", f"odd{ESC}set"], ["info", *sorted(folder.iterdir())]]
    results = _cli_session(commands, tmp_path / "home")
    for args, (code, out) in zip(commands, results):
        assert code == 0, (args, out.decode(errors="replace"))
        assert b"\x1b" not in out and b"\x07" not in out, out
        out.decode("utf-8")  # what reaches the terminal is valid UTF-8
        assert b"Traceback" not in out
    assert b"3 pieces from 3 files" in results[0][1]
    assert b"odd\\x1b[31mset" in results[1][1]
    assert b"pieces   3" in results[2][1]
    assert b"caf\\xe9 \\xff.mid" in results[3][1]
    assert b"lead\\x1b[31mred\\x07" in results[3][1]
    # Training on it (the split of a piece named with undecodable bytes used to crash).
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    from studio.data import load_dataset

    dataset = load_dataset(f"odd{ESC}set")
    assert sorted(p.split for p in dataset.pieces) and len(dataset.pieces) == 3
    assert any("\udcff" in p.name for p in dataset.pieces)
    assert len(dataset.fingerprint()) == 16


def test_a_song_titled_with_undecodable_bytes_writes_them_back(tmp_path):
    folder = _folder(tmp_path)
    odd = next(p for p in folder.iterdir() if p.name.startswith("caf"))
    song = read_song(odd)
    assert song.title == odd.stem and "\udcff" in song.title
    write_song(song, tmp_path / "copy.mid")  # used to raise UnicodeEncodeError
    assert read_song(tmp_path / "copy.mid").note_count == song.note_count
