"""The resumable state of a run: `NAME.state.safetensors` beside the model files.

It holds the current and best weights, the optimizer's tensors, the random state and the
partial sums of the current epoch, with everything else (epoch, step, history, schedule,
settings) as JSON in the safetensors metadata. No pickle: optimizer state is flattened to named
tensors plus JSON numbers, and rebuilt on load.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from studio.ml.checkpoint import model_stem
from studio.ml.errors import CheckpointError
from studio.storage import loads_bounded, open_regular, read_regular, write_atomically

STATE_FORMAT = "studio-train-state/1"


def state_path(path: str | os.PathLike) -> Path:
    stem = model_stem(path)
    return stem.with_name(stem.name + ".state.safetensors")


@dataclass
class TrainState:
    info: dict[str, Any]  # JSON: family, model, config, training, epoch, step, history, ...
    model: dict[str, torch.Tensor]
    best: dict[str, torch.Tensor]
    optimizer: dict[str, Any]  # an optimizer.state_dict()
    rng: torch.Tensor
    stats: dict[str, torch.Tensor]  # partial sums of the current epoch


def _flatten_optimizer(sd: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entries in sd["state"].items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim/{pid}/{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        _, pid, key = name.split("/", 2)
        state.setdefault(int(pid), {})[key] = value
    for pid, entries in meta["scalars"].items():
        state.setdefault(int(pid), {}).update(entries)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_state(path: str | os.PathLike, state: TrainState) -> Path:
    target = state_path(path)
    optim_tensors, optim_meta = _flatten_optimizer(state.optimizer)
    tensors = {**{f"model/{k}": v.detach().cpu().contiguous() for k, v in state.model.items()},
               **{f"best/{k}": v.detach().cpu().contiguous() for k, v in state.best.items()},
               **{f"stats/{k}": v.detach().cpu().reshape(1).double()
                  for k, v in state.stats.items()},
               **optim_tensors, "rng/torch": state.rng.cpu()}
    info = {**state.info, "format": STATE_FORMAT, "optimizer": optim_meta}
    data = save_safetensors(tensors, metadata={"studio_state": json.dumps(info)})
    write_atomically(target, data, make_folder=True)
    return target


def _no_state(source: Path) -> CheckpointError:
    """Why there is no state to resume: the run finished, or its state was never written."""
    from studio.ml.checkpoint import read_card

    try:
        status = read_card(source).get("status")
    except CheckpointError:
        status = None
    if status in ("running", "cancelled"):
        return CheckpointError(f"{source}: the training state of this stopped run was never "
                               "written (the disk was full or not writable when it stopped); "
                               "train it again with --force")
    return CheckpointError(f"{source}: nothing to resume (no training state beside the "
                           "model; it is removed when a run finishes)")


def read_state_info(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON part of a training state (model, config, training settings, progress), read
    without loading the tensors."""
    source = state_path(path)
    try:
        with open_regular(source) as f:
            header_len = int.from_bytes(f.read(8), "little")
            if not 0 < header_len < 100_000_000:
                raise ValueError("bad header length")
            header = loads_bounded(f.read(header_len), max_depth=8)
        info = loads_bounded(header["__metadata__"]["studio_state"])
    except FileNotFoundError:
        raise _no_state(source) from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{source}: unreadable training state ({e})") from None
    if info.get("format") != STATE_FORMAT:
        raise CheckpointError(f"{source}: not a Studio training state")
    return info


def load_state(path: str | os.PathLike) -> TrainState:
    source = state_path(path)
    try:
        data = read_regular(source)
    except FileNotFoundError:
        raise _no_state(source) from None
    except OSError as e:
        raise CheckpointError(f"{source}: cannot read the training state ({e.strerror or e})"
                              ) from None
    try:
        tensors = load_safetensors(data)
        header_len = int.from_bytes(data[:8], "little")
        header = loads_bounded(data[8:8 + header_len], max_depth=8)
        info = loads_bounded(header["__metadata__"]["studio_state"])
    except (SafetensorError, ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{source}: unreadable training state ({e})") from None
    if info.get("format") != STATE_FORMAT:
        raise CheckpointError(f"{source}: not a Studio training state")

    def part(prefix: str) -> dict[str, torch.Tensor]:
        n = len(prefix) + 1
        return {k[n:]: v for k, v in tensors.items() if k.startswith(prefix + "/")}

    optim = {k: v for k, v in tensors.items() if k.startswith("optim/")}
    optimizer = _unflatten_optimizer(optim, info.pop("optimizer"))
    return TrainState(info, part("model"), part("best"), optimizer, tensors["rng/torch"],
                      {k: v.reshape(()) for k, v in part("stats").items()})
