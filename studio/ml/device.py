"""Choosing the device (CUDA, then Apple MPS, then CPU), mixed precision, and recognising
out-of-memory errors on any of them."""

from __future__ import annotations

import contextlib

import torch

from studio.ml.errors import ConfigError


def pick_device(name: str = "auto") -> torch.device:
    """`auto`: the first CUDA GPU, else Apple's GPU, else the CPU; or exactly the one named."""
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if has_mps else torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("no CUDA GPU is available here; choose auto or cpu")
    if name == "mps" and not has_mps:
        raise ConfigError("no Apple GPU (MPS) is available here; choose auto or cpu")
    return torch.device(name)


def available_devices() -> list[str]:
    """The device choices that work on this computer: auto, cpu, and cuda / mps if present."""
    mps = getattr(torch.backends, "mps", None)
    return ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else []) + \
        (["mps"] if mps and mps.is_available() else [])


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


def release_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
