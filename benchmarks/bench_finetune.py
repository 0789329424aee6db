"""Fine-tuning each shipped generative model on 30 songs of a style it was not trained on, beside
the parent as it is and a model trained from scratch on the same 30 songs with the same budget.

- Melody models (trained on Bach's sopranos): 30 folk tunes of the built-in `folk` dataset (its
  train split), scored on 40 tunes of its test split.
- Harmonizers (trained on Bach's chorales): 30 four-voice pieces of Palestrina from music21's
  corpus (reduced to soprano, alto, tenor and bass), scored on 20 others. Needs music21
  (`pip install music21`); converted once into a cache folder.
- The pop accompanist (trained on POP909): 30 Bach chorales as a melody (the soprano) over an
  accompaniment (alto, tenor and bass in one track), scored on 20 test chorales.
- The pop melody model: the folk tunes above; the folk melody model: a held-back slice of POP909
  (30 songs of its valid split, scored on 20 of its test split: `pop_data`; `--style pop` also
  gives the pop models their own style's held-back songs, where a parent is hard to beat).

Scratch takes the parent's training settings on the fine-tune's schedule (constant, no warm-up:
a parent trained in two runs carries its second run's cosine schedule and warm-up, which would
handicap a short run from scratch); `--scratch-settings` changes them further.

Reports test NLL per prediction of (a) the parent, (b) scratch, (c) the fine-tuned child, and
the child's gain over each (target: at least 10 % better than both, with a run under 5 minutes
on 2 CPU cores); and how close the music parent and child write comes to the new style
(`style_closeness`): 8-bar melodies (melody models), the lower voices under the first 8 bars of
the test pieces' top voice (harmonizers), a piano part under them (the accompanist), beside the
new style's test parts: L1 distances of pitch-class, interval and duration histograms, and the
share a style critic (RBF SVM on the studio's handcrafted features, trained on parts of the
parent's own style versus the new style's training parts) gives to the new style.

    python benchmarks/bench_finetune.py [--models lstm-melody,cnn-harmonizer] [--threads 2]
        [--variants "anchor=0.01;lr_factor=1,transpose=0"] [--scratch-settings transpose=0]

`--variants` trains one child per setting over the product's defaults (`fine_tune_training`)
and prints validation NLL (to choose a default on) beside test NLL (to report) and the
distance of the child's weights from the parent's.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks._common import machine  # noqa: E402
from studio.data import Dataset, Piece, load_dataset  # noqa: E402
from studio.midi import read_song  # noqa: E402
from studio.ml.finetune import (  # noqa: E402
    FINE_TUNE_DEFAULTS,
    compare_models,
    fine_tune_training,
    starting_point,
)
from studio.ml.knobs import config_from_dict  # noqa: E402
from studio.ml.registry import create_family, model_name_of  # noqa: E402
from studio.ml.train_config import TrainConfig  # noqa: E402
from studio.ml.trainer import Trainer  # noqa: E402
from studio.music.song import Song  # noqa: E402

MELODY = ("lstm-melody", "vae-melody")
SATB = ("cnn-harmonizer", "minibach-harmonizer")
POP = ("pop-accompanist", "pop-lstm", "folk-lstm")
# the new style of each model by default: one it was not trained on
DEFAULT_STYLE = {"lstm-melody": "folk", "vae-melody": "folk", "pop-accompanist": "chorale",
                 "pop-lstm": "folk", "folk-lstm": "pop"}
# steps per epoch where the default 20 does not fit the 5-minute limit on 2 CPU cores (the 6.4 M
# weights of the CNN harmonizer take 2 to 3 s a step on one loaded core)
STEPS = {"cnn-harmonizer": 5}
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "studio-bench"


def folk_data(songs: int) -> Dataset:
    folk = load_dataset("folk")
    train = folk.split("train")[:songs]
    valid_n = max(3, songs // 6)
    pieces = ([_as(p, "train") for p in train[valid_n:]] + [_as(p, "valid") for p in
              train[:valid_n]] + [_as(p, "test") for p in folk.split("test")[:40]])
    return Dataset(f"folk-{songs}", pieces, "folk tunes")


def pop_data(songs: int) -> Dataset:
    """A held-back slice of POP909: songs of its valid split to learn from, of its test split to
    score on (the pop models were trained on its train split only)."""
    pop = load_dataset("pop909")
    learn = pop.split("valid")[:songs]
    valid_n = max(3, songs // 6)
    pieces = ([_as(p, "train") for p in learn[valid_n:]] + [_as(p, "valid") for p in
              learn[:valid_n]] + [_as(p, "test") for p in pop.split("test")[:20]])
    return Dataset(f"pop909-held-{songs}", pieces, "POP909 (held back)")


def _chorale_song(satb: np.ndarray, name: str):
    """A chorale as a melody and its accompaniment: the soprano as MELODY, alto, tenor and bass
    together as PIANO (the track names the accompanist reads)."""
    from studio.music.grids import satb_to_song

    song = satb_to_song(satb)
    melody, *lower = song.tracks
    melody.name = "MELODY"
    piano = lower[0]
    piano.name = "PIANO"
    for t in lower[1:]:
        piano.notes.extend(t.notes)
    piano.sort()
    song.tracks = [melody, piano]
    song.invalidate()
    song.title = name
    return song


def chorale_data(songs: int) -> Dataset:
    """Bach chorales as a melody with a (three-voice) accompaniment under it: a texture the pop
    accompanist never saw (its own style is POP909's piano)."""
    jsb = load_dataset("jsb")
    learn = jsb.split("train")[:songs]
    valid_n = max(3, songs // 6)
    splits = ["valid"] * valid_n + ["train"] * (songs - valid_n)
    pieces = [Piece(p.name, s, loader=lambda p=p: _chorale_song(p.satb, p.name))
              for p, s in zip(learn, splits)]
    pieces += [Piece(p.name, "test", loader=lambda p=p: _chorale_song(p.satb, p.name))
               for p in jsb.split("test")[:20]]
    return Dataset(f"chorales-{songs}", pieces, "Bach chorales: soprano over A+T+B (20 test)")


def _as(piece: Piece, split: str) -> Piece:
    return Piece(piece.name, split, piece.source, piece.satb, piece.metadata, piece.loader,
                 piece._song)


def palestrina_data(songs: int) -> Dataset:
    from music21 import corpus

    folder = CACHE / "palestrina"
    folder.mkdir(parents=True, exist_ok=True)
    files = sorted(folder.glob("*.mid"))
    if len(files) < songs + 20:
        for path in corpus.getComposer("palestrina"):
            out = folder / (path.stem + ".mid")
            if out.exists():
                continue
            score = corpus.parse(path)
            if len(score.parts) == 4:
                score.write("midi", fp=str(out))
                files.append(out)
            if len(files) >= songs + 20:
                break
    files = sorted(files)[:songs + 20]
    valid_n = max(3, songs // 6)
    splits = ["valid"] * valid_n + ["train"] * (songs - valid_n) + ["test"] * 20
    return Dataset(f"palestrina-{songs}", [Piece(p.stem, s, str(p),
                                                 loader=lambda p=p: read_song(p))
                                           for p, s in zip(files, splits)], "Palestrina")


SCRATCH_SCHEDULE = {k: FINE_TUNE_DEFAULTS[k] for k in ("schedule", "warmup_steps")}


def budget(start, epochs: int, steps: int) -> dict:
    return {"epochs": epochs, "steps_per_epoch": steps, "patience": 4, "seed": 0}


def histograms(songs) -> dict[str, np.ndarray]:
    pcs, ints, durs = np.zeros(12), np.zeros(25), np.zeros(16)
    for song in songs:
        notes = sorted((n.start, n.pitch, n.duration) for t in song.tracks if not t.is_drum
                       for n in t.notes)
        if not notes:
            continue
        pitch = np.array([n[1] for n in notes])
        np.add.at(pcs, pitch % 12, 1)
        np.add.at(ints, np.clip(np.diff(pitch), -12, 12) + 12, 1)
        np.add.at(durs, np.clip(np.array([n[2] for n in notes]) // 120, 1, 16) - 1, 1)
    return {k: v / max(1, v.sum()) for k, v in (("pitch class", pcs), ("interval", ints),
                                                ("duration", durs))}


def generated(model, count: int = 24):
    from studio.ml.family import SamplingOptions
    from studio.ml.generation import GenerationRequest, generate

    out = []
    for seed in range(count):
        request = GenerationRequest("melody", str(model), bars=8,
                                    options=SamplingOptions(seed=seed + 1))
        for c in generate(request):
            out.append(c.preview)
    return out


def _part(song: Song, names: tuple[str, ...] | None = None, skip_first: bool = False) -> Song:
    """The song with only the tracks named `names` (all but the first with `skip_first`)."""
    out = song.copy()
    out.tracks = [t for i, t in enumerate(out.tracks)
                  if (names is None or t.name in names) and not (skip_first and i == 0)]
    out.invalidate()
    return out


def _first_bars(song: Song, bars: int = 8) -> tuple[int, int]:
    """The first `bars` bars from the bar line before the song's first note."""
    sig = song.time_signatures[0] if song.time_signatures else None
    bar = sig.bar_ticks if sig else 1920
    notes = [n.start for t in song.tracks for n in t.notes]
    first = min(notes) // bar * bar if notes else 0
    return first, min(song.end, first + bars * bar)


def _trim(song: Song, bars: int = 8) -> Song:
    """The song's first `bars` bars of music (every part is compared over 8 bars, as long as
    what the models write)."""
    a, b = _first_bars(song, bars)
    out = song.copy()
    for t in out.tracks:
        t.notes = [n for n in t.notes if a <= n.start < b]
    out.invalidate()
    return out


def generated_parts(model, style: str, data: Dataset, count: int = 20) -> list[Song]:
    """What the model writes in the new style: 8-bar melodies (melody models); the lower voices
    under the first 8 bars of each test piece's top voice (harmonizers, Palestrina); a piano
    part under the first 8 bars of each test chorale's soprano (the accompanist)."""
    from studio.ml.family import SamplingOptions
    from studio.ml.generation import GenerationRequest, generate

    if style in ("folk", "pop"):
        return generated(model, count)
    mode = "accompany" if style == "chorale" else "harmonize"
    out = []
    for k, piece in enumerate(data.split("test")[:count]):
        song = piece.song()
        if mode == "harmonize":  # the top voice alone (Palestrina's parts may be named Tenor...)
            song.tracks = song.tracks[:1]
            song.invalidate()
        request = GenerationRequest(mode, str(model), song, (song.tracks[0].id,),
                                    _first_bars(song), options=SamplingOptions(seed=k + 1))
        c = generate(request)[0]
        part = c.preview.copy()
        part.tracks = [t for t in part.tracks if t.id in c.new_track_ids]
        part.invalidate()
        out.append(part)
    return out


def reference_parts(style: str, data: Dataset, split: str | tuple[str, ...]) -> list[Song]:
    """The real parts of the new style the generated ones are compared with."""
    splits = (split,) if isinstance(split, str) else split
    pieces = [p for s in splits for p in data.split(s)]
    if style == "pop":
        return [_trim(_part(p.song(), ("MELODY",))) for p in pieces]
    if style == "chorale":
        return [_trim(_part(p.song(), ("PIANO",))) for p in pieces]
    if style == "palestrina":
        return [_trim(_part(p.song(), skip_first=True)) for p in pieces]
    return [_trim(p.song()) for p in pieces]


def parent_style_parts(parent: str, style: str, limit: int = 60) -> list[Song]:
    """Parts of the parent's own style, of the same kind (the critic's other class)."""
    from studio.music.grids import satb_to_song

    pop = load_dataset("pop909").split("train")[:limit]
    if parent == "pop-lstm":
        return [_trim(_part(p.song(), ("MELODY",))) for p in pop]
    if parent == "folk-lstm":
        return [_trim(p.song()) for p in load_dataset("folk").split("train")[:limit]]
    if parent == "pop-accompanist":
        return [_trim(_part(p.song(), ("PIANO",))) for p in pop]
    jsb = load_dataset("jsb").split("train")[:limit]
    if style == "palestrina":  # the harmonizers: Bach's alto, tenor and bass
        return [_trim(satb_to_song(p.satb[:, 1:])) for p in jsb]
    return [_trim(satb_to_song(p.satb[:, :1])) for p in jsb]  # the Bach melody models


def style_closeness(parent: str, parent_path, child_path, data: Dataset, style: str
                    ) -> list[str]:
    """L1 distances of the generated parts' pitch-class, interval and duration histograms to the
    new style's test parts', and the share a style critic (RBF SVM on the handcrafted features,
    the parent's own style against the new style's training parts) calls the new style."""
    from studio.ml.analysis.critic import make_classifier
    from studio.ml.analysis.features import batch_features

    target = histograms(reference_parts(style, data, "test"))
    old = parent_style_parts(parent, style)
    new = reference_parts(style, data, ("train", "valid"))
    critic = make_classifier("svm-rbf")
    critic.fit(batch_features(old + new), [0] * len(old) + [1] * len(new))
    rows = []
    for label, path in (("parent", parent_path), ("fine-tuned", child_path)):
        songs = [s for s in generated_parts(path, style, data) if s.tracks and any(
            t.notes for t in s.tracks)]
        h = histograms(songs)
        dist = " | ".join(f"{np.abs(h[k] - target[k]).sum():.3f}" for k in target)
        new_style = float(np.mean(critic.predict(batch_features(songs))))
        rows.append(f"| {parent} | {label} | {len(songs)} | {dist} | {new_style:.0%} |")
    return rows


def parse_variant(text: str) -> dict:
    """"anchor=0.01,lr_factor=0.3,freeze=1" -> settings over the product's fine-tune defaults
    (lr_factor scales the default learning rate; freeze sets the frozen layer groups)."""
    out = {}
    for item in filter(None, text.replace(" ", "").split(",")):
        key, _, value = item.partition("=")
        out[key] = value if key in ("schedule", "optimizer") else float(value)
    return out


def _ints(settings: dict) -> dict:
    return {k: int(v) if k in ("patience", "warmup_steps", "epochs", "steps_per_epoch",
                               "transpose", "batch_size") else v for k, v in settings.items()}


def bench(parent: str, data: Dataset, epochs: int, steps: int, work: Path,
          variants: list[str] = ("",), scratch: bool = True, scratch_settings: str = "") -> dict:
    """Parent, scratch (once) and one child per variant (the product's defaults: ""), each
    scored on the validation songs (to choose a setting on) and the test songs (to report)."""
    from studio.ml.finetune import Anchor

    start = starting_point(parent)
    model = model_name_of(start.family)
    models = {"parent": (start.family, start.parent_model())}
    if scratch:
        # the parent's settings on the fine-tune's schedule: a parent trained in two runs
        # carries its continuation's schedule (cosine, warm-up), which would handicap scratch
        scratch_cfg = config_from_dict(TrainConfig, {**start.parent_training,
                                                     **SCRATCH_SCHEDULE,
                                                     **budget(start, epochs, steps),
                                                     "device": "cpu", "threads": 0,
                                                     **_ints(parse_variant(scratch_settings))})
        fresh = Trainer(create_family(model, dict(vars(start.family.config))), data,
                        scratch_cfg).run()
        models["scratch"] = (fresh.family, fresh.model)
    runs = {}
    for i, variant in enumerate(variants):
        extra = parse_variant(variant)
        point = start.refrozen(int(extra.pop("freeze"))) if "freeze" in extra else start
        settings = fine_tune_training(point, budget(point, epochs, steps), data)
        if "lr_factor" in extra:
            settings["lr"] = float(point.parent_training.get("lr", 1e-3)) * extra.pop(
                "lr_factor")
        settings.update(_ints(extra))
        t0 = time.perf_counter()
        child = Trainer(point.family, data, config_from_dict(TrainConfig, settings),
                        start_from=point, output=work / f"{parent}-ft{i}").run()
        runs[variant] = {"seconds": time.perf_counter() - t0, "epochs": len(child.history),
                         "distance": Anchor(point.weights).distance(child.model),
                         "child": work / f"{parent}-ft{i}.safetensors"}
        models[variant] = (child.family, child.model)
    valid = compare_models(models, data, "valid")
    test = compare_models(models, data, "test")
    for variant, r in runs.items():
        r.update(valid=valid[variant], test=test[variant])
    return {"parent": (valid["parent"], test["parent"]),
            "scratch": (valid.get("scratch"), test.get("scratch")), "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MELODY + SATB + POP))
    parser.add_argument("--songs", type=int, default=30)
    parser.add_argument("--style", choices=("folk", "pop", "palestrina", "chorale"), help="the new style "
                        "for every model (default: one each model was not trained on)")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--steps", type=int, help="steps per epoch (default 20; 5 for the "
                        "CNN harmonizer: STEPS)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-generation", action="store_true")
    parser.add_argument("--variants", default="", help="settings to compare over the "
                        "product's defaults, separated by ';' (e.g. 'anchor=0;anchor=0.01,"
                        "lr_factor=1'); an empty one is the defaults")
    parser.add_argument("--scratch-settings", default="", help="settings for the model from "
                        "scratch over the parent's (e.g. 'transpose=0')")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("STUDIO_HOME", tempfile.mkdtemp(prefix="bench-finetune-"))
    work = Path(tempfile.mkdtemp(prefix="bench-finetune-models-"))
    variants = args.variants.split(";") if args.variants else [""]
    print(f"machine: {machine()}; torch {torch.__version__}, {args.threads} threads; load "
          f"average {os.getloadavg()[0]:.1f}; {args.songs} songs, at most {args.epochs} epochs "
          + (f"of {args.steps} steps" if args.steps else "of 20 steps (" + ", ".join(
              f"{k}: {v}" for k, v in STEPS.items()) + ")"))
    if variants != [""]:
        print("| parent | variant | valid NLL | test NLL | vs parent | vs scratch | "
              "distance from parent | run |\n|---|---|---|---|---|---|---|---|")
    else:
        print("| parent | new style | (a) parent NLL | (b) scratch NLL | (c) fine-tuned NLL | "
              "(c) vs (a) | (c) vs (b) | fine-tune run |")
        print("|---|---|---|---|---|---|---|---|")
    notes = []
    for parent in args.models.split(","):
        style = args.style or DEFAULT_STYLE.get(parent, "palestrina")
        data = {"folk": folk_data, "pop": pop_data, "palestrina": palestrina_data,
                "chorale": chorale_data}[style](args.songs)
        steps = args.steps or STEPS.get(parent, 20)
        r = bench(parent, data, args.epochs, steps, work, variants,
                  scratch_settings=args.scratch_settings)
        (va, a), (vb, b) = r["parent"], r["scratch"]
        if variants != [""]:
            print(f"| {parent} | parent | {va:.3f} | {a:.3f} | | | 0 | |\n"
                  f"| {parent} | scratch | {vb:.3f} | {b:.3f} | | | | |")
            for variant, v in r["runs"].items():
                c = v["test"]
                print(f"| {parent} | {variant or 'defaults'} | {v['valid']:.3f} | {c:.3f} | "
                      f"{(a - c) / a:+.0%} | {(b - c) / b:+.0%} | {v['distance']:.2f} | "
                      f"{v['seconds']:.0f} s, {v['epochs']} ep |", flush=True)
            continue
        v = r["runs"][""]
        c = v["test"]
        print(f"| {parent} | {data.description} | {a:.3f} | {b:.3f} | {c:.3f} | "
              f"{(a - c) / a:+.0%} | {(b - c) / b:+.0%} | {v['seconds']:.0f} s, "
              f"{v['epochs']} epochs of {steps} steps |", flush=True)
        if not args.no_generation:
            from studio.ml.library import find_model

            notes += style_closeness(parent, find_model(parent), v["child"], data, style)
    if notes:
        print("\nGenerated parts against the new style's test parts (L1 distance of the "
              "histograms; lower is closer) and the share the critic calls the new style:\n"
              "| model | which | parts | pitch class | interval | duration | critic: new "
              "style |\n|---|---|---|---|---|---|---|")
        print("\n".join(notes))


if __name__ == "__main__":
    main()
