"""A pool of import worker processes that survives its workers crashing or hanging.

Each worker (`studio.data.import_worker`) is a child process fed over a pipe; a reader thread per
worker puts its replies on one queue. A worker handles its messages in order, so when it dies the
oldest message it held holds the file that killed it. A message of one file: that file alone is
reported bad, the worker's other files go back to the importer, and a fresh worker takes over. A
message of several small files (`submit_batch`, one reply for all: fewer messages and wake-ups):
its files go back marked `solo`, to be sent again one per message, so the file that kills a
worker is still the only one reported. A worker that takes too long is killed the same way (a
file that hangs inside a batch is found on its second, solo try). Workers read and write the
files themselves and reply with small JSON objects, so the importer's process (and the GUI thread
beside it) stays light.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from studio.data.errors import DatasetError
from studio.midi import limits
from studio.midi.child_process import child_env
from studio.midi.child_process import read_exact as _read_exact

IN_FLIGHT_PER_WORKER = 2
STARTUP_ALLOWANCE_S = 30.0  # a cold worker imports numpy and symusic before its first reply
_MAX_FAILED_STARTS = 3


@dataclass
class Job:
    """One file to import: `request` is what the worker gets (its `id` is filled in here)."""

    key: str
    request: dict
    size: int = 0
    solo: bool = False  # sent alone: it was in a batch whose worker died


@dataclass
class _Worker:
    proc: subprocess.Popen | None = None
    generation: int = 0
    in_flight: deque = field(default_factory=deque)  # (list of Jobs of one message, sent time)
    replied: bool = False
    last_reply: float = 0.0


class WorkerPool:
    """`submit` jobs while `has_room()`; `collect` returns finished (job, reply) pairs and the jobs
    to hand back (`requeue`) after a worker died. Always `close()` (or use it as a context)."""

    def __init__(self, workers: int | None = None, nice: int = 0) -> None:
        """`nice` > 0 runs the workers at a lower priority (the app does, so that the GUI
        thread gets a core the moment it needs one)."""
        self.size = max(1, workers or min(os.cpu_count() or 1, 8))
        self.nice = nice
        self._workers = [_Worker() for _ in range(self.size)]
        self._events: queue.Queue = queue.Queue()
        self._next_id = 0
        self._failed_starts = 0
        self._settled: list = []  # jobs of a worker found dead in submit(), for collect()
        self._settled_requeue: list = []
        self.crashes = 0

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- workers ------------------------------------------------------------------------------
    def _start(self, index: int) -> None:
        w = self._workers[index]
        env = child_env(STUDIO_WORKER_NICE=str(self.nice))
        try:
            w.proc = subprocess.Popen(
                [sys.executable, "-m", "studio.data.import_worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, bufsize=0)
        except OSError as e:
            raise DatasetError(f"cannot start the import workers ({e})") from None
        w.generation += 1
        w.replied = False
        w.last_reply = time.monotonic()
        threading.Thread(target=self._reader, args=(index, w.generation, w.proc.stdout),
                         daemon=True, name=f"import-worker-{index}").start()

    def _reader(self, index: int, generation: int, stream) -> None:
        while True:
            try:
                head = _read_exact(stream, 4)
                body = None if head is None else _read_exact(stream,
                                                             int.from_bytes(head, "little"))
            except (OSError, ValueError):  # the pipe was closed under us: the worker is gone
                body = None
            if body is None:
                self._events.put((index, generation, None))
                return
            self._events.put((index, generation, json.loads(body)))

    def start_all(self) -> None:
        """Start every worker now (they take a moment to import their libraries)."""
        for i, w in enumerate(self._workers):
            if w.proc is None:
                self._start(i)

    def _kill(self, w: _Worker) -> int | None:
        if w.proc is None:
            return None
        try:
            w.proc.kill()
        except OSError:
            pass
        code = w.proc.wait()
        for s in (w.proc.stdin, w.proc.stdout):
            try:
                s.close()
            except OSError:
                pass
        w.proc = None
        return code

    # ---- jobs ---------------------------------------------------------------------------------
    def has_room(self) -> bool:
        return any(len(w.in_flight) < IN_FLIGHT_PER_WORKER for w in self._workers)

    def busy(self) -> bool:
        return any(w.in_flight for w in self._workers)

    def submit(self, job: Job) -> None:
        self.submit_batch([job])

    def submit_batch(self, jobs: list[Job]) -> None:
        """Send jobs to one worker in one message (one reply for all of them)."""
        index = min(range(self.size), key=lambda i: len(self._workers[i].in_flight))
        w = self._workers[index]
        if w.proc is not None and w.proc.poll() is not None:
            # it died before its reader reported the end of its pipe: settle its jobs now
            # (collect() hands them out), since replacing it makes that report stale
            self._worker_died(w, self._settled, self._settled_requeue, None)
        if w.proc is None:
            self._start(index)
        for job in jobs:
            self._next_id += 1
            job.request["id"] = self._next_id
        message = jobs[0].request if len(jobs) == 1 else {"batch": [j.request for j in jobs]}
        body = json.dumps(message).encode()
        try:
            w.proc.stdin.write(len(body).to_bytes(4, "little") + body)
            w.proc.stdin.flush()
        except OSError:
            pass  # the worker died; its reader reports EOF and the job is handled then
        if not w.in_flight:
            w.last_reply = time.monotonic()
        w.in_flight.append((jobs, time.monotonic()))

    def collect(self, timeout: float = 0.05) -> tuple[list[tuple[Job, dict]], list[Job]]:
        """Finished jobs with their replies, and jobs to submit again."""
        done: list[tuple[Job, dict]] = self._settled
        requeue: list[Job] = self._settled_requeue
        self._settled, self._settled_requeue = [], []
        events: list = []
        try:
            events.append(self._events.get(timeout=timeout))
            while True:
                events.append(self._events.get_nowait())
        except queue.Empty:
            pass
        for item in events:
            if item is None:
                continue
            index, generation, reply = item
            w = self._workers[index]
            if generation != w.generation:
                continue  # from a worker already replaced
            if reply is None:
                self._worker_died(w, done, requeue, None)
            elif w.in_flight:
                jobs, _ = w.in_flight.popleft()
                w.replied = True
                w.last_reply = time.monotonic()
                self._failed_starts = 0
                replies = reply.get("batch", [reply]) if isinstance(reply, dict) else []
                by_id = {r.get("id"): r for r in replies if isinstance(r, dict)}
                for job in jobs:
                    done.append((job, by_id.get(job.request["id"]) or {
                        "id": job.request["id"], "ok": False, "kind": "bad",
                        "reason": "the import worker gave no answer for this file"}))
        self._check_deadlines(done, requeue)
        return done, requeue

    def _deadline(self, w: _Worker, jobs: list[Job]) -> float:
        size = sum(job.size for job in jobs)
        allowance = limits.PARSER_TIMEOUT_S * 4 + limits.PARSER_TIMEOUT_PER_MB_S * 4 * size / 2**20
        if not w.replied:
            allowance += STARTUP_ALLOWANCE_S
        return w.last_reply + allowance

    def _check_deadlines(self, done: list, requeue: list) -> None:
        now = time.monotonic()
        for w in self._workers:
            if w.in_flight and now > self._deadline(w, w.in_flight[0][0]):
                self._worker_died(w, done, requeue, "parsing took too long; the file is "
                                                    "probably corrupt")

    def _worker_died(self, w: _Worker, done: list, requeue: list, reason: str | None) -> None:
        code = self._kill(w)
        w.generation += 1
        self.crashes += 1
        if not w.replied:
            self._failed_starts += 1
            if self._failed_starts > _MAX_FAILED_STARTS and reason is None:
                raise DatasetError("the import worker processes stop as soon as they start; "
                                   "the installation may be broken")
        if w.in_flight:
            jobs, _ = w.in_flight.popleft()
            if len(jobs) == 1:
                text = reason or f"the parser crashed on this file (exit code {code})"
                done.append((jobs[0], {"id": jobs[0].request.get("id"), "ok": False,
                                       "kind": "bad", "reason": text}))
            else:  # which file of the batch? each is tried again on its own
                for job in jobs:
                    job.solo = True
                requeue.extend(jobs)
        requeue.extend(job for jobs, _ in w.in_flight for job in jobs)
        w.in_flight.clear()

    def worker_pids(self) -> list[int]:
        return [w.proc.pid for w in self._workers if w.proc is not None]

    def close(self, kill: bool = False) -> None:
        """Stop the workers: let them finish their file, or (`kill`) stop them at once."""
        for w in self._workers:
            if w.proc is not None and not kill:
                try:
                    w.proc.stdin.close()
                    w.proc.wait(timeout=2)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            self._kill(w)
            w.generation += 1
            w.in_flight.clear()
