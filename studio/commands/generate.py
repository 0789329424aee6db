"""`studio generate MODE INPUT.mid -o OUTPUT.mid`: write new music with a model, on your own MIDI
file.

Modes:
  melody       a new melody of --bars bars as a new track (INPUT optional)
  continue     continue a track (--track) for --bars bars, from the end of --to-bar or of the
               track
  harmonize    alto, tenor and bass under a melody track (--track), as new tracks; with
               --from-bar/--to-bar and existing Alto/Tenor/Bass tracks, re-harmonize those bars
  infill       regenerate bars --from-bar..--to-bar of the chosen tracks (--track, repeatable),
               keeping every note outside them
  interpolate  --steps melodies between two melody tracks (--track A --track B), in one new
               track after the end of the song
  accompany    a piano accompaniment (bass, chords and rhythm in a pop style) under a melody
               track (--track; default: a track named Melody, else the first), as a new track;
               it follows --chords when given ("C G Am F": a chord a bar, repeated if shorter
               than the song; "| C G | Am F |": the chords of each bar), else the file's chord
               symbols (marker events, as Studio writes its chord lane) when it has them in
               those bars, else the model's own chord suggestion; --from-bar/--to-bar
               accompany only those bars
  chords       suggest chord symbols for a melody track (--track; default as for accompany),
               printed bar by bar; with -o, the file is written with them as chord markers
               (replacing its chord symbols in those bars); --from-bar/--to-bar: only those bars
  pop-infill   regenerate bars --from-bar..--to-bar of a pop song's melody, bridge and piano
               tracks (--track, repeatable; default: all three, found by their names MELODY,
               BRIDGE, PIANO), keeping every note outside the bars and every track not
               chosen; the piano follows --chords, else the file's chord markers, else the
               chords its piano plays

melody and continue follow --chords too (with a recurrent melody model: pop-lstm, folk-lstm,
lstm-melody): the chord text is laid out a bar per bar from where the new notes begin.

Tracks are numbered from 1 as `studio info` lists them; bars from 1 (--to-bar included). With
--count K above 1, OUTPUT-1.mid ... OUTPUT-K.mid are written. Each result's originality (the
longest run of notes shared with the model's training set) and style score are printed.

Examples:
  studio generate harmonize melody.mid -o chorale.mid
  studio generate melody -o tune.mid --bars 16 --key "D minor" --count 3 --seed 7
  studio generate infill chorale.mid -o fixed.mid --track 2 --track 3 --from-bar 5 --to-bar 6
  studio generate accompany song.mid --track 1 -o band.mid --chords "| C | G | Am | F |"
  studio generate chords song.mid --track 1 -o song-with-chords.mid
  studio generate continue song.mid --track 1 -o more.mid --chords "| C | G | Am | F |"
  studio generate pop-infill song.mid -o new.mid --from-bar 17 --to-bar 20 --track 1 --track 3
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from studio.ml.modes import GENERATION_MODES
from studio.music.keys import FLAT_NAMES, SHARP_NAMES


class GenerateArgumentError(ValueError):
    """A command-line value that cannot be read (printed as one line)."""

    user_facing = True


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="generate melodies, continuations, harmonizations, "
                       "infills, interpolations and accompaniments", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=(*GENERATION_MODES, "chords"), metavar="MODE",
                   help=", ".join(GENERATION_MODES) + " or chords (suggest chord symbols)")
    p.add_argument("input", nargs="?", metavar="INPUT.mid", help="your MIDI file (optional "
                   "for melody)")
    p.add_argument("-o", "--output", metavar="OUTPUT.mid", help="where the result goes "
                   "(needed by every mode but chords)")
    p.add_argument("--model", help="a model name from `studio models` or a model file "
                   "(default: the best shipped model for the mode)")
    p.add_argument("--bars", type=int, default=8, help="bars to write (melody, continue; "
                   "default 8)")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=0)
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=-1, help="the same seed gives the same result")
    p.add_argument("--device", default="cpu", help="where the model runs: cpu (default), auto, "
                   "cuda, cuda:N or mps")
    p.add_argument("--count", type=int, default=1, help="number of variations")
    p.add_argument("--iterations", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--track", type=int, action="append", metavar="N",
                   help="track number (repeat for infill and interpolate)")
    p.add_argument("--from-bar", type=int, metavar="A")
    p.add_argument("--to-bar", type=int, metavar="B")
    p.add_argument("--at-bar", type=int, metavar="N", help="where a new melody starts, or "
                   "where continue starts (instead of the end of the track)")
    p.add_argument("--key", help='keep new notes in a key, e.g. "D minor" or "Bb major"')
    p.add_argument("--chromatic", action="store_true", help="harmonize/infill with --key: "
                   "also allow new notes outside the key's scale")
    p.add_argument("--range", dest="pitch_range", metavar="LOW-HIGH",
                   help='pitch range of new notes, e.g. "C4-A5" or "60-81"')
    p.add_argument("--chords", metavar="TEXT", help='chords for accompany, melody, continue '
                   'and pop-infill, e.g. "C G Am F" or "| C G | Am F |" (accompany without it: '
                   'the file\'s chord markers, if any, else suggested chords)')
    p.add_argument("--texture", choices=("songs", "model"), help="accompany: the piano plays "
                   "bars of the model's training songs re-voiced to the chords (songs) or the "
                   "network's own voicings (model); default: what the model's card says. "
                   "pop-infill: songs plays bars of the song's own piano part outside the range")
    p.add_argument("--steps", type=int, default=5, help="melodies between the two ends "
                   "(interpolate; default 5)")
    p.set_defaults(func=run)


def parse_key(text: str) -> tuple[int, bool]:
    """'D minor', 'Bb major', 'f#m', 'C' -> (tonic pitch class, minor)."""
    m = re.fullmatch(r"\s*([A-Ga-g])([#b]?)\s*(major|minor|maj|min|m)?\s*", text)
    if not m:
        raise GenerateArgumentError(f"cannot read the key {text!r}; write it like \"D minor\" "
                                    "or \"Bb major\"")
    name = m.group(1).upper() + m.group(2)
    names = FLAT_NAMES if m.group(2) == "b" else SHARP_NAMES
    if name not in names:
        enharmonic = {"Cb": 11, "Fb": 4, "E#": 5, "B#": 0}
        if name not in enharmonic:
            raise GenerateArgumentError(f"{name} is not a note name")
        tonic = enharmonic[name]
    else:
        tonic = names.index(name)
    return tonic, (m.group(3) or "major").lower() in ("minor", "min", "m")


def parse_pitch(text: str) -> int:
    text = text.strip()
    if text.isdigit():
        value = int(text)
    else:
        m = re.fullmatch(r"([A-Ga-g][#b]?)(-?\d)", text)
        if not m:
            raise GenerateArgumentError(f"cannot read the pitch {text!r}; write C4 or 60")
        tonic, _ = parse_key(m.group(1))
        value = 12 * (int(m.group(2)) + 1) + tonic
    if not 0 <= value <= 127:
        raise GenerateArgumentError(f"{text} is outside MIDI notes 0-127")
    return value


def parse_range(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*([A-Ga-g][#b]?-?\d|\d+)\s*-\s*([A-Ga-g][#b]?-?\d|\d+)\s*", text)
    if not m:
        raise GenerateArgumentError(f"cannot read the range {text!r}; write it like C4-A5")
    lo, hi = parse_pitch(m.group(1)), parse_pitch(m.group(2))
    if lo > hi:
        raise GenerateArgumentError(f"the range {text} has its highest note first")
    return lo, hi


def bar_tick(song, bar: int) -> int:
    """Tick where 1-based `bar` begins."""
    from studio.music.timing import bar_lines

    if bar < 1:
        raise GenerateArgumentError("bars are counted from 1")
    lines = bar_lines(max(song.end, 1) + bar * 7680, song.time_signatures)
    return lines[bar - 1]


def output_paths(output: Path, count: int) -> list[Path]:
    if count <= 1:
        return [output]
    return [output.with_name(f"{output.stem}-{i}{output.suffix or '.mid'}")
            for i in range(1, count + 1)]


def build_request(args: argparse.Namespace, song):
    from studio.ml.family import SamplingOptions
    from studio.ml.generation import GenerationRequest, default_model

    tracks = []
    for number in args.track or []:
        if not 1 <= number <= len(song.tracks):
            have = len(song.tracks)
            raise GenerateArgumentError(f"there is no track {number}; the file has {have} "
                                        f"track{'s' if have != 1 else ''} (see `studio info`)")
        tracks.append(song.tracks[number - 1].id)
    if not tracks and args.mode in ("continue", "harmonize"):
        pitched = [t for t in song.tracks if t.notes and not t.is_drum]
        if pitched:
            tracks = [pitched[0].id]
    if not tracks and args.mode in ("accompany", "chords"):
        pitched = [t for t in song.tracks if t.notes and not t.is_drum]
        named = [t for t in pitched if t.name.strip().lower().startswith("melody")]
        if named or pitched:
            tracks = [(named or pitched)[0].id]
    if not tracks and args.mode == "pop-infill":
        from studio.ml.generation.pop_infill import track_roles

        tracks = [t.id for t in track_roles(song).values() if t.notes]
    if not tracks and args.mode == "interpolate":
        tracks = [t.id for t in song.tracks if t.notes and not t.is_drum][:2]
    time_range = None
    if args.from_bar is not None or args.to_bar is not None:
        first = args.from_bar or 1
        last = args.to_bar or first
        if last < first:
            raise GenerateArgumentError("--to-bar comes before --from-bar")
        time_range = (bar_tick(song, first), bar_tick(song, last + 1))
    options = SamplingOptions(args.temperature, args.top_k, args.top_p, args.seed, args.count,
                              args.iterations)
    return GenerationRequest(
        args.mode, args.model or default_model(args.mode), song, tuple(tracks), time_range,
        args.bars, options, parse_key(args.key) if args.key else None,
        parse_range(args.pitch_range) if args.pitch_range else None, args.steps,
        bar_tick(song, args.at_bar) if args.at_bar else None, device=args.device,
        chords=args.chords,
        chromatic=args.chromatic, texture=args.texture)


def describe(candidate, path: Path) -> str:
    o, s = candidate.originality, candidate.style
    lines = [f"{path}: {candidate.description} ({candidate.seconds:.2f} s)"]
    if o is not None:
        lines.append(f"  originality: {o.verdict}")
    if s is not None:
        lines.append(f"  style score {s.style_score:.2f} (0-1, like the training set), nearest "
                     f"training piece {s.nearest_piece} at distance {s.nearest_distance:.2f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from studio.midi import read_song, write_song
    from studio.ml.generation import generate
    from studio.music.song import Song
    from studio.storage import check_writable

    if args.input is None and args.mode != "melody":
        raise GenerateArgumentError(f"{args.mode} needs an input MIDI file")
    if args.output is None and args.mode != "chords":
        raise GenerateArgumentError(f"{args.mode} needs an output file (-o OUTPUT.mid)")
    if args.mode == "chords":
        from studio.commands._chords import run_chords

        return run_chords(args, build_request)
    song = read_song(args.input) if args.input else Song()
    request = build_request(args, song)
    paths = output_paths(Path(args.output), args.count)
    check_writable(paths[0])  # like render and map: a missing folder is an error, said now
    written = 0

    def save(candidate) -> None:
        nonlocal written
        path = paths[candidate.index] if candidate.index < len(paths) else paths[-1]
        write_song(candidate.preview, path)
        written += 1
        print(describe(candidate, path), flush=True)

    def report(fraction: float, text: str) -> None:
        if sys.stderr.isatty():
            print(f"\r{int(fraction * 100):3d}% {text:50.50s}", end="", file=sys.stderr,
                  flush=True)

    candidates = generate(request, on_candidate=save, progress=report)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if len(candidates) < args.count:
        print(f"({request.mode} gives {len(candidates)} result with this model)")
    return 0 if written else 1
