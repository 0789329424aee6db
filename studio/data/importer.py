"""Importing a folder of MIDI (and MusicXML) files into a stored dataset.

`import_folder` is plain long work: it reports progress through a callback and checks a cancel
callback between files; the CLI prints a progress line and the panel runs it on a QThread. Files
are parsed in worker processes (`worker_pool`), so a file that crashes or hangs a parser is
reported bad and the import goes on. Each finished file is recorded in the dataset's journal at
once: a cancelled, crashed or power-cut import keeps what it did, and importing the same folder
again parses only files that are new, changed, or not done yet. Duplicates (same bytes) are
reported and skipped. A full disk ends no import: the files that could not be stored are reported
(and retried by the next import), and space reserved at the start saves the manifest.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from studio.data.errors import DatasetError
from studio.data.import_worker import MUSICXML_SUFFIXES
from studio.data.piece_content import LENGTH_LABELS, ImportOptions, hist_from_text
from studio.data.store import (
    DatasetStore,
    Journal,
    Manifest,
    check_name,
    dataset_lock,
    drop_unused_packs,
)
from studio.data.worker_pool import Job, WorkerPool
from studio.midi import limits

MIDI_SUFFIXES = (".mid", ".midi", ".kar", ".rmi")
IMPORT_SUFFIXES = MIDI_SUFFIXES + MUSICXML_SUFFIXES
BATCH_FILES = 8  # files per worker message (small files; see `_next_batch`)
BATCH_BYTES = 1 << 20
RETRY_KINDS = ("disk_full", "store_error", "missing", "access")  # not the file's fault: try it again


@dataclass
class ImportProgress:
    done: int
    total: int
    current: str = ""
    added: int = 0
    problems: int = 0
    phase: str = "importing"  # "scanning", "importing", "saving"


@dataclass
class ImportReport:
    name: str
    folder: str
    files: int = 0
    added: list[str] = field(default_factory=list)
    unchanged: int = 0
    parsed: int = 0
    gone: list[str] = field(default_factory=list)  # pieces whose file left the folder
    bad: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, same as)
    filtered: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pieces: int = 0
    cancelled: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        head = "Import cancelled" if self.cancelled else "Imported"
        parts = [f"{head} {self.name!r}: {self.pieces} pieces from {self.files} files "
                 f"({len(self.added)} new, {self.unchanged} unchanged) in {self.seconds:.1f} s"]
        for label, items in (("unreadable", self.bad), ("duplicates skipped", self.duplicates),
                             ("filtered out", self.filtered), ("no longer in the folder",
                                                               self.gone)):
            if items:
                parts.append(f"{len(items)} {label}")
        return "; ".join(parts)


def _scan(folder: Path, problems: list[tuple[str, str]]) -> dict[str, tuple[str, int, int]]:
    """rel -> (path, size, mtime_ns) for every importable file under `folder` (recursive), in
    folder order (names sorted, a folder's files before its subfolders)."""
    found: dict[str, tuple[str, int, int]] = {}
    root = str(folder)

    def onerror(e: OSError) -> None:
        rel = os.path.relpath(e.filename, folder) if e.filename else "."
        problems.append((rel + "/", f"cannot open the folder ({e.strerror or e})"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        dirnames.sort()
        prefix = os.path.relpath(dirpath, root).replace(os.sep, "/") + "/"
        if prefix == "./":
            prefix = ""
        for fn in sorted(filenames):
            if fn.startswith(".") or not fn.lower().endswith(IMPORT_SUFFIXES):
                continue
            path = os.path.join(dirpath, fn)
            rel = prefix + fn
            try:
                st = os.stat(path)
            except OSError as e:
                problems.append((rel, "the file disappeared during the import"
                                 if isinstance(e, FileNotFoundError) else
                                 f"cannot read the file ({e.strerror or e})"))
                continue
            found[rel] = (path, st.st_size, st.st_mtime_ns)
    return found


def piece_names(rels: list[str]) -> dict[str, str]:
    """The piece name of each file: its path without suffix, or with it where two would clash."""
    stems: dict[str, list[str]] = {}
    for rel in rels:
        stems.setdefault(rel.rsplit(".", 1)[0], []).append(rel)
    return {rel: (stem if len(group) == 1 else rel)
            for stem, group in stems.items() for rel in group}


def _reserve(folder: Path, files: int) -> Path | None:
    """Claim disk space for the final manifest, released just before it is written."""
    path = folder / ".reserve"
    size = 128 * 1024 + 2048 * files
    try:
        with open(path, "wb") as f:
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(f.fileno(), 0, size)
            else:
                f.write(b"\0" * size)
        return path
    except OSError:
        path.unlink(missing_ok=True)
        return None


def import_folder(folder: str | Path, name: str, options: ImportOptions | None = None, *,
                  progress: Callable[[ImportProgress], None] | None = None,
                  cancel: Callable[[], bool] | None = None, workers: int | None = None,
                  store: DatasetStore | None = None, pool: WorkerPool | None = None
                  ) -> ImportReport:
    """Import (or re-import, or resume) `folder` as the dataset `name`.

    `workers` parser processes are started (one per core by default), or the given `pool` is
    used (and left open, for the caller to reuse or close).

    Raises DatasetError only for what stops an import before it starts (no such folder, a name
    taken by another folder, an unwritable store); problems with files are in the report.
    """
    t0 = time.perf_counter()
    name = check_name(name)
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder" if folder.exists()
                           else f"the folder {folder} does not exist")
    folder = folder.resolve()
    store = store or DatasetStore()
    options = options or ImportOptions()
    with dataset_lock(store.folder(name), name):
        return _import(folder, name, options, store, progress, cancel, workers, pool, t0)


def _import(folder: Path, name: str, options: ImportOptions, store: DatasetStore, progress,
            cancel, workers: int | None, pool: WorkerPool | None, t0: float) -> ImportReport:
    if store.exists(name):
        taken = store.names()
        if name not in taken:
            raise DatasetError(f"the name {name!r} is too close to an existing dataset's name; "
                               "choose another")
        m = store.read(name)
        if m.source and Path(m.source) != folder:
            raise DatasetError(f"the dataset {name!r} was imported from {m.source}; "
                               "choose another name for another folder")
        reparse_all = m.options != options.to_dict()
    else:
        m, reparse_all = Manifest(name, str(folder), options.to_dict()), False
    m.source, m.options, m.complete = str(folder), options.to_dict(), False
    dest = store.folder(name)
    try:
        (dest / "pieces").mkdir(parents=True, exist_ok=True)
        store.write(m)
    except OSError as e:
        raise DatasetError(f"cannot write the dataset {name!r} in {store.root} "
                           f"({e.strerror or e})") from None
    report = ImportReport(name, str(folder))

    def tell(done: int, total: int, current: str = "", phase: str = "importing") -> None:
        if progress is not None:
            progress(ImportProgress(done, total, current, len(report.added),
                                    len(report.bad) + len(report.duplicates), phase))

    tell(0, 0, str(folder), "scanning")
    scan_problems: list[tuple[str, str]] = []
    found = _scan(folder, scan_problems)
    report.files = len(found) + len(scan_problems)
    names = piece_names(list(found))
    order = {rel: i for i, rel in enumerate(found)}
    for rel, reason in scan_problems:
        m.files[rel] = {"status": "bad", "kind": "access", "reason": reason}
        report.bad.append((rel, reason))
    for rel in [r for r in m.files if r not in found and not r.endswith("/")]:
        if rel in dict(scan_problems):
            continue
        old = m.files.pop(rel)  # the file left the folder: so does its piece
        if old.get("status") == "ok":
            report.gone.append(rel)
    by_hash = {r["hash"]: rel for rel, r in m.files.items() if r.get("status") == "ok"}

    jobs: deque[Job] = deque()
    packs = _PackSizes(dest / "pieces")
    token = uuid.uuid4().hex[:8]
    pieces_dir = str(dest / "pieces")
    for rel, (path, size, mtime) in found.items():
        old = m.files.get(rel)
        retry = old is not None and old.get("kind") in RETRY_KINDS
        piece_there = old is not None and (old.get("status") != "ok" or packs.holds(old))
        if (old and not reparse_all and not retry and piece_there
                and old.get("size") == size and old.get("mtime_ns") == mtime):
            report.unchanged += 1
            _note_problem(report, rel, old)
            continue
        if size > limits.MAX_FILE_BYTES:
            reason = (f"the file is {size / 2**20:.0f} MiB, over the "
                      f"{limits.MAX_FILE_BYTES // 2**20} MiB limit")
            m.files[rel] = {"size": size, "mtime_ns": mtime, "status": "bad", "kind": "bad",
                            "reason": reason}
            report.bad.append((rel, reason))
            continue
        request = {"path": path, "dest": pieces_dir, "options": m.options,
                   "pack": token}
        if old and old.get("hash") and not reparse_all and not retry and piece_there:
            request["known_hash"] = old["hash"]
        jobs.append(Job(rel, request, size))

    total = len(jobs)
    reserve = _reserve(dest, len(found))
    journal = Journal(dest / "journal.jsonl")
    done, finished_all = 0, False
    tell(0, total)
    try:
        own_pool = pool is None
        pool = pool or WorkerPool(workers)
        try:
            if jobs:
                pool.start_all()
            while jobs or pool.busy():
                if cancel is not None and cancel():
                    report.cancelled = True
                    break
                while jobs and pool.has_room():
                    pool.submit_batch(_next_batch(jobs, pool.size))
                finished, requeue = pool.collect(0.05)
                jobs.extendleft(reversed(requeue))
                for job, reply in finished:
                    done += 1
                    _record(m, report, journal, by_hash, names, found, order, job.key, reply)
                    tell(done, total, job.key)
            report.parsed = done
            finished_all = not report.cancelled
        finally:
            if own_pool or report.cancelled:
                pool.close(kill=report.cancelled)
    finally:
        journal.close()
        if journal.error:
            report.warnings.append(f"the import journal could not be written ({journal.error})")
        tell(done, total, "", "saving")
        if reserve is not None:
            reserve.unlink(missing_ok=True)
        m.complete = finished_all
        _decode_hists(m)
        try:
            store.write(m)
        except OSError as e:
            report.warnings.append(f"the dataset list could not be saved ({e.strerror or e}); "
                                   "import again once there is room to keep everything")
        if m.complete:
            drop_unused_packs(dest / "pieces", m)
    report.pieces = len(m.pieces())
    report.seconds = time.perf_counter() - t0
    return report


def _next_batch(jobs: deque[Job], workers: int) -> list[Job]:
    """The next files for one worker message: several small ones together (up to BATCH_FILES
    and BATCH_BYTES, fewer near the end so that every worker keeps some), a big file or one
    to retry alone (`solo`) on its own."""
    batch = [jobs.popleft()]
    if batch[0].solo or batch[0].size > BATCH_BYTES // 4:
        return batch
    most = max(1, min(BATCH_FILES, len(jobs) // (2 * workers)))
    total = batch[0].size
    while (jobs and len(batch) < most and not jobs[0].solo and jobs[0].size <= BATCH_BYTES // 4
           and total + jobs[0].size <= BATCH_BYTES):
        total += jobs[0].size
        batch.append(jobs.popleft())
    return batch


def _note_problem(report: ImportReport, rel: str, r: dict) -> None:
    status = r.get("status")
    if status == "bad":
        report.bad.append((rel, r.get("reason", "")))
    elif status == "duplicate":
        report.duplicates.append((rel, r.get("duplicate_of", "")))
    elif status == "filtered":
        report.filtered.append((rel, r.get("reason", "")))


def _record(m: Manifest, report: ImportReport, journal: Journal, by_hash: dict[str, str],
            names: dict[str, str], found: dict, order: dict[str, int], rel: str,
            reply: dict) -> None:
    _, size, mtime = found[rel]
    old = m.files.get(rel) or {}
    hist = None
    if reply.get("ok") and reply.get("unchanged"):
        record = dict(old, size=size, mtime_ns=mtime)
        report.unchanged += 1
    elif reply.get("ok"):
        h = reply["hash"]
        first = by_hash.get(h)
        if (first is not None and first in report.added and first in found
                and order[rel] < order[first]):
            # Parallel workers finish in any order: the file that comes first in the folder
            # is the one kept, whatever finished first.
            demoted = dict(m.files[first], status="duplicate", duplicate_of=rel,
                           reason=f"the same music as {rel}")
            for k in ("name", "split", "meta"):
                demoted.pop(k, None)
            m.files[first] = demoted
            report.added.remove(first)
            report.duplicates.append((first, rel))
            journal.append(first, demoted)
            first = None
        if first is not None and first != rel and first in found:
            record = {"size": size, "mtime_ns": mtime, "hash": h, "status": "duplicate",
                      "duplicate_of": first, "reason": f"the same music as {first}"}
        else:
            by_hash[h] = rel
            record = {"size": size, "mtime_ns": mtime, "hash": h, "status": "ok",
                      "name": names[rel], "split": old.get("split"), "meta": reply["meta"],
                      "pack": reply["pack"], "offset": reply["offset"],
                      "stored_bytes": reply["stored_bytes"]}
            hist = (reply["pitch_hist"], reply["length_hist"])
            m.hists[h] = hist  # as text until the import ends (`_decode_hists`)
            report.added.append(rel)
    else:
        kind = reply.get("kind", "bad")
        record = {"size": size, "mtime_ns": mtime, "hash": reply.get("hash"),
                  "status": "filtered" if kind == "filtered" else "bad", "kind": kind,
                  "reason": reply.get("reason", "unreadable")}
    m.files[rel] = record
    _note_problem(report, rel, record)
    journal.append(rel, record, hist)


def _decode_hists(m: Manifest) -> None:
    """The histograms the workers sent as hex text, as arrays: all of an import's at once."""
    texts = [(h, v) for h, v in m.hists.items() if isinstance(v[0], str)]
    ok = [(h, v) for h, v in texts
          if len(v[0]) == 128 * 8 and len(v[1]) == len(LENGTH_LABELS) * 8]
    for h, _ in texts:
        del m.hists[h]  # a malformed one is recomputed from the piece when statistics need it
    try:
        pitch = hist_from_text("".join(v[0] for _, v in ok)).reshape(-1, 128)
        length = hist_from_text("".join(v[1] for _, v in ok)).reshape(-1, len(LENGTH_LABELS))
    except ValueError:  # not hex: recomputed too
        return
    for i, (h, _) in enumerate(ok):
        m.hists[h] = (pitch[i], length[i])


class _PackSizes:
    """Whether a recorded piece is still whole in its pack (one stat per pack file)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sizes: dict[str, int] = {}

    def holds(self, record: dict) -> bool:
        pack = record.get("pack")
        if not pack:
            return False
        if pack not in self.sizes:
            try:
                self.sizes[pack] = (self.folder / pack).stat().st_size
            except OSError:
                self.sizes[pack] = -1
        return record.get("offset", 0) + record.get("stored_bytes", 0) <= self.sizes[pack]
