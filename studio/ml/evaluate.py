"""Scoring a model on a split: loss, NLL per prediction, accuracy and onset precision / recall /
F1, beside the n-gram baseline on the same split (`studio eval`, the quality benchmark, and the
trainer's validation pass all use `score`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from studio.ml import metrics as M
from studio.ml.device import accumulator_dtype, autocast
from studio.ml.distributed import ProcessGroup
from studio.ml.family import Examples, Family
from studio.ml.ngram import baseline

if TYPE_CHECKING:
    from studio.data import Dataset


def _generator(seed: int) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(seed)
    return g


@torch.no_grad()
def score(family: Family, net: nn.Module, examples: Examples, batch: int, seeds: Any,
          group: ProcessGroup | None = None, amp: bool = False,
          stop: Callable[[], bool] | None = None
          ) -> tuple[torch.Tensor, dict[str, torch.Tensor]] | None:
    """Summed loss (loss x examples) and summed stats over `examples`, in global batches masked
    with generators seeded by `seeds(i)` for batch i; under DDP each process scores its shard of
    each batch (sum the results over processes). None if `stop()` turns true on the way."""
    group = group or ProcessGroup(device=examples.tensors[next(iter(examples.tensors))].device)
    net.eval()
    sums = M.zero_stats(group.device)
    loss = torch.zeros((), dtype=accumulator_dtype(group.device), device=group.device)
    for i, start in enumerate(range(0, len(examples), batch)):
        if stop is not None and stop():
            return None
        data = family.prepare(examples.batch(slice(start, start + batch)), _generator(seeds(i)))
        if group.active:
            per = -(-len(next(iter(data.values()))) // group.world_size)
            data = {k: v[group.rank * per:(group.rank + 1) * per] for k, v in data.items()}
        n = len(next(iter(data.values())))
        if n == 0:
            continue
        with autocast(group.device, amp):
            out = family.loss(net, data)
        M.add_stats(sums, out.stats)
        loss += out.loss.detach().to(loss.dtype) * n
    return loss, sums


@dataclass
class Evaluation:
    """A model's scores on one split, beside the n-gram baseline's."""

    dataset: str
    split: str
    examples: int
    metrics: dict[str, float]  # loss, nll, accuracy, precision, recall, f1
    baseline: dict[str, float] = field(default_factory=dict)  # nll, accuracy, count, order


def evaluate(family: Family, model: nn.Module, dataset: Dataset, split: str = "test", *,
             batch_size: int = 64, seed: int = 0, ngram_order: int = 6) -> Evaluation:
    """Score `model` on `split` of `dataset` (fixed masks from `seed`); the n-gram baseline is
    fitted on the train split and scored on the same split (`ngram_order` 0 skips it)."""
    device = next(model.parameters()).device
    examples = family.examples(dataset, split, training=False).to(device)
    scored = score(family, model, examples, batch_size, lambda i: seed * 1_000_003 + i)
    assert scored is not None  # no stop condition given
    loss, sums = scored
    values = M.to_floats(sums)
    summary = M.summarize(values, "x")
    metrics = {"loss": float(loss) / max(1, len(examples)),
               **{k[2:]: v for k, v in summary.items()}, "count": values["count"]}
    result = Evaluation(dataset.name, split, len(examples), metrics)
    if ngram_order:
        try:
            train, vocab = family.baseline_sequences(dataset, "train")
            test, _ = family.baseline_sequences(dataset, split)
        except NotImplementedError:
            return result
        result.baseline = baseline(train, test, vocab, ngram_order)
    return result
