"""The `.studio` project file: a versioned JSON document holding a song, its tracks (with their
view state: colour, mute, solo, visibility) and free-form settings.

    {"format": "studio-project", "version": 1, "app_version": "...",
     "song": {"title", "ppq", "tempos", "time_signatures", "key_signatures",
              "chords": [[tick, "Am7"], ...]},
     "tracks": [{"name", "program", "is_drum", "channel",
                 "notes": {"pitch": [...], "start": [...], "duration": [...], "velocity": [...]},
                 "controls": [[tick, number, value]], "pitch_bends": [[tick, value]],
                 "view": {"color": "#rrggbb", "muted": false, "soloed": false, "hidden": false}}],
     "settings": {...}}

Notes are stored as columns (compact, and fast to read and write with numpy). Saving never damages
what is on disk: the new version is written to a temporary file in the same folder, flushed and
fsynced, the previous version is kept as `NAME.bak`, and the temporary file is renamed over the
target (an atomic step on every platform Studio runs on). A file written by a newer Studio is
refused with a message saying so. Qt-free: the window, the autosave and the CLI all use it.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from studio.music.chord_lane import MAX_CHORDS, normalised, symbol_or_none
from studio.music.song import (
    MAX_QPM,
    MAX_TICK,
    MIN_QPM,
    PPQ,
    ControlChange,
    KeySignature,
    Note,
    PitchBend,
    Song,
    TempoChange,
    TimeSignature,
    Track,
)
from studio.storage import (
    JsonInputError,
    NotAFileError,
    atomic_file,
    loads_bounded,
    open_regular,
    remove_stale_temporaries_of,
    temp_path_for,
)

FORMAT_NAME = "studio-project"
FORMAT_VERSION = 1
SUFFIX = ".studio"
BACKUP_SUFFIX = ".bak"
MAX_PROJECT_BYTES = 512 * 2**20
NOTE_COLUMNS = ("pitch", "start", "duration", "velocity")


class ProjectError(Exception):
    """A project file that cannot be read or written; names the file and the reason."""

    user_facing = True

    def __init__(self, path: str | Path | None, reason: str) -> None:
        self.path = str(path) if path is not None else None
        self.reason = reason
        super().__init__(f"{Path(self.path).name}: {reason}" if self.path else reason)


@dataclass
class Project:
    """What a project file holds. `track_views[i]` is the view state of `song.tracks[i]`."""

    song: Song
    track_views: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    version: int = FORMAT_VERSION


def backup_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + BACKUP_SUFFIX)


# ---- encoding ----------------------------------------------------------------------------------

def project_to_dict(project: Project) -> dict[str, Any]:
    from studio import __version__

    song = project.song
    tracks = []
    for i, t in enumerate(song.tracks):
        cols = t.arrays()
        view = project.track_views[i] if i < len(project.track_views) else {}
        tracks.append({
            "name": t.name, "program": int(t.program), "is_drum": bool(t.is_drum),
            "channel": int(t.channel),
            "notes": {k: cols[k].tolist() for k in NOTE_COLUMNS},
            "controls": [[int(c.tick), int(c.number), int(c.value)] for c in t.controls],
            "pitch_bends": [[int(b.tick), int(b.value)] for b in t.pitch_bends],
            "view": dict(view),
        })
    return {
        "format": FORMAT_NAME, "version": FORMAT_VERSION, "app_version": __version__,
        "song": {
            "title": song.title, "ppq": PPQ,
            "tempos": [[int(x.tick), float(x.qpm)] for x in song.tempos],
            "time_signatures": [[int(x.tick), int(x.numerator), int(x.denominator)]
                                for x in song.time_signatures],
            "key_signatures": [[int(x.tick), int(x.sharps), bool(x.minor)]
                               for x in song.key_signatures],
            "chords": [[int(c.tick), c.label] for c in song.chords],
        },
        "tracks": tracks,
        "settings": project.settings,
    }


def project_to_bytes(project: Project) -> bytes:
    return json.dumps(project_to_dict(project), separators=(",", ":")).encode("utf-8")


def save_project(path: str | Path, project: Project, keep_backup: bool = True) -> None:
    """Write `project` to `path` atomically; the previous file (if any) becomes `path.bak`."""
    path = Path(path)
    try:
        data = project_to_bytes(project)
    except (TypeError, ValueError) as e:
        raise ProjectError(path, f"the project cannot be encoded ({e})") from None
    write_atomically(path, data, keep_backup)


def write_atomically(path: Path, data: bytes, keep_backup: bool = True) -> None:
    """`studio.storage.atomic_file`, with the previous version kept as a backup just before the
    new one is renamed over it."""
    try:
        with atomic_file(path) as f:
            f.write(data)
            if keep_backup and path.is_file():
                _keep_backup(path)
    except OSError as e:
        raise ProjectError(path, f"cannot save ({e.strerror or e})") from None


def _keep_backup(path: Path) -> None:
    """Make `path.bak` the current contents of `path`, atomically (a hard link when possible)."""
    backup = backup_path(path)
    remove_stale_temporaries_of(backup)
    staged = temp_path_for(backup)
    try:
        try:
            os.link(path, staged)
        except OSError:  # file systems without hard links: copy and sync
            shutil.copyfile(path, staged)
            with open(staged, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(staged, backup)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


# ---- decoding ----------------------------------------------------------------------------------

def load_project(path: str | Path) -> Project:
    """Read a project file; raises `ProjectError` with the reason for anything unreadable."""
    path = Path(path)
    try:
        with open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_PROJECT_BYTES:
                raise ProjectError(path, f"the file is {size / 2**20:.0f} MiB, over the "
                                         f"{MAX_PROJECT_BYTES // 2**20} MiB limit")
            data = f.read(MAX_PROJECT_BYTES + 1)
    except NotAFileError as e:
        what = "a folder, not a project file" if e.what == "a folder" else f"{e.what}, not a file"
        raise ProjectError(path, f"this is {what}") from None
    except FileNotFoundError:
        raise ProjectError(path, "the file does not exist") from None
    except PermissionError:
        raise ProjectError(path, "permission denied (the file is not readable)") from None
    except OSError as e:
        raise ProjectError(path, f"cannot read the file ({e.strerror or e})") from None
    return project_from_bytes(data, path)


def project_from_bytes(data: bytes, path: str | Path | None = None) -> Project:
    try:
        doc = loads_bounded(data)
    except JsonInputError as e:
        raise ProjectError(path, f"this is not a Studio project ({e.reason})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise ProjectError(path, "this is not a Studio project file")
    version = doc.get("version")
    if not isinstance(version, int) or version < 1:
        raise ProjectError(path, f"the project has no valid format version ({version!r})")
    if version > FORMAT_VERSION:
        made_by = doc.get("app_version", "a newer version")
        raise ProjectError(
            path, f"this project was saved by a newer version of Studio ({made_by}, project "
                  f"format {version}); this version reads format {FORMAT_VERSION} and older. "
                  "Update Studio to open it.")
    try:
        song, views = _song_from_dict(doc.get("song", {}), doc.get("tracks", []))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as e:
        raise ProjectError(path, f"the project is damaged ({_reason(e)})") from None
    settings = doc.get("settings", {})
    if not isinstance(settings, dict):
        raise ProjectError(path, "the project's settings are damaged")
    return Project(song, views, settings, version)


def _reason(e: Exception) -> str:
    """A damaged value's reason, short: Python's own messages for hostile values can be long
    (a 4000-digit number) or say nothing to a musician (a list has no attribute get)."""
    if isinstance(e, OverflowError):
        return "a number is far too large"
    if isinstance(e, (AttributeError, KeyError, IndexError)):
        return "a part has the wrong shape"
    return str(e)[:200]


def _table(x: Any, what: str) -> dict:
    if not isinstance(x, dict):
        raise ValueError(f"{what} is not a table")
    return x


def _song_from_dict(head: dict, tracks: list) -> tuple[Song, list[dict[str, Any]]]:
    if not isinstance(head, dict) or not isinstance(tracks, list):
        raise ValueError("song or tracks have the wrong type")
    ppq = _whole(head.get("ppq", PPQ), "ppq")
    if not 0 < ppq <= 32767:
        raise ValueError(f"ppq {ppq} is outside 1-32767")

    def tick(t) -> int:
        t = _whole(t, "a time")
        if t < 0:
            raise ValueError(f"time {t} is negative")
        t = t if ppq == PPQ else round(t * PPQ / ppq)
        if t > MAX_TICK:
            raise ValueError(f"time {t} lies absurdly late (over 24 hours)")
        return t

    tempos = [TempoChange(tick(t), float(q)) for t, q in head.get("tempos", [[0, 120.0]])]
    if any(not (MIN_QPM <= x.qpm <= MAX_QPM) for x in tempos):  # NaN too
        raise ValueError(f"a tempo is outside {MIN_QPM:.2f}-{MAX_QPM:.0f} quarter notes "
                         "per minute")
    sigs = [TimeSignature(tick(t), _whole(n, "a meter"), _whole(d, "a meter"))
            for t, n, d in head.get("time_signatures", [])]
    if any(not (1 <= s.numerator <= 255 and 1 <= s.denominator <= 128) for s in sigs):
        raise ValueError("a time signature is outside 1/1-255/128")
    keys = [KeySignature(tick(t), _whole(s, "a key"), bool(m))
            for t, s, m in head.get("key_signatures", [])]
    if any(not -7 <= k.sharps <= 7 for k in keys):
        raise ValueError("a key signature has more than 7 sharps or flats")
    song = Song(tempos=tempos or [TempoChange(0, 120.0)],
                time_signatures=sigs or [TimeSignature(0, 4, 4)],
                key_signatures=keys, title=str(head.get("title", "")),
                chords=_chords(head.get("chords", []), tick))
    views = []
    for i, td in enumerate(tracks):
        td = _table(td, f"track {i + 1}")
        track = Track(str(td.get("name", "")), _whole(td.get("program", 0), "a program"),
                      bool(td.get("is_drum", False)), _whole(td.get("channel", 0), "a channel"))
        if not 0 <= track.program <= 127 or not 0 <= track.channel <= 15:
            raise ValueError(f"track {i + 1} has a program or channel out of range")
        track.notes = _notes_from_columns(td.get("notes", {}), ppq, i)
        track.controls = [ControlChange(tick(t), _whole(n, "a controller"),
                                        _whole(v, "a controller value"))
                          for t, n, v in td.get("controls", [])]
        track.pitch_bends = [PitchBend(tick(t), _whole(v, "a pitch bend"))
                             for t, v in td.get("pitch_bends", [])]
        if any(not (0 <= c.number <= 127 and 0 <= c.value <= 127) for c in track.controls) or \
                any(not -8192 <= b.value <= 8191 for b in track.pitch_bends):
            raise ValueError(f"track {i + 1} has a controller or pitch bend out of range")
        song.tracks.append(track)
        view = td.get("view", {})
        views.append(dict(view) if isinstance(view, dict) else {})
    return song, views


def _chords(rows: Any, tick) -> list:
    """The chord lane: [[tick, "Am7"], ...]; a symbol that does not read is damage."""
    if not isinstance(rows, list) or len(rows) > MAX_CHORDS:
        raise ValueError("the chord symbols are damaged")
    out = []
    for row in rows:
        if not isinstance(row, list) or len(row) != 2 or not isinstance(row[1], str):
            raise ValueError("a chord symbol is damaged")
        found = symbol_or_none(tick(row[0]), row[1])
        if found is None:
            raise ValueError(f"{row[1][:40]!r} is not a chord symbol")
        out.append(found)
    return normalised(out)


def _whole(x: Any, what: str) -> int:
    """An integer from JSON: whole numbers only (not 1.5, not true, not "7")."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ValueError(f"{what} is not a number")
    if isinstance(x, float) and not x.is_integer():
        raise ValueError(f"{what} is not a whole number")
    return int(x)


