"""Pop infill and melodies over chords, beside the real POP909 music.

Infill: in each POP909 test song, 4 bars in the middle of its melody are blanked in all three
tracks (melody, bridge, piano) and filled by the pop-infill mode (pop-lstm + pop-accompanist,
the piano following the chords the song's own piano and bridge spell in those bars, as the mode
does for a song it is given); three versions of the same bars are compared:
  real        the song's own bars
  best of 32  the mode as shipped: 32 melody fills drawn from the left context, the one whose
              4 bars after the gap the model finds likeliest kept (also 8 and 16 fills)
  1 draw      one fill from the left context only (no right context)
  typed in    the shipped mode with the annotated chords given as chord text
Figures (over the 4 bars): clash beats (piano against melody, semitone / major seventh), chord
agreement of the piano with the annotated chords (`recognise_chord`, as bench_accompaniment),
melody notes per bar, melody chord-tone share and clash rate on beats (annotated chords), melody
pitch range (semitones), the melody model's NLL (nats per 16th) of the 4 real bars after the gap
given the left context and the fill (for the real row: the real bars), the NLL of the real gap
given the left context only and given both contexts (`gap_nll_both`), bridge notes per bar and
the seconds per 4-bar infill of the three tracks (one thread).

Melody over chords: on each test song, 4 real bars of melody are the prime and
pop-lstm (also folk-lstm and lstm-melody) continues them for 8 bars over the song's annotated chords, with the chord bias
(`chord_melody.STRENGTH`) and without; chord-tone share and clash rate on beats beside the real
melody of those bars. --tune picks the strength on the validation songs: the one whose
chord-tone share on beats is nearest the real melodies'.

    python benchmarks/bench_pop_infill.py [--limit N] [--tune]
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
from benchmarks.bench_accompaniment import measure  # noqa: E402
from studio.data.pop909 import pop909_songs  # noqa: E402
from studio.ml import accompaniment as acc  # noqa: E402
from studio.ml.family import SamplingOptions  # noqa: E402
from studio.ml.generation import (
    GenerationRequest,  # noqa: E402
    models,  # noqa: E402
)
from studio.ml.generation import chord_melody as cm  # noqa: E402
from studio.ml.generation import material as mat  # noqa: E402
from studio.ml.generation import pop_infill as pi  # noqa: E402
from studio.music.chords import parse_label  # noqa: E402
from studio.music.edits import Compound  # noqa: E402
from studio.music.tokens import HOLD  # noqa: E402

BARS = 4
STEP = mat.STEP


def annotated(s, start: int, steps: int) -> list:
    """The annotated chord at each 16th step from `start`."""
    spans = [(a, b, parse_label(lab)) for a, b, lab in s.chords]
    out = []
    for i in range(steps):
        t = start + i * STEP
        out.append(next((c for a, b, c in spans if a <= t < b), None))
    return out


def middle_bars(song) -> tuple[int, int] | None:
    """4 bars of 4/4 in the middle of the melody (None when the meter there is not 4/4)."""
    melody = pi.track_roles(song)["melody"]
    first, last = mat.track_extent(melody)
    a = mat.bar_start(song, (first + last) // 2)
    b = a
    for _ in range(BARS):
        b = mat.next_bar(song, b + 1)
    if b - a != BARS * 1920 or song.time_signature_at(a).bar_ticks != 1920:
        return None
    return a, b


def middle_songs(songs, limit: int):
    """(POP909 song, its Song, a, b, its tracks by role) of the first `limit` songs with 4 bars
    of 4/4 in the middle of the melody (`middle_bars`)."""
    done = 0
    for s in songs:
        if done >= limit:
            return
        song = s.song()
        span = middle_bars(song)
        if span is None:
            continue
        done += 1
        yield s, song, *span, pi.track_roles(song)


def melody_figures(pitches: np.ndarray, chords: list) -> dict:
    n, tones, clash = cm.beat_stats(pitches, chords, np.arange(len(pitches)) % 16)
    return {"tone": tones / max(1, n), "mclash": clash / max(1, n)}


def figures(song, a: int, b: int, chords16: list, s) -> dict:
    roles = pi.track_roles(song)
    melody = roles["melody"]
    inside = [n for n in melody.notes if a <= n.start < b]
    pitches = mat.melody_pitches(melody, a, b)
    grid = acc.grid_for(song.time_signatures, a, b)
    rows = np.array([[n.pitch, n.start, n.duration] for n in melody.notes], np.int64)
    mel, _ = acc.melody_steps(rows, grid)
    piano = np.array([[n.pitch, n.start, n.duration] for n in roles["piano"].notes], np.int64)
    spans = [(x, y, parse_label(lab)) for x, y, lab in s.chords]
    m = measure(piano, mel, grid, acc.chords_per_step(spans, grid))
    sounding = pitches[pitches >= 0]
    bridge = [n for n in roles["bridge"].notes if a <= n.start < b] if "bridge" in roles else []
    return {"clash": m["clash"], "chords": m["chords"], "notes": len(inside) / BARS,
            "bridge": len(bridge) / BARS,
            "range": float(sounding.max() - sounding.min()) if len(sounding) else 0.0,
            **melody_figures(pitches, chords16)}


def nll_after(loaded, song, a: int, b: int, end: int) -> float:
    """NLL per 16th (pop-lstm) of the melody's [a, end) given the 8 bars before `a` and,
    when b > a, nothing else (the steps [a, b) are scored too)."""
    melody = pi.track_roles(song)["melody"]
    ws = mat.bar_start(song, a - 8 * 1920)
    tokens = mat.melody_tokens(melody, ws, end)
    known = models.melody_range(loaded)
    shift = mat.octave_shift(tokens[tokens < HOLD], *known) if known else 0
    tokens = pi._shift(tokens, shift)
    first = (b - ws) // STEP
    return float(-cm.log_likelihood(loaded, tokens[None], first, len(tokens))[0]
                 / max(1, len(tokens) - first))


def right_nll(loaded, song, a: int, b: int) -> float:
    """NLL per 16th of the 4 bars after the gap given the 8 bars before it and the gap."""
    return nll_after(loaded, song, a, b, b + pi.RIGHT_BARS * 1920)


def gap_nll(loaded, song, a: int, b: int) -> float:
    """NLL per 16th of the gap's real bars given the 8 bars before only."""
    return nll_after(loaded, song, a, a, b)


