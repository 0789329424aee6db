"""What the analysis looks at: labelled collections of songs, and their pieces or segments.

A `Corpus` is one class for the critic and one colour on the map: a dataset (built-in or the
user's, by name), a folder of MIDI files, or songs handed over by the app (generated results, the
open song). Pieces without notes and unreadable files are skipped and listed in `skipped` with the
reason, so nothing disappears silently.

`items(...)` turns corpora into `AnalysisItem`s: whole pieces, or fixed-length segments of a few
bars (so that a handful of long piano pieces still gives enough samples, and a map point is
something one can listen to). Each item remembers the piece it came from: cross-validation keeps
all segments of a piece in the same fold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from studio.ml.analysis.errors import AnalysisCancelled, AnalysisError
from studio.music.song import Note, Song, Track
from studio.music.timing import bar_lines

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]
MIDI_SUFFIXES = (".mid", ".midi")


@dataclass(eq=False)
class AnalysisItem:
    """One point of the map / one sample of the critic: a piece or a segment of one."""

    name: str
    label: str
    song: Song
    piece: str
    start_tick: int = 0


@dataclass(eq=False)
class Corpus:
    """Named songs under one label, plus what was skipped and why."""

    label: str
    pieces: list[tuple[str, Song]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pieces)


def has_notes(song: Song) -> bool:
    return any(n for t in song.tracks if not t.is_drum for n in t.notes)


def corpus_from_songs(label: str, named_songs: Iterable[tuple[str, Song]]) -> Corpus:
    """A corpus of songs the app already holds; songs without pitched notes are skipped."""
    corpus = Corpus(label)
    for name, song in named_songs:
        if has_notes(song):
            corpus.pieces.append((name, song))
        else:
            corpus.skipped.append((name, "no notes"))
    return corpus


def _check_cancel(cancel: CancelFn | None) -> None:
    if cancel is not None and cancel():
        raise AnalysisCancelled()


def corpus_from_folder(folder: str | Path, label: str | None = None,
                       progress: ProgressFn | None = None, cancel: CancelFn | None = None
                       ) -> Corpus:
    """Every .mid/.midi file under `folder` (recursive), read with `studio.midi.read_song`."""
    from studio.midi import MidiReadError, read_song

    folder = Path(folder)
    if not folder.is_dir():
        raise AnalysisError(f"{folder} is not a folder")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES
                   and p.is_file())
    corpus = Corpus(label or folder.name)
    if not files:
        raise AnalysisError(f"no MIDI files (.mid, .midi) in {folder}")
    for i, path in enumerate(files):
        _check_cancel(cancel)
        name = path.relative_to(folder).with_suffix("").as_posix()
        try:
            song = read_song(path)
        except MidiReadError as e:
            corpus.skipped.append((name, str(e)))
        else:
            if has_notes(song):
                corpus.pieces.append((name, song))
            else:
                corpus.skipped.append((name, "no notes"))
        if progress is not None:
            progress(i + 1, len(files))
    return corpus


def corpus_from_dataset(name: str, limit: int | None = None, split: str | None = None,
                        cancel: CancelFn | None = None) -> Corpus:
    """A dataset by name (`studio.data.load_dataset`): the built-in `jsb` or a user dataset.

    With `limit`, pieces are taken evenly across the dataset (deterministic)."""
    from studio.data import load_dataset

    try:
        dataset = load_dataset(name)
    except KeyError as e:
        raise AnalysisError(str(e.args[0]) if e.args else f"no dataset named {name!r}") from None
    pieces = dataset.split(split) if split else list(dataset.pieces)
    if limit is not None and 0 < limit < len(pieces):
        pieces = [pieces[i] for i in np.linspace(0, len(pieces) - 1, limit).round().astype(int)]
    named = []
    for p in pieces:
        _check_cancel(cancel)
        named.append((p.name, p.song()))
    return corpus_from_songs(dataset.name, named)


def load_corpus(spec: str | Path, limit: int | None = None, cancel: CancelFn | None = None
                ) -> Corpus:
    """A folder of MIDI files, one MIDI file, or a dataset name, whichever `spec` is."""
    path = Path(spec)
    if path.is_dir():
        corpus = corpus_from_folder(path, cancel=cancel)
        if limit is not None and 0 < limit < len(corpus.pieces):
            keep = np.linspace(0, len(corpus.pieces) - 1, limit).round().astype(int)
            corpus.pieces = [corpus.pieces[i] for i in keep]
    elif path.is_file():
        from studio.midi import MidiReadError, read_song

        try:
            song = read_song(path)
        except MidiReadError as e:
            raise AnalysisError(str(e)) from None
        corpus = corpus_from_songs(path.stem, [(path.stem, song)])
    elif any(sep in str(spec) for sep in "/\\") or path.suffix.lower() in MIDI_SUFFIXES:
        raise AnalysisError(f"{spec}: no such file or folder")
    else:
        corpus = corpus_from_dataset(str(spec), limit=limit, cancel=cancel)
    if not corpus.pieces:
        reasons = "; ".join(f"{n}: {why}" for n, why in corpus.skipped[:3])
        raise AnalysisError(f"nothing usable in {spec}: all {len(corpus.skipped)} pieces were "
                            f"skipped ({reasons}{', ...' if len(corpus.skipped) > 3 else ''})")
    return corpus


def segment_song(song: Song, bars: int) -> list[tuple[int, Song]]:
    """Consecutive segments of `bars` bars (following the song's meter), as (start tick, song).

    Notes that sound across a segment boundary are cut to it. Drum tracks are left out. A song
    shorter than one segment is returned whole."""
    if bars <= 0:
        raise AnalysisError("segments must be at least one bar long")
    lines = bar_lines(song.end, song.time_signatures)
    bounds = lines[::bars]
    if len(bounds) < 2:
        return [(0, song)]
    if bounds[-1] < song.end:
        bounds.append(song.end)
    tracks = []
    for t in song.tracks:
        if t.is_drum or not t.notes:
            continue
        a = t.arrays()
        tracks.append((t, a["pitch"], a["start"], a["start"] + a["duration"], a["velocity"]))
    out = []
    for s, e in zip(bounds[:-1], bounds[1:]):
        seg = Song(tempos=list(song.tempos[:1]), time_signatures=[song.time_signature_at(s)
                                                                  ._replace(tick=0)],
                   key_signatures=[k._replace(tick=0) for k in song.key_signatures[:1]],
                   title=song.title)
        for t, pitch, start, end, vel in tracks:
            idx = np.nonzero((start < e) & (end > s))[0]
            if not len(idx):
                continue
            nt = Track(t.name, t.program, False, t.channel)
            cs = np.maximum(start[idx], s)
            ce = np.minimum(end[idx], e)
            nt.notes = [Note(int(p), int(a) - s, max(1, int(b - a)), int(v))
                        for p, a, b, v in zip(pitch[idx], cs, ce, vel[idx])]
            seg.tracks.append(nt)
        out.append((s, seg))
    return out


def _evenly(seq: Sequence, count: int) -> list:
    if count <= 0 or len(seq) <= count:
        return list(seq)
    return [seq[i] for i in np.linspace(0, len(seq) - 1, count).round().astype(int)]


def items(corpora: Sequence[Corpus], segment_bars: int | None = 4, max_per_piece: int = 16,
          min_notes: int = 8, max_per_label: int | None = None) -> list[AnalysisItem]:
    """Items of every corpus: whole pieces (`segment_bars=None`) or segments of that many bars.

    Segments with fewer than `min_notes` notes are dropped; a piece gives at most
    `max_per_piece` segments (evenly spread), a label at most `max_per_label` items (evenly
    spread), so that a long symphony or a big dataset does not drown the others."""
    out: list[AnalysisItem] = []
    for corpus in corpora:
        mine: list[AnalysisItem] = []
        for name, song in corpus.pieces:
            if segment_bars is None:
                mine.append(AnalysisItem(name, corpus.label, song, name, 0))
                continue
            segs = [(s, seg) for s, seg in segment_song(song, segment_bars)
                    if seg.note_count >= min_notes]
            if not segs and has_notes(song):
                segs = [(0, song)]
            lines = bar_lines(song.end, song.time_signatures)
            for s, seg in _evenly(segs, max_per_piece):
                bar = int(np.searchsorted(lines, s, side="right"))
                label = f"{name} bars {bar}-{bar + segment_bars - 1}" if len(segs) > 1 else name
                if seg is not song:
                    seg.title = label
                mine.append(AnalysisItem(label, corpus.label, seg, name, s))
        out.extend(_evenly(mine, max_per_label) if max_per_label else mine)
    return out


def check_labels(all_items: Sequence[AnalysisItem], min_classes: int = 2) -> list[str]:
    """The labels, in first-seen order; an `AnalysisError` when there are fewer than needed."""
    labels = list(dict.fromkeys(i.label for i in all_items))
    if not all_items:
        raise AnalysisError("there is nothing to analyse: no piece has any notes")
    if len(labels) < min_classes:
        raise AnalysisError(
            f"the critic needs at least two classes to tell apart, got only {labels[0]!r}; "
            "give two or more datasets or folders")
    return labels
