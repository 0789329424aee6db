"""The header of a safetensors file, read and rewritten without touching the tensor bytes.

A safetensors file is an 8-byte little-endian header length N, N bytes of JSON (each tensor's
dtype, shape and byte range, plus a `__metadata__` table of strings), then the tensor bytes.
Studio keeps a model's card in that table (see `studio.ml.checkpoint`), so reading a card means
reading only the header, and renaming a model means writing a new header before the same bytes.
Every read is bounded: a header over `MAX_HEADER_BYTES` or nested JSON is refused.
"""

from __future__ import annotations

import json
import os
from typing import Any

from studio.storage import JsonInputError, loads_bounded, open_regular

MAX_HEADER_BYTES = 16 * 2**20


class HeaderError(ValueError):
    """A safetensors header that cannot be read."""


def _parse(header_bytes: bytes) -> dict[str, Any]:
    try:
        header = loads_bounded(header_bytes, max_depth=8)
    except JsonInputError as e:
        raise HeaderError(f"its header is {e.reason}") from None
    if not isinstance(header, dict):
        raise HeaderError("its header is not a table")
    return header


def header_length(first8: bytes, total: int | None = None) -> int:
    if len(first8) < 8:
        raise HeaderError("the file is too short to be safetensors")
    n = int.from_bytes(first8[:8], "little")
    if not 2 <= n <= MAX_HEADER_BYTES or (total is not None and 8 + n > total):
        raise HeaderError(f"its header length {n} is impossible")
    return n


def split(data: bytes) -> tuple[dict[str, Any], int]:
    """(header, offset of the tensor bytes) of a whole file's bytes."""
    n = header_length(data[:8], len(data))
    return _parse(data[8:8 + n]), 8 + n


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """The header of the file at `path`, reading only the header (OSError passes through)."""
    with open_regular(path) as f:
        total = os.fstat(f.fileno()).st_size
        n = header_length(f.read(8), total)
        return _parse(f.read(n))


def metadata(header: dict[str, Any]) -> dict[str, str]:
    meta = header.get("__metadata__") or {}
    return meta if isinstance(meta, dict) else {}


def with_metadata(data: bytes, meta: dict[str, str]) -> bytes:
    """The same tensors as `data` (a whole file), under a header whose metadata is `meta`."""
    header, start = split(data)
    header = {k: v for k, v in header.items() if k != "__metadata__"}
    header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the tensor bytes stay 8-byte aligned, as safetensors does
    return len(text).to_bytes(8, "little") + text + data[start:]
