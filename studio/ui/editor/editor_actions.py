"""The piano roll's editing commands as QActions (the Edit menu shows the same objects): cut, copy,
paste, delete, select all, quantize (Q), duplicate (Ctrl+D), transpose (Up/Down, Ctrl+Up/Down by
an octave), move and resize by the grid (Left/Right, Shift+Left/Right), zoom, loop the selection,
the draw/select tools (D, S) and the ghost notes (G).

Their shortcuts are window shortcuts: they work wherever the focus is in the window (the roll, a
button, a panel), except while typing in a text or number field, and the arrows stay with a list
or table that has the focus (`shortcut_guard`). Every command is one `document.apply`. Copied
notes travel through the system clipboard as JSON ("application/x-studio-notes").
"""

from __future__ import annotations

import atexit
import json
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QInputDialog

from studio.music.edits import AddNotes, EditError
from studio.music.operations import quantize_edit, transpose_edit
from studio.music.song import PPQ, new_id
from studio.ui.editor import note_edits
from studio.ui.editor.shortcut_guard import ShortcutGuard

if TYPE_CHECKING:
    from studio.ui.editor.pianoroll import PianoRoll

NOTES_MIME = "application/x-studio-notes"
ZOOM_STEP = 1.5

# name: (menu text, shortcut, tip)
ACTIONS: dict[str, tuple[str, str | QKeySequence.StandardKey | None, str]] = {
    "cut": ("Cu&t", QKeySequence.StandardKey.Cut, "Cut the selected notes"),
    "copy": ("&Copy", QKeySequence.StandardKey.Copy, "Copy the selected notes"),
    "paste": ("&Paste", QKeySequence.StandardKey.Paste,
              "Paste at the playhead (on the grid), into the current track"),
    "delete": ("&Delete", "Del", "Delete the selected notes (or Backspace)"),
    "select_all": ("Select &All", QKeySequence.StandardKey.SelectAll,
                   "Select every note of the visible tracks"),
    "quantize": ("&Quantize", "Q", "Move the selected notes (or the current track) to the grid"),
    "duplicate": ("D&uplicate", "Ctrl+D", "Copy the selection after itself: to the next bar "
                  "(more than half a bar of music), else to the next grid line"),
    "transpose_up": ("Up a Semitone", "Up", "Transpose the selection up a semitone"),
    "transpose_down": ("Down a Semitone", "Down", "Transpose the selection down a semitone"),
    "octave_up": ("Up an Octave", "Ctrl+Up", "Transpose the selection up an octave"),
    "octave_down": ("Down an Octave", "Ctrl+Down", "Transpose the selection down an octave"),
    "move_earlier": ("&Earlier", "Left", "Move the selection one grid step earlier"),
    "move_later": ("&Later", "Right", "Move the selection one grid step later"),
    "shorten": ("S&horter", "Shift+Left", "Shorten the selected notes by one grid step"),
    "lengthen": ("Lon&ger", "Shift+Right", "Lengthen the selected notes by one grid step"),
    "transpose_by": ("&Transpose By…", "Ctrl+T", "Transpose the selection by any interval"),
    "zoom_in": ("Zoom &In", QKeySequence.StandardKey.ZoomIn, "Zoom in (Ctrl+wheel)"),
    "zoom_out": ("Zoom &Out", QKeySequence.StandardKey.ZoomOut, "Zoom out (Ctrl+wheel)"),
    "zoom_fit": ("Zoom to &Fit", "Ctrl+0", "Show the whole song"),
    "loop_selection": ("&Loop the Selection", "Ctrl+L", "Loop the selected time range"),
    "tool_draw": ("&Draw", "D", "Draw tool: click to add a note, drag to set its length"),
    "tool_select": ("&Select", "S", "Select tool: click or drag a band to select notes"),
    "ghost_notes": ("&Ghost Notes", "G", "Show or hide the variation under audition as ghost "
                    "notes (outlined; they are not in the song until you accept it)"),
}


