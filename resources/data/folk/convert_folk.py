"""Convert folk tunes of music21's corpus into `folk.npz`, the built-in `folk` dataset.

Run once, from the repository root, with music21 installed (the optional extra `musicxml`):

    PYTHONPATH=$PWD python resources/data/folk/convert_folk.py

The app itself never needs music21: it reads only the arrays written here. Which collections
are taken, and why the Essen folk songs are not, is in README.md beside this script.

Per tune: the notes of its first part (pitch, start, duration at 480 ticks per quarter; repeats
as written, not unfolded; grace notes left out), its time signatures with the pickup bar written
as a short first bar (as MIDI files write anacruses), and its key signature.
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "folk.npz"
PPQ = 480
# (collection folder in music21's corpus, short name, title)
COLLECTIONS = (
    ("oneills1850", "oneills", "O'Neill's Music of Ireland (1903 edition of the 1850 tunes)"),
    ("ryansMammoth", "ryans", "Ryan's Mammoth Collection (1883)"),
    ("airdsAirs", "airds", "Aird's Selection of Scotch, English, Irish and Foreign Airs "
                           "(1778-1803)"),
    ("miscFolk", "misc", "American fife tunes and Northumbrian Minstrelsy (1882)"),
)


def _ticks(quarter_length) -> int:
    return int(round(Fraction(quarter_length) * PPQ))


def _meter(part) -> list[tuple[int, int, int]]:
    """(tick, numerator, denominator) per time signature, the pickup as a short first bar."""
    import music21 as m21

    measures = list(part.getElementsByClass(m21.stream.Measure))
    sigs = []
    for ts in part.recurse().getElementsByClass(m21.meter.TimeSignature):
        tick = _ticks(ts.getOffsetInHierarchy(part))
        if not sigs or sigs[-1][1:] != (ts.numerator, ts.denominator):
            sigs.append((tick, ts.numerator, ts.denominator))
    if not sigs:
        sigs = [(0, 4, 4)]
    # a meter that lasts less than one of its bars (music21 marks odd repeat endings so) is
    # not a meter of the tune
    kept = [s for k, s in enumerate(sigs) if k + 1 == len(sigs)
            or sigs[k + 1][0] - s[0] >= _ticks(Fraction(4 * s[1], s[2]))]
    sigs = [(0, *kept[0][1:]), *kept[1:]] if kept else [(0, 4, 4)]
    if measures:
        first = measures[0]
        bar = _ticks(Fraction(4 * sigs[0][1], sigs[0][2]))
        length = _ticks(first.duration.quarterLength)
        if 0 < length < bar and first.paddingLeft:
            for den in sorted({sigs[0][2], 8, 16, 32}):
                unit = PPQ * 4 // den
                if length % unit == 0:
                    sigs = [(0, length // unit, den), *[(max(t, length), n, d)
                                                          for t, n, d in sigs]]
                    break
    return sigs


def _tune(score) -> dict | None:
    import music21 as m21

    parts = list(score.parts) or [score]
    part = parts[0]
    notes = []
    for n in part.recurse().notes:
        if n.duration.isGrace or n.duration.quarterLength <= 0:
            continue
        start = _ticks(n.getOffsetInHierarchy(part))
        dur = _ticks(n.duration.quarterLength)
        pitches = [n.pitch] if isinstance(n, m21.note.Note) else list(n.pitches)[-1:]
        for p in pitches:  # a chord in a melody: its top note
            notes.append((p.midi, start, dur))
    if len(notes) < 8:
        return None
    keys = list(part.recurse().getElementsByClass(m21.key.KeySignature))
    sharps = keys[0].sharps if keys else 0
    minor = bool(keys and isinstance(keys[0], m21.key.Key) and keys[0].mode == "minor")
    title = (score.metadata.title if score.metadata and score.metadata.title else "")[:60]
    number = score.metadata.number if score.metadata and score.metadata.number else ""
    return {"notes": np.array(sorted(notes, key=lambda x: (x[1], x[0])), np.int64),
            "meter": np.array(_meter(part), np.int64), "sharps": sharps, "minor": minor,
            "title": title, "number": str(number)[:12]}


def convert(out: Path = OUT) -> dict[str, np.ndarray]:
    import music21 as m21

    root = Path(m21.corpus.__file__).parent
    tunes: list[dict] = []
    for c, (folder, short, _) in enumerate(COLLECTIONS):
        for f in sorted((root / folder).glob("*.abc")):
            t0 = time.time()
            try:
                opus = m21.converter.parse(f, forceSource=True)
            except Exception as e:  # a file music21 cannot read: left out, said
                print(f"  {f.name}: not read ({type(e).__name__}: {e})")
                continue
            scores = list(opus.scores) if hasattr(opus, "scores") and opus.scores else [opus]
            kept = 0
            for s in scores:
                try:
                    t = _tune(s)
                except Exception as e:
                    print(f"  {f.name}: a tune left out ({type(e).__name__}: {e})")
                    continue
                if t is not None:
                    t["collection"] = c
                    t["file"] = f"{short}/{f.stem}"
                    tunes.append(t)
                    kept += 1
            print(f"{folder}/{f.name}: {kept} tunes ({time.time() - t0:.1f} s)", flush=True)

    def offsets(key: str) -> np.ndarray:
        return np.concatenate([[0], np.cumsum([len(t[key]) for t in tunes])]).astype(np.int64)

    notes = np.concatenate([t["notes"] for t in tunes])
    meters = np.concatenate([t["meter"] for t in tunes])
    arrays = {
        "note_pitch": notes[:, 0].astype(np.int8), "note_start": notes[:, 1].astype(np.int32),
        "note_duration": notes[:, 2].astype(np.int32), "note_offsets": offsets("notes"),
        "meter_tick": meters[:, 0].astype(np.int32), "meter_numerator": meters[:, 1].astype(np.int8),
        "meter_denominator": meters[:, 2].astype(np.int8), "meter_offsets": offsets("meter"),
        "sharps": np.array([t["sharps"] for t in tunes], np.int8),
        "minor": np.array([t["minor"] for t in tunes], np.bool_),
        "collection": np.array([t["collection"] for t in tunes], np.int8),
        "collections": np.array([c[2] for c in COLLECTIONS], dtype="U80"),
        "source_file": np.array([t["file"] for t in tunes], dtype="U40"),
        "number": np.array([t["number"] for t in tunes], dtype="U12"),
        "title": np.array([t["title"] for t in tunes], dtype="U60"),
    }
    np.savez_compressed(out, **arrays)
    return arrays


if __name__ == "__main__":
    a = convert(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
    print(f"{len(a['title'])} tunes, {len(a['note_pitch'])} notes -> {OUT} "
          f"({OUT.stat().st_size / 2**20:.1f} MiB)")
