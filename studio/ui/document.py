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

    def __init__(self, document: Document, edit: Edit, merge_key: object = None,
                 inverse: Edit | None = None) -> None:
        super().__init__(edit.description)
        self.document = document
        self.edit = edit
        self.inverse: Edit | None = inverse  # given when the edit was already applied
        self.merge_key = merge_key
        self._already_applied = inverse is not None

    def redo(self) -> None:
        if not self._already_applied:
            self.inverse = self.edit.apply(self.document.song)
        self._already_applied = False
        self.document._emit_changed(self.edit, self.inverse)

    def undo(self) -> None:
        assert self.inverse is not None
        applied = self.inverse
        self.edit = self.inverse.apply(self.document.song)
        self.document._emit_changed(applied, self.edit)

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
        self.track_colors: dict[int, str] = {}  # track id -> "#rrggbb" chosen by the user
        # Free-form JSON-able values saved in the project file ("settings"); features may keep
        # their own keys here (e.g. "generation": {...}). Reset by set_song.
        self.project_settings: dict = {}
        # The edit just applied and its inverse, readable in `changed` handlers (views use them to
        # refresh only the tracks an edit touched); None after set_song.
        self.last_change: tuple[Edit, Edit] | None = None

    def _emit_changed(self, applied: Edit, inverse: Edit) -> None:
        if self.selected_note_ids:
            gone = set()
            for nid in self.selected_note_ids:
                try:
                    self.song.find_note(nid)
                except KeyError:
                    gone.add(nid)
            if gone:
                self.selected_note_ids = self.selected_note_ids - gone
                self.selection_changed.emit()
        self.last_change = (applied, inverse)
        try:
            self.changed.emit()
        finally:
            self.last_change = None

    def set_track_flag(self, flag: str, track_id: int, on: bool) -> None:
        """Set "muted", "soloed" or "hidden" for a track (view state, not an undo step)."""
        ids: set[int] = getattr(self, flag)
        if (track_id in ids) != on:
            (ids.add if on else ids.discard)(track_id)
            self.track_flags_changed.emit()

    def visible_tracks(self) -> list:
        return [t for t in self.song.tracks if t.id not in self.hidden]

    def current_track(self):
        """The track new notes go to (None when the song has no tracks)."""
        for t in self.song.tracks:
            if t.id == self.current_track_id:
                return t
        return self.song.tracks[0] if self.song.tracks else None

    def set_current_track(self, track_id: int | None) -> None:
        if track_id != self.current_track_id:
            self.current_track_id = track_id
            self.track_flags_changed.emit()

    def audible_track_ids(self) -> set[int]:
        """Tracks that playback should sound: the soloed ones if any, minus the muted."""
        ids = {t.id for t in self.song.tracks}
        if self.soloed & ids:
            ids &= self.soloed
        return ids - self.muted

    # ---- editing --------------------------------------------------------------------------------
    def apply(self, edit: Edit, merge_key: object = None) -> None:
        """Apply `edit` as one undoable step (merged with the previous step on equal keys).

        An edit that does not fit the song (EditError, KeyError) raises here, before anything
        changes and before anything reaches the undo stack."""
        inverse = edit.apply(self.song)
        self.undo_stack.push(EditCommand(self, edit, merge_key, inverse))

    def set_song(self, song: Song, path: str | Path | None = None) -> None:
        """Replace the whole song (open, new); clears undo history and selection."""
        self.song = song
        self.undo_stack.clear()
        self.selected_note_ids = set()
        self.current_track_id = song.tracks[0].id if song.tracks else None
        self.path = Path(path) if path is not None else None
        self.muted, self.soloed, self.hidden = set(), set(), set()
        self.track_colors = {}
        self.project_settings = {}
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
