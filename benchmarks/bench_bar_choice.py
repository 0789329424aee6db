"""How the bar bank chooses its bars (`studio.ml.bar_bank.Choice`), judged by the style critic:
each variant accompanies the first 32 bars of every POP909 song of a split with bars of the
shipped bank (the annotated chords, or the accompanist's suggested ones), and the critic's
cross-validated AUC against the real piano parts as played is reported per seed, with the
longest run shared with the training parts (median / max, first seed), and the mean clash
beats, chord agreement, notes per bar and off-beat onsets of the last seed (as
bench_accompaniment measures them). The AUC moves by up to 0.08 between seeds: compare means
over several.

    python benchmarks/bench_bar_choice.py [--split valid] [--seeds 5] [--suggested] \
        "" "revoiced=0,carry_on=8,same_song=6,temperature=0.5" ...

Each variant is a comma-separated list of `Choice` fields (empty: the shipped choice).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks._common import machine  # noqa: E402
from benchmarks.bench_accompaniment import critic_auc, measure, song_material  # noqa: E402
from studio.data.pop909 import pop909_songs  # noqa: E402
from studio.ml import bar_bank as bb  # noqa: E402
from studio.ml.families.accompanist import melody_key  # noqa: E402
from studio.ml.generation.models import bar_bank, load, originality_index  # noqa: E402


def choice_of(text: str) -> bb.Choice:
    kinds = {f.name: f.type for f in fields(bb.Choice)}
    values = {}
    for item in filter(None, text.split(",")):
        name, value = item.split("=")
        values[name] = int(value) if kinds[name] in (int, "int") else float(value)
    return bb.Choice(**values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("variants", nargs="*", default=[""])
    parser.add_argument("--split", default="valid")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--bars", type=int, default=32)
    parser.add_argument("--suggested", action="store_true",
                        help="over the accompanist's suggested chords, not the annotated ones")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(machine())
    loaded = load("pop-accompanist")
    bank, index = bar_bank(loaded), originality_index(loaded)
    cost = float(loaded.card.get("decoding", {}).get("change_cost", 0.5))
    songs = [s for s in pop909_songs() if s.split == args.split]
    material, reals = [], []
    for s in songs:
        sigs, first, end, grid, melody, onset, chords = song_material(s, args.bars)
        if args.suggested:
            per_beat = loaded.family.suggest_chords(loaded.model, grid, melody, cost)
            chords = [per_beat[min(i // 4, len(per_beat) - 1)] for i in range(len(grid))]
        real = s.track_notes(2)
        real = real[(real[:, 1] >= first) & (real[:, 1] < end)]
        reals.append(real[:, :3] - [0, first, 0])
        tonic, minor = melody_key(melody)
        material.append((first, grid, melody, onset, chords, bb.key_scale(tonic, minor)))
    print(f"{len(songs)} {args.split} songs, {args.bars} bars, "
          f"{'suggested' if args.suggested else 'annotated'} chords, {args.seeds} seeds")
    for text in args.variants:
        choice = choice_of(text)
        started = time.perf_counter()
        aucs, runs, rows = [], [], []
        for seed in range(args.seeds):
            parts, rows = [], []
            for k, (first, grid, melody, onset, chords, scale) in enumerate(material):
                notes = bb.arrange(bank, grid, melody, onset, chords, scale,
                                   np.random.default_rng(1000 * seed + k), choice)
                part = np.array(notes or np.zeros((0, 4)), np.int64).reshape(-1, 4)
                rows.append(measure(part, melody, grid, chords))
                parts.append(part[:, :3] - [0, first, 0])
                if seed == 0:
                    runs.append(index.longest(part[:, :3])[0] + 1)
            aucs.append(critic_auc(reals, parts))
        mean = {k: statistics.mean(r[k] for r in rows) for k in rows[0]}
        print(f"{text or 'shipped'}: AUC {statistics.mean(aucs):.3f} "
              f"({min(aucs):.2f}-{max(aucs):.2f}; {' '.join(f'{a:.3f}' for a in aucs)}), "
              f"runs {statistics.median(runs):.0f} / {max(runs)}, clash "
              f"{100 * mean['clash']:.1f} %, chords {100 * mean['chords']:.1f} %, notes / bar "
              f"{mean['notes_per_bar']:.1f}, off-beat {100 * mean['offbeat']:.1f} % "
              f"({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
