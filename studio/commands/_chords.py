"""`studio generate chords SONG.mid --track N [-o OUT.mid]`: the pop accompanist's chord symbols
for a melody, printed bar by bar; with -o the song is written with them as chord markers (the
chord lane Studio shows), replacing its chord symbols in those bars."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def run_chords(args: argparse.Namespace, build_request: Callable) -> int:
    from studio.midi import read_song, write_song
    from studio.ml.generation.chord_suggestion import (
        CHORD_MODEL,
        bar_lines_of_chords,
        suggest_chords,
        suggestion_edit,
    )
    from studio.storage import check_writable

    song = read_song(args.input)
    # the track and bars, read and checked as accompany reads them
    request = build_request(argparse.Namespace(**{**vars(args), "mode": "accompany",
                                                  "model": args.model or CHORD_MODEL}), song)
    if args.output:
        check_writable(Path(args.output))
    if not request.track_ids:
        from studio.ml.errors import GenerationError

        raise GenerationError("the file has no melody track to suggest chords for")
    start, end = request.time_range or (None, None)
    suggestion = suggest_chords(song, request.track_ids[0], start, end,
                                model=args.model or CHORD_MODEL, device=args.device)
    print(suggestion.describe(song))
    for line in bar_lines_of_chords(song, suggestion.symbols, suggestion.start, suggestion.end):
        print(f"  {line}")
    if args.output:
        suggestion_edit(song, suggestion).apply(song)
        write_song(song, args.output)
        print(f"{args.output}: written with {len(song.chords)} chord symbols (marker events)")
    return 0
