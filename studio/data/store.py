"""The user's datasets on disk, under `studio.paths.user_datasets_dir()`, one folder each:

    manifest.json    name, source folder, import options, one record per source file
    journal.jsonl    records appended during an import (replayed if the import was interrupted)
    stats.npz        per-piece pitch and note-length histograms, keyed by content hash
    pieces/pack-*.bin  the parsed music of the pieces (see `piece_content`), appended by the
                     import workers; each file record says which pack, at which offset
    cache/*.npz      encoded arrays per representation (`Dataset.cached_arrays`)

Every write of the manifest and the statistics is atomic (temporary file, fsync, rename), so a
crash or a full disk leaves the previous version. During an import each finished file is appended
to the journal at once; a later import of the same dataset first folds the journal into the
manifest, which is how an interrupted import resumes where it stopped.

A file record: size, mtime_ns, hash, status ("ok", "bad", "duplicate", "filtered", "removed"),
reason, duplicate_of, name (the piece name: the path in the folder without its suffix), split (a
choice the user made; otherwise `split_for(name)`), meta (see `piece_content.piece_metadata`),
pack, offset and stored_bytes (where the stored piece lies).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from studio import paths
from studio.data.dataset import SPLITS, Dataset, Piece, split_for
from studio.data.errors import DatasetError, DatasetNotFound
from studio.data.manifest_checks import as_number, as_table, as_text, checked_record, is_whole
from studio.data.piece_content import LENGTH_LABELS, decode_piece
from studio.data.store_journal import (  # noqa: F401 (Journal and replay_journal live here too)
    TRASH_PREFIX,
    Journal,
    dataset_lock,
    replay_journal,
    sweep_trash,
)
from studio.midi.parse import song_from_parsed
from studio.music.song import Song
from studio.storage import read_json, write_atomically

FORMAT = 1
MAX_MANIFEST_BYTES = 1024 * 2**20  # a million files' records
PROBLEM_STATUSES = ("bad", "duplicate", "filtered")


def slug(name: str) -> str:
    """A folder name for a dataset name (readable; the manifest keeps the real name)."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip()).strip("-.")[:60]
    return s or "dataset"


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise DatasetError("a dataset needs a name")
    if len(name) > 100:
        raise DatasetError("a dataset name can have at most 100 characters")
    from studio.data.builtin import BUILTIN

    if name in BUILTIN:
        raise DatasetError(f"{name!r} is the name of a built-in dataset; choose another")
    return name


@dataclass
class Manifest:
    name: str
    source: str = ""
    options: dict = field(default_factory=dict)
    description: str = ""
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    complete: bool = False
    files: dict[str, dict] = field(default_factory=dict)
    hists: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def pieces(self) -> list[tuple[str, dict]]:
        return sorted(((rel, r) for rel, r in self.files.items() if r.get("status") == "ok"),
                      key=lambda x: x[1]["name"])

    def problems(self) -> list[tuple[str, dict]]:
        return sorted((rel, r) for rel, r in self.files.items()
                      if r.get("status") in PROBLEM_STATUSES)

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in ("ok", *PROBLEM_STATUSES, "removed")}
        for r in self.files.values():
            out[r.get("status", "bad")] = out.get(r.get("status", "bad"), 0) + 1
        return out

    def to_json(self) -> dict:
        return {"format": FORMAT, "name": self.name, "source": self.source,
                "options": self.options, "description": self.description,
                "created": self.created, "updated": self.updated, "complete": self.complete,
                "files": self.files}


