"""Opening a file the user named, without hanging on what is not a file.

`open(path, "rb")` on a FIFO waits for a writer forever (`studio info pipe.mid` hung), and on a
device reads without end. `open_regular` opens without blocking, checks that a regular file was
opened (the check is on the opened descriptor, so a swap after the check cannot fool it), and
only then gives it back as a normal blocking file.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotAFileError(OSError):
    """The path is a folder, a pipe, a device or a socket: not a file to read."""

    def __init__(self, path: str | os.PathLike, what: str) -> None:
        super().__init__(errno.EINVAL, f"this is {what}, not a file", str(path))
        self.what = what


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """The file at `path` opened for binary reading; raises `NotAFileError` for anything that
    is not a regular file, and the usual OSErrors (FileNotFoundError, PermissionError)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotAFileError(path, _kind(mode))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike, max_bytes: int | None = None) -> bytes:
    """All of a regular file's bytes (at most `max_bytes` + 1, so a caller can tell it is over
    a limit)."""
    with open_regular(Path(path)) as f:
        return f.read() if max_bytes is None else f.read(max_bytes + 1)
