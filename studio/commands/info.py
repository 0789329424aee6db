"""`studio info FILE`: tracks, notes, duration, tempo, time and key signature of a MIDI file."""

from __future__ import annotations

import argparse

from studio.midi import read_song
from studio.music.keys import estimate_key, key_name, pitch_class_histogram, pitch_name
from studio.music.timing import duration_seconds
from studio.storage.names import printable


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="describe a MIDI file", description=__doc__)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=run)


def _fmt_time(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:05.2f}"


def describe_song(song, name: str) -> str:
    lines = [printable(name)]
    tempo = song.tempos[0].qpm if song.tempos else 120.0
    tempo_text = f"{tempo:.1f} qpm" + (f" ({len(song.tempos)} tempo changes)"
                                       if len(song.tempos) > 1 else "")
    ts = song.time_signatures[0] if song.time_signatures else None
    lines.append(f"  duration   {_fmt_time(duration_seconds(song))}  ({song.end} ticks at 480 PPQ)")
    lines.append(f"  tempo      {tempo_text}")
    if ts:
        lines.append(f"  time sig   {ts.numerator}/{ts.denominator}"
                     + (f" ({len(song.time_signatures)} changes)"
                        if len(song.time_signatures) > 1 else ""))
    if song.key_signature:
        lines.append(f"  key sig    {song.key_signature.name}")
    pitched = [n for t in song.tracks if not t.is_drum for n in t.notes]
    if pitched:
        hist = pitch_class_histogram([n.pitch for n in pitched], [n.duration for n in pitched])
        tonic, minor, _ = estimate_key(hist)
        lines.append(f"  key (est.) {key_name(tonic, minor)}")
    lines.append(f"  tracks     {len(song.tracks)}, notes {song.note_count}")
    for i, t in enumerate(song.tracks, 1):
        kind = "drums" if t.is_drum else f"program {t.program:3d}"
        rng = ""
        if t.notes:
            lo, hi = min(n.pitch for n in t.notes), max(n.pitch for n in t.notes)
            rng = f"  {pitch_name(lo)}-{pitch_name(hi)}"
        lines.append(f"  {i:3d}. {printable(t.name) or '(unnamed)':24.24s} {kind}  ch {t.channel + 1:2d}  "
                     f"{len(t.notes):6d} notes{rng}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    for path in args.files:
        print(describe_song(read_song(path), path))
    return 0
