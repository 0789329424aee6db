"""Names from the outside world (file names, track names, dataset names) made safe.

A file name that is not valid UTF-8 reaches Python as a str with lone surrogates
(surrogateescape): hashing it with `.encode()` or printing it raised UnicodeEncodeError, which
crashed `studio datasets`. A track or file name can also hold terminal escape sequences that
recolour or rewrite the terminal when printed raw. `name_bytes` gives the bytes to hash or
store, `printable` the text to show.
"""

from __future__ import annotations


def name_bytes(name: str) -> bytes:
    """The bytes of a name: its UTF-8, with escaped file-name bytes given back as they were
    (and any other lone surrogate kept as is), so it never raises."""
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogatepass")


def printable(text: object) -> str:
    """`text` for a terminal or a label: control characters (escape sequences, newlines) and
    undecodable bytes are shown as `\\x1b`-style escapes, everything else unchanged."""
    s = str(text)
    if s.isprintable():
        return s
    out = []
    for ch in s:
        code = ord(ch)
        if ch.isprintable():
            out.append(ch)
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable file-name byte
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out)
