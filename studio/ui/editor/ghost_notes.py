"""Ghost notes: a candidate (a generated variation under audition, before it enters the song)
drawn over the piano roll as outlined, translucent notes in the colour of their track.

Ghost notes are not part of the song: they are never hit-tested (so never selected, moved or
deleted), never edited and never in the undo stack; the roll only paints them. A candidate is
either a whole `Song` (a preview: the user's song with the variation applied; only the notes that
differ from the song are ghosts, matched by note id, so what is already there is not drawn twice)
or a mapping {track id: notes}. Painting culls each ghost track to the view by binary search, as
for real notes, and rasterizes them with the notes (`note_raster`: a translucent fill with an
outline) into the canvas's cached static layer, so a repaint for the playhead costs nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from studio.music.song import Note, Song, Track
from studio.ui.editor import pianoroll_paint as paint
from studio.ui.editor.note_columns import TrackColumns
from studio.ui.editor.pianoroll_geometry import ViewGeometry

Candidate = Song | Mapping[int, Sequence[Note]]


@dataclass
class GhostTrack:
    """The ghost notes of one track; `index` is the track's place (for its colour)."""

    track_id: int
    index: int
    cols: TrackColumns

    def __len__(self) -> int:
        return len(self.cols)


def _columns(track_id: int, notes: Sequence[Note]) -> TrackColumns:
    cols = TrackColumns.of(Track("ghost", notes=list(notes), id=track_id))
    return cols


def ghost_tracks(candidate: Candidate | None, song: Song) -> list[GhostTrack]:
    """The notes of `candidate` that are not in `song` (by id and value), per track."""
    if candidate is None:
        return []
    out: list[GhostTrack] = []
    if isinstance(candidate, Song):
        current = {n.id: n.key() for t in song.tracks for n in t.notes}
        for index, track in enumerate(candidate.tracks):
            notes = [n for n in track.notes if current.get(n.id) != n.key()]
            if notes:
                out.append(GhostTrack(track.id, index, _columns(track.id, notes)))
        return out
    if not isinstance(candidate, Mapping):
        raise TypeError("ghost notes come from a Song or a {track id: notes} mapping, "
                        f"not {type(candidate).__name__}")
    ids = [t.id for t in song.tracks]
    for k, (track_id, notes) in enumerate(candidate.items()):
        notes = list(notes)
        if notes:
            index = ids.index(track_id) if track_id in ids else len(ids) + k
            out.append(GhostTrack(int(track_id), index, _columns(int(track_id), notes)))
    return out


def paint_ghost_label(painter: QPainter, geom: ViewGeometry, text: str) -> None:
    """A small caption at the top right of the canvas: what the ghost notes are."""
    if not text:
        return
    metrics = painter.fontMetrics()
    w = metrics.horizontalAdvance(text) + 12
    h = metrics.height() + 6
    box = QRectF(geom.width - w - 6, 6, w, h)
    painter.fillRect(box, QColor(0, 0, 0, 150))
    painter.setPen(QColor("#e6e8eb"))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
    paint.no_pen(painter)
