"""Melody quality: 8-bar melodies of each shipped melody model beside the training melodies
(JSB sopranos, 8-bar windows of the train split).

Distances are total variation (0 = same distribution, 1 = disjoint) between the pooled
histograms of the generated melodies and of the training melodies: pitch classes relative to
each melody's estimated key, intervals between consecutive notes (within an octave), and note
lengths. Also: how much each melody repeats itself (share of its 4-note patterns, pitch and
rhythm, that occur again in it), its range (highest minus lowest note), notes per bar, the
longest run shared with the training set (originality) and the style score. Reference rows in
the same run: Bach's test-split sopranos (what held-out music of the style scores) and a
Kneser-Ney 5-gram fitted on the training melodies (a non-neural model).

    python benchmarks/bench_melody.py [--count 100] [--bars 8]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks._common import machine  # noqa: E402
from studio.data import load_dataset  # noqa: E402
from studio.ml.family import SamplingOptions  # noqa: E402
from studio.ml.generation.models import load, originality_index, style_reference  # noqa: E402
from studio.ml.generation.originality import symbols  # noqa: E402
from studio.ml.library import list_models  # noqa: E402
from studio.ml.melody_tokens import melody_song  # noqa: E402
from studio.ml.ngram import KneserNey  # noqa: E402
from studio.music.keys import estimate_key, pitch_class_histogram  # noqa: E402
from studio.music.tokens import HOLD, REST, pitches_to_tokens, tokens_to_track  # noqa: E402

LENGTHS = (1, 2, 3, 4, 6, 8, 12, 16)
HEAD = ("pitch classes (TV)", "intervals (TV)", "note lengths (TV)", "self-repetition %",
        "range (semitones)", "notes/bar", "longest shared run (median / max)", "style score")


def windows(split: str, steps: int) -> list[np.ndarray]:
    out = []
    for p in load_dataset("jsb").split(split):
        t = pitches_to_tokens(p.satb[:, 0])
        for s in range(0, len(t) - steps + 1, steps):
            w = t[s:s + steps]
            if (w < HOLD).sum() >= 4:
                out.append(w)
    return out


def notes(tokens: np.ndarray) -> list:
    return tokens_to_track(np.asarray(tokens)).notes


def histograms(melodies: list[np.ndarray]) -> dict[str, np.ndarray]:
    pcs, ivs, lens = np.zeros(12), np.zeros(25), np.zeros(len(LENGTHS) + 1)
    for m in melodies:
        ns = notes(m)
        if not ns:
            continue
        p = np.array([n.pitch for n in ns])
        d = np.array([n.duration for n in ns])
        tonic, _, _ = estimate_key(pitch_class_histogram(p, d))
        pcs += np.bincount((p - tonic) % 12, weights=d, minlength=12)
        ivs += np.bincount(np.clip(np.diff(p), -12, 12) + 12, minlength=25)
        for length in d // 120:
            k = LENGTHS.index(length) if length in LENGTHS else len(LENGTHS)
            lens[k] += 1
    return {"pc": pcs / max(1, pcs.sum()), "iv": ivs / max(1, ivs.sum()),
            "len": lens / max(1, lens.sum())}


def tv(a: np.ndarray, b: np.ndarray) -> float:
    return 0.5 * float(np.abs(a - b).sum())


def self_repetition(tokens: np.ndarray) -> float:
    s = symbols(notes(tokens))
    grams = [tuple(s[i:i + 3]) for i in range(len(s) - 2)]  # 3 symbols = 4 notes
    if not grams:
        return 0.0
    counts: dict = {}
    for g in grams:
        counts[g] = counts.get(g, 0) + 1
    return sum(c for c in counts.values() if c > 1) / len(grams)


def row(label: str, melodies: list[np.ndarray], train: dict, index, reference,
        bars: int) -> str:
    h = histograms(melodies)
    spans, dens, reps = [], [], []
    for m in melodies:
        p = [n.pitch for n in notes(m)]
        if p:
            spans.append(max(p) - min(p))
            dens.append(len(p) / bars)
            reps.append(self_repetition(m))
    runs = [index.check([notes(m)]).longest_run for m in melodies]
    scores = reference.score([melody_song(m) for m in melodies])
    style = np.mean([s.style_score for s in scores])
    return (f"| {label} | {tv(h['pc'], train['pc']):.3f} | {tv(h['iv'], train['iv']):.3f} | "
            f"{tv(h['len'], train['len']):.3f} | {100 * np.mean(reps):.1f} | "
            f"{np.mean(spans):.1f} | {np.mean(dens):.1f} | {int(np.median(runs))} / "
            f"{max(runs)} | {style:.2f} |")


def ngram_melodies(train: list[np.ndarray], count: int, steps: int, seed: int = 0):
    model = KneserNey(5, 130).fit(train)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        history = [model.bos] * 4
        seq = []
        for _ in range(steps):
            p = model.distribution(tuple(history[-4:]))
            tok = int(rng.choice(130, p=p / p.sum()))
            if tok == HOLD and (not seq or seq[-1] == REST):
                tok = REST
            seq.append(tok)
            history.append(tok)
        out.append(np.array(seq))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100, help="melodies per model")
    parser.add_argument("--bars", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    steps = args.bars * 16
    train = windows("train", steps)
    test = windows("test", steps)
    hist = histograms(train)
    entries = [e for e in list_models("melody") if e.shipped and not e.problem]
    first = load(entries[0].path)
    index, reference = originality_index(first), style_reference(first)
    print(f"machine: {machine()}; {args.count} melodies of {args.bars} bars per model; "
          f"{len(train)} training windows")
    print("| melodies | " + " | ".join(HEAD) + " |")
    print("|---" * (len(HEAD) + 1) + "|")
    print(row("Bach, test split (held out)", test, hist, index, reference, args.bars))
    print(row("Kneser-Ney 5-gram (reference)", ngram_melodies(train, args.count, steps), hist,
              index, reference, args.bars), flush=True)
    for entry in entries:
        loaded = load(entry.path)
        made = [loaded.family.sample_melody(loaded.model, steps, SamplingOptions(seed=i))[0]
                for i in range(args.count)]
        print(row(entry.name, made, hist, index, reference, args.bars), flush=True)


if __name__ == "__main__":
    main()
