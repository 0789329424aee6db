"""Reliability (issue 19): attacks tried per area and how many held, and the peak memory of the
worst MIDI file of each event kind beside the file's size.

An attack holds when the studio either does the work or refuses with its own error, in one
line naming the file, within the time limits, losing nothing already on disk. The attacks are
the fuzz suite's cases (`tests/fuzz/cases.py`, seeded, from real files) plus the named attacks
of issue 19. Peak memory is measured in a fresh process per file: the app process (`read_song`,
as the window and every command call it) and the isolated parser process beside it.

    python benchmarks/bench_reliability.py          # prints the tables (markdown)
    python benchmarks/bench_reliability.py --reference ../other-checkout   # and its floods
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The studio under test: this checkout, or (for the reference column) another one, whose
# `studio` package comes first on the path; the attacks themselves come from this checkout.
CODE = Path(os.environ.get("STUDIO_BENCH_CODE", REPO)).resolve()
sys.path.insert(0, str(REPO))
if CODE != REPO:
    sys.path.insert(0, str(CODE))
os.environ.setdefault("STUDIO_HOME", tempfile.mkdtemp(prefix="studio-bench-home-"))

from benchmarks._common import machine  # noqa: E402
from benchmarks.reliability_attacks import (  # noqa: E402
    Area,
    dataset_area,
    midi_area,
    model_area,
    project_area,
    write_area,
)
from tests.midi import hostile_files  # noqa: E402

MB = 2**20


# ---- memory per event kind --------------------------------------------------------------------

_MEASURE = textwrap.dedent("""
    import json, sys, time
    from studio.midi import MidiReadError, read_song
    from studio.midi.isolation import shared_parser

    def peak_kb(pid="self"):  # VmHWM: this address space's peak (ru_maxrss survives exec)
        with open(f"/proc/{pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))

    parser = shared_parser()
    parser.warm_up()
    base = peak_kb()
    t0 = time.perf_counter()
    try:
        song = read_song(sys.argv[1])
        outcome = "read"
    except MidiReadError as e:
        outcome = "refused: " + e.reason
    seconds = time.perf_counter() - t0
    proc = parser._proc
    child = peak_kb(proc.pid) if proc is not None and proc.poll() is None else 0
    print(json.dumps({"outcome": outcome, "seconds": seconds, "base_kb": base,
                      "app_kb": peak_kb(), "parser_kb": child}))
    parser.close()
""")


def measure(path: Path, code: Path = REPO) -> dict:
    """Read `path` in a fresh process running the studio at `code` (this checkout, or the
    reference one)."""
    run = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True,
                         text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(code)},
                         cwd=path.parent)  # not this checkout: `-c` puts the cwd on the path
    if run.returncode != 0:
        return {"outcome": f"crashed ({run.returncode}): {run.stderr[-200:]}", "seconds": 0,
                "base_kb": 0, "app_kb": 0, "parser_kb": 0}
    return json.loads(run.stdout)


def _short(outcome: str) -> str:
    return outcome if len(outcome) < 60 else outcome[:57] + "..."


def memory_table(work: Path, reference: Path | None) -> list[str]:
    from studio.midi import limits

    at_limit = {"controllers": limits.MAX_CONTROLS, "pitch bends": limits.MAX_PITCH_BENDS,
                "tempo": limits.MAX_TEMPOS, "time signatures": limits.MAX_SIGNATURES,
                "key signatures": limits.MAX_SIGNATURES, "notes": limits.MAX_NOTES,
                "lyrics": limits.MAX_OTHER_EVENTS}
    flood_bytes = 43 * 10**6  # the size of the 15-million-controller file
    rows = ["| event kind | file | size | outcome | app peak (baseline) | parser peak | time |"
            + (" reference: outcome, app peak, parser peak, time |" if reference else ""),
            "|---|---|---:|---|---:|---:|---:|" + ("---|" if reference else "")]
    for kind in hostile_files.KINDS:
        files = []
        if kind in at_limit:
            files.append((f"{at_limit[kind]:,} events (the limit)",
                          hostile_files.event_flood(kind, at_limit[kind])))
        files.append(("43 MB flood", hostile_files.flood_for_size(kind, flood_bytes)))
        for label, data in files:
            path = work / "flood.mid"
            path.write_bytes(data)
            r = measure(path)
            row = (f"| {kind} | {label} | {len(data) / MB:.1f} MiB | {_short(r['outcome'])} | "
                   f"{r['app_kb'] / 1024:.0f} MiB ({r['base_kb'] / 1024:.0f}) | "
                   f"{r['parser_kb'] / 1024:.0f} MiB | {r['seconds']:.1f} s |")
            if reference is not None:
                ref = measure(path, reference) if label.endswith("flood") else None
                row += (f" {_short(ref['outcome'])}, {ref['app_kb'] / 1024:.0f} MiB, "
                        f"{ref['parser_kb'] / 1024:.0f} MiB, {ref['seconds']:.1f} s |"
                        if ref else " |")
            rows.append(row)
            path.unlink()
    return rows


def run_areas(work: Path) -> list[Area]:
    areas = []
    for make in (midi_area, project_area, model_area, dataset_area, write_area):
        folder = work / make.__name__
        folder.mkdir()
        areas.append(make(folder))
    return areas


def reference_areas(reference: Path) -> dict[str, tuple[int, int, list[str]]]:
    """The same attacks on the studio at `reference` (a fresh process, its own home)."""
    env = {**os.environ, "STUDIO_BENCH_CODE": str(reference), "PYTHONPATH": str(reference),
           "STUDIO_HOME": tempfile.mkdtemp(prefix="studio-bench-reference-")}
    run = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--areas-only"],
                         capture_output=True, text=True, timeout=1800, env=env,
                         cwd=tempfile.gettempdir())
    if run.returncode != 0:
        raise SystemExit(f"the reference run failed: {run.stderr[-2000:]}")
    return {name: (tried, held, failures)
            for name, tried, held, failures in json.loads(run.stdout.splitlines()[-1])}


def main() -> None:
    import argparse

    import torch

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reference", type=Path, help="another checkout of the studio (say, "
                        "before this work): the same attacks and floods are run on it, beside")
    parser.add_argument("--areas-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="studio-reliability-"))
    t0 = time.perf_counter()
    areas = run_areas(work)
    if args.areas_only:
        print(json.dumps([[a.name, a.tried, a.held, a.failures] for a in areas]))
        return
    took = time.perf_counter() - t0
    ref = reference_areas(args.reference) if args.reference else {}
    print(f"Machine: {machine()}; attacks took {took:.0f} s\n")
    print("| area | attacks tried | held |" + (" held by the reference |" if ref else ""))
    print("|---|---:|---:|" + ("---:|" if ref else ""))
    for a in areas:
        print(f"| {a.name} | {a.tried} | {a.held} |"
              + (f" {ref[a.name][1]} of {ref[a.name][0]} |" if ref else ""))
    total = sum(a.tried for a in areas), sum(a.held for a in areas)
    print(f"| all | {total[0]} | {total[1]} |"
          + (f" {sum(v[1] for v in ref.values())} of {sum(v[0] for v in ref.values())} |"
             if ref else ""))
    for a in areas:
        for f in a.failures:
            print(f"did not hold: {a.name}: {f}")
    for name, (_, _, failures) in ref.items():
        kinds: dict[str, int] = {}
        for f in failures:
            kind = f.split(":", 1)[-1].strip().split(":", 1)[0] if ":" in f else f
            kinds[kind] = kinds.get(kind, 0) + 1
        if kinds:
            print(f"reference, {name}: " + ", ".join(f"{n}x {k}" for k, n in
                                                   sorted(kinds.items(), key=lambda x: -x[1])))
    print()
    for row in memory_table(work, args.reference):
        print(row)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
