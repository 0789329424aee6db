"""Choosing the device (CUDA, then Apple MPS, then the CPU), making it current, mixed precision,
the dtype of metric sums, and recognising out-of-memory and lost-device errors on any of them.

Every path that runs a model (the training panel's worker, `studio train`, grid search, DDP,
generation and evaluation) goes through `prepare_device`: a device name as the musician or the
command line gives it (`auto`, `cpu`, `cuda`, `cuda:1`, `mps`) becomes a concrete device, with
an index for CUDA (torch refuses `torch.cuda.set_device("cuda")` without one), checked against
the GPUs that exist, and made current.
"""

from __future__ import annotations

import contextlib

import torch

from studio.ml.errors import ConfigError
from studio.ml.train_config import check_device_name


def _has_mps() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def _cuda_count() -> int:
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def pick_device(name: str = "auto") -> torch.device:
    """The device `name` stands for, with an index for CUDA. `auto`: the current CUDA GPU, else
    Apple's GPU, else the CPU; `cuda`: the current CUDA GPU; `cuda:N`: GPU N, if it exists."""
    check_device_name(name)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("mps") if _has_mps() else torch.device("cpu")
    if name.startswith("cuda"):
        count = _cuda_count()
        if count == 0:
            raise ConfigError("no CUDA GPU is available here; choose auto or cpu")
        index = int(name[5:]) if ":" in name else torch.cuda.current_device()
        if index >= count:
            gpus = "1 CUDA GPU (cuda:0)" if count == 1 else \
                f"{count} CUDA GPUs (cuda:0 to cuda:{count - 1})"
            raise ConfigError(f"there is no GPU {name}: this computer has {gpus}")
        return torch.device("cuda", index)
    if name == "mps" and not _has_mps():
        raise ConfigError("no Apple GPU (MPS) is available here; choose auto or cpu")
    return torch.device(name)


def activate(device: torch.device) -> torch.device:
    """Make `device` the current one of its kind (CUDA: the GPU that unindexed calls use)."""
    if device.type == "cuda":
        if device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        torch.cuda.set_device(device)
    return device


def prepare_device(name: str = "auto") -> torch.device:
    """`pick_device` then `activate`: the one door from a device name to a device to run on."""
    return activate(pick_device(name))


def available_devices() -> list[str]:
    """The device choices that work on this computer: auto, cpu, and cuda (plus cuda:N for
    each GPU when there are several) and mps where present."""
    out = ["auto", "cpu"]
    count = _cuda_count()
    if count:
        out.append("cuda")
        if count > 1:
            out += [f"cuda:{i}" for i in range(count)]
    if _has_mps():
        out.append("mps")
    return out


def device_label(name: str) -> str:
    """What a menu shows for a device name ("CUDA GPU 1 (NVIDIA H100)", "Apple GPU")."""
    if name.startswith("cuda:"):
        index = int(name[5:])
        try:
            return f"CUDA GPU {index} ({torch.cuda.get_device_name(index)})"
        except Exception:  # noqa: BLE001 - a name is only decoration
            return f"CUDA GPU {index}"
    return {"auto": "auto", "cpu": "CPU", "cuda": "CUDA GPU", "mps": "Apple GPU"}.get(name, name)


# Devices without float64: Apple's GPU (MPS) refuses to hold it.
NO_FLOAT64 = {"mps": torch.float32}


def accumulator_dtype(device: torch.device) -> torch.dtype:
    """The dtype of loss and metric sums: float64 where the device has it (exact counts), else
    float32 (exact counts up to 2**24 per epoch, more predictions than an epoch of any built-in
    dataset makes; losses to about 7 digits)."""
    return NO_FLOAT64.get(device.type, torch.float64)


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    """Mixed precision on CUDA (float16 with a gradient scaler); a no-op elsewhere."""
    if not enabled or device.type != "cuda":
        return contextlib.nullcontext()
    return torch.autocast("cuda", dtype=amp_dtype(device))


def amp_dtype(device: torch.device) -> torch.dtype:
    # float16 rather than bfloat16: cuDNN's recurrent layers lack bfloat16 in many versions.
    return torch.float16


def needs_grad_scaler(device: torch.device, enabled: bool) -> bool:
    return enabled and device.type == "cuda" and amp_dtype(device) == torch.float16


def is_out_of_memory(error: BaseException) -> bool:
    if isinstance(error, MemoryError):
        return True
    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError",
                                                              None)
    if oom is not None and isinstance(error, oom):
        return True
    text = str(error).lower()
    return isinstance(error, RuntimeError) and ("out of memory" in text
                                                or "can't allocate memory" in text
                                                or "failed to allocate" in text)


# What CUDA and MPS say when the GPU itself fails: it fell off the bus, its driver reset, a
# kernel crashed, or it was taken away (CUDA errors are sticky: the process cannot use it again).
_LOST = ("cuda error", "cudnn_status_execution_failed", "cublas_status_execution_failed",
         "no cuda gpus are available", "cuda driver", "device-side assert",
         "unspecified launch failure", "an illegal memory access", "gpu has fallen off the bus",
         "device not ready", "mps backend", "command buffer")


def is_device_lost(error: BaseException) -> bool:
    """True when `error` says the GPU running the job failed (not a bug in the job)."""
    if is_out_of_memory(error):
        return False
    accelerator_error = getattr(torch, "AcceleratorError", None)
    if accelerator_error is not None and isinstance(error, accelerator_error):
        return True
    text = str(error).lower()
    return isinstance(error, RuntimeError) and any(s in text for s in _LOST)


def release_memory(device: torch.device) -> None:
    if device.type == "cuda":
        with contextlib.suppress(Exception):  # a lost GPU cannot empty its cache either
            torch.cuda.empty_cache()
