"""Pop accompaniment quality and speed: the melody of every POP909 test song accompanied by the
accompanist, beside the real POP909 piano part of the same bars.

Per song, the first --bars bars from the first downbeat; three parts are measured:
  real        the song's own PIANO track (the reference)
  given       the accompanist's texture network following the annotated chords
  suggested   the same on its own chord suggestion
  songs given, songs suggested
              the same chords, the piano playing bars of the training songs re-voiced to them
              (`studio.ml.bar_bank`; what `studio generate accompany` plays when the card's
              decoding texture is "songs", as the shipped pop-accompanist's is)
  real lanes  the real part read into the model's lanes and rendered back as the accompanist
              renders (what the representation and renderer alone cost)
Figures:
  clash beats    share of beats (with melody) where a piano note sounds a semitone or a major
                 seventh (any octave) against the melody note of that moment
  chords         share of annotated beats (chord not N, piano sounding) where the chord the
                 piano part spells (`recognise_chord`) has the annotated root and quality family
  notes/bar, off-beat onsets (share of piano onsets more than a 64th from a beat)
  longest run    originality: the longest run of notes shared with the training songs' piano
                 parts (`RunIndex`, the check the studio shows)
  suggestion     share of annotated beats where the suggested chord has the annotated root and
                 quality family
  style critic   AUC of the studio's critic telling real parts from each kind of generated
                 part: against the real parts as played and against the real parts quantized to
                 the model's 16th grid (POP909's piano is played, not quantized)
Speed: `generate()` on 8 bars of a test song (first call, then median of 5), one torch thread.

Targets (issue 17): clash beats <= 1.5x real; chords >= 60 %; notes/bar and off-beat share
within 25 % of real; speed < 2 s.

    python benchmarks/bench_accompaniment.py [--model pop-accompanist] [--bars 32] [--limit N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks._common import machine  # noqa: E402
from studio.data.pop909 import pop909_songs  # noqa: E402
from studio.ml import accompaniment as acc  # noqa: E402
from studio.ml.family import SamplingOptions  # noqa: E402
from studio.ml.generation import GenerationRequest, generate  # noqa: E402
from studio.ml.generation.material import bar_start  # noqa: E402
from studio.ml.generation.models import bar_bank, load, originality_index  # noqa: E402
from studio.music.chords import parse_label, recognise_chord  # noqa: E402
from studio.music.timing import meter_from_downbeats  # noqa: E402


def sounding_roll(rows: np.ndarray, grid: acc.StepGrid) -> np.ndarray:
    """(steps, 128) pitches sounding at each step."""
    roll = np.zeros((len(grid), 128), bool)
    for p, s, d in rows[:, :3].tolist():
        if s + d <= grid.ticks[0] or s >= grid.ticks[-1]:
            continue
        a = int(grid.nearest([max(s, grid.ticks[0])])[0])
        b = max(a + 1, int(grid.nearest([min(s + d, grid.ticks[-1])])[0]))
        if s + d >= grid.ticks[-1]:
            b = len(grid)
        roll[a:b, p] = True
    return roll


def measure(part: np.ndarray, melody: np.ndarray, grid: acc.StepGrid, chords) -> dict:
    roll = sounding_roll(part, grid)
    beats = len(grid) // 4
    clash = with_melody = agree = annotated = 0
    for b in range(beats):
        seg = slice(4 * b, 4 * b + 4)
        m = melody[seg]
        if (m >= 0).any():
            with_melody += 1
            hit = False
            for i in range(4 * b, 4 * b + 4):
                if melody[i] < 0:
                    continue
                pcs = np.flatnonzero(roll[i]) % 12
                hit |= bool(np.isin((pcs - melody[i]) % 12, (1, 11)).any())
            clash += hit
        chord = chords[4 * b]
        weights = np.bincount(np.arange(128) % 12, weights=roll[seg].sum(0), minlength=12)
        if chord is None or weights.sum() == 0:
            continue
        low = np.flatnonzero(roll[seg].any(0))
        annotated += 1
        agree += chord.same_harmony(recognise_chord(weights, int(low[0]) % 12))
    inside = (part[:, 1] >= grid.ticks[0]) & (part[:, 1] < grid.ticks[-1])
    onsets = part[inside, 1]
    bars = len(set(grid.bar.tolist()))
    return {"clash": clash / max(1, with_melody), "chords": agree / max(1, annotated),
            "notes_per_bar": len(onsets) / max(1, bars),
            "offbeat": float(offbeat(onsets - grid.ticks[0]).mean()) if len(onsets) else 0.0}


def offbeat(ticks: np.ndarray, tolerance: int = 30) -> np.ndarray:
    """Onsets more than a 64th from every beat (some POP909 parts are played, not quantized)."""
    phase = ticks % 480
    return np.minimum(phase, 480 - phase) > tolerance


def critic_auc(real: list[np.ndarray], fake: list[np.ndarray]) -> float:
    """Cross-validated AUC of the style critic (hand-crafted features, RBF SVM) telling real
    piano parts from generated ones (5 folds, both parts of a song in the same fold)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold, cross_val_predict

    from studio.ml.analysis.critic import make_classifier
    from studio.ml.analysis.features import HandcraftedFeatures
    from studio.music.song import Note, Song, Track

    def song(rows: np.ndarray) -> Song:
        return Song([Track("Piano", notes=[Note(int(p), int(s), max(1, int(d)), 70)
                                           for p, s, d in rows[:, :3]])])

    parts = real + fake
    x = HandcraftedFeatures().features([song(p) for p in parts])
    y = np.array([1] * len(real) + [0] * len(fake))
    groups = np.concatenate([np.arange(len(real)), np.arange(len(fake))])
    scores = cross_val_predict(make_classifier("svm-rbf"), x, y, groups=groups,
                               cv=GroupKFold(5), method="decision_function")
    return float(roc_auc_score(y, scores))