def _int_column(values: Any, index: int) -> np.ndarray:
    if not isinstance(values, list):
        raise ValueError(f"track {index + 1}: a note column is not a list")
    if any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise ValueError(f"track {index + 1}: a note column holds something other than whole "
                         "numbers")
    try:
        return np.asarray(values, dtype=np.int64).reshape(-1)
    except OverflowError:
        raise ValueError(f"track {index + 1}: a note time or value is far too large") from None


def _notes_from_columns(cols: dict, ppq: int, index: int) -> list[Note]:
    if not isinstance(cols, dict):
        raise ValueError(f"track {index + 1} has damaged notes")
    arrays = {k: _int_column(cols.get(k, []), index) for k in NOTE_COLUMNS}
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) != 1 or any(a.ndim != 1 for a in arrays.values()):
        raise ValueError(f"track {index + 1}: the note columns have different lengths")
    p, s, d, v = (arrays[k] for k in NOTE_COLUMNS)
    last = MAX_TICK * ppq // PPQ  # the latest tick, in the file's resolution
    if len(p) and (p.min() < 0 or p.max() > 127 or v.min() < 0 or v.max() > 127
                   or s.min() < 0 or d.min() < 0 or max(s.max(), d.max()) > last
                   or (s + d).max() > last):
        raise ValueError(f"track {index + 1} has a note outside the valid ranges")
    if ppq != PPQ:
        end = np.rint((s + d) * PPQ / ppq).astype(np.int64)
        s = np.rint(s * PPQ / ppq).astype(np.int64)
        d = end - s
    return [Note(a, b, c, e) for a, b, c, e in zip(p.tolist(), s.tolist(), d.tolist(),
                                                   v.tolist())]
