"""Optimizers, the learning-rate schedule and the L1 penalty, built from a `TrainConfig`.

The schedule is computed by hand rather than with torch's scheduler objects so that its whole
state is three numbers that a checkpoint stores as JSON (no pickled objects).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

from studio.ml.errors import ConfigError
from studio.ml.train_config import TrainConfig


def build_optimizer(config: TrainConfig, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
    params = [p for p in params if p.requires_grad]
    lr, wd = config.lr, config.weight_decay
    if config.optimizer == "sgd":
        if config.nesterov and config.momentum <= 0:
            raise ConfigError("Nesterov momentum needs a momentum above 0")
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum,
                               nesterov=config.nesterov, weight_decay=wd)
    if config.optimizer == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=wd)
    if config.optimizer == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, weight_decay=wd)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    raise ConfigError(f"unknown optimizer {config.optimizer!r}")


def l1_penalty(model: nn.Module) -> torch.Tensor:
    """Sum of absolute values of the weight matrices and kernels (biases and norms excluded)."""
    terms = [p.abs().sum() for p in model.parameters() if p.requires_grad and p.dim() > 1]
    return torch.stack(terms).sum() if terms else torch.zeros(())


class LearningRateSchedule:
    """The learning rate at each step: warm-up, then constant / cosine / step / plateau."""

    def __init__(self, config: TrainConfig, total_steps: int) -> None:
        self.config = config
        self.total_steps = max(1, total_steps)
        self.plateau_factor = 1.0
        self.plateau_best = math.inf
        self.plateau_bad_epochs = 0

    def lr(self, step: int, epoch: int) -> float:
        c = self.config
        lr = c.lr
        if c.warmup_steps:
            lr *= min(1.0, (step + 1) / c.warmup_steps)
        if c.schedule == "cosine":
            done = max(0, step - c.warmup_steps) / max(1, self.total_steps - c.warmup_steps)
            lr *= 0.5 * (1.0 + math.cos(math.pi * min(1.0, done)))
        elif c.schedule == "step":
            lr *= c.gamma ** (epoch // c.step_epochs)
        elif c.schedule == "plateau":
            lr *= self.plateau_factor
        return lr

    def epoch_end(self, valid_loss: float) -> None:
        """Plateau: reduce after `max(1, patience // 2)` epochs without improvement."""
        if self.config.schedule != "plateau":
            return
        if valid_loss < self.plateau_best:
            self.plateau_best, self.plateau_bad_epochs = valid_loss, 0
            return
        self.plateau_bad_epochs += 1
        if self.plateau_bad_epochs >= max(1, self.config.patience // 2):
            self.plateau_factor *= self.config.gamma
            self.plateau_bad_epochs = 0

    def state(self) -> dict:
        best = None if math.isinf(self.plateau_best) else self.plateau_best
        return {"plateau_factor": self.plateau_factor, "plateau_best": best,
                "plateau_bad_epochs": self.plateau_bad_epochs}

    def load_state(self, state: dict) -> None:
        self.plateau_factor = float(state["plateau_factor"])
        best = state["plateau_best"]
        self.plateau_best = math.inf if best is None else float(best)
        self.plateau_bad_epochs = int(state["plateau_bad_epochs"])


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
