"""Real unwritable and full folders for the write-path tests.

Root ignores permission bits, so a `chmod 555` folder is not read-only to a test running as root
(CI containers often do). These fixtures make a real one either way:

- `read_only_folder`: a tmpfs mounted read-only (EROFS for everyone, root included) when this
  process may mount; otherwise, when not root, a folder with mode 0o555.
- `full_folder`: a tmpfs of 256 KiB that a test fills (ENOSPC); needs mount rights.

Without a way to make one, the test is skipped with the reason.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


def _mount(args: list[str]) -> bool:
    try:
        return subprocess.run(["mount", *args], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _umount(folder: Path) -> None:
    try:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        pass


def _tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    return _mount(["-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)])


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder that refuses writes, holding `old.txt` ("old") written before it became so."""
    folder = tmp_path / "read-only"
    if _tmpfs(folder, "1m"):
        (folder / "old.txt").write_text("old")
        if not _mount(["-o", "remount,ro", str(folder)]):
            _umount(folder)
            pytest.skip("cannot remount a tmpfs read-only here")
        try:
            yield folder
        finally:
            _umount(folder)
        return
    if os.geteuid() == 0:
        pytest.skip("running as root without mount rights: no folder is read-only to root")
    folder.mkdir(exist_ok=True)
    (folder / "old.txt").write_text("old")
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)


@pytest.fixture
def full_folder(tmp_path):
    """A 256 KiB file system; `fill(folder)` takes all its free space."""
    folder = tmp_path / "small-disk"
    if not _tmpfs(folder, "256k"):
        pytest.skip("cannot mount a small tmpfs here (needs mount rights)")
    try:
        yield folder
    finally:
        _umount(folder)


def fill(folder: Path) -> None:
    """Write until the file system is full (ENOSPC)."""
    fd = os.open(folder / "filler.bin", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
