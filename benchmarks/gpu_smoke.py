"""GPU smoke test: every model family trains a short epoch on the first GPU through the Training
panel's own worker (headless), through `studio train`, and under torchrun with 2 processes when
2 GPUs exist; every shipped model generates on the GPU. Prints throughput beside the CPU's and
exits non-zero on any failure. Run it on any machine with a GPU (CUDA or Apple's MPS):

    python benchmarks/gpu_smoke.py [--steps 20] [--device cuda:0] [--skip-cpu]

Without a GPU it says so and exits 2; `--device cpu` runs every path on the CPU (to check the
script itself where no GPU is at hand). Figures go in BENCHMARKS.md with the GPU named.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks._common import REPO, machine  # noqa: E402

FAILURES: list[str] = []


def first_gpu() -> str | None:
    if torch.cuda.is_available():
        return "cuda:0"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else None


def train_in_worker(model: str, device: str, steps: int, dataset, home: Path) -> float:
    """One short epoch through `TrainingThread` (what the Training panel starts); examples per
    second of training, or raises with the worker's message."""
    from PySide6.QtCore import QCoreApplication

    from studio.ml.knobs import config_from_dict
    from studio.ml.train_config import TrainConfig
    from studio.ui.training.training_worker import TrainingJob, TrainingThread

    QCoreApplication.instance() or QCoreApplication([])
    training = config_from_dict(TrainConfig, {"epochs": 1, "steps_per_epoch": steps,
                                              "batch_size": 32, "device": device,
                                              "patience": 0})
    job = TrainingJob(model, {}, training, dataset, f"smoke-{model}-{device.replace(':', '')}",
                      folder=home)
    thread = TrainingThread(job)
    rates: list[float] = []
    thread.step.connect(lambda r: rates.append(r.samples_per_second))
    thread.start()
    while not thread.wait(50):
        QCoreApplication.processEvents()
    QCoreApplication.processEvents()
    if thread.error:
        raise RuntimeError(thread.error)
    if not (home / f"{job.name}.safetensors").exists():
        raise RuntimeError("the run ended without writing its model")
    return rates[-1] if rates else float("nan")


