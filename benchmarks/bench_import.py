"""Folder import speed, memory and GUI responsiveness, beside raw symusic in the same run.

Builds 1,000 varied MIDI files: variants of the shared files (transposed, re-timed: real music,
distinct bytes) and generated songs (1-8 tracks, 100-3,000 notes, several meters, some drums),
written with `studio.midi.write_song`. Then, in this run:

1. raw symusic: `symusic.Score.from_file` on every file, one after another (one core);
2. `import_folder` with two worker processes (parse, checks, metadata, histograms, stored pieces,
   journal, manifest), and a re-import of the unchanged folder;
3. peak memory (RSS) of the importing process and of its workers for 250, 500 and 1,000 files,
   each in a fresh process;
4. the import run by the Dataset panel in the real main window (offscreen) while a 5 ms QTimer
   probe measures the longest gap of the GUI event loop.

Targets (issue 5): import throughput within 3x of raw symusic using both cores; memory that does
not grow with the number of files; no GUI stall over 50 ms.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import machine, midi_files  # noqa: E402
from studio.midi import read_song, write_song  # noqa: E402
from studio.music import KeySignature, Note, Song, TempoChange, TimeSignature, Track  # noqa: E402
from studio.music.operations import transpose  # noqa: E402

N_FILES = 1000
METERS = ((4, 4), (3, 4), (6, 8), (2, 4), (5, 4))


def generated(seed: int) -> Song:
    rng = np.random.default_rng(seed)
    meter = METERS[seed % len(METERS)]
    song = Song(tempos=[TempoChange(0, float(rng.integers(60, 180)))],
                time_signatures=[TimeSignature(0, *meter)],
                key_signatures=[KeySignature(0, int(rng.integers(-5, 6)), bool(seed % 2))])
    tracks = int(rng.integers(1, 9))
    for i in range(tracks):
        n = int(rng.integers(100, 3000 // tracks + 101))
        starts = np.sort(rng.integers(0, n * 240, n))
        pitches = rng.integers(30 + 5 * i, 70 + 5 * i, n)
        durs = rng.choice([60, 120, 240, 360, 480, 960], n)
        vels = rng.integers(30, 127, n)
        song.tracks.append(Track(f"Part {i + 1}", program=int(rng.integers(0, 120)), notes=[
            Note(int(p), int(s), int(d), int(v)) for p, s, d, v in zip(pitches, starts, durs,
                                                                        vels)]))
    if seed % 4 == 0:
        song.tracks.append(Track("Drums", is_drum=True, channel=9, notes=[
            Note(36 + 2 * (k % 4), k * 240, 60, 100) for k in range(int(rng.integers(50, 400)))]))
    return song


def build_files(folder: Path, n_files: int = N_FILES) -> list[Path]:
    out: list[Path] = []
    shared = [read_song(p) for p in midi_files()]
    shared = [s for s in shared if s.note_count]
    k = 0
    for shift in range(-6, 7):  # 13 variants of each shared song
        for i, s in enumerate(shared):
            variant = transpose(s, shift)
            variant.tempos = [TempoChange(t.tick, t.qpm * (1 + 0.01 * shift)) for t in s.tempos]
            p = folder / "shared" / f"{i:02d}_{shift:+d}.mid"
            p.parent.mkdir(parents=True, exist_ok=True)
            write_song(variant, p)
            out.append(p)
            k += 1
    seed = 0
    while len(out) < n_files:
        p = folder / "generated" / f"{seed // 100:02d}" / f"song_{seed:04d}.mid"
        p.parent.mkdir(parents=True, exist_ok=True)
        write_song(generated(seed), p)
        out.append(p)
        seed += 1
    return out[:n_files]


def raw_symusic(files: list[Path]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) to parse every file with symusic, one after another."""
    import symusic

    c0, t0 = time.process_time(), time.perf_counter()
    for p in files:
        symusic.Score.from_file(str(p))
    return time.perf_counter() - t0, time.process_time() - c0


def parse_midi_bytes_alone(files: list[Path]) -> tuple[float, float]:
    """The parser the import workers must use (checks, per-track parsing), on its own."""
    from studio.midi.parse import ParseError, parse_midi_bytes

    datas = [p.read_bytes() for p in files]
    c0, t0 = time.process_time(), time.perf_counter()
    for d in datas:
        try:
            parse_midi_bytes(d)
        except ParseError:
            pass
    return time.perf_counter() - t0, time.process_time() - c0


