"""Shared set-up of the ML engine tests: one torch thread (the machine is shared and small
models run fastest single-threaded), real JSB subsets, tiny model settings."""

from __future__ import annotations

import pytest
import torch

from studio.data import Dataset, load_dataset

torch.set_num_threads(1)

TINY_LSTM = {"hidden": 48, "embedding": 16, "layers": 1, "window": 32, "dropout": 0.0}
TINY_CNN = {"channels": 16, "layers": 4, "window": 32, "gibbs_steps": 8}


def jsb_subset(train: int, valid: int, test: int, name: str = "") -> Dataset:
    """The first pieces of each split of the real JSB chorales."""
    full = load_dataset("jsb")
    pieces = full.split("train")[:train] + full.split("valid")[:valid] + full.split("test")[:test]
    return Dataset(name or f"jsb-{train}-{valid}-{test}", pieces, "JSB subset for tests")


@pytest.fixture(scope="session")
def jsb_small() -> Dataset:
    return jsb_subset(24, 8, 8)


@pytest.fixture(scope="session")
def jsb_tiny() -> Dataset:
    return jsb_subset(4, 6, 2)