def run_cli(args: list[str], home: Path, torchrun: int = 0) -> float:
    env = dict(os.environ, STUDIO_HOME=str(home), PYTHONPATH=str(REPO))
    head = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={torchrun}",
            "-m", "studio"] if torchrun else [sys.executable, "-m", "studio"]
    t0 = time.perf_counter()
    result = subprocess.run(head + args, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError((result.stderr or result.stdout).strip().splitlines()[-1])
    return time.perf_counter() - t0


def check(what: str, fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - every failure is reported, then the exit code says it
        FAILURES.append(f"{what}: {type(e).__name__}: {e}")
        print(f"  FAILED {what}: {e}", flush=True)
        return None


def fmt(x, ran: bool = True) -> str:
    return "-" if not ran else "failed" if x is None else f"{x:,.0f}"


def generation_requests(device: str):
    from studio.data import load_dataset
    from studio.ml.family import SamplingOptions
    from studio.ml.generation import GenerationRequest
    from studio.ml.library import list_models
    from studio.music.grids import satb_to_song

    chorale = load_dataset("jsb").split("test")[0].satb.astype(np.int64)
    melody = satb_to_song(chorale[:8 * 16, :1], names=["Melody"])
    full = satb_to_song(chorale[:8 * 16])
    two = satb_to_song(chorale[:8 * 16, :2], names=["Melody A", "Melody B"])
    songs = {"melody": (full, ()), "continue": (melody, (melody.tracks[0].id,)),
             "harmonize": (melody, (melody.tracks[0].id,)),
             "infill": (full, tuple(t.id for t in full.tracks[1:])),
             "interpolate": (two, tuple(t.id for t in two.tracks))}
    for entry in list_models():
        if not entry.shipped:
            continue
        for mode in entry.card.get("modes", []):
            song, tracks = songs.get(mode, (None, ()))
            if song is None:
                continue
            span = (4 * 1920, 6 * 1920) if mode == "infill" else None
            yield entry.name, mode, GenerationRequest(
                mode, entry.name, song, tracks, span, bars=8,
                options=SamplingOptions(seed=1), device=device)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", help="the GPU to test (default: the first one)")
    parser.add_argument("--steps", type=int, default=20, help="steps of the short epoch")
    parser.add_argument("--skip-cpu", action="store_true", help="no CPU figures beside")
    args = parser.parse_args()
    device = args.device or first_gpu()
    if device is None:
        print("no GPU here (neither CUDA nor Apple MPS); run with --device cpu to check the "
              "script itself")
        return 2
    from studio.data import load_dataset
    from studio.ml.generation import generate
    from studio.ml.registry import model_names

    print(f"machine: {machine()}; torch {torch.__version__}; device under test {device}")
    dataset = load_dataset("jsb")
    home = Path(tempfile.mkdtemp(prefix="studio-gpu-smoke-"))
    os.environ["STUDIO_HOME"] = str(home)
    devices = [device] + ([] if args.skip_cpu or device == "cpu" else ["cpu"])

    print(f"\n## Training, one epoch of {args.steps} steps (batches of 32), examples per second")
    print(f"| model | worker on {device} | worker on CPU | CLI on {device} (s) |")
    print("|---|---|---|---|")
    for model in model_names():
        rate = {d: check(f"worker {model} on {d}",
                         lambda d=d, m=model: train_in_worker(m, d, args.steps, dataset, home))
                for d in devices}
        cli = check(f"CLI {model} on {device}", lambda m=model: run_cli(
            ["train", "--model", m, "--dataset", "jsb", "--epochs", "1", "--steps-per-epoch",
             str(args.steps), "--device", device, "--output", str(home / f"cli-{m}"),
             "--quiet"], home))
        print(f"| {model} | {fmt(rate[device])} | {fmt(rate.get('cpu'), len(devices) > 1)} | "
              f"{'failed' if cli is None else f'{cli:.1f}'} |", flush=True)

    if device.startswith("cuda") and torch.cuda.device_count() >= 2:
        print("\n## torchrun, 2 processes on 2 GPUs (wall seconds of the whole command)")
        for model in ("lstm", "cnn"):
            took = check(f"torchrun {model}", lambda m=model: run_cli(
                ["train", "--model", m, "--dataset", "jsb", "--epochs", "1", "--steps-per-epoch",
                 str(args.steps), "--device", "cuda", "--distributed", "--output",
                 str(home / f"ddp-{m}"), "--quiet"], home, torchrun=2))
            print(f"| {model} | {'failed' if took is None else f'{took:.1f} s'} |", flush=True)
    else:
        print("\n(torchrun with 2 processes: skipped, fewer than 2 CUDA GPUs here)")

    print("\n## Generation with each shipped model (seconds, after one warm-up call)")
    print(f"| model | mode | {device} | CPU |")
    print("|---|---|---|---|")
    for name, mode, request in generation_requests(device):
        times = {}
        for d in devices:
            request.device = d

            def timed(request=request):
                generate(request)  # warm-up: loading, caches
                t0 = time.perf_counter()
                found = generate(request)
                if not found:
                    raise RuntimeError("no candidate")
                return time.perf_counter() - t0

            times[d] = check(f"generate {mode} with {name} on {d}", timed)
        cells = ["failed" if times.get(d) is None else f"{times[d]:.2f}" for d in devices]
        print(f"| {name} | {mode} | {' | '.join(cells)}{' | -' if len(cells) == 1 else ''} |",
              flush=True)

    if FAILURES:
        print(f"\n{len(FAILURES)} failure(s):")
        for f in FAILURES:
            print(f"- {f}")
        return 1
    print("\nall passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
