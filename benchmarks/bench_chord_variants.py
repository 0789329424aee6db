"""Chord suggestion variants (issue 17): per-beat chord classifiers trained on the POP909 train
split from the melody alone, scored on the validation and test songs as the share of annotated
beats whose chord has the annotated root and quality family (what bench_accompaniment's "chord
suggestion" counts), beside a simple baseline: the chord whose tones best cover the beat's melody,
decoded with the same Viterbi.

  --feats base    what accompaniment/2 read: the beat's melody pitch classes, beat place, meter
  --feats rich    + the pitch class on the beat and whether it is held across, the half bar's,
                  the bar's and the song's pitch classes, the bar's place in a four-bar phrase
                  (`studio.ml.accompaniment.beat_features` reads the same, but marks a note as
                  held when the pitch does not change: `suggest_chords` gets no onsets)
  --key est|ann|aug   pitch classes relative to the key estimated from the melody, to the
                  annotated key, or absolute with a random transposition per song and epoch
                  (averaged over the 12 transpositions when predicting)
  --classes 24|36     12 roots x major/minor, or x major/minor/sus
Printed scores: argmax ("0") and Viterbi with change cost 1-6 (cheaper on bar and half-bar
lines); "T": with a bigram prior of chord-relative moves counted on the train split.
A bidirectional GRU over windows of --win beats, Adam 2e-3, batch 64, one torch thread.

    python benchmarks/bench_chord_variants.py --feats rich --key est --classes 36
    python benchmarks/bench_chord_variants.py --baseline
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from studio.data.pop909 import key_of, pop909_songs  # noqa: E402
from studio.ml import accompaniment as acc  # noqa: E402
from studio.music.chords import parse_label  # noqa: E402
from studio.music.keys import estimate_key, pitch_class_histogram  # noqa: E402
from studio.music.timing import meter_from_downbeats  # noqa: E402

FAMILY = {"maj": 0, "min": 1, "dim": 2, "aug": 3, "sus": 4}
METER = {2: 0, 3: 1, 4: 2, 6: 3}
TONES = {0: (0, 4, 7), 1: (0, 3, 7), 2: (0, 5, 7)}


def read_songs() -> dict[int, dict]:
    t0, out, families = time.time(), {}, Counter()
    for s in pop909_songs():
        sigs = meter_from_downbeats(s.beats, s.downbeats)
        mel = s.track_notes(0)[:, :3]
        end = int(max((mel[:, 1] + mel[:, 2]).max(), s.beats[-1]))
        grid = acc.grid_for(sigs, 0, end)
        melody, onset = acc.melody_steps(mel, grid)
        chords = acc.chords_per_step([(a, b, parse_label(x)) for a, b, x in s.chords], grid)
        beats = len(grid) // 4
        root, family = np.full(beats, -1), np.full(beats, -1)
        for b in range(beats):
            if chords[4 * b] is not None:
                root[b], family[b] = chords[4 * b].root, FAMILY[chords[4 * b].family]
                families[chords[4 * b].family] += 1
        sounding = melody[melody >= 0]
        et, em, _ = estimate_key(pitch_class_histogram(sounding)) if len(sounding) else (0, 0, 0)
        at, am = key_of(s.keys[0][2]) if s.keys else (et, em)
        n = beats * 4
        out[s.number] = {"melody": melody[:n], "onset": onset[:n], "pos": grid.pos[:n],
                         "bar_steps": grid.bar_steps[:n], "bar": grid.bar[:n], "root": root,
                         "family": family, "est": (et, int(em)), "ann": (at, int(am)),
                         "split": s.split}
    print(f"{len(out)} songs read in {time.time() - t0:.0f} s; chord families {dict(families)}")
    return out


def features(d: dict, shift: int, rich: bool) -> np.ndarray:
    """Per-beat features, pitch classes taken relative to `shift`."""
    m, pos, bar_steps, bar = d["melody"], d["pos"], d["bar_steps"], d["bar"]
    beats = len(d["root"])
    pcs = np.zeros((len(m), 12), np.float32)
    ok = m >= 0
    pcs[np.flatnonzero(ok), (m[ok] - shift) % 12] = 1
    place = np.minimum(5, pos[::4] // 4)
    meter = np.array([METER.get(int(x), 4) for x in bar_steps[::4] // 4])
    b = np.arange(beats)
    if not rich:
        f = np.zeros((beats, 23), np.float32)
        f[:, :12] = pcs.reshape(beats, 4, 12).sum(1) / 4
        f[b, 12 + place] = 1
        f[b, 18 + meter] = 1
        return f
    on = pcs[::4]
    held = (on.sum(1) > 0) & ~d["onset"][::4]
    bars = bar - bar[0]
    f = np.zeros((beats, 78), np.float32)
    f[:, :12] = pcs.reshape(beats, 4, 12).sum(1) / 4
    f[:, 12:24], f[:, 24] = on, held
    half = bars * 2 + (pos * 2 >= bar_steps)
    for o, group in ((25, half), (37, bars)):
        sums = np.zeros((int(group.max()) + 1, 12), np.float32)
        np.add.at(sums, group, pcs)
        sums /= np.maximum(1e-6, sums.sum(1, keepdims=True))
        f[:, o:o + 12] = sums[group[::4]]
    f[:, 49:61] = pcs.sum(0) / max(1.0, float(pcs.sum()))
    first = int(bars[np.flatnonzero(ok)[0]]) if ok.any() else 0
    f[b, 61 + place] = 1
    f[b, 67 + meter] = 1
    f[b, 72 + (bars[::4] - first) % 4] = 1
    f[:, 76] = pos[::4] == 0
    f[:, 77] = pos[::4] * 2 == bar_steps[::4]
    return f


def targets(d: dict, shift: int, kinds: int) -> np.ndarray:
    r, fam = d["root"], d["family"]
    t = np.full(len(r), -1)
    ok = r >= 0
    q = np.isin(fam, (1, 2)).astype(int)
    if kinds == 3:
        q = np.where(fam == 4, 2, q)
    t[ok] = ((r[ok] - shift) % 12) * kinds + q[ok]
    return t


def agreement(classes: np.ndarray, d: dict, shift: int, kinds: int) -> tuple[np.ndarray, ...]:
    """(hit per beat, annotated per beat): same root and family as the annotation."""
    root = (classes // kinds + shift) % 12
    family = np.array([0, 1, 4])[classes % kinds]
    return (root == d["root"]) & (family == d["family"]), d["root"] >= 0


def viterbi(logp: np.ndarray, cost: np.ndarray, trans: np.ndarray | None = None) -> np.ndarray:
    n, k = logp.shape
    score, back = logp[0].copy(), np.zeros((n, k), np.int64)
    for b in range(1, n):
        if trans is None:
            best = int(score.argmax())
            move = score[best] - cost[b]
            back[b] = np.where(score >= move, np.arange(k), best)
            score = np.maximum(score, move) + logp[b]
        else:
            m = score[:, None] + trans - cost[b]
            np.fill_diagonal(m, score)
            back[b], score = m.argmax(0), m.max(0) + logp[b]
    path = np.zeros(n, np.int64)
    path[-1] = score.argmax()
    for b in range(n - 1, 0, -1):
        path[b - 1] = back[b, path[b]]
    return path


def change_costs(d: dict, c: float) -> np.ndarray:
    pos, bar_steps = d["pos"][::4], d["bar_steps"][::4]
    return c * np.where(pos == 0, 0.25, np.where(pos * 2 == bar_steps, 0.6, 1.0))


def transition_prior(train: list, kinds: int) -> np.ndarray:
    """log P(next | previous) of chord changes, by the move of the root and the two kinds."""
    counts = np.ones((kinds, 12, kinds))
    for _n, _d, _f, t, _s in train:
        t = t[t >= 0]
        for x, y in zip(t[:-1], t[1:]):
            if x != y:
                counts[x % kinds, (y // kinds - x // kinds) % 12, y % kinds] += 1
    counts /= counts.sum((1, 2), keepdims=True)
    k = 12 * kinds
    x, y = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    trans = np.log(counts[x % kinds, (y // kinds - x // kinds) % 12, y % kinds])
    return trans - trans.max(1, keepdims=True)


def template_logp(f: np.ndarray, kinds: int) -> np.ndarray:
    """The baseline: chords scored by the melody weight on their tones minus the rest."""
    w = f[:, :12]
    s = np.zeros((len(f), 12 * kinds))
    for r in range(12):
        for q in range(kinds):
            inside = w[:, [(r + i) % 12 for i in TONES[q]]].sum(1)
            s[:, r * kinds + q] = inside - (w.sum(1) - inside) + 0.01 * (q == 0)
    return torch.log_softmax(torch.tensor(4 * s), -1).numpy()


def scores(data: list, logps: list, kinds: int, trans: np.ndarray) -> str:
    out = []
    for c in (0.0, 1.0, 2.0, 3.0, 4.0, 6.0):
        for prior in ((False,) if c == 0 else (False, True)):
            hit = total = 0
            for (_n, d, _f, _t, shift), lp in zip(data, logps):
                path = viterbi(lp, change_costs(d, c), trans if prior else None) if c \
                    else lp.argmax(1)
                h, ok = agreement(path, d, shift, kinds)
                hit, total = hit + h[ok].sum(), total + ok.sum()
            out.append(f"{c:.0f}{'T' if prior else ''}:{hit / total:.3f}")
    return " ".join(out)


class Net(nn.Module):
    def __init__(self, n_in: int, hidden: int, layers: int, classes: int) -> None:
        super().__init__()
        self.i = nn.Linear(n_in, hidden)
        self.r = nn.GRU(hidden, hidden, layers, batch_first=True, bidirectional=True,
                        dropout=0.1 if layers > 1 else 0)
        self.o = nn.Linear(2 * hidden, classes)
        self.d = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.o(self.d(self.r(self.d(torch.relu(self.i(x))))[0]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feats", default="rich", choices=("base", "rich"))
    ap.add_argument("--key", default="est", choices=("est", "ann", "aug"))
    ap.add_argument("--classes", type=int, default=36, choices=(24, 36))
    ap.add_argument("--hidden", type=int, default=96)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--win", type=int, default=32)
    ap.add_argument("--baseline", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)
    songs, kinds, rich = read_songs(), a.classes // 12, a.feats == "rich"

    def prepare(split: str) -> list:
        out = []
        for n, d in songs.items():
            if d["split"] != split:
                continue
            shift, minor = d[a.key] if a.key != "aug" else (0, 0)
            f = features(d, shift, rich)
            if a.key != "aug":
                f = np.concatenate([f, np.full((len(f), 1), minor, np.float32)], 1)
            out.append((n, d, f, targets(d, shift, kinds), shift))
        return out

    train, valid, test = prepare("train"), prepare("valid"), prepare("test")
    trans = transition_prior(train, kinds)
    if a.baseline:
        for name, data in (("valid", valid), ("test", test)):
            logps = [template_logp(f, kinds) for _n, _d, f, _t, _s in data]
            print(f"baseline {name}: {scores(data, logps, kinds, trans)}")
        return
    torch.manual_seed(0)
    np.random.seed(0)
    k = 12 * kinds
    net = Net(train[0][2].shape[1], a.hidden, a.layers, k)
    opt = torch.optim.Adam(net.parameters(), 2e-3)

    def windows() -> tuple[torch.Tensor, torch.Tensor]:
        xs, ys = [], []
        for _n, d, f, t, _s in train:
            if a.key == "aug":
                shift = np.random.randint(12)
                f, t = features(d, shift, rich), targets(d, shift, kinds)
            for s0 in range(0, max(1, len(f) - a.win + 1), a.win // 2):
                x, y = f[s0:s0 + a.win], t[s0:s0 + a.win]
                if len(x) < a.win:
                    x = np.pad(x, ((0, a.win - len(x)), (0, 0)))
                    y = np.pad(y, (0, a.win - len(y)), constant_values=-1)
                xs.append(x)
                ys.append(y)
        return torch.tensor(np.stack(xs)), torch.tensor(np.stack(ys))

    def predict(data: list) -> list[np.ndarray]:
        net.eval()
        out = []
        with torch.no_grad():
            for _n, d, f, _t, _s in data:
                if a.key == "aug":  # the mean over the 12 transpositions, back in place
                    lp = 0
                    for shift in range(12):
                        x = torch.tensor(features(d, shift, rich))[None]
                        y = torch.log_softmax(net(x)[0], -1).numpy().reshape(-1, 12, kinds)
                        lp = lp + np.roll(y, shift, axis=1).reshape(-1, k) / 12
                    out.append(lp - np.log(np.exp(lp).sum(1, keepdims=True)))
                else:
                    out.append(torch.log_softmax(net(torch.tensor(f)[None])[0], -1).numpy())
        net.train()
        return out

    for epoch in range(a.epochs):
        t0 = time.time()
        x, y = windows()
        order, total = torch.randperm(len(x)), 0.0
        for i in range(0, len(x), 64):
            idx = order[i:i + 64]
            loss = F.cross_entropy(net(x[idx]).reshape(-1, k), y[idx].reshape(-1),
                                   ignore_index=-1)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            total += loss.item()
        hits = [agreement(lp.argmax(1), d, s, kinds) for (_n, d, _f, _t, s), lp in
                zip(valid, predict(valid))]
        accuracy = np.mean(np.concatenate([h[ok] for h, ok in hits]))
        print(f"epoch {epoch}: train loss {total / (len(x) / 64):.3f}, valid accuracy "
              f"{accuracy:.3f} ({time.time() - t0:.0f} s)", flush=True)
    for name, data in (("valid", valid), ("test", test)):
        print(f"{a.feats}/{a.key}/{a.classes} {name}: {scores(data, predict(data), kinds, trans)}")


if __name__ == "__main__":
    main()
