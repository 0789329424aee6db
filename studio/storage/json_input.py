"""JSON read from disk as hostile input: a size limit, a nesting limit, and one error type.

Python's parser recurses on nesting, so a card or project of 10 KB of `[[[[...]]]]` raised
RecursionError, which no caller expected (the window did not open). Here such a document, a
document nested deeper than `MAX_DEPTH` (which the rest of the code, and `json.dumps` on the
next save, would also have to walk), an oversized file, bad UTF-8 or bad JSON all raise
`JsonInputError`, a `ValueError` whose message says what is wrong.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from studio.storage.reading import open_regular

# Studio's own documents nest at most 6 levels (a card's metrics history, a project's settings);
# 64 leaves room for anything a user adds to free-form settings.
MAX_DEPTH = 64
MAX_BYTES = 64 * 2**20


class JsonInputError(ValueError):
    """A JSON document that cannot be used; names the file (when known) and the problem."""

    def __init__(self, reason: str, path: str | os.PathLike | None = None) -> None:
        self.reason = reason
        self.path = None if path is None else Path(path)
        super().__init__(f"{path}: {reason}" if path is not None else reason)


def nesting_depth(doc: Any, limit: int) -> int:
    """Depth of lists and dicts in `doc`, without recursion; stops counting past `limit`."""
    deepest = 0
    stack = [(doc, 1)] if isinstance(doc, (list, dict)) else []
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        items = node.values() if isinstance(node, dict) else node
        stack.extend((x, depth + 1) for x in items if isinstance(x, (list, dict)))
    return deepest


def loads_bounded(data: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads` that raises only `JsonInputError` (not RecursionError, not a bare
    UnicodeDecodeError), and refuses documents nested deeper than `max_depth`."""
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        doc = json.loads(text)
    except RecursionError:
        raise JsonInputError(f"the JSON is nested too deeply (over {max_depth} levels)") from None
    except UnicodeDecodeError as e:
        raise JsonInputError(f"damaged or not JSON (not UTF-8 text: {e.reason} at byte "
                             f"{e.start})") from None
    except ValueError as e:  # JSONDecodeError, and integers of more than 4300 digits
        raise JsonInputError(f"damaged or not JSON ({e})") from None
    if nesting_depth(doc, max_depth) > max_depth:
        raise JsonInputError(f"the JSON is nested too deeply (over {max_depth} levels)")
    return doc


def read_json(path: str | os.PathLike, max_bytes: int = MAX_BYTES,
              max_depth: int = MAX_DEPTH) -> Any:
    """Read and parse a JSON file within the limits; raises `JsonInputError` naming the file
    (FileNotFoundError passes through, so callers can say "missing" their own way)."""
    path = Path(path)
    try:
        with open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise JsonInputError(f"the file is {size / 2**20:.1f} MiB, over the "
                                     f"{max_bytes / 2**20:g} MiB limit", path)
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise
    except OSError as e:
        raise JsonInputError(f"cannot read the file ({e.strerror or e})", path) from None
    if len(data) > max_bytes:
        raise JsonInputError(f"the file is over the {max_bytes / 2**20:g} MiB limit", path)
    try:
        return loads_bounded(data, max_depth)
    except JsonInputError as e:
        raise JsonInputError(e.reason, path) from None
