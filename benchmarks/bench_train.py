"""Training throughput of `studio.ml` against a bare hand-written PyTorch loop, same run.

For each model, both loops train the same module class from the same initial weights on the
same encoded JSB examples with the same batch size, optimizer (Adam) and gradient clipping; the
bare loop is the minimum anyone would write (shuffle, index, forward, cross-entropy, backward,
clip, step). The trainer adds what the studio needs: augmentation and mask hooks, metrics sums,
per-step reports and the cancel/pause checks. Steps after a warm-up are timed; the two loops
alternate `--repeat` times and the median of each is compared (the machine is shared).

Families without a hand-written loss below are measured with their own `Family.loss` inside the
bare loop (so the ratio is the trainer's overhead); add one to BARE_LOSSES to compare against a
truly bare loss.

    python benchmarks/bench_train.py [--models lstm cnn] [--steps 20] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from benchmarks._common import machine  # noqa: E402
from studio.data import load_dataset  # noqa: E402
from studio.ml.callbacks import TrainingCallback  # noqa: E402
from studio.ml.registry import create_family  # noqa: E402
from studio.ml.train_config import TrainConfig  # noqa: E402
from studio.ml.trainer import Trainer  # noqa: E402

BATCH = {"cnn": 16}  # others: 32


def recurrent_loss(model, batch):
    logits, _ = model(batch["inputs"].long(), batch["positions"].long())
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch["targets"].long().reshape(-1))


def coconet_loss(model, batch):
    classes = batch["classes"].long()
    hidden = torch.rand(classes.shape) < torch.rand(len(classes), 1, 1)
    logits = model(classes, hidden)
    nll = F.cross_entropy(logits.permute(0, 3, 1, 2), classes.permute(0, 2, 1), reduction="none")
    weight = hidden.permute(0, 2, 1).float()
    return ((nll * weight).sum((1, 2)) / weight.sum((1, 2)).clamp(min=1)).mean()


BARE_LOSSES = {"recurrent": recurrent_loss, "coconet": coconet_loss}


def bare_loop(family, model, examples, batch, steps, warmup):
    """Seconds per step of a minimal loop, timed after `warmup` steps."""
    loss_fn = BARE_LOSSES.get(family.name, lambda m, b: family.loss(m, family.prepare(
        b, torch.Generator().manual_seed(0))).loss)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    order = torch.randperm(len(examples))
    t0 = 0.0
    for i in range(warmup + steps):
        if i == warmup:
            t0 = time.perf_counter()
        data = examples.batch(order[(i * batch) % (len(examples) - batch):][:batch])
        loss = loss_fn(model, data)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return (time.perf_counter() - t0) / steps


class StepClock(TrainingCallback):
    def __init__(self, warmup):
        self.warmup, self.times = warmup, []

    def on_step_end(self, report):
        self.times.append(report.elapsed)


def studio_loop(family, dataset, batch, steps, warmup):
    clock = StepClock(warmup)
    config = TrainConfig(epochs=1, batch_size=batch, steps_per_epoch=warmup + steps, lr=1e-3,
                         grad_clip=1.0, patience=0, log_every=1)
    Trainer(family, dataset, config, callbacks=[clock]).run()
    return (clock.times[-1] - clock.times[warmup - 1]) / steps


def measure(model_name, dataset, steps, warmup, repeat):
    family = create_family(model_name)
    batch = BATCH.get(model_name, 32)
    examples = family.examples(dataset, "train", training=True)
    bare, studio = [], []
    for _ in range(repeat):
        torch.manual_seed(0)
        bare.append(bare_loop(family, family.build(), examples, batch, steps, warmup))
        studio.append(studio_loop(family, dataset, batch, steps, warmup))
    b, s = statistics.median(bare), statistics.median(studio)
    params = sum(p.numel() for p in family.build().parameters())
    return {"model": model_name, "params": params, "batch": batch,
            "bare": batch / b, "studio": batch / s, "ratio": b / s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["lstm", "cnn"])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset("jsb")
    print(f"machine: {machine()}; torch {torch.__version__}, {args.threads} thread(s); "
          f"{args.steps} timed steps after {args.warmup} warm-up, median of {args.repeat}")
    print(f"{'model':8} {'weights':>10} {'batch':>6} {'bare ex/s':>10} {'studio ex/s':>12} "
          f"{'ratio':>6}")
    for name in args.models:
        r = measure(name, dataset, args.steps, args.warmup, args.repeat)
        print(f"{r['model']:8} {r['params']:>10,} {r['batch']:>6} {r['bare']:>10.1f} "
              f"{r['studio']:>12.1f} {r['ratio']:>6.3f}", flush=True)


if __name__ == "__main__":
    main()
