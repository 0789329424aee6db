"""`studio import FOLDER --name NAME`: import a folder of MIDI files as a dataset.

Runs the same import as the Dataset panel, with a progress line in the terminal. Importing the
same folder again parses only new or changed files, and continues an interrupted import. Ctrl+C
stops cleanly and keeps what was imported.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

from studio.data.importer import ImportProgress, import_folder
from studio.data.piece_content import TRACK_SELECTIONS, ImportOptions
from studio.storage.names import printable


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import a folder of MIDI files as a dataset",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", metavar="FOLDER", help="folder with .mid/.midi files (searched "
                   "recursively; MusicXML too when music21 is installed)")
    p.add_argument("--name", required=True, help="the dataset's name")
    p.add_argument("--tracks", choices=TRACK_SELECTIONS, default="all",
                   help="keep all tracks, only the melody, or four voices (SATB)")
    p.add_argument("--keep-drums", action="store_true", help="keep drum tracks")
    p.add_argument("--min-seconds", type=float, default=0.0, metavar="S",
                   help="leave out pieces shorter than S seconds")
    p.add_argument("--meter", action="append", default=[], metavar="N/D",
                   help="keep only pieces in this meter (repeat for several)")
    p.add_argument("--workers", type=int, default=None, help="parser processes (default: "
                   "one per core)")
    p.set_defaults(func=run)


class ProgressLine:
    """A single terminal line redrawn at most 10 times a second (only on a terminal)."""

    def __init__(self, stream=None) -> None:
        self.stream = stream if stream is not None else sys.stderr  # the one in use now
        self.tty = self.stream.isatty()
        self.last = 0.0

    def __call__(self, p: ImportProgress) -> None:
        now = time.monotonic()
        if not self.tty or (now - self.last < 0.1 and p.done < p.total):
            return
        self.last = now
        if p.phase == "scanning":
            text = f"scanning {p.current}"
        else:
            width = 24
            filled = int(width * p.done / p.total) if p.total else width
            text = (f"[{'#' * filled}{'.' * (width - filled)}] {p.done}/{p.total} files, "
                    f"{p.added} new pieces, {p.problems} problems  {p.current[-30:]}")
        self.stream.write("\r" + text[:110].ljust(110))
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 110 + "\r")
            self.stream.flush()


def print_problems(title: str, items: list[tuple[str, str]], limit: int = 20) -> None:
    if not items:
        return
    print(f"{title} ({len(items)}):")
    for rel, reason in items[:limit]:
        print(f"  {printable(rel)}: {printable(reason)}")
    if len(items) > limit:
        print(f"  ... and {len(items) - limit} more (studio datasets show NAME lists them all)")


def run(args: argparse.Namespace) -> int:
    options = ImportOptions(tracks=args.tracks, exclude_drums=not args.keep_drums,
                            min_seconds=args.min_seconds, meters=tuple(args.meter))
    stop = {"flag": False}

    def on_interrupt(signum, frame) -> None:
        stop["flag"] = True

    previous = signal.signal(signal.SIGINT, on_interrupt)
    line = ProgressLine()
    try:
        report = import_folder(args.folder, args.name, options, progress=line,
                               cancel=lambda: stop["flag"], workers=args.workers)
    finally:
        signal.signal(signal.SIGINT, previous)
        line.finish()
    print(printable(report.summary()))
    print_problems("Unreadable files", report.bad)
    print_problems("Duplicates skipped", [(a, f"same as {b}") for a, b in report.duplicates])
    print_problems("Filtered out", report.filtered)
    for w in report.warnings:
        print(f"warning: {printable(w)}")
    if report.cancelled:
        print("Run the same command again to continue where it stopped.")
        return 130
    return 0
