"""The instrument tracks a dataset's songs have, by name: what a musician chooses from when a
model learns one track from another (the pop accompanist: which track is the melody, which the
accompaniment).

`track_names(dataset)` reads a sample of the songs (spread over the whole dataset, stored songs
load without re-reading MIDI) and counts in how many of them each pitched track name occurs.
Names are compared as the families compare them (`studio.ml.families.accompanist`: the start of
the name, case and surrounding spaces ignored), so "Piano" and "PIANO " count as one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from studio.data.dataset import Dataset

SAMPLE = 24  # songs read: enough to see the naming of a folder, quick on any dataset


@dataclass(frozen=True)
class TrackName:
    name: str  # as written in the first song that has it (stripped)
    songs: int  # how many of the songs read have a pitched track of this name
    read: int  # how many songs were read


def track_names(dataset: Dataset, sample: int = SAMPLE,
                cancel: Callable[[], bool] | None = None) -> list[TrackName]:
    """The pitched tracks' names in up to `sample` songs spread over `dataset`, the most
    common first (ties: in order of appearance). Songs that cannot be read are skipped; a
    dataset without named tracks (e.g. the built-in chorales' voices) gives what they have."""
    pieces = dataset.pieces
    if not pieces:
        return []
    count = min(sample, len(pieces))
    picked = sorted({round(i * (len(pieces) - 1) / max(1, count - 1)) for i in range(count)})
    seen: Counter[str] = Counter()
    spelled: dict[str, str] = {}
    read = 0
    for index in picked:
        if cancel is not None and cancel():
            break
        try:
            song = pieces[index].song()
        except Exception:  # an unreadable piece says nothing about the naming of the others
            continue
        read += 1
        names = set()
        for track in song.tracks:
            name = track.name.strip()
            if track.is_drum or not track.notes or not name:
                continue
            key = name.upper()
            spelled.setdefault(key, name)
            names.add(key)
        seen.update(names)
    order = {key: i for i, key in enumerate(spelled)}
    ranked = sorted(seen, key=lambda k: (-seen[k], order[k]))
    return [TrackName(spelled[k], seen[k], read) for k in ranked]


def matches(choice: str, name: str) -> bool:
    """Whether a track called `name` is the one a setting `choice` names (its start, case and
    spaces ignored), as the families read the setting."""
    return bool(choice.strip()) and name.strip().upper().startswith(choice.strip().upper())
