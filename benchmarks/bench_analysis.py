"""Analysis speed: featurize 1,000 pieces and fit the style critic, beside references in one run.

Pieces: the 382 JSB chorales, the same chorales transposed up a fourth, and 8-bar segments of the
shared piano pieces, 1,000 songs in all. Measured:

- hand-crafted features (`HandcraftedFeatures`: numpy over the notes of all songs at once) beside
  a naive featurizer that computes the same vector with per-note Python loops (checked equal;
  best of 3 each);
- the critic: 5-fold grouped cross-validation of the four classifiers on the hand-crafted
  features, beside the same on random features of the same shape (the cost of scikit-learn
  itself);
- the style map: PCA and t-SNE of the 1,000 points;
- ranking: fitting a `StyleReference` on the JSB training split and scoring K=8 candidates (what
  generation pays per batch of variations);
- learned features from the shipped models (`model_features`: the melody VAE's code, the LSTM's
  hidden state), batched, beside the same encoder called one song at a time (checked equal),
  and beside the small autoencoder fitted on the pieces (what `--learned autoencoder` costs);
  then the small MLP and kNN, 5-fold CV, on each.
Target: featurizing 1,000 pieces and fitting the critic in under 10 s on 2 cores.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks._common import MIDI_DIR, best_of, machine  # noqa: E402
from studio.data import load_dataset  # noqa: E402
from studio.midi import read_song  # noqa: E402
from studio.ml.analysis.corpus import AnalysisItem, segment_song  # noqa: E402
from studio.ml.analysis.critic import HANDCRAFTED_CLASSIFIERS, cross_validate_critic  # noqa: E402
from studio.ml.analysis.features import BEAT_BINS, HandcraftedFeatures  # noqa: E402
from studio.ml.analysis.learned import fitted_roll_autoencoder  # noqa: E402
from studio.ml.analysis.model_features import model_features, song_melody_tokens  # noqa: E402
from studio.ml.analysis.ranking import StyleReference  # noqa: E402
from studio.ml.analysis.style_map import build_style_map  # noqa: E402
from studio.music.keys import estimate_key  # noqa: E402
from studio.music.operations import transpose  # noqa: E402
from studio.music.song import PPQ  # noqa: E402


def naive_features(song) -> list[float]:
    """The invariant hand-crafted vector, written the obvious way: Python loops over notes."""
    notes = [(n.pitch, n.start, max(1, n.duration), v) for v, t in enumerate(song.tracks)
             if not t.is_drum for n in t.notes]
    ts = song.time_signatures[0]
    beat = PPQ * 4 // ts.denominator
    bar = beat * ts.numerator
    t0 = min(s for _, s, _, _ in notes)
    span = max(1.0, (max(s + d for _, s, d, _ in notes) - t0) / beat)
    pc = [0.0] * 12
    for p, _, d, _ in notes:
        pc[p % 12] += d
    total = sum(pc)
    pc = [x / total for x in pc]
    tonic, minor, _ = estimate_key(np.array(pc))
    out = pc[tonic:] + pc[:tonic] + [float(minor)]
    top: dict[tuple[int, int], int] = {}
    for p, s, _, v in notes:
        top[(v, s)] = max(top.get((v, s), -1), p)
    mel = [0.0] * 14
    ups = moves = 0
    keys = sorted(top)
    for a, b in zip(keys, keys[1:]):
        if a[0] == b[0]:
            step = top[b] - top[a]
            mel[min(abs(step), 13)] += 1
            if step:
                moves += 1
                ups += step > 0
    n = sum(mel)
    out += [x / n if n else 0.0 for x in mel] + [ups / moves if moves else 0.5]
    chords: dict[int, list[int]] = {}
    for p, s, _, _ in notes:
        chords.setdefault(s, []).append(p)
    harm = [0.0] * 12
    for ps in chords.values():
        ps.sort()
        for p in ps[1:]:
            harm[(p - ps[0]) % 12] += 1
    n = sum(harm)
    out += [x / n if n else 0.0 for x in harm]
    rhythm = [0.0] * BEAT_BINS
    down = 0
    for s in chords:
        rhythm[round((s % beat) / beat * BEAT_BINS) % BEAT_BINS] += 1
        down += (s - t0) % bar == 0
    out += [x / len(chords) for x in rhythm] + [down / len(chords)]
    lengths = [0.0] * 6
    for _, _, d, _ in notes:
        lengths[sum(math.log2(d / beat) >= e for e in (-2.5, -1.5, -0.5, 0.5, 1.5))] += 1
    out += [x / len(notes) for x in lengths]
    events = sorted([(s, 1) for _, s, _, _ in notes] + [(s + d, -1) for _, s, d, _ in notes])
    level = weighted = silent = peak = 0
    for (t, delta), (t_next, _) in zip(events, events[1:] + [events[-1]]):
        level += delta
        peak = max(peak, level)
        weighted += level * (t_next - t)
        silent += (t_next - t) if level == 0 else 0
    length = max(1, events[-1][0] - events[0][0])
    pitches = [p for p, _, _, _ in notes]
    mean = sum(pitches) / len(pitches)
    std = math.sqrt(sum((p - mean) ** 2 for p in pitches) / len(pitches))
    out += [math.log1p(len(chords) / span), math.log1p(len(notes) / span),
            (max(pitches) - min(pitches)) / 48, std / 12, weighted / length / 4, peak / 8,
            silent / length, len(notes) / len(chords) / 4]
    return out


def thousand_pieces() -> list[AnalysisItem]:
    jsb = load_dataset("jsb")
    out = [AnalysisItem(p.name, "jsb", p.song(), p.name) for p in jsb.pieces]
    out += [AnalysisItem(f"{i.name} +5", "jsb", transpose(i.song, 5), i.piece) for i in out]
    piano = [MIDI_DIR / d for d in ("debussy", "bach", "joplin")]
    files = [f for d in piano for f in sorted(d.glob("*.mid"))]
    files.append(MIDI_DIR / "tchaikovsky_seasons.mid")
    segs = []
    for f in files:
        segs += [AnalysisItem(f"{f.stem}@{s}", "piano", seg, f.stem)
                 for s, seg in segment_song(read_song(f), 8) if seg.note_count >= 8]
    keep = np.linspace(0, len(segs) - 1, 1000 - len(out)).round().astype(int)
    return out + [segs[i] for i in keep]


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def main() -> None:
    print(f"Machine: {machine()}")
    pieces = thousand_pieces()
    songs = [i.song for i in pieces]
    notes = sum(s.note_count for s in songs)
    print(f"{len(pieces)} pieces ({notes:,} notes): 764 chorales (382 + transposed), "
          f"{sum(i.label == 'piano' for i in pieces)} piano segments of 8 bars\n")
    print(f"Their top-line melodies: {sum(len(t) for t in song_melody_tokens(songs)):,} "
          "16th-note steps.\n")
    extractor = HandcraftedFeatures()
    extractor.features(songs[:5])  # warm-up
    x = extractor.features(songs)
    xn = np.array([naive_features(s) for s in songs])
    t_feat = best_of(lambda: extractor.features(songs), repeat=3)
    t_naive = best_of(lambda: [naive_features(s) for s in songs], repeat=3)
    assert np.allclose(x, xn, atol=1e-9), "naive featurizer disagrees"

    labels = [i.label for i in pieces]
    groups = [i.piece for i in pieces]
    noise = np.random.default_rng(0).normal(size=x.shape)
    rows = []
    for kind in HANDCRAFTED_CLASSIFIERS:
        t_real, r = timed(lambda k=kind: cross_validate_critic(x, labels, groups, k, 5))
        t_rand, _ = timed(lambda k=kind: cross_validate_critic(noise, labels, groups, k, 5))
        rows.append((kind, t_real, t_rand, r.accuracy))
    t_pca, _ = timed(lambda: build_style_map(pieces, extractor, "pca"))
    t_tsne, _ = timed(lambda: build_style_map(pieces, extractor, "tsne"))
    jsb = load_dataset("jsb")
    train = [(p.name, p.song()) for p in jsb.split("train")]
    t_ref, ref = timed(lambda: StyleReference.fit(train))
    candidates = [p.song() for p in jsb.split("test")[:8]]
    t_score, _ = timed(lambda: ref.score(candidates))

    learned_rows = learned_features_rows(pieces, labels, groups)

    print("| step | Studio (s) | reference (s) | ratio |")
    print("|---|---|---|---|")
    print(f"| features of 1,000 pieces | {t_feat:.2f} | {t_naive:.2f} (naive per-note Python) | "
          f"{t_naive / t_feat:.1f}x faster |")
    for kind, t_real, t_rand, acc in rows:
        print(f"| critic {kind}, 5-fold CV (accuracy {acc:.1%}) | {t_real:.2f} | {t_rand:.2f} "
              f"(random features, same shape) | {t_real / t_rand:.2f} |")
    total_critic = sum(r[1] for r in rows)
    print(f"| map, PCA | {t_pca:.2f} | | |")
    print(f"| map, t-SNE | {t_tsne:.2f} | | |")
    print(f"| ranking: fit reference on {len(train)} training chorales | {t_ref:.2f} | | |")
    print(f"| ranking: score 8 candidates | {t_score:.3f} | | |")
    for row in learned_rows:
        print(row)
    total = t_feat + total_critic
    print(f"\nFeaturize 1,000 pieces + cross-validate all four critics: {total:.1f} s "
          f"(target < 10 s: {'met' if total < 10 else 'MISSED'}).")


def learned_features_rows(pieces, labels, groups) -> list[str]:
    """Table rows for the model encoders: batched vs one song at a time, the fitted autoencoder,
    and the MLP / kNN critics on each representation."""
    songs = [i.song for i in pieces]
    steps = sum(len(t) for t in song_melody_tokens(songs))
    rows = []
    for name in ("vae-melody", "lstm-melody"):
        learned = model_features(name)
        learned.features(songs[:4])  # warm-up (loading, first calls)
        t_batch = best_of(lambda f=learned: f.features(songs), repeat=2)
        t_one, single = timed(lambda f=learned: np.vstack([f.features([s]) for s in songs]))
        x = learned.features(songs)
        assert np.allclose(x, single, atol=1e-4), f"{name}: batched and single rows disagree"
        rows.append(f"| {learned.name}: features of 1,000 pieces ({x.shape[1]} numbers; "
                    f"{steps / t_batch / 1000:.0f}k melody steps/s) | "
                    f"{t_batch:.2f} | {t_one:.2f} (one song at a time) | "
                    f"{t_one / t_batch:.1f}x faster |")
        noise = np.random.default_rng(0).normal(size=x.shape)
        for kind in ("mlp", "knn"):
            t_real, r = timed(lambda k=kind, a=x: cross_validate_critic(a, labels, groups, k, 5))
            t_rand, _ = timed(lambda k=kind, a=noise: cross_validate_critic(a, labels, groups, k,
                                                                            5))
            rows.append(f"| critic {kind} on {name}, 5-fold CV (accuracy {r.accuracy:.1%}) | "
                        f"{t_real:.2f} | {t_rand:.2f} (random features, same shape) | "
                        f"{t_real / t_rand:.2f} |")
    t_fit, auto = timed(lambda: fitted_roll_autoencoder(songs))
    t_enc, x = timed(lambda: auto.features(songs))
    r = cross_validate_critic(x, labels, groups, "mlp", 5)
    rows.append(f"| fitted autoencoder: train 60 epochs + features of 1,000 pieces (MLP "
                f"accuracy {r.accuracy:.1%}) | {t_fit + t_enc:.2f} | | |")
    return rows


if __name__ == "__main__":
    main()
