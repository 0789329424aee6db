"""Drawing from a model's output distribution: temperature, top-k, top-p (nucleus), and the
constraints generation puts on melody tokens (allowed pitches, no hold without a note).

Random draws use a CPU `torch.Generator`, so a seed gives the same notes on every device.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch

from studio.ml.errors import GenerationError
from studio.music.tokens import HOLD

NEG_INF = float("-inf")


def filter_logits(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0,
                  top_p: float = 1.0) -> torch.Tensor:
    """Logits (..., classes) scaled by 1/temperature, with everything outside the top k and
    outside the smallest set whose probability reaches top_p set to -inf."""
    if temperature <= 0:
        raise GenerationError("the temperature must be above 0")
    logits = logits.float() / temperature
    classes = logits.shape[-1]
    if 0 < top_k < classes:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, NEG_INF)
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
        drop = cumulative - torch.softmax(sorted_logits, dim=-1) >= top_p  # keep the first one
        drop = torch.zeros_like(drop).scatter(-1, order, drop)
        logits = logits.masked_fill(drop, NEG_INF)
    return logits


def sample_next(logits: torch.Tensor, temperature: float, top_k: int, top_p: float,
                generator: torch.Generator) -> torch.Tensor:
    """One class per row of `logits` (rows, classes), drawn after `filter_logits`."""
    filtered = filter_logits(logits, temperature, top_k, top_p).cpu()
    probs = torch.softmax(filtered, dim=-1)
    if not torch.isfinite(probs).all():
        raise GenerationError("no allowed note is left to choose from; widen the pitch range "
                              "or the scale")
    return torch.multinomial(probs, 1, generator=generator)[:, 0].to(logits.device)


def constrain_tokens(logits: torch.Tensor, allowed_pitches: torch.Tensor | None,
                     sounding: torch.Tensor) -> torch.Tensor:
    """Melody-token logits (rows, 130) with pitches outside `allowed_pitches` forbidden, and
    HOLD forbidden on rows where no note is sounding (a hold there would be a rest)."""
    out = logits.clone()
    if allowed_pitches is not None:
        keep = torch.zeros(128, dtype=torch.bool, device=logits.device)
        keep[allowed_pitches] = True
        out[:, :128] = out[:, :128].masked_fill(~keep, NEG_INF)
    out[:, HOLD] = torch.where(sounding, out[:, HOLD], torch.full_like(out[:, HOLD], NEG_INF))
    return out


_threads_lock = threading.Lock()
_threads_users = 0
_threads_before = 0


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with `n` torch threads, restored when the last such block ends.

    Step-by-step samplers run tiny operations, which are several times faster on one thread
    than on two that spin-wait for each other (and far faster on a busy machine)."""
    global _threads_users, _threads_before
    with _threads_lock:
        if _threads_users == 0:
            _threads_before = torch.get_num_threads()
            torch.set_num_threads(n)
        _threads_users += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads_users -= 1
            if _threads_users == 0:
                torch.set_num_threads(_threads_before)