VERSIONS = ((f"best of {pi.TRIES} (shipped)", pi.TRIES, False),
            ("1 draw, left context only", 1, False), ("best of 8", 8, False),
            ("best of 16", 16, False), (f"best of {pi.TRIES}, annotated chords typed in",
                                        pi.TRIES, True))


def chord_text(chords16: list) -> str | None:
    """The annotated chords as chord text, a symbol per beat (None where a beat has none)."""
    bars = []
    for bar in range(0, len(chords16), 16):
        beats = chords16[bar:bar + 16:4]
        if any(c is None for c in beats):
            return None
        bars.append(" ".join(c.name() for c in beats))
    return "| " + " | ".join(bars) + " |"


def gap_nll_both(loaded, song, a: int, b: int, seed: int, draws: int = 64) -> float:
    """NLL per 16th of the real gap given the bars before AND after it:
    -log p(gap | left) - log p(right | left, gap) + log p(right | left), the last estimated as
    the mean of p(right | left, fill) over `draws` fills drawn from the left context. (The
    estimate of log p(right | left) is low on average, Jensen, so this NLL reads somewhat low.)"""
    melody = pi.track_roles(song)["melody"]
    ws = mat.bar_start(song, a - 8 * 1920)
    end = b + pi.RIGHT_BARS * 1920
    tokens = mat.melody_tokens(melody, ws, end)
    known = models.melody_range(loaded)
    shift = mat.octave_shift(tokens[tokens < HOLD], *known) if known else 0
    tokens = pi._shift(tokens, shift)
    ra, rb = (a - ws) // STEP, (b - ws) // STEP
    joint = -cm.log_likelihood(loaded, tokens[None], ra, len(tokens))[0]
    fills = cm.sample_biased(loaded, tokens[:ra], rb - ra, SamplingOptions(seed=seed,
                                                                             count=draws), None)
    rows = np.concatenate([np.repeat(tokens[None, :ra], draws, 0), fills,
                           np.repeat(tokens[None, rb:], draws, 0)], 1)
    right = cm.log_likelihood(loaded, rows, rb, rows.shape[1])
    log_right = float(np.logaddexp.reduce(right) - np.log(draws))
    return float((joint + log_right) / (rb - ra))


