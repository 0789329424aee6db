"""Entry point of the isolated parser child process (see `studio.midi.isolation`)."""

from __future__ import annotations

import os
import sys


def _limit_memory() -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the parent's timeout still bounds the child
        return
    limit = int(os.environ.get("STUDIO_PARSER_MEMORY", "0"))
    if limit > 0:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ValueError, OSError):
            pass


def main() -> None:
    _limit_memory()
    from studio.midi.parse import ParseError, parse_midi_bytes

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = stdin.read(4)
        if len(head) < 4:
            return
        n = int.from_bytes(head, "little")
        data = stdin.read(n)
        while len(data) < n:
            more = stdin.read(n - len(data))
            if not more:
                return
            data += more
        try:
            payload, status = parse_midi_bytes(data).to_bytes(), 0
        except ParseError as e:
            payload, status = str(e).encode(), 1
        except MemoryError:
            payload, status = b"the file needs more memory than the parser may use", 1
        except Exception as e:  # any other failure is still a reason, never a crash
            payload, status = f"unexpected parser error ({type(e).__name__}: {e})".encode(), 1
        stdout.write(bytes([status]) + len(payload).to_bytes(4, "little") + payload)
        stdout.flush()


if __name__ == "__main__":
    main()
