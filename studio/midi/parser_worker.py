"""Entry point of the isolated parser child process (see `studio.midi.isolation`)."""

from __future__ import annotations

import sys

from studio.midi.child_process import start_child


def main() -> None:
    start_child()
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
