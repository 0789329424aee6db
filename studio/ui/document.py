"""The open document: the song, its undo stack, the selection, and where it lives on disk.

Every change to the song goes through `Document.apply(edit)`, which pushes one `EditCommand` on
the QUndoStack. Commands hold Qt-free edits from `studio.music.edits` (note ids and values, never
graphics items). A drag that sends many edits with the same `merge_key` undoes as one step
(Qt's `mergeWith`, as in the undo framework example).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.music.edits import Compound, Edit
from studio.music.song import Song

_MERGE_ID = 0x5354  # any constant: all EditCommands may merge when their keys match


class EditCommand(QUndoCommand):
    """One undo step over a Qt-free edit. `redo` applies it; `undo` applies its inverse."""

    def __init__(self, document: Document, edit: Edit, merge_key: object = None) -> None:
        super().__init__(edit.description)
        self.document = document
        self.edit = edit
        self.inverse: Edit | None = None
        self.merge_key = merge_key

    def redo(self) -> None:
        self.inverse = self.edit.apply(self.document.song)
        self.document.changed.emit()

    def undo(self) -> None:
        assert self.inverse is not None
        self.edit = self.inverse.apply(self.document.song)
        self.document.changed.emit()

    def id(self) -> int:
        return _MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt name)
        if not isinstance(other, EditCommand) or other.merge_key != self.merge_key:
            return False
        # self was applied, then other: undoing both = other's inverse, then self's inverse.
        self.edit = Compound((self.edit, other.edit), self.edit.description)
        self.inverse = Compound((other.inverse, self.inverse), self.edit.description)
        return True


class Document(QObject):
    """The song being edited. Signals: `changed` after any edit (including undo/redo),
    `song_replaced` when a new song is loaded, `selection_changed`, `path_changed`."""

    changed = Signal()
    song_replaced = Signal()
    selection_changed = Signal()
    path_changed = Signal()
    track_flags_changed = Signal()  # mute / solo / visibility (view state, not undoable edits)

    def __init__(self, song: Song | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.song = song if song is not None else Song()
        self.undo_stack = QUndoStack(self)
        self.selected_note_ids: set[int] = set()
        self.current_track_id: int | None = self.song.tracks[0].id if self.song.tracks else None
        self.path: Path | None = None
        self.muted: set[int] = set()  # track ids
        self.soloed: set[int] = set()
        self.hidden: set[int] = set()

    def audible_track_ids(self) -> set[int]:
        """Tracks that playback should sound: the soloed ones if any, minus the muted."""
        ids = {t.id for t in self.song.tracks}
        if self.soloed & ids:
            ids &= self.soloed
        return ids - self.muted

    # ---- editing --------------------------------------------------------------------------------
    def apply(self, edit: Edit, merge_key: object = None) -> None:
        """Apply `edit` as one undoable step (merged with the previous step on equal keys)."""
        self.undo_stack.push(EditCommand(self, edit, merge_key))

    def set_song(self, song: Song, path: str | Path | None = None) -> None:
        """Replace the whole song (open, new); clears undo history and selection."""
        self.song = song
        self.undo_stack.clear()
        self.selected_note_ids = set()
        self.current_track_id = song.tracks[0].id if song.tracks else None
        self.path = Path(path) if path is not None else None
        self.muted, self.soloed, self.hidden = set(), set(), set()
        self.undo_stack.setClean()
        self.song_replaced.emit()
        self.selection_changed.emit()
        self.path_changed.emit()

    # ---- selection ------------------------------------------------------------------------------
    def select(self, note_ids, add: bool = False) -> None:
        ids = set(note_ids)
        self.selected_note_ids = (self.selected_note_ids | ids) if add else ids
        self.selection_changed.emit()

    def clear_selection(self) -> None:
        if self.selected_note_ids:
            self.selected_note_ids = set()
            self.selection_changed.emit()

    @property
    def is_modified(self) -> bool:
        return not self.undo_stack.isClean()
