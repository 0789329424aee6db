"""What a timing thread needs from the system: real-time scheduling where it is allowed, and a short
GIL switch interval while something plays (so other Python threads cannot hold it back long)."""

from __future__ import annotations

import os
import sys
import threading

REALTIME_PRIORITY = 20


class SwitchInterval:
    """While any player plays, a waiting thread gets the GIL within 0.5 ms instead of Python's
    default 5 ms, so a busy GUI thread cannot hold a due note back. The interval only matters
    when a thread is waiting (the player, a few dozen times a second), so this costs little."""

    FAST = 0.0005

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved = sys.getswitchinterval()

    def enter(self) -> None:
        with self._lock:
            if self._users == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self._saved, self.FAST))
            self._users += 1

    def exit(self) -> None:
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users == 0:
                sys.setswitchinterval(self._saved)


switch_interval = SwitchInterval()


def raise_thread_priority(priority: int = REALTIME_PRIORITY) -> bool:
    """Ask for round-robin real-time scheduling for the calling thread where the system allows
    it (Linux with rtprio rights), so a busy machine delays notes less. Harmless where refused."""
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(priority))
    except (AttributeError, OSError):
        return False
    return True