def quantized(rows: np.ndarray, grid: acc.StepGrid) -> np.ndarray:
    """(n, 3) pitch/start/duration rows moved onto the grid the model sees (onsets and ends to
    the nearest step, at least one step long): POP909's piano parts are played, not quantized,
    and the dataset's own representation reads them on this grid."""
    a = grid.nearest(rows[:, 1])
    b = np.minimum(len(grid), np.maximum(a + 1, grid.nearest(rows[:, 1] + rows[:, 2])))
    b = np.where(rows[:, 1] + rows[:, 2] >= grid.ticks[-1], len(grid), b)
    return np.stack([rows[:, 0], grid.ticks[a], grid.ticks[b] - grid.ticks[a]], 1)


def song_material(s, bars: int):
    sigs = meter_from_downbeats(s.beats, s.downbeats)
    first = int(s.beats[s.downbeats][0])
    ticks_per_bar = 480 * int(np.median(np.diff(np.flatnonzero(s.downbeats))))
    end = min(first + bars * ticks_per_bar, int(s.beats[-1]))
    grid = acc.grid_for(sigs, first, end)
    melody, onset = acc.melody_steps(s.track_notes(0)[:, :3], grid)
    spans = [(a, b, parse_label(lab)) for a, b, lab in s.chords]
    return sigs, first, end, grid, melody, onset, acc.chords_per_step(spans, grid)