def infill_part(loaded, songs, limit: int) -> None:
    rows = {"real POP909": [], **{name: [] for name, _, _ in VERSIONS}}
    nll = {k: [] for k in rows}
    seconds, gap, both = {name: [] for name, _, _ in VERSIONS}, [], []
    for done, (s, song, a, b, roles) in enumerate(middle_songs(songs, limit)):
        chords16 = annotated(s, a, (b - a) // STEP)
        rows["real POP909"].append(figures(song, a, b, chords16, s))
        nll["real POP909"].append(right_nll(loaded, song, a, b))
        gap.append(gap_nll(loaded, song, a, b))
        both.append(gap_nll_both(loaded, song, a, b, done))
        ids = tuple(roles[r].id for r in ("melody", "bridge", "piano"))
        text = chord_text(chords16)
        for name, tries, given in VERSIONS:
            if given and text is None:
                continue
            request = GenerationRequest("pop-infill", "pop-lstm", song, ids, (a, b),
                                        options=SamplingOptions(seed=done),
                                        chords=text if given else None)
            pi.TRIES = tries
            started = time.perf_counter()
            plan = pi.plan_pop_infill(request, loaded)
            draft = plan.draft(0, done, None)
            seconds[name].append(time.perf_counter() - started)
            result = song.copy()
            Compound(tuple(draft.edits), "infill").apply(result)
            rows[name].append(figures(result, a, b, chords16, s))
            nll[name].append(right_nll(loaded, result, a, b))
        pi.TRIES = VERSIONS[0][1]
    done = len(rows["real POP909"])
    print(f"\nInfill of 4 middle bars (melody, bridge, piano), {done} POP909 test songs\n")
    print("| version | songs | clash beats | chord agreement (piano) | melody notes / bar | melody "
          "chord tones on beats | melody clashes on beats | melody range (semitones) | NLL of "
          "the 4 bars after (nats / 16th) | bridge notes / bar | seconds (median) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        if not r:
            continue

        def mean(k, r=r):
            return statistics.mean(x[k] for x in r)
        print(f"| {name} | {len(r)} | {100 * mean('clash'):.1f} % | {100 * mean('chords'):.1f} % | "
              f"{mean('notes'):.2f} | {100 * mean('tone'):.1f} % | {100 * mean('mclash'):.1f} % "
              f"| {mean('range'):.1f} | {statistics.mean(nll[name]):.3f} | {mean('bridge'):.2f} "
              f"| {statistics.median(seconds[name]) if name in seconds else 0:.2f} |")
    print(f"\nNLL of the real 4 bars given the 8 bars before: {statistics.mean(gap):.3f} "
          f"nats / 16th; given the 8 bars before and the 4 after: {statistics.mean(both):.3f}")
    shipped = seconds[VERSIONS[0][0]]
    print(f"seconds per 4-bar infill of three tracks (one thread, shipped): median "
          f"{statistics.median(shipped):.2f}, max {max(shipped):.2f}")


PIANOS = (("the song's own bars (shipped)", None, None),
          ("the training songs' bars", None, 10**9),  # no song has that many bars of its own
          ("the network's own voicings", "model", None))


def piano_part(loaded, songs, limit: int) -> None:
    """The piano alone filled in the same 4 bars, three ways, beside the real bars: clash
    beats, chord agreement, notes per bar and off-beat onsets (as bench_accompaniment), and the
    style critic's AUC telling the real 4-bar piano parts (as played) from the new ones."""
    from benchmarks.bench_accompaniment import critic_auc, offbeat

    parts: dict[str, list] = {"real POP909": [], **{name: [] for name, _, _ in PIANOS}}
    rows: dict[str, list] = {k: [] for k in parts}
    own_bars = pi.OWN_BARS
    for s, song, a, b, roles in middle_songs(songs, limit):
        grid = acc.grid_for(song.time_signatures, a, b)
        rows_m = np.array([[n.pitch, n.start, n.duration] for n in roles["melody"].notes],
                          np.int64)
        mel, _ = acc.melody_steps(rows_m, grid)
        chords = acc.chords_per_step([(x, y, parse_label(lab)) for x, y, lab in s.chords], grid)

        def add(name, notes, a=a, b=b, mel=mel, grid=grid, chords=chords):
            piano = np.array([[n.pitch, n.start, n.duration] for n in notes
                              if a <= n.start < b], np.int64).reshape(-1, 3)
            m = measure(piano, mel, grid, chords)
            m["offbeat"] = float(offbeat(piano[:, 1] - a).mean()) if len(piano) else 0.0
            rows[name].append(m)
            parts[name].append(piano - [0, a, 0])

        add("real POP909", roles["piano"].notes)
        for name, texture, own in PIANOS:
            pi.OWN_BARS = own or own_bars
            request = GenerationRequest("pop-infill", "pop-lstm", song, (roles["piano"].id,),
                                        (a, b), options=SamplingOptions(seed=len(parts[name])),
                                        texture=texture)
            draft = pi.plan_pop_infill(request, loaded).draft(0, len(parts[name]), None)
            result = song.copy()
            Compound(tuple(draft.edits), "infill").apply(result)
            add(name, pi.track_roles(result)["piano"].notes)
        pi.OWN_BARS = own_bars
    print(f"\nThe piano alone filled in the same 4 bars, {len(parts['real POP909'])} POP909 test "
          "songs (chords: what the song's piano spells around the bars, as the mode reads "
          "them)\n")
    print("| piano | clash beats | chord agreement | notes / bar | off-beat onsets | style "
          "critic AUC against the real bars |\n|---|---|---|---|---|---|")
    for name, r in rows.items():
        auc = "-" if name == "real POP909" or len(r) < 5 else \
            f"{critic_auc(parts['real POP909'], parts[name]):.2f}"  # 5 folds: 5 songs or more
        print(f"| {name} | {100 * statistics.mean(x['clash'] for x in r):.1f} % | "
              f"{100 * statistics.mean(x['chords'] for x in r):.1f} % | "
              f"{statistics.mean(x['notes_per_bar'] for x in r):.2f} | "
              f"{100 * statistics.mean(x['offbeat'] for x in r):.1f} % | {auc} |")


def chord_runs(loaded, songs, limit: int, strengths) -> dict:
    """Chord-tone share and clash rate on beats of 8-bar continuations over annotated chords,
    per strength, and of the real melodies of those bars (key 'real')."""
    tot = {k: np.zeros(3) for k in [*strengths, "real"]}
    done = 0
    for s in songs:
        if done >= limit:
            break
        song = s.song()
        span = middle_bars(song)
        if span is None:
            continue
        a = span[0] - 4 * 1920  # 4 bars of prime, then 8 bars over the chords
        melody = pi.track_roles(song)["melody"]
        prime = mat.melody_tokens(melody, a, a + 4 * 1920)
        if not (prime < HOLD).any():
            continue
        start, steps = a + 4 * 1920, 128
        chords = annotated(s, start, steps)
        pos = np.arange(steps) % 16
        real = mat.melody_pitches(melody, start, start + steps * STEP)
        tot["real"] += cm.beat_stats(real, chords, pos)
        known = models.melody_range(loaded)
        shift = mat.octave_shift(prime[prime < HOLD], *known)
        heard = pi._shift(prime, shift)
        for k in strengths:
            out = cm.sample_biased(loaded, heard, steps, SamplingOptions(seed=done, count=4),
                                   cm.chord_bias(chords, pos, k))
            for row in out:
                p = np.where(row < HOLD, row, -1).astype(np.int64)
                for i in range(1, len(p)):  # holds carry the pitch on
                    if row[i] == HOLD:
                        p[i] = p[i - 1]
                tot[k] += cm.beat_stats(p, chords, pos)
        done += 1
    return {k: (v[1] / max(1, v[0]), v[2] / max(1, v[0]), done) for k, v in tot.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=82)
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--piano", action="store_true",
                        help="only the piano filled in three ways (the song's own bars, the "
                             "training songs' bars, the network's voicings)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(machine())
    songs = pop909_songs()
    loaded = models.load("pop-lstm")
    if args.tune:
        valid = [s for s in songs if s.split == "valid"]
        res = chord_runs(loaded, valid, args.limit, (0.0, 0.5, 1.0, 1.5, 2.0, 3.0))
        real = res["real"][0]
        print(f"\nvalidation songs: {res['real'][2]}; real melodies: chord tones on beats "
              f"{100 * real:.1f} %, clashes {100 * res['real'][1]:.1f} %")
        for k, (tone, clash, _) in res.items():
            if k != "real":
                print(f"strength {k}: chord tones {100 * tone:.1f} %, clashes {100 * clash:.1f} %")
        best = min((k for k in res if k != "real"), key=lambda k: abs(res[k][0] - real))
        print(f"nearest the real share: {best}")
        return
    test = [s for s in songs if s.split == "test"]
    t0 = time.perf_counter()
    piano_part(loaded, test, args.limit)
    if args.piano:
        return
    infill_part(loaded, test, args.limit)
    print("\nMelody over the annotated chords: 8 bars after 4 real bars of each test song, 4 "
          "continuations each\n")
    print("| melody | songs | chord tones on beats | clashes on beats |\n|---|---|---|---|")
    for name in ("pop-lstm", "folk-lstm", "lstm-melody"):
        model = models.load(name)
        res = chord_runs(model, test, args.limit, (0.0, cm.STRENGTH))
        if name == "pop-lstm":
            print(f"| real POP909 | {res['real'][2]} | {100 * res['real'][0]:.1f} % | "
                  f"{100 * res['real'][1]:.1f} % |")
        for words, k in ((f"over the chords (strength {cm.STRENGTH})", cm.STRENGTH),
                         ("unconditioned", 0.0)):
            print(f"| {name} {words} | {res[k][2]} | {100 * res[k][0]:.1f} % | "
                  f"{100 * res[k][1]:.1f} % |")
    print(f"\n(whole run {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
