"""Qt-free music core: the score model, invertible edits, operations and grid conversions."""

from studio.music.edits import (
    AddNotes,
    AddTrack,
    ChangeNotes,
    ChangeSong,
    ChangeTrack,
    Compound,
    EditError,
    MoveNotesToTrack,
    RemoveNotes,
    RemoveTrack,
    TrackValues,
)
from studio.music.song import (
    PPQ,
    ControlChange,
    KeySignature,
    Note,
    PitchBend,
    Song,
    TempoChange,
    TimeSignature,
    Track,
    new_id,
)

__all__ = [
    "PPQ", "Note", "Track", "Song", "TempoChange", "TimeSignature", "KeySignature",
    "ControlChange", "PitchBend", "new_id", "AddNotes", "RemoveNotes", "ChangeNotes",
    "MoveNotesToTrack", "AddTrack", "RemoveTrack", "ChangeTrack", "ChangeSong", "Compound",
    "TrackValues", "EditError",
]
