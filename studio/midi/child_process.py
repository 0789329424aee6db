"""Small pieces shared by the parent and child sides of Studio's isolated worker processes
(the MIDI parser here, the dataset import workers in studio.data): the environment a child
starts with, exact reads from a pipe, and what a child sets up first (its address-space limit,
no SoundFont downloader)."""

from __future__ import annotations

import os
import sys

from studio.midi import limits

_PKG_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a worker child: it imports this same studio package, wherever it is
    installed, knows its memory limit, and starts no BLAS thread pool (it does no linear
    algebra; numpy starting one thread per core doubled a worker's start-up CPU, 0.2 -> 0.1 s)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = _PKG_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["STUDIO_PARSER_MEMORY"] = str(limits.PARSER_MEMORY_BYTES)
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = "1"
    env.update(extra)
    return env


def start_child() -> None:
    """What a worker child does first: cap its memory, and keep symusic from loading its
    SoundFont downloader (pySmartDL, with urllib and http.client: about 20 ms of start-up for a
    download a worker never makes; a stand-in that refuses to download takes its place, in this
    process only)."""
    limit_memory_from_env()
    if "pySmartDL" in sys.modules:
        return
    import types

    def refuse(*_args, **_kwargs):
        raise RuntimeError("a worker process does not download SoundFonts")

    stand_in = types.ModuleType("pySmartDL")
    stand_in.SmartDL = refuse
    sys.modules["pySmartDL"] = stand_in


def read_exact(stream, n: int) -> bytes | None:
    """Exactly `n` bytes from a binary stream, or None when it ends first."""
    chunks, got = [], 0
    while got < n:
        b = stream.read(n - got)
        if not b:
            return None
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def limit_memory_from_env(variable: str = "STUDIO_PARSER_MEMORY") -> None:
    """Cap this process's address space at the byte count in `variable` (Unix only; on Windows
    there are no rlimits and the parent's timeout still bounds the child)."""
    try:
        import resource
    except ImportError:
        return
    limit = int(os.environ.get(variable, "0") or 0)
    if limit > 0:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ValueError, OSError):
            pass
