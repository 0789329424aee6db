"""`studio render SONG.mid -o OUT.wav`: render a MIDI file to audio with the built-in synth."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from studio.midi import read_song


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="render a MIDI file to a WAV file with the built-in synth",
                       description="Render a MIDI file to a 16-bit stereo WAV file with the "
                                   "built-in General MIDI synth (or another SoundFont).")
    p.add_argument("song", metavar="SONG.mid")
    p.add_argument("-o", "--output", metavar="OUT.wav",
                   help="the WAV file to write (default: SONG.wav beside the song)")
    p.add_argument("--soundfont", metavar="FILE.sf2",
                   help="a SoundFont to use instead of the built-in TimGM6mb.sf2")
    p.add_argument("--sample-rate", type=int, default=44100, choices=(22050, 44100, 48000, 96000))
    p.add_argument("--normalize", nargs="?", type=float, const=-1.0, default=None, metavar="DBFS",
                   help="scale the audio so that its peak is at DBFS (default -1 dBFS); the "
                        "song is rendered twice, once to measure the peak")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from studio.midi.render import render_song

    source = Path(args.song)
    out = Path(args.output) if args.output else source.with_suffix(".wav")
    song = read_song(source)
    show = sys.stderr.isatty()

    def progress(fraction: float) -> None:
        if show:
            print(f"\rrendering {fraction * 100:5.1f}%", end="", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    result = render_song(song, out, soundfont=args.soundfont, sample_rate=args.sample_rate,
                         progress=progress, normalize_dbfs=args.normalize)
    took = time.perf_counter() - t0
    if show:
        print("\r" + " " * 20 + "\r", end="", file=sys.stderr)
    minutes, seconds = divmod(result.seconds, 60)
    peak = 20 * math.log10(result.peak) if result.peak > 0 else float("-inf")
    print(f"{out}: {int(minutes)}:{seconds:04.1f} of audio, {song.note_count} notes, rendered in "
          f"{took:.1f} s ({result.seconds / max(took, 1e-9):.0f}x real time), peak "
          f"{peak:.1f} dBFS" + (" (normalized)" if args.normalize is not None else ""))
    if result.peak > 1.0:
        print(f"note: the mix peaked at {result.peak:.2f} and was clipped", file=sys.stderr)
    return 0