def worker_stages(files: list[Path]) -> dict[str, float]:
    """CPU seconds per stage of what an import worker does for each file (`import_worker.handle`,
    taken apart here, in this process): where the import's time goes."""
    from studio.data import import_worker as iw
    from studio.data import piece_content as pc
    from studio.midi.parse import parse_midi_bytes

    stages: dict[str, float] = {}
    options = pc.ImportOptions()
    with tempfile.TemporaryDirectory() as dest:
        for path in files:
            t = time.process_time()

            def lap(name: str) -> None:
                nonlocal t
                now = time.process_time()
                stages[name] = stages.get(name, 0.0) + now - t
                t = now

            data = iw._read(str(path), 1 << 30)
            lap("read")
            digest = iw.content_hash(data)
            lap("hash")
            parsed = parse_midi_bytes(data)
            lap("parse (parse_midi_bytes)")
            selected, satb, _ = pc.select(parsed, options)
            lap("options (select)")
            if selected is None:
                continue
            meta, pitch, length = pc.summarize(selected)
            hists = pc.hist_to_text(pitch), pc.hist_to_text(length)
            lap("metadata and histograms")
            stored = pc.encode_piece(selected, satb)
            lap("stored piece: encode")
            pack, offset = iw._pack.append(dest, "bench", stored)
            lap("stored piece: append to pack")
            json.dumps({"id": 1, "hash": digest, "meta": meta, "pitch_hist": hists[0],
                        "length_hist": hists[1], "pack": pack, "offset": offset,
                        "stored_bytes": len(stored), "ok": True}).encode()
            lap("reply (JSON)")
    return stages


