"""The built-in folk-tune corpus: about 4,000 melodies from the public-domain collections in
music21's corpus (O'Neill's Irish tunes, Ryan's Mammoth Collection, Aird's Airs, American fife
tunes, Northumbrian Minstrelsy), converted ahead of time into resources/data/folk/folk.npz so
that the app never needs music21 (see the README there for the licences and why the Essen
folk songs are not included).

Each tune is one melody track with its meter (pickups as a short first bar) and key signature.
The split is fixed by name (`split_for` of `collection/number title`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from studio.data.dataset import Dataset, Piece, split_for
from studio.midi.parse import ParsedMidi, ParsedTrack, song_from_parsed
from studio.music.song import Song

FOLK_PATH = Path(__file__).resolve().parents[2] / "resources" / "data" / "folk" / "folk.npz"


@dataclass(frozen=True)
class FolkTune:
    name: str
    title: str
    collection: str
    notes: np.ndarray  # (n, 3) pitch, start, duration (480 ticks per quarter)
    meters: list[tuple[int, int, int]]  # (tick, numerator, denominator)
    sharps: int
    minor: bool

    @property
    def split(self) -> str:
        return split_for(self.name)

    def parsed(self) -> ParsedMidi:
        n = self.notes
        rows = np.stack([n[:, 0], n[:, 1], n[:, 2], np.full(len(n), 80)], 1).astype(np.int32)
        return ParsedMidi(480, 1, [ParsedTrack("Melody", 73, False, rows, channel=0)],
                          [(0, 500_000)], list(self.meters), [(0, self.sharps, int(self.minor))])

    def song(self) -> Song:
        return song_from_parsed(self.parsed(), title=self.title or self.name)


@lru_cache(maxsize=1)
def folk_tunes(path: Path = FOLK_PATH) -> tuple[FolkTune, ...]:
    with np.load(path, allow_pickle=False) as z:
        a = {k: z[k] for k in z.files}
    notes = np.stack([a["note_pitch"], a["note_start"], a["note_duration"]], 1).astype(np.int64)
    notes.setflags(write=False)
    no, mo = a["note_offsets"], a["meter_offsets"]
    collections = [str(c) for c in a["collections"]]
    out, seen = [], set()
    for i in range(len(a["title"])):
        file, number, title = str(a["source_file"][i]), str(a["number"][i]), str(a["title"][i])
        name = f"{file}/{number or i} {title}".strip()
        while name in seen:
            name += "'"
        seen.add(name)
        meters = list(zip(a["meter_tick"][mo[i]:mo[i + 1]].tolist(),
                          a["meter_numerator"][mo[i]:mo[i + 1]].tolist(),
                          a["meter_denominator"][mo[i]:mo[i + 1]].tolist()))
        out.append(FolkTune(name, title, collections[int(a["collection"][i])],
                            notes[no[i]:no[i + 1]], meters, int(a["sharps"][i]),
                            bool(a["minor"][i])))
    return tuple(out)


def folk() -> Dataset:
    """The folk-tune dataset (a new Dataset object each call; arrays shared, read-only)."""
    pieces = [Piece(t.name, t.split, f"builtin:folk/{t.name}", None,
                    {"content_hash": f"folk-{t.name}-{len(t.notes)}", "collection": t.collection},
                    t.song, parsed_loader=t.parsed) for t in folk_tunes()]
    return Dataset("folk", pieces, "Folk tunes (Irish, Scottish, English, American; public "
                   "domain collections from music21's corpus), one melody each", builtin=True)
