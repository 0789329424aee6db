"""The isolated parser: native MIDI parsing in a child process that a crash cannot take down.

One long-lived child (`python -m studio.midi.parser_worker`) serves parse requests over its
stdin/stdout: request = 4-byte length + file bytes; reply = 1 status byte + 4-byte length +
payload (`ParsedMidi.to_bytes()` or a UTF-8 reason). The child runs under an address-space limit;
the parent waits with a timeout that grows with the file size. When the child dies or hangs, the
parent kills it, reports the file as unreadable and starts a new child on the next request.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading

from studio.midi import limits
from studio.midi.child_process import child_env
from studio.midi.child_process import read_exact as _read_exact
from studio.midi.parse import ParsedMidi, ParseError


class ParserCrashed(ParseError):
    pass


class IsolatedParser:
    """A child process that parses MIDI bytes; thread-safe (one request at a time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._replies: queue.Queue = queue.Queue()

    def _start(self) -> None:
        env = child_env()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "studio.midi.parser_worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, bufsize=0)
        self._replies = queue.Queue()
        threading.Thread(target=self._reader, args=(self._proc, self._replies), daemon=True,
                         name="midi-parser-reader").start()

    @staticmethod
    def _reader(proc: subprocess.Popen, replies: queue.Queue) -> None:
        out = proc.stdout
        while True:
            head = _read_exact(out, 5)
            if head is None:
                replies.put(None)
                return
            status, n = head[0], int.from_bytes(head[1:], "little")
            payload = _read_exact(out, n)
            if payload is None:
                replies.put(None)
                return
            replies.put((status, payload))

    def warm_up(self) -> None:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()

    def parse(self, data: bytes) -> ParsedMidi:
        timeout = limits.PARSER_TIMEOUT_S + limits.PARSER_TIMEOUT_PER_MB_S * len(data) / 2**20
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            proc = self._proc
            try:
                proc.stdin.write(len(data).to_bytes(4, "little") + data)
                proc.stdin.flush()
            except OSError:
                self._kill()
                raise ParserCrashed("the MIDI parser process stopped unexpectedly") from None
            try:
                reply = self._replies.get(timeout=timeout)
            except queue.Empty:
                self._kill()
                raise ParseError(f"parsing took longer than {timeout:.1f} s; the file is "
                                 "probably corrupt") from None
            if reply is None:
                code = proc.wait()
                self._proc = None
                raise ParserCrashed(f"the MIDI parser crashed on this file (exit code {code})")
            status, payload = reply
            if status == 0:
                return ParsedMidi.from_bytes(payload)
            raise ParseError(payload.decode("utf-8", "replace"))

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        with self._lock:
            if self._proc is not None:
                try:
                    self._proc.stdin.close()
                    self._proc.wait(timeout=2)
                except (OSError, subprocess.TimeoutExpired):
                    self._kill()
                self._proc = None


_shared: IsolatedParser | None = None
_shared_lock = threading.Lock()


def shared_parser() -> IsolatedParser:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = IsolatedParser()
            import atexit

            atexit.register(_shared.close)
        return _shared
