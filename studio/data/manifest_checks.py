"""What a dataset's manifest says, checked before it is used (see `studio.data.store`).

The manifest and the summary are files on disk: a damaged or hand-edited one must not crash a
listing or send a reader outside the dataset's folder. Each record is checked for the types
the code relies on; a stored piece's record must name a pack of the dataset's own folder.
"""

from __future__ import annotations

import math
import re

from studio.data.dataset import SPLITS

_PACK_NAME = re.compile(r"pack-[A-Za-z0-9_-]{1,80}\.bin")
_DAMAGED = "the dataset's record of this file is damaged; import the folder again"


def as_text(x) -> str:
    return x if isinstance(x, str) else ""


def as_table(x) -> dict:
    return x if isinstance(x, dict) else {}


def as_number(x) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else 0.0


def is_whole(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 2**40


def checked_record(r) -> dict:
    """A file record as the rest of the code may use it. A stored piece's record must say
    where the piece lies in a pack of this dataset's folder (a name like `../../x` is not a
    pack); a damaged one is reported as a bad file, which the next import parses again."""
    if not isinstance(r, dict):
        return {"status": "bad", "kind": "store_error", "reason": _DAMAGED}
    status = r.get("status")
    if status not in ("ok", "bad", "duplicate", "filtered", "removed"):
        return dict(r, status="bad", kind="store_error", reason=_DAMAGED)
    if status == "ok" and not (
            isinstance(r.get("name"), str) and isinstance(r.get("hash"), str)
            and isinstance(r.get("pack"), str) and _PACK_NAME.fullmatch(r["pack"])
            and is_whole(r.get("offset")) and is_whole(r.get("stored_bytes"))
            and r.get("split") in (None, *SPLITS) and isinstance(r.get("meta", {}), dict)):
        return {"status": "bad", "kind": "store_error", "reason": _DAMAGED}
    for key in ("reason", "duplicate_of"):
        if key in r and not isinstance(r[key], str):
            r = dict(r, **{key: _DAMAGED})
    if status == "ok":
        r = dict(r, meta=checked_meta(r.get("meta", {})))
    return r


# The piece summary's fields (`piece_content.piece_metadata`) and the types they must have;
# a field of another type is dropped (shown as unknown) rather than trusted.
_META_TYPES = {"seconds": (int, float), "ticks": int, "tracks": int, "notes": int,
               "pitch_min": (int, type(None)), "pitch_max": (int, type(None)),
               "tempo": (int, float), "key_signature": (str, type(None)),
               "key_estimated": str, "key": str}
_META_STRING_LISTS = ("time_signatures", "instruments")


def checked_meta(meta: dict) -> dict:
    out = {}
    for k, v in meta.items():
        want = _META_TYPES.get(k)
        if k in _META_STRING_LISTS:
            if isinstance(v, list) and all(isinstance(x, str) for x in v):
                out[k] = v
        elif k == "programs":
            if isinstance(v, list) and all(is_whole(x) for x in v):
                out[k] = v
        elif want is None:
            out[k] = v  # a field this version does not use
        elif isinstance(v, want) and not isinstance(v, bool) and \
                not (isinstance(v, float) and not math.isfinite(v)):
            out[k] = v
    return out