class DatasetStore:
    """The folder of user datasets (`root` defaults to the user's datasets folder)."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else paths.user_datasets_dir()

    def folder(self, name: str) -> Path:
        return self.root / slug(name)

    def names(self) -> list[str]:
        return sorted((info["name"] for info in self.summaries()), key=str.lower)

    def summaries(self) -> list[dict]:
        """Name, pieces, problems, complete, source of every dataset, from the small
        `info.json` beside each manifest (the manifest itself when there is none)."""
        out = []
        if self.root.is_dir():
            for d in sorted(self.root.iterdir()):
                if d.name.startswith("."):
                    sweep_trash(d)
                    continue
                info = _read_info(d)
                if info is not None:
                    out.append(info)
        return out

    def summary(self, name: str) -> dict | None:
        info = _read_info(self.folder(name))
        return info if info is not None and info.get("name") == name else None

    def exists(self, name: str) -> bool:
        return (self.folder(name) / "manifest.json").is_file()

    # ---- reading ------------------------------------------------------------------------------
    def read(self, name: str) -> Manifest:
        folder = self.folder(name)
        try:
            raw = read_json(folder / "manifest.json", max_bytes=MAX_MANIFEST_BYTES)
            if not isinstance(raw, dict):
                raise ValueError("the manifest is not a table")
        except FileNotFoundError:
            raise DatasetNotFound(f"no dataset named {name!r}") from None
        except (OSError, ValueError) as e:
            raise DatasetError(f"the dataset {name!r} cannot be read ({e})") from None
        if raw.get("name") != name:
            raise DatasetNotFound(f"no dataset named {name!r}")
        files = raw.get("files", {})
        m = Manifest(name, as_text(raw.get("source")), as_table(raw.get("options")),
                     as_text(raw.get("description")), as_number(raw.get("created")),
                     as_number(raw.get("updated")), raw.get("complete") is True,
                     files if isinstance(files, dict) else {})
        m.hists = _read_stats(folder / "stats.npz")
        replayed = replay_journal(folder / "journal.jsonl", m)
        if replayed:
            m.complete = False
        m.files = {rel: checked_record(r) for rel, r in m.files.items() if isinstance(rel, str)}
        return m

    def load(self, name: str, manifest: Manifest | None = None) -> Dataset:
        """The dataset as `Piece`s whose songs load from the stored pieces (no MIDI re-reading).
        Pass the `manifest` when it was just read, to read it only once."""
        m = manifest or self.read(name)
        folder = self.folder(name)
        pieces_dir = str(folder / "pieces") + os.sep
        source = m.source.rstrip("/\\") + os.sep if m.source else ""
        satb_mode = m.options.get("tracks") == "satb"
        pieces = []
        root = str(self.root)
        for rel, r in m.pieces():
            where = (pieces_dir + r.get("pack", ""), r.get("offset", 0), r.get("stored_bytes", 0))
            meta = dict(r.get("meta", {}))
            meta["content_hash"] = r["hash"]
            meta["file"] = rel
            satb = _read_satb(*where) if satb_mode else None
            pieces.append(Piece(r["name"], r.get("split") or split_for(r["name"]), source + rel,
                                satb, meta, partial(load_stored_song, root, m.name, r["hash"],
                                                    *where, r["name"])))
        return Dataset(m.name, pieces, m.description or f"imported from {m.source}",
                       builtin=False, path=folder)

    # ---- writing ------------------------------------------------------------------------------
    def write(self, m: Manifest) -> None:
        """Save the manifest and statistics atomically, then drop the journal they include."""
        folder = self.folder(m.name)
        folder.mkdir(parents=True, exist_ok=True)
        m.updated = time.time()
        _write_stats(folder / "stats.npz", m)
        write_atomically(folder / "manifest.json", _manifest_bytes(m))
        (folder / "journal.jsonl").unlink(missing_ok=True)
        counts = m.counts()
        info = {"name": m.name, "pieces": counts["ok"], "complete": m.complete,
                "problems": counts["bad"] + counts["duplicate"] + counts["filtered"],
                "source": m.source, "updated": m.updated}
        write_atomically(folder / "info.json", json.dumps(info).encode())

    def _edit(self, name: str, change) -> Manifest:
        m = self.read(name)
        change(m)
        try:
            self.write(m)
        except OSError as e:
            raise DatasetError(f"cannot save the dataset {name!r} ({e.strerror or e})") from None
        return m

    def remove_pieces(self, name: str, piece_names: list[str]) -> int:
        """Take pieces out of the dataset (their files stay in your folder; a re-import leaves
        them out until the file changes). Returns how many were removed."""
        wanted = set(piece_names)
        removed: list[str] = []

        def change(m: Manifest) -> None:
            for r in m.files.values():
                if r.get("status") == "ok" and r.get("name") in wanted:
                    r["status"], r["reason"] = "removed", "removed by you"
                    removed.append(r["hash"])
        m = self._edit(name, change)
        drop_unused_packs(self.folder(name) / "pieces", m)
        return len(removed)

    def set_split(self, name: str, piece_name: str, split: str) -> None:
        self.set_splits(name, {piece_name: split})

    def set_splits(self, name: str, splits: dict[str, str]) -> None:
        """Move pieces to other splits (one manifest write for all of them)."""
        for split in splits.values():
            if split not in SPLITS:
                raise DatasetError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")

        def change(m: Manifest) -> None:
            left = dict(splits)
            for r in m.files.values():
                piece = r.get("name")
                if r.get("status") == "ok" and piece in left:
                    split = left.pop(piece)
                    r["split"] = None if split == split_for(piece) else split
            if left:
                raise DatasetError(f"no piece named {next(iter(left))!r} in {name!r}")
        self._edit(name, change)

    def delete(self, name: str) -> None:
        """Remove the dataset: refused while it is being imported; it leaves the list in one
        rename (a kill during the removal of its files leaves nothing listed)."""
        if not self.exists(name):
            raise DatasetNotFound(f"no dataset named {name!r}")
        folder = self.folder(name)
        trash = self.root / f"{TRASH_PREFIX}{os.getpid()}-{folder.name}"
        with dataset_lock(folder, name, busy=f"the dataset {name!r} is being imported (in "
                          "another window or terminal); cancel that import or let it end, "
                          "then delete it"):
            try:
                os.replace(folder, trash)
            except OSError as e:
                raise DatasetError(f"cannot delete the dataset {name!r} "
                                   f"({e.strerror or e})") from None
        shutil.rmtree(trash, ignore_errors=True)


# ---- pieces, journal and statistics files ----------------------------------------------------

def _manifest_bytes(m: Manifest) -> bytes:
    """The manifest as JSON, one file record per line, encoded record by record (a long single
    encode would hold the GIL, and so the GUI thread, for the whole dataset)."""
    head = m.to_json()
    files = head.pop("files")
    parts = [json.dumps(head, separators=(",", ":"))[:-1], ',"files":{']
    dumps = json.dumps
    parts.append(",".join(f"\n{dumps(rel)}:{dumps(r, separators=(',', ':'))}"
                          for rel, r in files.items()))
    parts.append("\n}}\n")
    return "".join(parts).encode()


def _read_info(folder: Path) -> dict | None:
    """The summary of the dataset in `folder` (each field of the type the lists expect)."""
    try:
        info = read_json(folder / "info.json", max_bytes=2**20)
        if not isinstance(info, dict) or not isinstance(info.get("name"), str):
            raise ValueError("damaged")
    except (OSError, ValueError):
        info = None
    if info is None:  # older or damaged info: the manifest has it all
        try:
            raw = read_json(folder / "manifest.json", max_bytes=MAX_MANIFEST_BYTES)
        except (OSError, ValueError):
            return None
        files = raw.get("files") if isinstance(raw, dict) else None
        if not isinstance(files, dict) or not isinstance(raw.get("name", ""), str):
            return None
        records = [r for r in files.values() if isinstance(r, dict)]
        info = {"name": raw.get("name", folder.name), "complete": raw.get("complete") is True,
                "pieces": sum(1 for r in records if r.get("status") == "ok"),
                "source": raw.get("source", ""),
                "problems": sum(1 for r in records if r.get("status") in PROBLEM_STATUSES)}
    out = {"name": info["name"], "complete": info.get("complete") is True,
           "pieces": info["pieces"] if is_whole(info.get("pieces")) else 0,
           "problems": info["problems"] if is_whole(info.get("problems")) else 0,
           "source": as_text(info.get("source")), "updated": as_number(info.get("updated"))}
    if (folder / "journal.jsonl").exists():
        out["complete"] = False  # an import is running or was interrupted
    return out


def _read_stored(pack: str, offset: int, length: int) -> bytes:
    with open(pack, "rb") as f:
        f.seek(offset)
        data = f.read(length)
    if len(data) != length:
        raise ValueError("the stored piece is cut short")
    return data


def load_stored_song(root: str, dataset: str, content_hash: str, pack: str, offset: int,
                     length: int, title: str = "") -> Song:
    """A piece's song from where the dataset was when it was loaded; when another process has
    imported the dataset again since (its old pack files are gone), from where the manifest
    on disk says the same music now lies."""
    try:
        return load_piece_song(pack, offset, length, title)
    except DatasetError:
        try:
            m = DatasetStore(root).read(dataset)
        except DatasetError:
            raise DatasetError(f"the piece {title} cannot be read: the dataset {dataset!r} "
                               "is gone or damaged") from None
        for r in m.files.values():
            if r.get("status") == "ok" and r.get("hash") == content_hash:
                pieces = str(DatasetStore(root).folder(dataset) / "pieces")
                return load_piece_song(os.path.join(pieces, r.get("pack", "")),
                                       r.get("offset", 0), r.get("stored_bytes", 0), title)
        raise DatasetError(f"the piece {title} is no longer in the dataset {dataset!r} (it "
                           "was imported again without it); load the dataset again") from None


def load_piece_song(pack: str, offset: int, length: int, title: str = "") -> Song:
    try:
        parsed, _ = decode_piece(_read_stored(pack, offset, length))
    except (OSError, ValueError) as e:
        raise DatasetError(f"the stored piece {title or pack} cannot be read ({e}); "
                           "import the folder again to restore it") from None
    return song_from_parsed(parsed, title=title)


def _read_satb(pack: str, offset: int, length: int) -> np.ndarray | None:
    try:
        _, satb = decode_piece(_read_stored(pack, offset, length))
    except (OSError, ValueError):
        return None
    if satb is not None:
        satb = satb.copy()
        satb.setflags(write=False)
    return satb


def drop_unused_packs(pieces: Path, m: Manifest) -> None:
    """Delete pack files no piece uses any more, and leftovers of interrupted writes."""
    used = {r.get("pack") for r in m.files.values() if r.get("status") == "ok"}
    try:
        for f in pieces.iterdir():
            if (f.name.startswith("pack-") and f.name not in used) or \
                    f.name.endswith((".tmp", ".piece")):
                f.unlink(missing_ok=True)
    except OSError:
        pass


def _read_stats(file: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    try:
        with np.load(file, allow_pickle=False) as z:
            hashes, pitch, length = z["hashes"], z["pitch"], z["length"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return {}  # missing or damaged: recomputed from the pieces when needed
    if pitch.shape[1:] != (128,) or length.shape[1:] != (len(LENGTH_LABELS),) or \
            not len(hashes) == len(pitch) == len(length) or hashes.ndim != 1:
        return {}
    return {str(h): (pitch[i].astype(np.int64), length[i].astype(np.int64))
            for i, h in enumerate(hashes)}


def _write_stats(file: Path, m: Manifest) -> None:
    keep = [r["hash"] for _, r in m.pieces() if r["hash"] in m.hists]
    pitch = np.array([m.hists[h][0] for h in keep], np.int32).reshape(-1, 128)
    length = np.array([m.hists[h][1] for h in keep], np.int32).reshape(-1, len(LENGTH_LABELS))
    import io

    buf = io.BytesIO()
    np.savez(buf, hashes=np.array(keep, dtype="U32"), pitch=pitch, length=length)
    write_atomically(file, buf.getvalue())
