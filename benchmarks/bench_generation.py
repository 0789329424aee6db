"""Generation latency of every mode through `studio.ml.generation.generate` (the path the panel
and the CLI take: reading the song, the model, decoding, the edit, the preview, originality and
style), beside references measured in the same run: the model's bare sampler (the family's own
method: plain Gibbs sampling for the CNN, `sample_melody` for the LSTM) and one forward pass.

Targets (2 CPU cores): harmonize 8 bars in under 2 s, a 16-bar melody in under 0.5 s, the first
of K candidates on screen before the rest are done (time to first candidate well under the time
to all K).

    python benchmarks/bench_generation.py [--threads 1] [--repeat 5] [--count 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks._common import machine  # noqa: E402
from studio.data import load_dataset  # noqa: E402
from studio.ml.family import SamplingOptions  # noqa: E402
from studio.ml.generation import GenerationRequest, default_model, generate, warm_up  # noqa: E402
from studio.ml.generation.models import load  # noqa: E402
from studio.music.grids import satb_to_song  # noqa: E402

BAR = 1920


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def first_and_all(request: GenerationRequest) -> tuple[float, float]:
    marks: list[float] = []
    t0 = time.perf_counter()
    generate(request, on_candidate=lambda c: marks.append(time.perf_counter() - t0))
    return marks[0], time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the "
                        "references (generate always runs its models on one thread)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--count", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    chorale = load_dataset("jsb").split("test")[0].satb.astype(np.int64)
    melody = satb_to_song(chorale[:8 * 16, :1], names=["Melody"])
    full = satb_to_song(chorale[:8 * 16])
    mid = melody.tracks[0].id
    print(f"machine: {machine()}; torch {torch.__version__}, {args.threads} thread(s); load "
          f"average {os.getloadavg()[0]:.1f}; median of {args.repeat}")
    rows = []
    one = SamplingOptions(seed=1)

    def studio(mode, model, song, **kw):
        request = GenerationRequest(mode, model, song, options=kw.pop("options", one), **kw)
        return lambda: generate(request)

    # -- harmonize 8 bars ---------------------------------------------------------------------
    h = default_model("harmonize")
    t0 = time.perf_counter()
    warm_up(h)
    cold = time.perf_counter() - t0
    loaded = load(h)
    x = torch.as_tensor(np.zeros((1, 128, 4), np.int64))
    hidden = torch.zeros((1, 128, 4), dtype=torch.bool)
    hidden[..., 1:] = True
    with torch.inference_mode():
        forward = median_time(lambda: loaded.model(x, hidden), args.repeat)
    gibbs = median_time(lambda: loaded.family.harmonize(loaded.model, chorale[:128, 0], one),
                        args.repeat)
    ours = median_time(studio("harmonize", h, melody, track_ids=(mid,)), args.repeat)
    rows.append(("harmonize 8 bars", h, ours, "target < 2 s",
                 f"plain Gibbs ({loaded.family.config.gibbs_steps} steps) {gibbs:.2f} s; one "
                 f"forward pass {forward:.3f} s"))
    # -- 16-bar melody ------------------------------------------------------------------------
    m = default_model("melody")
    warm_up(m)
    lm = load(m)
    bare = median_time(lambda: lm.family.sample_melody(lm.model, 256, one), args.repeat)
    ours_m = median_time(studio("melody", m, melody, bars=16), args.repeat)
    rows.append(("16-bar melody", m, ours_m, "target < 0.5 s", f"sample_melody alone "
                 f"{bare:.3f} s"))
    # -- the other modes ----------------------------------------------------------------------
    ours_c = median_time(studio("continue", m, melody, track_ids=(mid,), bars=8,
                                playhead=4 * BAR), args.repeat)
    rows.append(("continue 8 bars", m, ours_c, "", ""))
    ours_i = median_time(studio("infill", h, full, track_ids=tuple(t.id for t in
                                                                   full.tracks[1:3]),
                                time_range=(2 * BAR, 4 * BAR)), args.repeat)
    rows.append(("infill 2 bars (alto, tenor)", h, ours_i, "", ""))
    try:
        v = default_model("interpolate")
    except Exception:  # no interpolating model shipped
        v = None
    if v is not None:
        warm_up(v)
        two = satb_to_song(chorale[:4 * 16, :2], names=["First", "Second"])
        ours_v = median_time(studio("interpolate", v, two, track_ids=tuple(
            t.id for t in two.tracks)), args.repeat)
        rows.append(("interpolate 4 bars, 5 steps", v, ours_v, "", ""))
    print("| task | model | studio (s) | target | reference in the same run |")
    print("|---|---|---|---|---|")
    for task, model, seconds, target, ref in rows:
        print(f"| {task} | {model} | {seconds:.3f} | {target} | {ref} |")
    print(f"\nfirst use of {h} (loading, originality index, style critic): {cold:.2f} s")
    k = SamplingOptions(seed=2, count=args.count)
    print(f"\n| {args.count} variations | first candidate (s) | all (s) | first / all |")
    print("|---|---|---|---|")
    for label, request in (
            ("harmonize 8 bars", GenerationRequest("harmonize", h, melody, (mid,), options=k)),
            ("16-bar melody", GenerationRequest("melody", m, melody, bars=16, options=k))):
        first, total = min((first_and_all(request) for _ in range(3)), key=lambda p: p[1])
        print(f"| {label} | {first:.3f} | {total:.3f} | {first / total:.2f} |")


if __name__ == "__main__":
    main()