def import_in_fresh_process(folder: Path, home: Path, workers: int = 2) -> dict:
    """Peak memory is VmHWM from /proc (ru_maxrss would carry the parent's peak over exec);
    the workers' is read just before they stop."""
    code = f"""
import json, os, sys, time
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from studio.data.importer import import_folder
from studio.data.worker_pool import WorkerPool

def hwm(pid="self"):
    for line in open(f"/proc/{{pid}}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0

def cpu():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system

pool = WorkerPool({workers})
c0, t0 = cpu(), time.perf_counter()
r = import_folder({str(folder)!r}, "bench", pool=pool)
wall = time.perf_counter() - t0
workers_kib = max(hwm(pid) for pid in pool.worker_pids())
pool.close()  # waits for the workers, so their CPU time is counted
cold_cpu = cpu() - c0
def proc_cpu(pid):
    fields = open(f"/proc/{{pid}}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

pool = WorkerPool({workers})
pool.start_all()
time.sleep(1.0)  # warm: the workers have imported their libraries, as in the panel
pids = pool.worker_pids()
w0 = sum(proc_cpu(p) for p in pids)
t = os.times()
c0, t0 = t.user + t.system, time.perf_counter()
import_folder({str(folder)!r}, "bench warm", pool=pool)
warm = time.perf_counter() - t0
assert pool.worker_pids() == pids  # no worker was restarted: their CPU counters are whole
t = os.times()
importer_cpu = t.user + t.system - c0
warm_cpu = importer_cpu + sum(proc_cpu(p) for p in pids) - w0
pool.close()
t1 = time.perf_counter()
again = import_folder({str(folder)!r}, "bench", workers={workers})
print(json.dumps({{"wall": wall, "warm": warm, "cold_cpu": cold_cpu, "warm_cpu": warm_cpu,
    "importer_cpu": importer_cpu,
    "reimport": time.perf_counter() - t1, "pieces": r.pieces,
    "bad": len(r.bad), "dups": len(r.duplicates), "parsed_again": again.parsed,
    "self_kib": hwm(), "children_kib": workers_kib}}))
"""
    env = dict(os.environ, STUDIO_HOME=str(home))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def gui_stalls(folder: Path, home: Path) -> dict:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["STUDIO_HOME"] = str(home)
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from studio.data.piece_content import ImportOptions
    from studio.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])  # noqa: F841 (kept alive)
    window = MainWindow()
    window.show()
    panel = window.dataset_panel
    loop = QEventLoop()
    # let the window finish its start-up work first (the chorales, the first-launch demo): idle,
    # it stalls its event loop for ~170 ms about 2.5 s after it opens, import or not
    QTimer.singleShot(6000, loop.quit)
    loop.exec()
    gaps: list[tuple[float, float]] = []  # (time of the tick in s, gap before it in ms)
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def probe() -> None:
        now = clock.nsecsElapsed()
        gaps.append((now / 1e9, (now - last[0]) / 1e6))
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(probe)
    done = []
    finished_at = []
    panel.import_finished.connect(
        lambda r: (done.append(r), finished_at.append(clock.nsecsElapsed() / 1e9), loop.quit()))
    t0 = time.perf_counter()
    timer.start()
    panel.start_import(str(folder), "gui bench", ImportOptions())
    loop.exec()
    wall = time.perf_counter() - t0
    # keep probing while the panel loads the new dataset (table, statistics, repaint)
    QTimer.singleShot(1500, loop.quit)
    loop.exec()
    timer.stop()
    panel.shutdown()
    window.close()
    if os.environ.get("BENCH_GAPS"):  # when the longest gaps came (other load, or the import)
        longest = sorted(((round(t - gaps[0][0], 2), round(g)) for t, g in gaps),
                         key=lambda x: -x[1])[:6]
        print(f"longest gaps (s after the start, ms): {longest}; the import ended at "
              f"{finished_at[0] - gaps[0][0]:.2f} s")
    during = np.array([g for t, g in gaps if t <= finished_at[0]])
    after = np.array([g for t, g in gaps if t > finished_at[0]])
    return {"wall": wall, "max_ms": float(during.max()), "p99_ms": float(np.percentile(during, 99)),
            "over_50": int((during > 50).sum()), "ticks": len(during),
            "after_max_ms": float(after.max()), "pieces": done[0].pieces}


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="studio-bench-import-"))
    try:
        folder = tmp / "music"
        t0 = time.perf_counter()
        files = build_files(folder)
        size = sum(p.stat().st_size for p in files)
        print(f"Machine: {machine()}")
        print(f"{len(files)} files ({size / 2**20:.1f} MiB) built in "
              f"{time.perf_counter() - t0:.1f} s\n")
        for p in files:  # warm the page cache for both readers
            p.read_bytes()
        raw, raw_cpu = min(raw_symusic(files) for _ in range(2))
        floor, floor_cpu = min(parse_midi_bytes_alone(files) for _ in range(2))
        res = import_in_fresh_process(folder, tmp / "home1")
        ratio = res["wall"] / raw
        # CPU time does not depend on what else the machine runs: with two idle cores the
        # import's wall time would be its CPU time over two (it keeps both cores busy).
        cpu_ratio = res["cold_cpu"] / 2 / raw_cpu
        warm_cpu_ratio = res["warm_cpu"] / 2 / raw_cpu
        print(f"load average before the run: {os.getloadavg()[0]:.1f} (other work shares "
              "the 2 cores, so wall times vary; CPU times do not)\n")
        print("| reader | 1,000 files, wall (s) | files/s | wall x raw | CPU (s) | "
              "(CPU / 2 cores) x raw CPU |")
        print("|---|---|---|---|---|---|")
        print(f"| raw symusic (1 process) | {raw:.2f} | {len(files) / raw:.0f} | 1.0 | "
              f"{raw_cpu:.2f} | 1.0 |")
        print(f"| studio.midi.parse.parse_midi_bytes alone (1 process) | {floor:.2f} | "
              f"{len(files) / floor:.0f} | {floor / raw:.2f} | {floor_cpu:.2f} | "
              f"{floor_cpu / 2 / raw_cpu:.2f} |")
        print(f"| import_folder, 2 workers (cold start) | {res['wall']:.2f} | "
              f"{len(files) / res['wall']:.0f} | {ratio:.2f} | {res['cold_cpu']:.2f} | "
              f"{cpu_ratio:.2f} |")
        print(f"| import_folder, 2 workers already started | {res['warm']:.2f} | "
              f"{len(files) / res['warm']:.0f} | {res['warm'] / raw:.2f} | "
              f"{res['warm_cpu']:.2f} | {warm_cpu_ratio:.2f} |")
        print(f"| re-import, unchanged folder | {res['reimport']:.2f} | "
              f"{len(files) / res['reimport']:.0f} | {res['reimport'] / raw:.2f} | | |")
        print(f"\npieces {res['pieces']}, unreadable {res['bad']}, duplicates {res['dups']}, "
              f"parsed again on re-import {res['parsed_again']}\n")
        stages = min((worker_stages(files) for _ in range(2)), key=lambda d: sum(d.values()))
        n = len(files)
        print("Where the time goes (started workers), CPU ms per file; raw symusic "
              f"{raw_cpu * 1000 / n:.3f} ms:\n")
        print("| step | CPU ms per file |")
        print("|---|---|")
        for name, sec in stages.items():
            print(f"| worker: {name} | {sec * 1000 / n:.3f} |")
        worker_total = sum(stages.values())
        print(f"| worker, all steps (in one process) | {worker_total * 1000 / n:.3f} |")
        print(f"| worker processes in the import (measured) | "
              f"{(res['warm_cpu'] - res['importer_cpu']) * 1000 / n:.3f} |")
        print(f"| importing process (scan, messages, journal, manifest) | "
              f"{res['importer_cpu'] * 1000 / n:.3f} |\n")

        print("| files | importer peak RSS (MiB) | largest worker peak RSS (MiB) |")
        print("|---|---|---|")
        mem = {}
        ordered = sorted(files)
        for n in (250, 500, 1000):
            sub = tmp / f"subset{n}"
            for p in ordered[:n]:
                dest = sub / p.relative_to(folder)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.link(p, dest)
            r = import_in_fresh_process(sub, tmp / f"home_mem{n}")
            mem[n] = (r["self_kib"] / 1024, r["children_kib"] / 1024)
            print(f"| {n} | {mem[n][0]:.0f} | {mem[n][1]:.0f} |")
        growth = mem[1000][0] - mem[250][0]

        # Start-up is a fixed cost (each worker loads Python, numpy and symusic before its first
        # file): from a cold start, the same per-file work over three times the files.
        big = tmp / "music3000"
        big_files = build_files(big, 3 * N_FILES)
        for p in big_files:
            p.read_bytes()
        big_raw_cpu = min(raw_symusic(big_files) for _ in range(2))[1]
        big_res = import_in_fresh_process(big, tmp / "home3000")
        big_ratio = big_res["cold_cpu"] / 2 / big_raw_cpu
        print(f"\nCold start, {len(big_files)} files: import {big_res['cold_cpu']:.2f} s CPU, "
              f"raw symusic {big_raw_cpu:.2f} s: {big_ratio:.2f}x (1,000 files: "
              f"{cpu_ratio:.2f}x; the workers' start-up, cold minus started, "
              f"{res['cold_cpu'] - res['warm_cpu']:.2f} s CPU)\n")

        g = gui_stalls(folder, tmp / "home_gui")
        print(f"\nGUI import of {len(files)} files in the Dataset panel: {g['wall']:.2f} s, "
              f"{g['pieces']} pieces; event-loop probe every 5 ms: longest gap "
              f"{g['max_ms']:.1f} ms, 99th percentile {g['p99_ms']:.1f} ms, "
              f"{g['over_50']} gaps over 50 ms in {g['ticks']} ticks; afterwards, while the "
              f"panel loads and draws the new dataset: longest gap {g['after_max_ms']:.1f} ms")
        print(f"\nTarget import throughput within 3x raw symusic on two cores: "
              f"{'met' if warm_cpu_ratio <= 3 else 'MISSED'} by CPU time with the workers "
              f"running ({warm_cpu_ratio:.2f}x; the Dataset panel starts them as its import "
              f"dialog opens); from a cold start, with their start-up, "
              f"{cpu_ratio:.2f}x for 1,000 files and {big_ratio:.2f}x for 3,000 "
              f"({'within' if cpu_ratio <= 3 else 'over'} 3x at 1,000); by wall time on this "
              f"machine {ratio:.2f}x cold; memory flat with file count: "
              f"{'met' if growth < 20 else 'MISSED'} (+{growth:.1f} MiB from 250 to 1,000 "
              f"files); GUI stall < 50 ms: {'met' if g['max_ms'] < 50 else 'MISSED'} "
              f"({g['max_ms']:.1f} ms)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
