"""Training with the studio open: event-loop stalls and throughput against the headless trainer.

The default LSTM trains on the CPU in the real main window (offscreen), through the Training
panel: worker thread, throttled signals, live curves on screen. A 10 ms QTimer on the GUI thread
measures the gaps between its ticks (an event-loop stall is a gap beyond 10 ms). Then the same
model, data, steps and torch threads train headless (`Trainer.run()` with no GUI at all). The two
alternate, several rounds, so that both meet the same load on a shared machine; throughput is
the training examples per second between the first and the last step report of each run (data
preparation and validation left out), and the ratio compares the medians.

On Linux the probe also reads the GUI thread's run-queue wait (/proc/self/task/TID/schedstat):
the time it was ready to run but every core was busy with other programs. "Own" gaps leave that
out; they are what the studio itself causes (its drawing, waiting for the training thread).

    python benchmarks/bench_gui_training.py [--steps 30] [--rounds 3] [--threads 1] [--edit]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("STUDIO_HOME", tempfile.mkdtemp(prefix="studio-bench-gui-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402

from benchmarks._common import machine  # noqa: E402
from studio.data import Dataset, load_dataset  # noqa: E402
from studio.ml.callbacks import TrainingCallback  # noqa: E402
from studio.ml.registry import create_family  # noqa: E402
from studio.ml.train_config import TrainConfig  # noqa: E402
from studio.ml.trainer import Trainer  # noqa: E402
from studio.ui.stall_probe import StallProbe  # noqa: E402


def throughput(reports: list, batch: int) -> float:
    """Training examples per second between the first and the last step report."""
    first, last = reports[0], reports[-1]
    return (last.step - first.step) * batch / max(1e-9, last.elapsed - first.elapsed)


class Steps(TrainingCallback):
    def __init__(self) -> None:
        self.reports: list = []

    def on_step_end(self, report) -> None:
        self.reports.append(report)


def headless(dataset: Dataset, config: TrainConfig) -> float:
    steps = Steps()
    Trainer(create_family("lstm"), dataset, config, callbacks=[steps]).run()
    return throughput(steps.reports, config.batch_size)


def in_window(window, dataset: Dataset, config: TrainConfig, probe: StallProbe, edit: bool) -> float:
    from studio.music.edits import AddNotes
    from studio.music.song import Note
    from studio.ui.training.training_worker import TrainingJob

    panel = window.training_panel
    reports: list = []
    panel.runner.step.connect(reports.append)
    loop = QEventLoop()

    def failed(message: str) -> None:
        print("the run failed:", message)
        loop.quit()

    panel.run_finished.connect(loop.quit)
    panel.run_failed.connect(failed)
    editor = QTimer()  # a musician editing meanwhile: one note added (one undo step) at 4 Hz
    doc = window.document
    editor.timeout.connect(lambda: doc.apply(AddNotes.of(doc.song.tracks[0], [
        Note(60 + len(reports) % 12, 480 * (len(reports) % 64), 240, 90)])))
    name = f"bench-{time.monotonic_ns()}"
    panel.start(TrainingJob("lstm", {}, config, dataset, name))
    probe.start()
    if edit:
        editor.start(250)
    loop.exec()
    probe.stop()
    editor.stop()
    panel.runner.step.disconnect(reports.append)
    panel.run_finished.disconnect(loop.quit)
    panel.run_failed.disconnect(failed)
    return throughput(reports, config.batch_size)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30, help="optimizer steps per run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--edit", action="store_true", help="also edit the song during the runs")
    args = ap.parse_args()

    import torch

    from studio.ui.app import application
    from studio.ui.main_window import MainWindow
    from studio.ui.training.training_worker import warm_up_engine

    torch.set_num_threads(args.threads)
    app = application()
    jsb = load_dataset("jsb")
    dataset = Dataset("jsb-train-8-valid", jsb.split("train") + jsb.split("valid")[:8])
    config = TrainConfig(epochs=1, steps_per_epoch=args.steps, threads=args.threads,
                         device="cpu")
    home = Path(os.environ["STUDIO_HOME"])
    window = MainWindow(QSettings(str(home / "bench.ini"), QSettings.Format.IniFormat))
    window.resize(1600, 1000)
    window.show()
    window.open_song(jsb.split("train")[3].song())  # a chorale in the piano roll
    window.training_panel.tabs.setCurrentIndex(1)  # the live curves on screen
    warm = warm_up_engine()
    while not warm.isFinished():
        app.processEvents()
        time.sleep(0.01)
    load_before = os.getloadavg()
    headless(dataset, TrainConfig(epochs=1, steps_per_epoch=3, threads=args.threads))  # warm
    probe = StallProbe()
    gui_rates, bare_rates = [], []
    for r in range(args.rounds):
        bare_rates.append(headless(dataset, config))
        gui_rates.append(in_window(window, dataset, config, probe, args.edit))
        print(f"round {r + 1}: headless {bare_rates[-1]:.1f} ex/s, with the window "
              f"{gui_rates[-1]:.1f} ex/s", flush=True)
    load_after = os.getloadavg()
    gaps, own = np.array(probe.gaps) * 1000, np.array(probe.own_gaps) * 1000
    bare, gui = statistics.median(bare_rates), statistics.median(gui_rates)
    info = create_family("lstm")
    print(f"\nmachine: {machine()}; load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after")
    print(f"model: lstm defaults ({sum(p.numel() for p in info.build().parameters()):,} "
          f"weights), batch {config.batch_size}, {args.steps} steps per run, {args.threads} "
          f"torch thread(s), {args.rounds} rounds" + (", editing meanwhile" if args.edit else ""))
    print("\n| measure | headless | in the window | ratio |")
    print("|---|---|---|---|")
    print(f"| training throughput (ex/s, median) | {bare:.1f} | {gui:.1f} | {gui / bare:.2f} |")
    print(f"\nevent-loop probe: {len(gaps)} ticks of 10 ms while training in the window")
    print("| gaps (ms) | p50 | p99 | max |")
    print("|---|---|---|---|")
    for label, values in (("raw", gaps), ("own (run-queue wait left out)", own)):
        print(f"| {label} | {np.percentile(values, 50):.1f} | {np.percentile(values, 99):.1f} "
              f"| {values.max():.1f} |")
    print(f"\ntargets: p99 < 50 ms: raw {'met' if np.percentile(gaps, 99) < 50 else 'NOT met'}, "
          f"own {'met' if np.percentile(own, 99) < 50 else 'NOT met'}; throughput ratio >= 0.9: "
          f"{'met' if gui / bare >= 0.9 else 'NOT met'}")
    window.document.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