def _release_clipboard() -> None:
    """Our notes leave the clipboard before Python shuts down: a QMimeData made from Python,
    deleted by Qt after the interpreter is gone, crashes the exit (PySide6 6.11)."""
    app = QApplication.instance()
    if app is not None:
        clipboard = app.clipboard()
        mime = clipboard.mimeData()
        if mime is not None and mime.hasFormat(NOTES_MIME):
            clipboard.clear()


_cleanup_registered = False


def _put_on_clipboard(mime: QMimeData) -> None:
    global _cleanup_registered
    if not _cleanup_registered:
        atexit.register(_release_clipboard)
        _cleanup_registered = True
    QApplication.clipboard().setMimeData(mime)


class EditorActions:
    def __init__(self, roll: PianoRoll) -> None:
        self.roll = roll
        self.actions: dict[str, QAction] = {}
        handlers = {
            "cut": self.cut, "copy": self.copy, "paste": self.paste, "delete": self.delete,
            "select_all": self.select_all, "quantize": self.quantize,
            "duplicate": self.duplicate,
            "transpose_up": lambda: self.nudge(0, 1), "transpose_down": lambda: self.nudge(0, -1),
            "octave_up": lambda: self.nudge(0, 12), "octave_down": lambda: self.nudge(0, -12),
            "move_earlier": lambda: self.nudge(-roll.snap.step(), 0),
            "move_later": lambda: self.nudge(roll.snap.step(), 0),
            "shorten": lambda: self.resize(-roll.snap.step()),
            "lengthen": lambda: self.resize(roll.snap.step()),
            "transpose_by": self.transpose_by,
            "zoom_in": lambda: roll.geom.zoom_x(ZOOM_STEP),
            "zoom_out": lambda: roll.geom.zoom_x(1 / ZOOM_STEP),
            "zoom_fit": self.zoom_fit, "loop_selection": self.loop_selection,
            "tool_draw": lambda: roll.set_tool("draw"),
            "tool_select": lambda: roll.set_tool("select"),
            "ghost_notes": lambda: roll.set_ghost_visible(self.actions["ghost_notes"].isChecked()),
        }
        for name, (text, shortcut, tip) in ACTIONS.items():
            action = QAction(text, roll)
            action.setObjectName(f"action_{name}")
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            # the window, not only the canvas: the guard keeps the keys of text fields and lists
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setToolTip(f"{tip} ({action.shortcut().toString()})" if shortcut else tip)
            action.setStatusTip(tip)
            action.triggered.connect(handlers[name])
            roll.canvas.addAction(action)
            self.actions[name] = action
        self.actions["delete"].setShortcuts([QKeySequence("Del"), QKeySequence("Backspace")])
        self.guard = ShortcutGuard(self.shortcuts, roll)
        for name in ("tool_draw", "tool_select", "ghost_notes"):
            self.actions[name].setCheckable(True)
        self.actions["tool_draw"].setChecked(True)
        self.actions["ghost_notes"].setChecked(True)

    # ---- helpers ---------------------------------------------------------------------------------
    def shortcuts(self) -> list[QKeySequence]:
        return [k for a in self.actions.values() for k in a.shortcuts()]

    @property
    def document(self):
        return self.roll.document

    def _apply(self, edit) -> bool:
        """Apply one edit; an edit that does not fit the song is explained in the status bar."""
        if getattr(edit, "changes", True) == () or getattr(edit, "items", True) == ():
            return False
        try:
            self.document.apply(edit)
        except (EditError, KeyError) as e:
            self.roll.report_error(str(e))
            return False
        return True

    def _selection(self) -> list[int]:
        return sorted(self.document.selected_note_ids)

    # ---- commands --------------------------------------------------------------------------------
    def nudge(self, dt: int, dp: int) -> None:
        ids = self._selection()
        if not ids:
            return
        song = self.document.song
        cdt, cdp = note_edits.clamp_move(song, ids, dt, dp)
        if (cdt, cdp) != (dt, dp):
            self.roll.report_error("The notes cannot move further that way")
            return
        edit = (transpose_edit(song, ids, dp) if dp and not dt
                else note_edits.move_edit(song, ids, dt, dp))
        self._apply(edit)
        if dp and len(ids) == 1:
            note = song.find_note(ids[0])[1]
            self.roll.audition_requested.emit(note.pitch, note.velocity)

    def resize(self, d_dur: int) -> None:
        ids = self._selection()
        if ids:
            self._apply(note_edits.resize_edit(self.document.song, ids, d_dur,
                                               self.roll.snap.step()))

    def delete(self) -> None:
        ids = self._selection()
        if ids:
            self._apply(note_edits.delete_edit(ids))

    def select_all(self) -> None:
        tracks = self.document.visible_tracks()
        self.roll.set_time_range(None)
        self.document.select({n.id for t in tracks for n in t.notes})

    def quantize(self) -> None:
        ids = self._selection()
        if not ids:
            track = self.document.current_track()
            ids = [n.id for n in track.notes] if track is not None else []
        if ids:
            grid = self.roll.snap.ticks or PPQ // 4
            self._apply(quantize_edit(self.document.song, ids, grid))

    def duplicate(self) -> None:
        ids = self._selection()
        if not ids:
            return
        edit, new_ids = note_edits.duplicate_edit(self.document.song, ids, self.roll.snap.step(),
                                                  self.roll.time_range())
        if self._apply(edit):
            self.document.select(new_ids)

    def transpose_by(self) -> None:
        if not self._selection():
            self.roll.report_error("Select the notes to transpose first")
            return
        semitones, ok = QInputDialog.getInt(self.roll, "Transpose", "Semitones (negative = down):",
                                            0, -127, 127)
        if ok and semitones:
            self.nudge(0, semitones)

    def zoom_fit(self) -> None:
        """The whole song, its last note's end included, with a little room after it."""
        end = self.document.song.end
        self.roll.geom.show_ticks(0, max(end * 1.02, 4 * PPQ * 4))

    def loop_selection(self) -> None:
        self.roll.set_loop_region(self.roll.selection_range())

    # ---- clipboard -------------------------------------------------------------------------------
    def copy(self) -> bool:
        ids = self._selection()
        if not ids:
            return False
        song = self.document.song
        notes = [song.find_note(i)[1] for i in ids]
        first = min(n.start for n in notes)
        payload = [[n.pitch, n.start - first, n.duration, n.velocity] for n in notes]
        mime = QMimeData()
        mime.setData(NOTES_MIME, json.dumps({"notes": payload}).encode("utf-8"))
        mime.setText(f"{len(notes)} notes")
        _put_on_clipboard(mime)
        return True

    def cut(self) -> None:
        if self.copy():
            self.delete()

    def paste(self) -> None:
        mime = QApplication.clipboard().mimeData()
        if mime is None or not mime.hasFormat(NOTES_MIME):
            self.roll.report_error("The clipboard holds no notes")
            return
        try:
            payload = json.loads(bytes(mime.data(NOTES_MIME)).decode("utf-8"))["notes"]
            rows = [tuple(int(v) for v in row[:4]) for row in payload]
        except (ValueError, KeyError, TypeError):
            self.roll.report_error("The notes on the clipboard are damaged")
            return
        track = self.document.current_track()
        if track is None or not rows:
            self.roll.report_error("Add a track before pasting notes")
            return
        at = self.roll.playhead    # on the grid (grid Off: exactly at the playhead)
        at = self.roll.snap.round(self.roll.geom.left_tick if at is None else at)
        items = tuple((track.id, (new_id(), p, at + s, d, v)) for p, s, d, v in rows)
        if self._apply(AddNotes(items, "Paste notes")):
            self.document.select({v[0] for _, v in items})
