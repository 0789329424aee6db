"""Training throughput of `studio.ml` against a bare hand-written PyTorch loop, same run.

For each model, both loops train the same module class from the same initial weights on the
same encoded JSB examples with the same batch size, optimizer (Adam) and gradient clipping; the
bare loop is the minimum anyone would write (shuffle, index, forward, cross-entropy, backward,
clip, step). The trainer adds what the studio needs: augmentation and mask hooks, metrics sums,
per-step reports and the cancel/pause checks. The two loops alternate step by step (the bare
step runs inside a trainer callback, its time excluded from the trainer's), so that both meet
the same load on a shared machine; the median step times after a warm-up are compared.

Families without a hand-written loss below are measured with their own `Family.loss` inside the
bare loop (so the ratio is the trainer's overhead); add one to BARE_LOSSES to compare against a
truly bare loss.

    python benchmarks/bench_train.py [--models lstm cnn ...] [--steps 30] [--threads 1]
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
from studio.ml.registry import create_family, model_names  # noqa: E402
from studio.ml.train_config import TrainConfig  # noqa: E402
from studio.ml.trainer import Trainer  # noqa: E402

BATCH = {"cnn": 16, "softmax": 256}  # others: 32 (a softmax example is one note)


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


class BareLoop:
    """The minimal loop, one step per call."""

    def __init__(self, family, model, examples, batch):
        self.loss_fn = BARE_LOSSES.get(family.name, lambda m, b: family.loss(m, family.prepare(
            b, torch.Generator().manual_seed(0))).loss)
        self.model, self.examples, self.batch = model, examples, batch
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.order = torch.randperm(len(examples))
        self.i = 0
        model.train()

    def step(self) -> float:
        t0 = time.perf_counter()
        start = (self.i * self.batch) % (len(self.examples) - self.batch)
        data = self.examples.batch(self.order[start:start + self.batch])
        loss = self.loss_fn(self.model, data)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.i += 1
        return time.perf_counter() - t0


class Lockstep(TrainingCallback):
    """Runs one bare step after each studio step, so that both meet the same machine load: the
    trainer (in a thread) waits in this callback while the bare step runs, and that wait is
    excluded from the studio step's time."""

    def __init__(self, bare: BareLoop):
        self.bare, self.studio_times, self.bare_times = bare, [], []
        self._resumed = None

    def on_step_end(self, report):
        now = time.perf_counter()
        if self._resumed is not None:
            self.studio_times.append(now - self._resumed)
        self.bare_times.append(self.bare.step())
        self._resumed = time.perf_counter()


def measure(model_name, dataset, steps, warmup):
    family = create_family(model_name)
    batch = BATCH.get(model_name, 32)
    examples = family.examples(dataset, "train", training=True)
    torch.manual_seed(0)
    lockstep = Lockstep(BareLoop(family, family.build(), examples, batch))
    config = TrainConfig(epochs=1, batch_size=batch, steps_per_epoch=warmup + steps + 1, lr=1e-3,
                         grad_clip=1.0, patience=0, log_every=1)
    Trainer(family, dataset, config, callbacks=[lockstep]).run()
    b = statistics.median(lockstep.bare_times[warmup:warmup + steps])
    s = statistics.median(lockstep.studio_times[warmup:warmup + steps])
    params = sum(p.numel() for p in family.build().parameters())
    return {"model": model_name, "params": params, "batch": batch,
            "bare": batch / b, "studio": batch / s, "ratio": b / s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=None, help="model names (default: all)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset("jsb")
    print(f"machine: {machine()}; torch {torch.__version__}, {args.threads} thread(s); "
          f"median step time over {args.steps} steps after {args.warmup} warm-up, "
          "the two loops alternating step by step")
    print(f"{'model':18} {'weights':>10} {'batch':>6} {'bare ex/s':>10} {'studio ex/s':>12} "
          f"{'ratio':>6}")
    for name in args.models or list(model_names()):
        r = measure(name, dataset, args.steps, args.warmup)
        print(f"{r['model']:18} {r['params']:>10,} {r['batch']:>6} {r['bare']:>10.1f} "
              f"{r['studio']:>12.1f} {r['ratio']:>6.3f}", flush=True)


if __name__ == "__main__":
    main()
