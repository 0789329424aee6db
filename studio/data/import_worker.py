"""Entry point of an import worker process (`python -m studio.data.import_worker`).

A worker serves requests from the importer over stdin/stdout: each message is a 4-byte
little-endian length and a JSON object: one file's request, or {"batch": [requests]} for several
small files, answered by one {"batch": [replies]} (fewer messages, wake-ups and JSON calls).
For every file it reads the bytes, hashes them, parses them (native symusic, in this isolated
process: a crash takes down only this worker, and the importer marks only that file bad, see
`worker_pool`), applies the import options, computes the piece's metadata
and histograms, and appends the stored piece to its pack file in the dataset's piece folder.
The reply says what happened and where the piece lies; it never carries the music itself, so
the importer's process stays light.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sys

from studio.midi.child_process import read_exact as _read_exact
from studio.midi.child_process import start_child

MUSICXML_SUFFIXES = (".musicxml", ".mxl", ".xml")


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _read(path: str, max_bytes: int) -> bytes:
    """The file's bytes (one open, one fstat, one read: no buffered file object)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise _Bad(f"the file is {size / 2**20:.0f} MiB, over the "
                       f"{max_bytes // 2**20} MiB limit")
        if size == 0:
            raise _Bad("the file is empty")
        data = os.read(fd, size + 1)
        if len(data) != size:  # a short read, or the file changed meanwhile: read to the end
            chunks, got, more = [data], len(data), data
            while more and got <= max_bytes:
                more = os.read(fd, max_bytes + 1 - got)
                chunks.append(more)
                got += len(more)
            if got > max_bytes:
                raise _Bad(f"the file is over the {max_bytes // 2**20} MiB limit")
            data = b"".join(chunks)
        return data
    finally:
        os.close(fd)


class _Bad(Exception):
    def __init__(self, reason: str, kind: str = "bad") -> None:
        super().__init__(reason)
        self.kind = kind


class _Pack:
    """The worker's pack file for one import: stored pieces appended one after another (one
    file for thousands of pieces: creating a file per piece would cost more than parsing it)."""

    def __init__(self) -> None:
        self.path: str | None = None
        self.f = None

    def append(self, dest: str, token: str, data: bytes) -> tuple[str, int]:
        name = f"pack-{token}-{os.getpid()}.bin"
        path = os.path.join(dest, name)
        if path != self.path:
            if self.f is not None:
                self.f.close()
            self.f, self.path = open(path, "ab"), path
        offset = self.f.tell()
        try:
            self.f.write(data)
            self.f.flush()  # handed to the OS: a crash of the app loses nothing recorded
        except OSError:
            try:  # no half piece left at the end (a full disk may let the next one fit)
                self.f.seek(offset)
                self.f.truncate(offset)
            except OSError:
                self.f, self.path = None, None
            raise
        return name, offset


_pack = _Pack()
_last_options: list = [None, None]  # (the dict, ImportOptions): the same for a whole import


def _options(d: dict):
    from studio.data.piece_content import ImportOptions

    if d != _last_options[0]:
        _last_options[:] = [d, ImportOptions.from_dict(d)]
    return _last_options[1]


def handle(request: dict) -> dict:
    from studio.data import piece_content as pc
    from studio.midi import limits
    from studio.midi.parse import ParseError, parse_midi_bytes

    path = request["path"]
    reply: dict = {"id": request["id"]}
    try:
        try:
            data = _read(path, limits.MAX_FILE_BYTES)
        except FileNotFoundError:
            raise _Bad("the file disappeared during the import", "missing") from None
        except PermissionError:
            raise _Bad("permission denied (the file is not readable)", "access") from None
        except IsADirectoryError:
            raise _Bad("this is a folder, not a file") from None
        except OSError as e:
            raise _Bad(f"cannot read the file ({e.strerror or e})") from None
        reply["hash"] = content_hash(data)
        if request.get("known_hash") == reply["hash"]:
            reply.update(ok=True, unchanged=True)
            return reply
        try:
            suffix = os.path.splitext(path)[1].lower()
            if suffix in MUSICXML_SUFFIXES:
                from studio.data.musicxml import musicxml_to_parsed

                parsed = musicxml_to_parsed(data, suffix)
            else:
                parsed = parse_midi_bytes(data)
        except ParseError as e:
            raise _Bad(str(e)) from None
        options = _options(request.get("options", {}))
        selected, satb, filtered = pc.select(parsed, options)
        if selected is None:
            raise _Bad(filtered or "filtered out", "filtered")
        reply["meta"], pitch_hist, length_hist = pc.summarize(selected)
        reply["pitch_hist"] = pc.hist_to_text(pitch_hist)
        reply["length_hist"] = pc.hist_to_text(length_hist)
        try:
            stored = pc.encode_piece(selected, satb)
            reply["pack"], reply["offset"] = _pack.append(request["dest"], request["pack"],
                                                          stored)
            reply["stored_bytes"] = len(stored)
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise _Bad("not stored: the disk is full", "disk_full") from None
            raise _Bad(f"not stored: cannot write to the dataset folder ({e.strerror or e})",
                       "store_error") from None
        reply["ok"] = True
    except _Bad as e:
        reply.update(ok=False, kind=e.kind, reason=str(e))
    except MemoryError:
        reply.update(ok=False, kind="bad", reason="the file needs more memory than allowed")
    except Exception as e:  # any other failure on one file must not end the worker
        reply.update(ok=False, kind="bad", reason=f"unreadable ({type(e).__name__}: {e})")
    return reply


def main() -> None:
    start_child()
    nice = int(os.environ.get("STUDIO_WORKER_NICE", "0") or 0)
    if nice > 0 and hasattr(os, "nice"):
        try:
            os.nice(nice)
        except OSError:
            pass
    import studio.data.piece_content  # noqa: F401  (imports numpy, symusic parts up front)

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = _read_exact(stdin, 4)
        if head is None:
            return
        body = _read_exact(stdin, int.from_bytes(head, "little"))
        if body is None:
            return
        request = json.loads(body)
        if "batch" in request:  # several small files: one message each way
            out = json.dumps({"batch": [handle(r) for r in request["batch"]]}).encode()
        else:
            out = json.dumps(handle(request)).encode()
        stdout.write(len(out).to_bytes(4, "little") + out)
        stdout.flush()


if __name__ == "__main__":
    main()
