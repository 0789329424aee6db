"""How likely a harmonizer finds Bach's own four voices: negative log-likelihood in nats per
16th frame, the measure the Coconet paper reports (Huang et al., 2017: about 0.57 on JSB at
16ths).

For an orderless model (the Coconet family, which predicts any hidden cells given the others),
the likelihood of a piece under an ordering o of its D cells is
sum_d -log p(x_{o_d} | x_{o_1..o_{d-1}}), the true notes filled in as it goes. Averaged over
uniformly random orderings, the d-th term is the mean NLL of the hidden cells when a random
d-1 of them are shown, so

    E_o[NLL] = D * E_{k uniform in 0..D-1} [ mean over hidden cells of -log p(x_i | x_C) ],
    |C| = k.

`orderless_nll` estimates this with `orderings` context sizes k stratified over 0..D-1 (each
with its own random context, i.e. the prefix of a fresh random ordering): one forward pass each,
batched. `given_soprano` measures alto, tenor and bass given the soprano (D = 3T, the soprano
always shown). For MiniBach, which predicts the lower voices at once from the soprano alone,
`minibach_nll` is exact: the sum of its three softmaxes' NLLs.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from studio.ml import satb_roll as sr


@torch.inference_mode()
def orderless_nll(model: torch.nn.Module, classes: np.ndarray, *, given_soprano: bool = False,
                  orderings: int = 64, seed: int = 0, batch: int = 16) -> float:
    """Estimated NLL (nats per frame, summed over the predicted voices) of one piece's
    (T, 4) classes under random orderings of its cells (see the module docstring)."""
    model.eval()
    x = torch.as_tensor(np.asarray(classes), dtype=torch.long)
    steps = len(x)
    free = torch.ones(steps, 4, dtype=torch.bool)
    if given_soprano:
        free[:, 0] = False
    cells = int(free.sum())
    gen = torch.Generator().manual_seed(seed)
    offsets = torch.rand(orderings, generator=gen)
    known = ((torch.arange(orderings) + offsets) * cells / orderings).long().clamp(max=cells - 1)
    flat_free = free.reshape(-1).nonzero()[:, 0]
    means = []
    for start in range(0, orderings, batch):
        ks = known[start:start + batch]
        hidden = torch.zeros(len(ks), steps * 4, dtype=torch.bool)
        for i, k in enumerate(ks.tolist()):
            order = flat_free[torch.randperm(cells, generator=gen)]
            hidden[i, order[k:]] = True
        hidden = hidden.reshape(len(ks), steps, 4)
        logits = model(x.expand(len(ks), -1, -1), hidden).float()  # b, 4, t, classes
        nll = F.cross_entropy(logits.permute(0, 3, 2, 1), x.expand(len(ks), -1, -1),
                              reduction="none")  # b, t, 4
        means.append((nll * hidden).sum((1, 2)) / hidden.sum((1, 2)))
    return float(torch.cat(means).mean()) * cells / steps


@torch.inference_mode()
def minibach_nll(family, model: torch.nn.Module, classes: np.ndarray) -> float:
    """Exact NLL (nats per frame) of alto, tenor and bass given the soprano under MiniBach."""
    pitches = sr.to_pitches(np.asarray(classes))
    logp = family.voice_logits(model, pitches[:, 0])  # T, 3, classes (log-probabilities)
    target = torch.as_tensor(np.asarray(classes)[:, 1:], dtype=torch.long)
    picked = torch.take_along_dim(torch.as_tensor(logp), target[..., None], dim=-1)
    return float(-picked.sum()) / len(classes)
