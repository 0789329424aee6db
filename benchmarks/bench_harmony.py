"""Harmonization quality: the soprano of every JSB test chorale harmonized by each shipped
harmonizer, beside Bach's own four voices on the same chorales.

Rates from `studio.music.voice_leading`: parallel fifths and octaves per 1,000 voice-pair moves,
frames with voice crossing, frames with more than an octave between soprano-alto or alto-tenor,
notes out of each voice's range, notes in the scale of the best-fitting key. Also: alto, tenor
and bass notes per bar (how much the voices move) and the share of their 16th steps equal to
Bach's (how close the harmony is to his). Each harmonizer runs as the studio runs it (its
probabilities decoded by the voice-leading search) and, as a reference in the same run, with
its family's own sampler (Gibbs sampling for the CNN, one draw per step for the MLP).

Target for the best harmonizer: each fault rate at most 2x Bach's (for rates where Bach has
none, at most 0.5 per 1,000 or 0.5 %), notes in key within 2 points of Bach's.

    python benchmarks/bench_harmony.py [--split test] [--limit N] [--reference-limit 20]
    python benchmarks/bench_harmony.py --tune --model NAME [--write]   # decoding settings,
        chosen on the valid split and (with --write) stored in the model's card
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks._common import machine  # noqa: E402
from studio.data import load_dataset  # noqa: E402
from studio.ml.family import SamplingOptions  # noqa: E402
from studio.ml.generation import harmony as hm  # noqa: E402
from studio.ml.generation.models import load  # noqa: E402
from studio.ml.library import list_models  # noqa: E402
from studio.music.voice_leading import corpus_rates  # noqa: E402

FAULTS = ("parallel_fifths_per_1000", "parallel_octaves_per_1000", "crossing_frames_pct",
          "spacing_frames_pct", "out_of_range_pct")
HEAD = ("fifths/1k", "octaves/1k", "crossing %", "spacing %", "out of range %", "in key %",
        "ATB notes/bar", "same as Bach %", "s/chorale")


def extra(pieces: list[np.ndarray], bach: list[np.ndarray]) -> dict[str, float]:
    notes = steps = same = sounding = 0
    for p, b in zip(pieces, bach):
        on = p[:, 1:] >= 0
        onset = on.copy()
        onset[1:] &= p[1:, 1:] != p[:-1, 1:]
        notes += int(onset.sum())
        steps += len(p)
        mask = b[:, 1:] >= 0
        same += int(((p[:, 1:] == b[:, 1:]) & mask).sum())
        sounding += int(mask.sum())
    return {"notes_per_bar": notes / max(1, steps) * 16, "same_pct": 100 * same / max(1,
                                                                                   sounding)}


def row(label: str, rates: dict, more: dict, seconds: float | None) -> str:
    cells = [f"{rates[k]:.2f}" for k in (*FAULTS, "in_key_pct")]
    cells += [f"{more['notes_per_bar']:.1f}", f"{more['same_pct']:.1f}",
              "-" if seconds is None else f"{seconds:.2f}"]
    return f"| {label} | " + " | ".join(cells) + " |"


def targets(rates: dict, bach: dict) -> list[str]:
    out = []
    for k in FAULTS:
        limit = max(2 * bach[k], 0.5)
        out.append(f"{k} {rates[k]:.2f} <= {limit:.2f}: {'met' if rates[k] <= limit else 'MISSED'}")
    gap = abs(rates["in_key_pct"] - bach["in_key_pct"])
    out.append(f"in key {rates['in_key_pct']:.1f} within 2 points of {bach['in_key_pct']:.1f}: "
               f"{'met' if gap <= 2 else 'MISSED'}")
    return out


def met(rates: dict, bach: dict) -> bool:
    return all(t.endswith("met") for t in targets(rates, bach))


def free_of(a: np.ndarray) -> np.ndarray:
    free = np.zeros(a.shape, bool)
    free[:, 1:] = True
    return free


def studio_harmonize(loaded, pieces, settings=None, temperature=1.0):
    out, t0 = [], time.perf_counter()
    for i, a in enumerate(pieces):
        out.append(hm.write_voices(loaded, a, free_of(a), SamplingOptions(temperature),
                                   seed=i, settings=settings))
    return out, (time.perf_counter() - t0) / max(1, len(pieces))


def family_harmonize(loaded, pieces):
    """The family's own sampler: Gibbs for the CNN, independent draws per step for the MLP."""
    family = loaded.family
    if hasattr(family.config, "decoding"):
        family = type(family)(replace(family.config, decoding="sample"))
    out, t0 = [], time.perf_counter()
    for i, a in enumerate(pieces):
        out.append(np.asarray(family.harmonize(loaded.model, a[:, 0],
                                               SamplingOptions(seed=i))[0], np.int64))
    return out, (time.perf_counter() - t0) / max(1, len(pieces))


