"""Helpers shared by the benchmark scripts: timing, machine description, data locations."""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIDI_DIR = REPO / "tests" / "fixtures" / "midi"  # the real-world test files, with licences


def machine() -> str:
    try:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    except Exception:
        gpu = "torch not installed"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {gpu}")


def best_of(fn, repeat: int = 5, number: int = 1) -> float:
    """Best wall time of `repeat` runs of `number` calls, in seconds per call."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return min(times)


def median_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def midi_files() -> list[Path]:
    return sorted(p for p in MIDI_DIR.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
