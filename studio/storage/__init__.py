"""How Studio writes and reads its files safely, below every layer (music, midi, data, ml and ui
may all import it; it imports nothing of Studio's).

- `atomic`: the one atomic, permission-respecting way every file is written.
- `json_input`: JSON read from disk with limits on size and nesting (a hostile card or project
  gets a clear error, never a RecursionError).
- `reading`: opening a named file without hanging on a pipe or a device.
- `names`: file, track and dataset names made safe to hash and to print (names that are not
  valid UTF-8, terminal escape sequences).
"""

from studio.storage.atomic import (
    FileWriteError,
    atomic_file,
    atomic_path,
    check_writable,
    remove_stale_temporaries,
    remove_stale_temporaries_of,
    temp_path_for,
    write_atomically,
)
from studio.storage.json_input import JsonInputError, loads_bounded, read_json
from studio.storage.names import name_bytes, printable
from studio.storage.reading import NotAFileError, open_regular, read_regular

__all__ = ["FileWriteError", "JsonInputError", "NotAFileError", "atomic_file", "atomic_path", "check_writable", "loads_bounded",
           "name_bytes", "open_regular", "printable", "read_regular", "read_json", "remove_stale_temporaries", "remove_stale_temporaries_of",
           "temp_path_for", "write_atomically"]