def counts_harmonize(pieces: list[np.ndarray]) -> list[np.ndarray]:
    """A harmonizer without a network: P(voice pitch | soprano pitch) counted on the train
    split (add-one smoothed), decoded by the same voice-leading search."""
    from studio.music.harmony_search import decode

    counts = np.ones((3, 128, 128))
    for piece in load_dataset("jsb").split("train"):
        a = piece.satb.astype(np.int64)
        both = (a >= 0).all(axis=1)
        for v in range(3):
            np.add.at(counts[v], (a[both, 0], a[both, v + 1]), 1)
    table = np.log(counts / counts.sum(axis=2, keepdims=True))
    return [decode(a[:, 0], np.stack([table[v][np.clip(a[:, 0], 0, 127)] for v in range(3)], 1),
                   top_k=4, scale=hm.scale_for(a[:, 0], None)) for a in pieces]


def report(split: str, limit: int | None, reference_limit: int) -> None:
    pieces = [p.satb.astype(np.int64) for p in load_dataset("jsb").split(split)][:limit]
    bach = corpus_rates(pieces)
    print(f"machine: {machine()}; torch {torch.__version__}, {torch.get_num_threads()} "
          f"thread(s); {len(pieces)} chorales of the JSB {split} split")
    print("| harmonizer | " + " | ".join(HEAD) + " |")
    print("|---" * (len(HEAD) + 1) + "|")
    print(row("Bach (the chorales themselves)", bach, extra(pieces, pieces), None), flush=True)
    table = counts_harmonize(pieces)
    print(row("no network: pitch counts given the soprano + search", corpus_rates(table),
              extra(table, pieces), None), flush=True)
    best = None
    for entry in list_models("harmonize"):
        if not entry.shipped or entry.problem:
            continue
        loaded = load(entry.path)
        result, seconds = studio_harmonize(loaded, pieces)
        rates = corpus_rates(result)
        print(row(f"{entry.name} (studio: decoded)", rates, extra(result, pieces), seconds),
              flush=True)
        few = pieces[:reference_limit]
        plain, s_plain = family_harmonize(loaded, few)
        print(row(f"{entry.name} (family sampler, {len(few)} chorales)", corpus_rates(plain),
                  extra(plain, few), s_plain), flush=True)
        score = sum(rates[k] / max(bach[k], 0.25) for k in FAULTS) + \
            abs(rates["in_key_pct"] - bach["in_key_pct"])
        if best is None or score < best[0]:
            best = (score, entry.name, rates)
    if best is not None:
        print(f"\nbest harmonizer: {best[1]}")
        for line in targets(best[2], bach):
            print("  " + line)


def model_logp(loaded, a: np.ndarray, settings: hm.HarmonySettings, seed: int) -> np.ndarray:
    """The (T, 4, 128) voice log-probabilities the decoder reads, as the studio computes them."""
    if loaded.family.name == "coconet":
        return hm.cnn_logp(loaded.model, a, free_of(a), hm.voice_masks(None), settings,
                           torch.Generator().manual_seed(seed), 1.0)[0]
    return hm.minibach_logp(loaded.family, loaded.model, a[:, 0])


def choose(rows: list[tuple[dict, dict, dict, float]], bach: dict, notes: float) -> tuple:
    """The settings that meet the targets, move their voices about as often as Bach's (notes
    per bar within 20 %), and agree most with Bach; else the nearest miss. (Agreement alone
    would favour static voices, which share more 16ths with any harmonization.)"""
    ok = [r for r in rows if met(r[1], bach) and abs(r[2]["notes_per_bar"] / notes - 1) <= 0.2]
    if ok:
        return max(ok, key=lambda r: (r[2]["same_pct"], -abs(r[2]["notes_per_bar"] - notes)))
    return min(rows, key=lambda r: sum(r[1][k] / max(bach[k], 0.25) for k in FAULTS)
               + abs(r[1]["in_key_pct"] - bach["in_key_pct"]))


