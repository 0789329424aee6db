"""Data-parallel training over several processes (PyTorch DDP), launched by torchrun.

`torchrun --nproc_per_node=N -m studio train ... --distributed` starts N copies; each joins the
process group from torchrun's environment (gloo on CPU, NCCL on GPUs, one GPU per process).
Every process draws the same global batch (same seeds), augments and masks it whole, then keeps
its own contiguous shard, so the averaged gradient equals the gradient of the whole batch in one
process. Metrics are summed over processes; only rank 0 writes files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from studio.ml.device import accumulator_dtype, activate, pick_device
from studio.ml.errors import ConfigError


@dataclass
class ProcessGroup:
    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")
    active: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, n: int) -> slice:
        """This process's contiguous part of a batch of n examples."""
        per = n // self.world_size
        return slice(self.rank * per, (self.rank + 1) * per)

    def all_sum(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        """Element-wise sums over processes (in the device's widest float, for exact counts)."""
        if self.active:
            acc = accumulator_dtype(self.device)
            flat = torch.stack([t.to(self.device, acc).reshape(()) for t in tensors])
            dist.all_reduce(flat, op=dist.ReduceOp.SUM)
            return list(flat.unbind())
        return tensors

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def close(self) -> None:
        if self.active and dist.is_initialized():
            dist.destroy_process_group()


def join_process_group(device_name: str) -> ProcessGroup:
    """Join the group torchrun set up (RANK, WORLD_SIZE, LOCAL_RANK in the environment)."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        raise ConfigError("--distributed runs under torchrun: torchrun --nproc_per_node=N "
                          "-m studio train ... --distributed")
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    device = pick_device(device_name)
    if device.type == "cuda":  # one GPU per process: the local rank's
        device = activate(pick_device(f"cuda:{local}"))
        backend = "nccl"
    elif device.type == "cpu":
        backend = "gloo"
    else:
        raise ConfigError(f"distributed training supports CUDA and CPU, not {device.type}")
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
    return ProcessGroup(rank, world, device, True)
