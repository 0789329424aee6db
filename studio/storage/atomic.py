"""The one way Studio writes a file: atomically, durably, with the permissions a normal open
would give, and without leaving debris.

Every writer (MIDI export, WAV render, projects and autosaves, model files and training state,
dataset manifests and caches, style-map pictures) goes through `write_atomically`,
`atomic_file` or `atomic_path`:

1. the data goes to a temporary file in the target's folder, `.NAME.PID.RANDOM.tmp` (same file
   system, so the final rename is atomic; the PID says which process owns it);
2. it is flushed and fsynced, and given its final mode: an existing target keeps its mode, a
   new file gets 0o666 minus the umask (temporary files are created 0o600, which used to leak
   into exported files);
3. it is renamed over the target, and the folder is fsynced so the rename itself survives a
   power cut;
4. on any error (full disk, read-only folder, an exception or Ctrl+C while writing) the
   temporary file is removed and a `FileWriteError` (an `OSError` that names the file and the
   reason in one line) is raised;
5. temporary files of runs that were killed (their process is gone) are removed before the next
   write of the same target, and `remove_stale_temporaries(folder)` sweeps a whole folder.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import secrets
import stat
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"
# Temporary files without a PID in their name (written by older versions) are removed once they
# are this old: no write takes that long, so their writer is gone.
LEGACY_TEMP_AGE_S = 3600.0
_umask_lock = threading.Lock()


class FileWriteError(OSError):
    """A file that cannot be written; `str()` is one line naming the file and the reason."""

    user_facing = True

    def __init__(self, path: str | os.PathLike, reason: OSError | str) -> None:
        if isinstance(reason, OSError):
            code, text = reason.errno, reason.strerror or str(reason)
        else:
            code, text = None, reason
        super().__init__(code, text, str(path))
        self.path = Path(path)
        self.reason = text

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.reason}"


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux's
    /proc/self/status); elsewhere set and restored under a lock, through 0o077 so that a file
    another thread creates in between is never more open than it should be."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def new_file_mode(path: str | os.PathLike) -> int:
    """The mode a normal `open(path, "w")` would leave: the existing file's, else 0o666 minus
    the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def temp_path_for(path: Path) -> Path:
    """A fresh temporary name beside `path` that the stale-file sweep recognises."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def _writer_is_gone(temp: Path, prefix_len: int) -> bool:
    """Whether the process that made `temp` (`.NAME.PID.RANDOM.tmp`) no longer runs."""
    middle = temp.name[prefix_len:-len(TEMP_SUFFIX)].split(".")
    pid = int(middle[0]) if middle and middle[0].isdigit() else None
    if pid is None or os.name != "posix":
        try:
            return time.time() - temp.lstat().st_mtime > LEGACY_TEMP_AGE_S
        except OSError:
            return False
    if pid == os.getpid():
        return False  # another write of this process may be running
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive (owned by another user) or unknown: leave it
    return False


def remove_stale_temporaries_of(path: Path) -> None:
    """Remove the temporary files that killed writers of `path` left beside it."""
    prefix = f".{path.name}."
    try:
        candidates = glob.glob(glob.escape(str(path.parent / prefix)) + "*" + TEMP_SUFFIX)
    except OSError:
        return
    for name in candidates:
        temp = Path(name)
        if _writer_is_gone(temp, len(prefix)):
            with contextlib.suppress(OSError):
                temp.unlink()


def remove_stale_temporaries(folder: str | os.PathLike) -> int:
    """Remove the temporary files of killed writers in `folder`, a folder Studio owns (the model
    library, a dataset); returns how many. (In a user's own folder use
    `remove_stale_temporaries_of`, which touches only the temporaries of one target.)"""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
            continue
        # `.TARGET.PID.RANDOM.tmp`: the PID is the second field from the end
        parts = name[1:-len(TEMP_SUFFIX)].split(".")
        temp = Path(entry.path)
        if len(parts) >= 3 and parts[-2].isdigit():
            target_len = len(name) - len(parts[-2]) - len(parts[-1]) - len(TEMP_SUFFIX) - 1
            gone = _writer_is_gone(temp, target_len)
        else:
            gone = _writer_is_gone(temp, len(name))
        if gone:
            with contextlib.suppress(OSError):
                temp.unlink()
                removed += 1
    return removed


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as e:  # some file systems cannot fsync a folder: the rename is still done
        if e.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def _check_folder(path: Path, make_folder: bool) -> None:
    folder = path.parent
    if make_folder:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise FileWriteError(path, e) from None
    elif not folder.is_dir():
        raise FileWriteError(path, f"the folder {folder} does not exist")
    if path.is_dir():
        raise FileWriteError(path, "a folder of that name is in the way")


def check_writable(path: str | os.PathLike, make_folder: bool = False) -> None:
    """Raise `FileWriteError` now if `path` could not be written (no folder, a read-only or
    full disk), so a long job (training, rendering) is refused before it starts, not after."""
    path = Path(path)
    _check_folder(path, make_folder)
    temp = temp_path_for(path)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"\0" * 4096)  # a full disk refuses a block, not always an inode
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise FileWriteError(path, e) from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, make_folder: bool = False) -> Iterator[Path]:
    """Yields a temporary path (an empty file) for a library that writes by file name; when the
    block ends without an error, that file replaces `path` as `write_atomically` does."""
    path = Path(path)
    _check_folder(path, make_folder)
    remove_stale_temporaries_of(path)
    temp = temp_path_for(path)
    mode = new_file_mode(path)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except OSError as e:
        raise FileWriteError(path, e) from None
    try:
        yield temp
        fd = os.open(temp, os.O_RDWR)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            else:
                os.chmod(temp, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
        _fsync_folder(path.parent)
    except BaseException as e:
        with contextlib.suppress(OSError):
            temp.unlink()
        if isinstance(e, OSError) and not isinstance(e, FileWriteError):
            raise FileWriteError(path, e) from None
        raise


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, make_folder: bool = False) -> Iterator[BinaryIO]:
    """Yields a binary file to write; when the block ends without an error it replaces `path`
    atomically (see the module's steps). Nothing of it is left when the block fails."""
    with atomic_path(path, make_folder) as temp:
        with open(temp, "wb") as f:
            yield f
            f.flush()


def write_atomically(path: str | os.PathLike, data: bytes | Iterable[bytes],
                     make_folder: bool = False) -> None:
    """Replace `path` with `data` (bytes, or an iterable of byte chunks) atomically and
    durably; raises `FileWriteError` naming the file and the reason."""
    with atomic_file(path, make_folder) as f:
        if isinstance(data, (bytes, bytearray, memoryview)):
            f.write(data)
        else:
            for chunk in data:
                f.write(chunk)
