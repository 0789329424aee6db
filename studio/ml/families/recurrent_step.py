"""One generation step of a trained recurrent melody net, without `nn.LSTM`'s per-call cost.

Sampling feeds the network one token at a time. PyTorch's fused `nn.LSTM` / `nn.GRU` /
`nn.RNN` modules are built for long sequences: called on a single step they spend most of their
time in set-up (about 1.8 ms per step for the shipped 2 x 256 LSTM on one busy core, against
0.6 ms for the same arithmetic written out below). `RecurrentStepper` takes the module's
weights once (input and hidden weights side by side, the two biases summed) and computes each
layer's gates with one matrix product. It is exact to float rounding (checked by the tests
against the module) and only for inference: no dropout, no gradients.

    stepper = RecurrentStepper(net, state)          # state as returned by net(x, p)
    logits = stepper.step(tokens, positions)        # (count,) tokens -> (count, vocabulary)
"""

from __future__ import annotations

import torch
from torch import nn


class RecurrentStepper:
    def __init__(self, net: nn.Module, state: tuple | torch.Tensor) -> None:
        rnn = net.rnn
        self.kind = {nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn"}[type(rnn)]
        if self.kind == "rnn" and rnn.nonlinearity != "tanh":
            self.kind = "rnn-relu"
        self.token_weight = net.token_embedding.weight
        self.position_weight = net.position_embedding.weight
        self.head_weight = net.head.weight.t()
        self.head_bias = net.head.bias
        self.layers = []
        for k in range(rnn.num_layers):
            w_ih = getattr(rnn, f"weight_ih_l{k}")
            w_hh = getattr(rnn, f"weight_hh_l{k}")
            b_ih = getattr(rnn, f"bias_ih_l{k}", None)
            b_hh = getattr(rnn, f"bias_hh_l{k}", None)
            if b_ih is None:
                b_ih = torch.zeros(w_ih.shape[0], dtype=w_ih.dtype, device=w_ih.device)
                b_hh = torch.zeros_like(b_ih)
            if self.kind == "gru":  # the reset gate scales only the hidden part of n
                self.layers.append((w_ih.t(), b_ih, w_hh.t(), b_hh))
            else:
                self.layers.append((torch.cat([w_ih, w_hh], 1).t().contiguous(), b_ih + b_hh))
        if self.kind == "lstm":
            h, c = state
            self.h, self.c = list(h.unbind(0)), list(c.unbind(0))
        else:
            self.h, self.c = list(state.unbind(0)), []

    def step(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Logits of the next token after feeding `tokens` at bar `positions` (both (count,))."""
        x = self.token_weight[tokens] + self.position_weight[positions]
        for k, weights in enumerate(self.layers):
            x = self._layer(k, x, weights)
        return torch.addmm(self.head_bias, x, self.head_weight)

    def _layer(self, k: int, x: torch.Tensor, weights: tuple) -> torch.Tensor:
        h = self.h[k]
        if self.kind == "gru":
            w_ih, b_ih, w_hh, b_hh = weights
            gi = torch.addmm(b_ih, x, w_ih)
            gh = torch.addmm(b_hh, h, w_hh)
            i_r, i_z, i_n = gi.chunk(3, 1)
            h_r, h_z, h_n = gh.chunk(3, 1)
            r = torch.sigmoid(i_r + h_r)
            z = torch.sigmoid(i_z + h_z)
            n = torch.tanh(i_n + r * h_n)
            h = n + z * (h - n)
        else:
            w, b = weights
            g = torch.addmm(b, torch.cat([x, h], 1), w)
            if self.kind == "lstm":
                i, f, cand, o = g.chunk(4, 1)
                c = torch.sigmoid(f) * self.c[k] + torch.sigmoid(i) * torch.tanh(cand)
                self.c[k] = c
                h = torch.sigmoid(o) * torch.tanh(c)
            else:
                h = torch.tanh(g) if self.kind == "rnn" else torch.relu(g)
        self.h[k] = h
        return h
