"""Turning generated music into a `Candidate`: the invertible edit (new tracks, added and removed
notes, as one `Compound`), the preview song, the originality check and the style score.

`Draft` is what a mode produces for one variation; `finish` builds the candidate from it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from studio.ml.checkpoint import LoadedModel
from studio.ml.generation import models
from studio.ml.generation.request import Candidate, GenerationRequest, Originality
from studio.music.edits import (
    AddNotes,
    ChangeNotes,
    Compound,
    Edit,
    RemoveNotes,
    TrackValues,
    note_values,
)
from studio.music.grids import SIXTEENTH
from studio.music.song import Note, Song, Track, new_id

# Programs for the voices a harmonizer adds, by the melody's instrument family (GM): string,
# brass and reed melodies get a section of their family; others keep the melody's program.
SECTIONS = {
    range(40, 48): (41, 42, 43),  # strings: viola, cello, contrabass
    range(56, 64): (60, 57, 58),  # brass: French horn, trombone, tuba
    range(64, 72): (71, 71, 70),  # reeds: clarinet, clarinet, bassoon
    range(72, 80): (71, 71, 70),  # pipes: clarinet, clarinet, bassoon
}


def voice_programs(melody_program: int) -> tuple[int, int, int]:
    for span, programs in SECTIONS.items():
        if melody_program in span:
            return programs
    return (melody_program,) * 3


def free_channels(song: Song, count: int) -> list[int]:
    """`count` MIDI channels no track uses (never 9, the drums); reused in turn if too few."""
    used = {t.channel for t in song.tracks}
    free = [c for c in range(16) if c != 9 and c not in used] or [c for c in range(16) if c != 9]
    return [free[i % len(free)] for i in range(count)]


def unique_name(song: Song, name: str) -> str:
    names = {t.name for t in song.tracks}
    if name not in names:
        return name
    k = 2
    while f"{name} {k}" in names:
        k += 1
    return f"{name} {k}"


def notes_from_pitches(pitches: np.ndarray, start: int, mask: np.ndarray | None = None,
                       velocity: int = 80) -> list[Note]:
    """Notes from per-16th pitches (-1 silent) beginning at tick `start`: runs of one pitch
    become one note; only the steps where `mask` is True count."""
    p = np.asarray(pitches, np.int64)
    keep = np.ones(len(p), bool) if mask is None else np.asarray(mask, bool)
    out: list[Note] = []
    i = 0
    while i < len(p):
        if not keep[i] or p[i] < 0:
            i += 1
            continue
        j = i + 1
        while j < len(p) and keep[j] and p[j] == p[i]:
            j += 1
        out.append(Note(int(p[i]), start + i * SIXTEENTH, (j - i) * SIXTEENTH, velocity))
        i = j
    return out


def new_track(name: str, program: int, channel: int, notes: Sequence[Note]) -> TrackValues:
    return TrackValues(new_id(), name, int(program), False, int(channel),
                       tuple(note_values(n) for n in notes))


def track_to_values(track: Track) -> TrackValues:
    return TrackValues.of(track)


@dataclass
class Draft:
    """One variation before scoring: the edit, its words, and what to score."""

    edits: list[Edit]
    description: str
    new_track_ids: tuple[int, ...] = ()
    scored: Song | None = None  # the generated music for the style critic
    lines: list[list[Note]] = field(default_factory=list)  # new lines for the originality check
    added: int = 0
    removed: int = 0


@dataclass
class Plan:
    """A mode's reading of one request: `draft(index, seed, cancel)` writes one variation;
    `count` variations are asked. `batch(n, seed, cancel)`, where a model writes several
    variations in much less than n times the time of one (the melody models, the harmonizers'
    parallel chains), writes n at once: the engine writes the first variation alone, so it is
    on screen early, and the rest in one batch. Both may raise `Interrupted` on cancel."""

    draft: Callable[[int, int, Callable[[], bool] | None], Draft]
    count: int
    batch: Callable[[int, int, Callable[[], bool] | None], list[Draft]] | None = None


def add_notes(track: Track | TrackValues, notes: Sequence[Note], what: str) -> AddNotes:
    return AddNotes(tuple((track.id, note_values(n)) for n in notes), what)


def remove_notes(notes: Sequence[Note], what: str) -> RemoveNotes:
    return RemoveNotes(tuple(n.id for n in notes), what)


def lengthen(note: Note, ticks: int, what: str) -> ChangeNotes:
    return ChangeNotes.of({note.id: {"duration": note.duration + ticks}}, what)


def finish(draft: Draft, index: int, request: GenerationRequest, loaded: LoadedModel,
           started: float, title: str) -> Candidate:
    """The candidate of a draft: preview song, originality and style computed."""
    edit = Compound(tuple(draft.edits), title)
    preview = request.song.copy()
    edit.apply(preview)
    index_ = models.originality_index(loaded)
    new_notes = sum(len(line) for line in draft.lines)
    if index_ is None:
        originality = Originality(0, new_notes, "", None,
                                  "not checked: the model's training set is not available")
    else:
        originality = index_.check(draft.lines)
    style = None
    if draft.scored is not None and draft.scored.note_count:
        reference = models.style_reference(loaded)
        if reference is not None:
            style = reference.score([draft.scored], names=[f"candidate {index + 1}"])[0]
    return Candidate(index, edit, preview, draft.description, draft.new_track_ids, originality,
                     style, time.perf_counter() - started,
                     {"added": draft.added, "removed": draft.removed})
