"""The Generation panel in the real window (Qt offscreen), beside references measured in the same
run.

1. Window start-up with the Generation feature installed, against the same window without it
   (the panel must not make the window wait for torch: the core is imported on a worker thread),
   and on a first launch (the demo opens) how long until the model list is ready and the
   harmonizer is loaded (ahead, on the worker thread, while the musician reads the hint).
2. Harmonizing the 12-bar demo chorale melody, 4 variations, from the panel (Generate clicked):
   time until the first variation is listed, and until all are; reference: the same request (same
   seed) given to `studio.ml.generation.generate` on a plain thread, first candidate and total.
   Target:
   the first variation on screen well before the rest are done; panel overhead under 10%.
3. The same for a 16-bar melody from the LSTM (target from issue 9: under 0.5 s).
4. The editor's event loop while generating: the longest and the 99th-percentile gap of a 10 ms
   timer, against the same timer while idle (target: no gap above 0.25 s).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("STUDIO_HOME", tempfile.mkdtemp(prefix="studio-bench-"))

import numpy as np  # noqa: E402
from PySide6.QtCore import QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import machine  # noqa: E402
from studio.ui import main_window as main_window_module  # noqa: E402
from studio.ui.app import application  # noqa: E402
from studio.ui.main_window import MainWindow  # noqa: E402

SEED, COUNT, ROUNDS = 5, 4, 5


def pump(app, until, limit: float = 300.0) -> float:
    start = time.perf_counter()
    while not until() and time.perf_counter() - start < limit:
        app.processEvents()
        time.sleep(0.002)
    return time.perf_counter() - start


def new_window(features: list[str] | None = None) -> tuple[MainWindow, float]:
    saved = list(main_window_module.FEATURE_MODULES)
    if features is not None:
        main_window_module.FEATURE_MODULES[:] = features
    try:
        start = time.perf_counter()
        w = MainWindow(QSettings(tempfile.mktemp(suffix=".ini"), QSettings.Format.IniFormat))
        w.resize(1400, 900)
        w.show()
        return w, time.perf_counter() - start
    finally:
        main_window_module.FEATURE_MODULES[:] = saved


def close(app, w: MainWindow) -> None:
    w.document.undo_stack.setClean()
    w.close()
    app.processEvents()


class Probe:
    """A 10 ms timer recording when it fires."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.timer = QTimer(interval=10)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def run(self, app, until, limit: float = 300.0) -> np.ndarray:
        self.ticks.clear()
        self.timer.start()
        pump(app, until, limit)
        self.timer.stop()
        return np.diff(self.ticks) if len(self.ticks) > 1 else np.zeros(1)


def from_panel(app, w: MainWindow, probe: Probe) -> tuple[float, float, np.ndarray]:
    panel = w.generation_panel
    firsts: list[float] = []
    panel.runner.candidate_ready.connect(lambda c: firsts.append(time.perf_counter()))
    panel.sampling.count.setValue(COUNT)
    panel.sampling.seed.setValue(SEED)
    start = time.perf_counter()
    QTest.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    gaps = probe.run(app, lambda: not panel.runner.is_running())
    total = time.perf_counter() - start
    assert len(firsts) == COUNT, panel.message.text()
    return firsts[0] - start, total, gaps


def direct(request) -> tuple[float, float]:
    """`generate` on a plain Python thread, as the panel runs it (torch in the main thread of
    a busy 2-core machine can be several times slower: its thread pool spins)."""
    from studio.ml.generation import generate

    firsts: list[float] = []
    times: list[float] = []

    def run() -> None:
        start = time.perf_counter()
        generate(request, on_candidate=lambda c: firsts.append(time.perf_counter() - start))
        times.append(time.perf_counter() - start)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return firsts[0], times[0]


def compare(app, w, probe, title: str, digits: int) -> np.ndarray:
    """Panel and direct runs alternately (ROUNDS each); prints medians; returns the gaps."""
    panel_runs, direct_runs, gaps = [], [], []
    for _ in range(ROUNDS):
        first, total, g = from_panel(app, w, probe)
        panel_runs.append((first, total))
        gaps.append(g)
        direct_runs.append(direct(w.generation_panel.session.request))
    p, d = np.median(panel_runs, axis=0), np.median(direct_runs, axis=0)
    print(f"{title}, {COUNT} variations, median of {ROUNDS} (s)")
    print("                       first variation   all variations")
    print(f"   panel (listed)     {p[0]:15.{digits}f}   {p[1]:14.{digits}f}")
    print(f"   generate() direct  {d[0]:15.{digits}f}   {d[1]:14.{digits}f}")
    print(f"   panel / direct     {p[0] / d[0]:15.2f}   {p[1] / d[1]:14.2f}\n")
    return np.concatenate(gaps)


def main() -> None:
    app = application()
    print(f"machine: {machine()}\n")
    # A first launch in a fresh process (torch not imported yet): the demo opens and has the
    # harmonizer loaded ahead on the worker thread.
    start = time.perf_counter()
    w, first_s = new_window()
    panel = w.generation_panel
    pump(app, lambda: panel.catalog.ready)
    ready_s = time.perf_counter() - start
    pump(app, lambda: not panel.catalog.busy)
    warm_s = time.perf_counter() - start
    close(app, w)
    without = [m for m in main_window_module.FEATURE_MODULES if "generation" not in m]
    bare, full = [], []
    for _ in range(3):
        w, seconds = new_window(without)
        bare.append(seconds)
        close(app, w)
        w, seconds = new_window()
        full.append(seconds)
        close(app, w)
    print("1. start-up (s)")
    print(f"   window without the Generation feature  {min(bare):7.3f}  (best of 3)")
    print(f"   window with it                          {min(full):7.3f}  "
          f"(x{min(full) / min(bare):.2f})")
    print("   first launch (fresh process, the demo opens):")
    print(f"   window shown                            {first_s:7.3f}")
    print(f"   model list ready (torch imported)       {ready_s:7.3f}")
    print(f"   harmonizer loaded for the demo          {warm_s:7.3f}\n")
    w, _ = new_window()
    panel = w.generation_panel
    pump(app, lambda: panel.catalog.ready)
    panel.prepare()
    pump(app, lambda: not panel.catalog.busy)

    probe = Probe()
    idle = probe.run(app, lambda: False, limit=3.0)
    gaps = compare(app, w, probe, "2. harmonize the demo melody (12 bars)", 2)
    assert panel.select_model("lstm-melody")
    panel.forms["melody"].bars.setValue(16)
    m_gaps = compare(app, w, probe, "3. a 16-bar melody from lstm-melody", 3)

    print("4. event loop of the editor, gaps of a 10 ms timer (ms)")
    print("                          longest     99th percentile   median")
    for name, g in (("idle", idle), ("while harmonizing", gaps),
                    ("while writing melodies", m_gaps)):
        print(f"   {name:22s} {g.max() * 1e3:8.1f}   {np.percentile(g, 99) * 1e3:14.1f}   "
              f"{np.median(g) * 1e3:7.1f}")
    close(app, w)


if __name__ == "__main__":
    main()