def tune(loaded, limit: int, bars: int, write: bool) -> None:
    """The busyness whose notes per bar on the first `limit` validation songs come nearest the
    real piano parts' (given the annotated chords), and the chord change cost whose suggested
    chords agree best with the annotation there; with `write`, stored in the model card."""
    songs = [s for s in pop909_songs() if s.split == "valid"][:limit]
    material = [song_material(s, bars) for s in songs]
    real = []
    for s, (_, first, end, grid, *_rest) in zip(songs, material):
        r = s.track_notes(2)
        real.append(((r[:, 1] >= first) & (r[:, 1] < end)).sum() / len(set(grid.bar.tolist())))
    target = float(np.mean(real))
    best = None
    for busyness in (-0.4, -0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
        per_bar = []
        for k, (_, _first, _end, grid, melody, onset, chords) in enumerate(material):
            notes = loaded.family.accompany(loaded.model, grid, melody, onset, chords,
                                            SamplingOptions(seed=k), 70, busyness)
            per_bar.append(len(notes) / len(set(grid.bar.tolist())))
        got = float(np.mean(per_bar))
        print(f"busyness {busyness:.1f}: {got:.1f} notes per bar (real parts {target:.1f})")
        if best is None or abs(got - target) < best[1]:
            best = (busyness, abs(got - target))
    print(f"chosen: busyness {best[0]:.1f}")
    best_cost = (loaded.family.config.change_cost, -1.0)
    for cost in (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0):
        hits = []
        for _, _first, _end, grid, melody, _onset, chords in material:
            per_beat = loaded.family.suggest_chords(loaded.model, grid, melody, cost)
            hits += [c.same_harmony(s) for c, s in zip(chords[::4], per_beat) if c is not None]
        share = float(np.mean(hits))
        print(f"change cost {cost:.1f}: suggested chords agree with the annotation on "
              f"{100 * share:.1f}% of beats")
        if share > best_cost[1]:
            best_cost = (cost, share)
    print(f"chosen: change cost {best_cost[0]:.1f}")
    if write:
        from studio.ml.checkpoint import read_card, rewrite_card

        card = read_card(loaded.path)  # the card inside the weights file (the JSON is a copy)
        card["decoding"] = {**card.get("decoding", {}), "busyness": best[0],
                            "change_cost": best_cost[0],
                            "tuned": "benchmarks/bench_accompaniment.py "
                            f"--tune on the first {limit} POP909 validation songs, {bars} bars"}
        rewrite_card(loaded.path, loaded.path, card)


def baseline_chords(grid: acc.StepGrid, melody: np.ndarray, change_cost: float) -> list:
    """The simple baseline of the chord suggestion (`accompanist.covering_chords`)."""
    from studio.ml.families.accompanist import covering_chords

    return covering_chords(grid, melody, change_cost)


def measure_speed(model: str) -> str:
    """`generate()` accompanying 8 bars of the first test song (suggested chords): the first
    call of the process (loading the model and building the originality index of the training
    piano parts), then the median of 5 calls."""
    s = [x for x in pop909_songs() if x.split == "test"][0]
    song = s.song()
    first = bar_start(song, min(n.start for n in song.tracks[0].notes))
    request = GenerationRequest("accompany", model, song, (song.tracks[0].id,),
                                time_range=(first, first + 8 * 1920),
                                options=SamplingOptions(seed=1))
    t0 = time.perf_counter()
    generate(request)
    cold = time.perf_counter() - t0
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        generate(request)
        times.append(time.perf_counter() - t0)
    return (f"speed: accompany 8 bars ({s.name}, suggested chords, one torch thread): first "
            f"call {cold:.2f} s (loads the model and the bar bank, builds the originality index), "
            f"then median "
            f"{statistics.median(times):.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="pop-accompanist")
    ap.add_argument("--bars", type=int, default=32)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tune", action="store_true", help="choose the right hand's busyness on "
                    "the validation songs (notes per bar as the real parts')")
    ap.add_argument("--write", action="store_true", help="with --tune: store it in the card")
    args = ap.parse_args()
    torch.set_num_threads(1)
    speed = measure_speed(args.model)
    loaded = load(args.model)
    if args.tune:
        tune(loaded, args.limit or 20, args.bars, args.write)
        return
    family, model = loaded.family, loaded.model
    busyness = float(loaded.card.get("decoding", {}).get("busyness", 0.0))
    change_cost = loaded.card.get("decoding", {}).get("change_cost")
    index = originality_index(loaded)
    songs = [s for s in pop909_songs() if s.split == "test"]
    songs = songs[:args.limit] if args.limit else songs
    bank = bar_bank(loaded)
    names = ("real", "given", "suggested", "songs given", "songs suggested", "real lanes")
    rows: dict[str, list[dict]] = {k: [] for k in names}
    suggestion, baseline = [], []
    runs: dict[str, list[int]] = {k: [] for k in names}
    parts: dict[str, list[np.ndarray]] = {k: [] for k in (*names, "real, quantized")}
    for k, s in enumerate(songs):
        sigs, first, end, grid, melody, onset, chords = song_material(s, args.bars)
        real = s.track_notes(2)
        real = real[(real[:, 1] >= first) & (real[:, 1] < end)]
        opts = SamplingOptions(seed=args.seed + k)
        given = np.array(family.accompany(model, grid, melody, onset, chords, opts, 70,
                                          busyness) or
                         np.zeros((0, 4)), np.int64).reshape(-1, 4)
        per_beat = family.suggest_chords(model, grid, melody, change_cost)
        suggested_chords = [per_beat[min(i // 4, len(per_beat) - 1)] for i in range(len(grid))]
        sug = np.array(family.accompany(model, grid, melody, onset, suggested_chords, opts, 70,
                                        busyness) or
                       np.zeros((0, 4)), np.int64).reshape(-1, 4)
        songs_given = np.array(family.accompany(model, grid, melody, onset, chords, opts, 70,
                                                busyness, bank) or
                               np.zeros((0, 4)), np.int64).reshape(-1, 4)
        songs_sug = np.array(family.accompany(model, grid, melody, onset, suggested_chords, opts,
                                              70, busyness, bank) or
                             np.zeros((0, 4)), np.int64).reshape(-1, 4)
        lanes, lengths = acc.piano_lanes(real[:, :3], grid, chords, durations=True)
        oracle = np.array(acc.render(lanes, grid, chords, melody, 70, np.random.default_rng(k),
                                     lengths, legato_left=True, bass_floor=acc.BASS_FLOOR),
                          np.int64).reshape(-1, 4)
        for name, part in (("real", real), ("given", given), ("suggested", sug),
                           ("songs given", songs_given), ("songs suggested", songs_sug),
                           ("real lanes", oracle)):
            rows[name].append(measure(part, melody, grid, chords))
            parts[name].append(part[:, :3] - [0, first, 0])
            runs[name].append(index.longest(part[:, :3])[0] + 1 if len(part) > 1 else 0)
        parts["real, quantized"].append(quantized(real[:, :3], grid) - [0, first, 0])
        hits = [c.same_harmony(sc) for c, sc in zip(chords[::4], suggested_chords[::4])
                if c is not None]
        suggestion.append(np.mean(hits) if hits else 0.0)
        simple = baseline_chords(grid, melody, float(family.config.change_cost
                                                     if change_cost is None else change_cost))
        hits = [c.same_harmony(sc) for c, sc in zip(chords[::4], simple) if c is not None]
        baseline.append(np.mean(hits) if hits else 0.0)
    print(f"bench_accompaniment: {len(songs)} POP909 test songs, first {args.bars} bars each, "
          f"model {args.model}; {machine()}")
    print(f"{'part':16s} {'clash beats':>12s} {'chords':>8s} {'notes/bar':>10s} "
          f"{'off-beat':>9s} {'longest run (median / max)':>28s}")
    for name, r in rows.items():
        mean = {k: float(np.mean([x[k] for x in r])) for k in r[0]}
        print(f"{name:16s} {100 * mean['clash']:11.1f}% {100 * mean['chords']:7.1f}% "
              f"{mean['notes_per_bar']:10.1f} {100 * mean['offbeat']:8.1f}% "
              f"{statistics.median(runs[name]):>18.0f} / {max(runs[name])}")
    print(f"chord suggestion agreeing with the annotation: {100 * np.mean(suggestion):.1f}% of "
          "annotated beats")
    print(f"the simple baseline (chord tones covering the beat's melody, same Viterbi): "
          f"{100 * np.mean(baseline):.1f}%")
    for name in ("given", "suggested", "songs given", "songs suggested", "real lanes"):
        print(f"style critic AUC, real piano parts vs {name}: "
              f"{critic_auc(parts['real'], parts[name]):.2f} as played, "
              f"{critic_auc(parts['real, quantized'], parts[name]):.2f} quantized to the model's "
              "16th grid (0.5: cannot tell them apart)")
    print("style critic AUC, real piano parts as played vs quantized: "
          f"{critic_auc(parts['real'], parts['real, quantized']):.2f}")
    print(speed)


if __name__ == "__main__":
    main()
