"""Test-split quality of every model family beside the n-gram baseline (JSB chorales).

Every model name of the registry is trained with its default settings for the same wall-clock
budget (`--minutes`, on this machine's CPU), then scored on the test split by `studio.ml.evaluate`
next to a Kneser-Ney n-gram fitted on the train split of the same representation. Shipped models
in models/ are scored too. New families appear here by themselves.

The budget is small: the figures show that each family learns and how it compares with the
baseline at equal effort on a laptop, not what it reaches after hours of training.

    python benchmarks/bench_quality.py [--minutes 2] [--models lstm cnn] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from benchmarks._common import machine  # noqa: E402
from studio.data import load_dataset  # noqa: E402
from studio.ml.callbacks import TrainingCallback  # noqa: E402
from studio.ml.errors import TrainingCancelled  # noqa: E402
from studio.ml.evaluate import evaluate  # noqa: E402
from studio.ml.library import list_models, open_model  # noqa: E402
from studio.ml.registry import create_family, model_names  # noqa: E402
from studio.ml.train_config import TrainConfig  # noqa: E402
from studio.ml.trainer import Trainer  # noqa: E402


class TimeBudget(TrainingCallback):
    """Stops the run (cleanly, through the cancel path) once `seconds` of training passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.steps, self.epochs = seconds, 0, 0

    def on_step_end(self, report) -> None:
        self.steps = report.step
        if report.elapsed >= self.seconds:
            raise TrainingCancelled("time budget spent")

    def on_epoch_end(self, report) -> None:
        self.epochs = report.epoch


def row(label, weights, budget, ev) -> str:
    m, b = ev.metrics, ev.baseline
    return (f"| {label} | {weights:,} | {budget} | {m['loss']:.3f} | {m['nll']:.3f} | "
            f"{m['accuracy']:.3f} | "
            f"{m['f1']:.3f} | {b.get('nll', float('nan')):.3f} | "
            f"{b.get('accuracy', float('nan')):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="training budget per model")
    parser.add_argument("--models", nargs="+", default=None, help="model names (default: all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ngram-order", type=int, default=6)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset("jsb")
    names = args.models or list(model_names())
    print(f"machine: {machine()}; torch {torch.__version__}, {args.threads} thread(s); "
          f"budget {args.minutes:g} min of training per model; test split of jsb")
    print("| model | weights | training | test loss | test NLL | accuracy | onset F1 | "
          f"{args.ngram_order}-gram NLL | {args.ngram_order}-gram accuracy |")
    print("|---|---|---|---|---|---|---|---|---|")
    notes = {}
    for name in names:
        family = create_family(name)
        budget = TimeBudget(args.minutes * 60)
        config = TrainConfig(epochs=10_000, steps_per_epoch=100, patience=0, lr=2e-3)
        t0 = time.perf_counter()
        result = Trainer(family, dataset, config, callbacks=[budget]).run()
        spent = time.perf_counter() - t0
        ev = evaluate(family, result.model, dataset, "test", ngram_order=args.ngram_order)
        weights = sum(p.numel() for p in result.model.parameters())
        print(row(name, weights, f"{budget.steps} steps ({spent / 60:.1f} min)", ev), flush=True)
        if family.evaluation_note:
            notes[name] = family.evaluation_note
    for entry in list_models():
        if entry.shipped and not entry.problem:
            loaded = open_model(entry.path)
            ev = evaluate(loaded.family, loaded.model, dataset, "test",
                          ngram_order=args.ngram_order)
            weights = sum(p.numel() for p in loaded.model.parameters())
            print(row(f"{entry.name} (shipped)", weights, f"{len(entry.card['metrics'])} epochs",
                      ev), flush=True)
    for name, note in notes.items():  # what the NLL measures where it is not the next note
        print(f"\n{name}: {note}")


if __name__ == "__main__":
    main()