def tune(model: str, limit: int, write: bool) -> None:
    """Grid over decoding settings on the valid split (the test split only reports); with
    `write`, the chosen settings go into the model card's `decoding` block."""
    pieces = [p.satb.astype(np.int64) for p in load_dataset("jsb").split("valid")][:limit]
    bach = corpus_rates(pieces)
    loaded = load(model)
    base = hm.settings_for(loaded)
    print(f"tuning {model} on {len(pieces)} valid chorales (Bach: ATB notes/bar "
          f"{extra(pieces, pieces)['notes_per_bar']:.1f}, "
          + ", ".join(f"{k} {v:.2f}" for k, v in bach.items()) + ")")
    print("| gibbs | cond. weight | out of key | change off 8th | change | "
          + " | ".join(HEAD) + " |")
    print("|---" * (len(HEAD) + 5) + "|")
    cnn = loaded.family.name == "coconet"
    sampling = [(g, w) for g in (0, 4, 8) for w in (0.5, 0.8) if g or w == 0.5] if cnn \
        else [(base.gibbs_steps, base.conditional_weight)]
    rows = []
    for gibbs, weight in sampling:
        settings = replace(base, gibbs_steps=gibbs, conditional_weight=weight)
        t0 = time.perf_counter()
        cached = [model_logp(loaded, a, settings, i) for i, a in enumerate(pieces)]
        model_seconds = (time.perf_counter() - t0) / len(pieces)
        for out_of_key, off_eighth, change in itertools.product(
                (0.5, 1.0, 1.5, 2.5), (1.0, 2.5), (0.3, 0.8)):
            pen = replace(settings.penalties, out_of_key=out_of_key,
                          change_off_eighth=off_eighth, change=change)
            s = replace(settings, penalties=pen)
            t1 = time.perf_counter()
            result = [hm.decode_voices(a, free_of(a), logp, hm.voice_masks(None),
                                       hm.scale_for(a[:, 0], None), SamplingOptions(), s,
                                       np.random.default_rng(i))
                      for i, (a, logp) in enumerate(zip(pieces, cached))]
            seconds = model_seconds + (time.perf_counter() - t1) / len(pieces)
            rates, more = corpus_rates(result), extra(result, pieces)
            block = {"gibbs_steps": gibbs, "conditional_weight": weight,
                     "out_of_key": out_of_key, "change_off_eighth": off_eighth,
                     "change": change}
            rows.append((block, rates, more, seconds))
            mark = " (targets met)" if met(rates, bach) else ""
            print(f"| {gibbs} | {weight} | {out_of_key} | {off_eighth} | {change} | "
                  + row("", rates, more, seconds)[5:] + mark, flush=True)
    block, rates, more, _ = choose(rows, bach, extra(pieces, pieces)["notes_per_bar"])
    print(f"\nchosen: {block}; same as Bach {more['same_pct']:.1f} %, targets "
          f"{'met' if met(rates, bach) else 'missed'}")
    if write:
        import json

        from studio.ml.checkpoint import atomic_write_bytes, card_path

        path = card_path(loaded.path)
        card = json.loads(path.read_text())
        card["decoding"] = {**block, "tuned": f"benchmarks/bench_harmony.py --tune on the first "
                            f"{len(pieces)} chorales of the JSB valid split"}
        atomic_write_bytes(path, (json.dumps(card, indent=1) + "\n").encode())
        print(f"written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="test", choices=("train", "valid", "test"))
    parser.add_argument("--limit", type=int, default=None, help="first N chorales only")
    parser.add_argument("--reference-limit", type=int, default=20, help="chorales for the "
                        "family-sampler reference (slow: 32 Gibbs steps each for the CNN)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tune", action="store_true", help="grid of decoding settings on "
                        "the valid split")
    parser.add_argument("--model", default="cnn-harmonizer", help="the model --tune tunes")
    parser.add_argument("--write", action="store_true", help="with --tune: store the chosen "
                        "settings in the model's card")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.tune:
        tune(args.model, args.limit or 30, args.write)
    else:
        report(args.split, args.limit, args.reference_limit)


if __name__ == "__main__":
    main()
