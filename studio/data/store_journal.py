"""The journal and the lock of a dataset folder (see `studio.data.store`).

`Journal` appends one JSON line per finished file during an import; `replay_journal` folds them
into the manifest (an interrupted import resumes from them). `dataset_lock` lets one import or
deletion work on a dataset at a time, across processes; a deletion first renames the folder to
`.deleting-PID-NAME` (the dataset leaves the list at once) and `sweep_trash` finishes a deletion
that was killed half way.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from studio.data.errors import DatasetError
from studio.data.piece_content import hist_from_text
from studio.storage import loads_bounded

if TYPE_CHECKING:
    from studio.data.store import Manifest

TRASH_PREFIX = ".deleting-"


def sweep_trash(folder: Path) -> None:
    """A dataset folder whose deletion was killed half way: finish it (its deleting process
    is gone)."""
    if not folder.name.startswith(TRASH_PREFIX) or not folder.is_dir():
        return
    pid = folder.name[len(TRASH_PREFIX):].split("-", 1)[0]
    if pid.isdigit() and int(pid) != os.getpid():
        try:
            os.kill(int(pid), 0)
            return  # still deleting
        except ProcessLookupError:
            pass
        except OSError:
            return
    elif pid.isdigit():
        return
    shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def dataset_lock(dest: Path, name: str, busy: str | None = None):
    """One import or deletion per dataset at a time, across processes (the panel and the
    command line); `busy` is the message when another holds it."""
    try:
        dest.mkdir(parents=True, exist_ok=True)
        f = open(dest / ".lock", "a+")
    except OSError as e:
        raise DatasetError(f"cannot write the dataset {name!r} ({e.strerror or e})") from None
    try:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks here
            fcntl = None
        if fcntl is not None:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise DatasetError(busy or f"the dataset {name!r} is being imported already (in "
                                   "another window or terminal)") from None
        yield
    finally:
        f.close()  # releases the lock


class Journal:
    """Append-only JSON lines, handed to the OS every 50 ms and fsynced every 0.5 s.
    A failed write (full disk) is remembered, not raised: the import goes on."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: str | None = None
        self._last_sync = self._last_flush = 0.0
        try:
            self._f = open(path, "a", encoding="utf-8")
        except OSError as e:
            self._f = None
            self.error = e.strerror or str(e)

    def append(self, rel: str, record: dict, hist: tuple | None = None) -> None:
        if self._f is None:
            return
        line = {"rel": rel, "record": record}
        if hist is not None:
            line["pitch_hist"], line["length_hist"] = hist
        try:
            self._f.write(json.dumps(line, separators=(",", ":")) + "\n")
            now = time.monotonic()
            if now - self._last_flush > 0.05:  # to the OS: survives a crash of the app
                self._f.flush()
                self._last_flush = now
            if now - self._last_sync > 0.5:  # to the disk: survives a power cut
                os.fsync(self._f.fileno())
                self._last_sync = now
        except OSError as e:
            self.error = e.strerror or str(e)

    def close(self) -> None:
        if self._f is not None:
            try:
                self._f.flush()
                os.fsync(self._f.fileno())
            except OSError as e:
                self.error = self.error or e.strerror or str(e)
            try:
                self._f.close()
            except OSError:
                pass
            self._f = None


def replay_journal(path: Path, m: Manifest) -> int:
    """Fold journal lines into the manifest; a torn last line (crash mid-write) is ignored."""
    try:
        text = path.read_text("utf-8", errors="replace")
    except FileNotFoundError:
        return 0
    except OSError:
        return 0
    n = 0
    for line in text.splitlines():
        try:
            entry = loads_bounded(line)
            m.files[entry["rel"]] = entry["record"]
        except (ValueError, KeyError, TypeError):
            continue
        if "pitch_hist" in entry:
            try:
                m.hists[entry["record"]["hash"]] = (hist_from_text(entry["pitch_hist"]),
                                                    hist_from_text(entry["length_hist"]))
            except (ValueError, TypeError):
                pass  # recomputed from the piece when statistics need it
        n += 1
    return n
