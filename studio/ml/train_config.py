"""The training settings shared by every family: optimizer, learning rate and schedule, batch,
regularization, early stopping, augmentation, seed and device.

Each is a knob (see `studio.ml.knobs`): the training panel and `studio train` build their
controls from this one declaration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from studio.ml.errors import ConfigError
from studio.ml.knobs import knob

OPTIMIZERS = ("sgd", "adagrad", "adadelta", "adam", "adamw")
SCHEDULES = ("constant", "cosine", "step", "plateau")
DEVICES = ("auto", "cpu", "cuda", "mps")  # and cuda:N, one GPU among several
DEVICE_NAME = re.compile(r"auto|cpu|mps|cuda(:\d{1,3})?")


def check_device_name(name: str) -> str:
    """`name` if it is a device name Studio understands; else a ConfigError that lists them.
    (Here, not in `studio.ml.device`, so that reading a config never imports torch.)"""
    if not isinstance(name, str) or not DEVICE_NAME.fullmatch(name):
        raise ConfigError(f"device must be auto, cpu, cuda, cuda:N (a GPU's number) or mps, "
                          f"got {name!r}")
    return name


@dataclass
class TrainConfig:
    epochs: int = knob(30, low=1, high=100_000, help="Passes over the training pieces. More "
                       "passes learn more, until the model starts to memorise.")
    batch_size: int = knob(32, low=1, high=8192, help="Excerpts the model studies at once "
                           "before adjusting itself: larger is steadier and faster per note, "
                           "smaller adjusts more often.")
    optimizer: str = knob("adam", choices=OPTIMIZERS, help="The method that adjusts the "
                          "model: Adam and AdamW work well almost always; SGD is the classic.")
    lr: float = knob(1e-3, low=1e-7, high=10.0, log=True, label="Learning rate",
                     help="How big each adjustment is: too high and learning goes wild, too "
                     "low and it crawls.")
    momentum: float = knob(0.9, low=0.0, high=0.999, advanced=True, help="SGD only: how much "
                           "each adjustment keeps going in the direction of the previous ones.")
    nesterov: bool = knob(False, advanced=True, help="SGD only: look ahead along the momentum "
                          "before adjusting (often a little faster).")
    weight_decay: float = knob(0.0, low=0.0, high=1.0, label="L2 / weight decay",
                               help="Pulls every weight gently towards zero, which keeps the "
                               "model simple and helps it generalise.")
    anchor: float = knob(0.0, low=0.0, high=100.0, label="Anchor to the parent", advanced=True,
                         help="Fine-tuning only: pulls every weight back towards the model you "
                         "started from, so that a few songs teach it your style without making "
                         "it forget what it knew (0 = no pull; larger keeps it closer).")
    l1: float = knob(0.0, low=0.0, high=1.0, label="L1", advanced=True,
                     help="Pushes small weights to exactly zero, for a sparser model.")
    schedule: str = knob("constant", choices=SCHEDULES, label="LR schedule",
                         help="How the learning rate changes: constant, a smooth cosine fall "
                         "to zero, halving every few epochs (step), or halving when the "
                         "validation loss stops improving (plateau).")
    warmup_steps: int = knob(0, low=0, high=1_000_000, advanced=True, help="Steps over which "
                             "the learning rate rises from zero at the start.")
    step_epochs: int = knob(10, low=1, high=10_000, advanced=True, help="Step schedule: epochs "
                            "between two reductions of the learning rate.")
    gamma: float = knob(0.5, low=0.01, high=1.0, advanced=True, help="Step and plateau "
                        "schedules: the factor applied to the learning rate at each reduction.")
    grad_clip: float = knob(1.0, low=0.0, high=1000.0, label="Gradient clipping",
                            help="Caps the size of one adjustment (0 = no cap), which stops "
                            "rare huge steps from wrecking the model.")
    patience: int = knob(5, low=0, high=10_000, label="Early-stopping patience",
                         help="Stop after this many epochs without a better validation loss, "
                         "and keep the best model (0 = never stop early).")
    restore_best: bool = knob(True, advanced=True, help="At the end, keep the weights of the "
                              "epoch with the best validation loss.")
    transpose: int = knob(0, low=0, high=12, label="Transposition augmentation",
                          help="Shift each excerpt up or down by up to this many semitones "
                          "while training, so the model learns every key.")
    seed: int = knob(0, low=0, high=2**31 - 1, help="The same seed and settings train the same "
                     "model again.")
    device: str = knob("auto", validator=check_device_name, help="Where training runs: auto "
                       "picks a CUDA GPU, then an Apple GPU, then the CPU; cuda:1 picks the "
                       "second of several CUDA GPUs.")
    amp: bool = knob(True, label="Mixed precision", advanced=True, help="On CUDA GPUs, compute "
                     "in 16-bit where it is safe: about twice as fast.")
    steps_per_epoch: int = knob(0, low=0, high=10_000_000, advanced=True, help="Cap the "
                                "batches per epoch (0 = a full pass over the training data).")
    threads: int = knob(0, low=0, high=256, advanced=True, help="CPU threads for training "
                        "(0 = PyTorch's default).")
    log_every: int = knob(0, low=0, high=100_000, advanced=True, help="Report the training "
                          "loss every this many steps (0 = every step on CPU, every 10 on a "
                          "GPU).")
