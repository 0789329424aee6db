"""Small pieces shared by the parent and child sides of Studio's isolated worker processes
(the MIDI parser here, the dataset import workers in studio.data): exact reads from a pipe and
the address-space limit a child sets on itself."""

from __future__ import annotations

import os


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
