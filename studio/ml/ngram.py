"""The n-gram baseline: an interpolated Kneser-Ney model over integer sequences.

`studio eval` and the quality benchmark print every model's NLL beside this baseline, computed
on the same split from the family's own sequences (`Family.baseline_sequences`), so that a
number like "0.62 nats per step" has a reference a non-neural model reaches.
`soprano_conditional` is the like reference for four-part harmony (counts given the soprano).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np


class KneserNey:
    """Interpolated Kneser-Ney with absolute discounts estimated per order (Ney et al.)."""

    def __init__(self, order: int, vocab: int) -> None:
        if order < 1:
            raise ValueError("the order of an n-gram model is at least 1")
        self.order, self.vocab = order, vocab
        self.bos = vocab  # context-only start symbol
        self.tables: list[dict[tuple, Counter]] = [defaultdict(Counter) for _ in range(order)]
        self.discounts = [0.75] * order
        self._memo: dict[tuple, np.ndarray] = {}

    def fit(self, sequences: Sequence[np.ndarray]) -> KneserNey:
        n = self.order
        grams: set[tuple] = set()
        for seq in sequences:
            padded = [self.bos] * (n - 1) + [int(x) for x in seq]
            for i in range(n - 1, len(padded)):
                gram = tuple(padded[i - n + 1:i + 1])
                self.tables[n - 1][gram[:-1]][gram[-1]] += 1  # raw counts, highest order
                grams.add(gram)
        # Lower orders count distinct left extensions (continuation counts).
        for k in range(n - 1, 0, -1):
            lower: set[tuple] = set()
            for gram in grams:
                tail = gram[1:]
                self.tables[k - 1][tail[:-1]][tail[-1]] += 1
                lower.add(tail)
            grams = lower
        for k, table in enumerate(self.tables):
            hist = Counter(c for counter in table.values() for c in counter.values())
            n1, n2 = hist.get(1, 0), hist.get(2, 0)
            self.discounts[k] = n1 / (n1 + 2 * n2) if n1 + n2 else 0.75
        self._memo.clear()
        return self

    def distribution(self, context: tuple) -> np.ndarray:
        """P(next | context) over the vocabulary; `context` holds the last order-1 symbols."""
        key = tuple(context[len(context) - (self.order - 1):]) if self.order > 1 else ()
        cached = self._memo.get(key)
        if cached is None:
            cached = self._memo[key] = self._dist(key)
        return cached

    def _dist(self, ctx: tuple) -> np.ndarray:
        k = len(ctx)
        lower = (self._dist(ctx[1:]) if k else np.full(self.vocab, 1.0 / self.vocab))
        table = self.tables[k].get(ctx)
        if not table:
            return lower
        total = sum(table.values())
        d = self.discounts[k]
        out = lower * (d * len(table) / total)
        for w, c in table.items():
            out[w] += max(c - d, 0.0) / total
        return out

    def evaluate(self, sequences: Sequence[np.ndarray]) -> dict[str, float]:
        """Mean NLL (nats per symbol), accuracy of the most likely symbol, and the count."""
        nll, correct, count = 0.0, 0, 0
        n = self.order
        for seq in sequences:
            history = [self.bos] * (n - 1)
            for x in (int(v) for v in seq):
                p = self.distribution(tuple(history[len(history) - (n - 1):]) if n > 1 else ())
                nll -= float(np.log(max(p[x], 1e-12)))
                correct += int(np.argmax(p) == x)
                count += 1
                history.append(x)
        return {"nll": nll / count if count else float("nan"),
                "accuracy": correct / count if count else float("nan"), "count": float(count)}


def baseline(train: Sequence[np.ndarray], test: Sequence[np.ndarray], vocab: int,
             order: int = 5) -> dict[str, float]:
    """Fit on `train`, score `test`: {"nll", "accuracy", "count", "order"}."""
    return {**KneserNey(order, vocab).fit(train).evaluate(test), "order": float(order)}


def soprano_conditional(pieces: Sequence[np.ndarray]):
    """A harmony reference without a network: log P(voice pitch | soprano pitch) for alto,
    tenor and bass, counted over four-voice (T, 4) arrays (add-one smoothed). Returns a function
    from a soprano line (T,) to (T, 3, 128) log-probabilities, the shape the voice-leading search
    reads. The harmony benchmark and the search's tests use it as the floor a model must beat."""
    counts = np.ones((3, 128, 128))
    for piece in pieces:
        a = np.asarray(piece, np.int64)
        sounding = (a >= 0).all(axis=1)
        for v in range(3):
            np.add.at(counts[v], (a[sounding, 0], a[sounding, v + 1]), 1)
    table = np.log(counts / counts.sum(axis=2, keepdims=True))
    return lambda soprano: np.stack([table[v][np.clip(soprano, 0, 127)] for v in range(3)], 1)
