"""A recorded take enters the document as ONE undoable edit: the notes go into the track that was
current when recording started, or into a new track "Recording" (added in the same undo step)
when there was none or it was deleted meanwhile."""

from __future__ import annotations

from studio.music.edits import AddNotes, AddTrack, TrackValues, note_values
from studio.music.song import Note, new_id


def commit_take(document, track_id: int | None, notes: list[Note]) -> str:
    """Apply the take to `document`; returns the message for the status bar."""
    if not notes:
        return "Nothing was recorded."
    description = f"Record {len(notes)} notes"
    if track_id is not None and any(t.id == track_id for t in document.song.tracks):
        track = document.song.track(track_id)
        document.apply(AddNotes.of(track, notes, description))
        name = track.name or "the track"
    else:
        tid = new_id()
        document.apply(AddTrack(TrackValues(tid, "Recording", 0, False, 0,
                                            tuple(note_values(n) for n in notes)),
                                description=description))
        document.current_track_id = tid
        name = "a new track"
    return f"Recorded {len(notes)} notes into {name}."
