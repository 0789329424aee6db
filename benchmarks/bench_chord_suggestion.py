"""Chord suggestion (Song > Suggest Chords, `studio generate chords`) beside POP909's annotated
chords: on the test songs, the share of beats whose suggested chord has the annotation's root
and quality family (C7 = C major family), next to two baselines: the key's tonic chord on every
beat, and the chord a simple template match recognises from the melody notes of the beat.

    PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/bench_chord_suggestion.py [--songs N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from studio.data.pop909 import pop909_songs
from studio.ml.generation.chord_suggestion import suggest_chords, suggestion_edit
from studio.music.chords import Chord, parse_label, recognise_chord


def beat_agreement(number_of_songs: int) -> dict[str, float]:
    torch.set_num_threads(1)
    songs = [s for s in pop909_songs() if s.split == "test"][:number_of_songs]
    hits = {"suggested": 0, "tonic": 0, "melody template": 0}
    beats_total, seconds = 0, 0.0
    for ps in songs:
        song = ps.song()
        melody = song.tracks[0]
        t = time.perf_counter()
        suggestion = suggest_chords(song, melody.id)
        seconds += time.perf_counter() - t
        suggestion_edit(song, suggestion).apply(song)
        key = song.key_signature
        tonic = Chord(key.tonic, "min" if key.minor else "maj") if key else None
        notes = melody.arrays()
        for a, b, label in ps.chords:
            truth = parse_label(label)
            if truth is None:
                continue
            for beat in range(a, b, 480):
                if not suggestion.start <= beat < suggestion.end:
                    continue
                beats_total += 1
                lane = song.chord_at(beat)
                hits["suggested"] += bool(lane and truth.same_harmony(lane.chord))
                hits["tonic"] += bool(tonic and truth.same_harmony(tonic))
                sounding = (notes["start"] < beat + 480) & (notes["start"] + notes["duration"]
                                                            > beat)
                w = np.bincount(notes["pitch"][sounding] % 12, minlength=12)
                guess = recognise_chord(w)
                hits["melody template"] += bool(guess and truth.same_harmony(guess))
    out = {k: v / max(1, beats_total) for k, v in hits.items()}
    out["beats"] = beats_total
    out["songs"] = len(songs)
    out["seconds per song"] = seconds / max(1, len(songs))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--songs", type=int, default=91)
    args = p.parse_args()
    for k, v in beat_agreement(args.songs).items():
        print(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}")


if __name__ == "__main__":
    main()
