"""Lock files of sessions that were killed, swept from the recovery folder.

Each window holds `session-<id>.lock` (a QLockFile: PID, application, host name, machine and
boot ids, one per line) beside its autosave `session-<id>.studio`. A session killed before its
first autosave left the lock alone, and nothing ever removed it: they piled up. Qt-free, so the
sweep runs wherever the recovery folder is asked for (`studio.paths.recovery_dir`).
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""


def _owner_is_gone(lock: Path) -> bool:
    """Whether the process that wrote `lock` no longer runs: it ran on this machine and its
    PID is free, or it ran before the last boot. Unreadable or foreign locks are kept."""
    try:
        lines = lock.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return False
    if len(lines) < 3 or not lines[0].strip().isdigit():
        return False  # being written, or not a QLockFile
    pid, host = int(lines[0]), lines[2].strip()
    if host and host != socket.gethostname():
        return False  # another machine's session on a shared folder
    boot = _boot_id().replace("-", "")
    if len(lines) >= 5 and boot and lines[4].strip().replace("-", "") not in ("", boot):
        return True  # written before this boot
    if os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def remove_orphan_locks(folder: str | os.PathLike) -> int:
    """Remove `session-*.lock` files without an autosave whose session is gone; returns how
    many. A lock beside an autosave stays: recovery offers that autosave and removes both."""
    removed = 0
    for lock in Path(folder).glob("session-*.lock"):
        if lock.with_suffix(".studio").exists() or not _owner_is_gone(lock):
            continue
        with contextlib.suppress(OSError):
            lock.unlink()
            removed += 1
    return removed
