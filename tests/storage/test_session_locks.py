"""The recovery folder: lock files of killed sessions without an autosave are swept; a damaged
(deeply nested) autosave does not hide the real ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from studio import paths
from studio.music.project import Project, save_project
from tests.data.folders import generated_song

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _killed_session(folder, name: str) -> None:
    """A real process takes a QLockFile as a window's session does, then is killed."""
    script = textwrap.dedent(f"""
        import os, signal
        from PySide6.QtCore import QLockFile
        lock = QLockFile({str(folder / (name + '.lock'))!r})
        lock.setStaleLockTime(0)
        assert lock.tryLock(0)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    run = subprocess.run([sys.executable, "-c", script], timeout=60,
                         env={**os.environ, "PYTHONPATH": REPO})
    assert run.returncode == -signal.SIGKILL


def test_locks_of_killed_sessions_are_swept_and_live_ones_kept(tmp_path):
    folder = paths.recovery_dir()
    for i in range(3):
        _killed_session(folder, f"session-dead{i}")
    _killed_session(folder, "session-withsave")
    save_project(folder / "session-withsave.studio", Project(generated_song(1, 1, 5)),
                 keep_backup=False)
    from PySide6.QtCore import QLockFile

    live = QLockFile(str(folder / "session-live.lock"))
    assert live.tryLock(0)
    try:
        assert len(list(folder.glob("*.lock"))) == 5
        folder = paths.recovery_dir()  # what a new window asks for
        assert sorted(p.name for p in folder.glob("*.lock")) == [
            "session-live.lock", "session-withsave.lock"]
    finally:
        live.unlock()


def test_a_deeply_nested_autosave_does_not_hide_the_real_ones(qapp):
    from studio.ui.project.recovery import find_recoverable

    folder = paths.recovery_dir()
    save_project(folder / "session-real.studio", Project(generated_song(2, 1, 7)),
                 keep_backup=False)
    (folder / "session-deep.studio").write_bytes(
        b'{"format":"studio-project","version":1,"song":' + b"[" * 10_000 + b"]" * 10_000
        + b"}")
    items = {p.path.name: p for p in find_recoverable(folder)}
    try:
        assert items["session-real.studio"].project.song.note_count == 7
        assert "nested too deeply" in items["session-deep.studio"].error
    finally:
        for item in items.values():
            item.release()
