"""Reference cycles holding Qt objects are collected on the GUI thread, never on a worker (where
a Qt destructor waiting for the GIL froze the whole studio)."""

import gc
import threading
import time
import weakref

import pytest
from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QApplication

from studio.music.song import Note, Song, Track
from studio.ui import main_thread_gc
from studio.ui.main_window import MainWindow
from studio.ui.worker_thread import WorkerThread


class Holder(QObject):
    pass


def cycle_of_a_qt_object(collected: list) -> weakref.ref:
    obj = Holder()
    obj.me = obj   # only the cycle collector can free it
    return weakref.ref(obj, lambda _ref: collected.append(threading.current_thread()))


def churn() -> None:
    """What a worker does: allocate many containers, far past the collector's threshold."""
    keep = []
    for i in range(200_000):
        item = {"i": i}
        item["self"] = item
        if i % 1000 == 0:
            keep.append(item)


def test_a_worker_allocating_never_collects_qt_objects(qtbot):
    collector = main_thread_gc.install()
    assert collector is not None and not gc.isenabled()
    gc.collect()
    collected: list[threading.Thread] = []
    ref = cycle_of_a_qt_object(collected)
    worker = threading.Thread(target=churn)
    worker.start()
    worker.join()
    assert collected == [] and ref() is not None, "collected on the worker thread"
    # the GUI thread's timer frees it within a few ticks (with the worker's own cycles)
    qtbot.waitUntil(lambda: len(collected) > 0, timeout=3000)
    assert collected == [threading.main_thread()] and ref() is None
    assert sum(collector.collections) >= 1
    assert gc.get_count()[0] <= collector.thresholds[0] + 10_000


def test_the_window_installs_it_once(qtbot, tmp_path):
    windows = []
    for name in ("a.ini", "b.ini"):
        w = MainWindow(QSettings(str(tmp_path / name), QSettings.Format.IniFormat))
        qtbot.addWidget(w)
        windows.append(w)
    assert len(QApplication.instance().findChildren(main_thread_gc.MainThreadCollector)) == 1
    assert not gc.isenabled()


def test_quitting_gives_collection_back_to_the_interpreter(qtbot):
    collector = main_thread_gc.install()
    collector.stop()
    try:
        assert gc.isenabled() and not collector.timer.isActive()
    finally:
        assert main_thread_gc.install() is collector
        assert not gc.isenabled() and collector.timer.isActive()


def collections_while_allocating(collector, ticks: int) -> list:
    keep = []
    done = []
    for _ in range(ticks):
        keep.append([[] for _ in range(collector.thresholds[0] + 100)])  # survivors age
        done.append(collector.check())
    return done


@pytest.fixture
def collector(qtbot, monkeypatch):
    """The application's collector, its state put back after the test; only the test's own
    checks hold full collections back."""
    collector = main_thread_gc.install()
    monkeypatch.setattr(main_thread_gc, "_busy_checks", [])
    gc.collect()
    saved = collector.long_lived, collector.frozen
    yield collector
    gc.unfreeze()
    collector.long_lived, collector.frozen = max(saved[0], collector.long_lived), saved[1]
    collector.full_due_since = None


def test_full_collections_only_when_the_old_generation_grew_by_a_quarter(collector):
    collector.long_lived = 10**9            # as if the old generation were huge
    done = collections_while_allocating(collector, 250)
    assert 2 not in done and done.count(1) >= 10 and done.count(0) >= 100
    collector.long_lived, collector.frozen = 1, False   # it has grown far past a quarter
    done = collections_while_allocating(collector, 250)
    assert done.count(2) >= 2
    # the first full one froze the heap alive then; the next ones walked only newer objects
    assert collector.frozen and gc.get_freeze_count() > 10_000
    assert collector.long_lived < gc.get_freeze_count()


def test_a_burst_of_objects_goes_through_the_middle_generation_at_once(collector):
    t0, t1, _ = collector.thresholds
    burst = [[] for _ in range(t0 * t1 + 1000)]
    assert collector.check() == 1
    assert len(gc.get_objects(1)) < 1000 and gc.get_count()[1] == 0
    del burst


def test_a_full_collection_waits_while_the_studio_is_busy(collector):
    state = {"busy": True}
    main_thread_gc.defer_full_collections_while(lambda: state["busy"])
    collector.frozen, collector.long_lived = True, 1   # a full collection is due soon
    done = collections_while_allocating(collector, 250)
    assert 2 not in done and collector.full_due_since is not None
    state["busy"] = False                                # the job ended: collect now
    assert collector.check() == 2 and collector.full_due_since is None
    state["busy"] = True                                 # but never wait for ever
    collector.long_lived = 1
    collections_while_allocating(collector, 250)
    assert collector.full_due_since is not None
    collector.full_due_since = time.monotonic() - main_thread_gc.MAX_DEFER_S - 1
    assert collector.check() == 2


class Waiting(WorkerThread):
    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()

    def run(self) -> None:
        self.go.wait(10)


def test_background_jobs_and_playback_hold_full_collections_back(qtbot, tmp_path):
    job = Waiting()
    job.start()
    try:
        qtbot.waitUntil(job.isRunning)
        assert main_thread_gc.busy()
    finally:
        job.go.set()
        job.wait()
    w = MainWindow(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.open_song(Song([Track("Piano", notes=[Note(60 + i, i * 240, 240, 90) for i in range(8)])]))
    playback = w.playback
    assert playback._sounding in [ref() for ref in main_thread_gc._busy_checks]
    assert not playback._sounding()
    playback.play(0)
    try:
        assert playback.is_playing and playback._sounding()
    finally:
        playback.stop()
    assert not playback._sounding()
