"""The piano roll: toolbar, ruler, chord lane, keyboard, note canvas, velocity lane and scroll bars
around one shared view geometry, bound to the window's `Document`.

What other features use (`window.piano_roll`):
  audition_requested(pitch, velocity)  a key was clicked, a note drawn or its pitch dragged
  seek_requested(tick)                 the ruler was clicked
  loop_changed()                       the loop region changed; read it with loop_region()
  set_playhead(tick | None)            draw (or hide) the playhead; follows it when `follow_playhead`
  loop_region() -> (start, end) | None
  selection_range() -> (start, end) | None   the ruler range, else the selected notes' extent
  set_ghost(song | {track id: notes} | None, label)  show a candidate as ghost notes (G hides)
  chord_lane, chord_lane_action       the chord lane and its View toggle; chord_lane.suggest_requested
                                      (its menu, suggest_chords_action) asks for Suggest Chords
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QWheelEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QLabel,
    QMenu,
    QScrollBar,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.music.song import PPQ
from studio.ui import palette
from studio.ui.document import Document
from studio.ui.editor.chord_lane import ChordLane
from studio.ui.editor.editor_actions import EditorActions
from studio.ui.editor.ghost_notes import Candidate, GhostTrack, ghost_tracks
from studio.ui.editor.note_columns import NoteColumns, touched_track_ids
from studio.ui.editor.pianoroll_canvas import NoteCanvas
from studio.ui.editor.pianoroll_geometry import SNAP_CHOICES, Snap, ViewGeometry
from studio.ui.editor.pianoroll_keyboard import DRUM_WIDTH, WIDTH, Keyboard
from studio.ui.editor.pianoroll_ruler import Ruler
from studio.ui.editor.velocity_lane import VelocityLane

WHEEL_ZOOM = 1.15
FOLLOW_MARGIN = 0.1   # when following, the playhead is brought back to 10% from the left edge


class PianoRoll(QWidget):
    audition_requested = Signal(int, int)
    seek_requested = Signal(int)
    loop_changed = Signal()
    message = Signal(str)           # a short explanation for the status bar

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("piano_roll")
        self.document = document
        self.geom = ViewGeometry(self)
        self.snap = Snap("1/16", self)
        self.columns = NoteColumns()
        self.tool = "draw"
        self.playhead: int | None = None
        self.follow_playhead = True
        self._loop: tuple[int, int] | None = None
        self._range: tuple[int, int] | None = None
        self.revision = 0              # bumped when the notes or the tracks' look change
        self.selection_revision = 0
        self.ghosts: list[GhostTrack] = []   # a candidate shown over the song (not in it)
        self.ghost_label = ""
        self.ghost_visible = True
        self.ghost_revision = 0

        self.canvas = NoteCanvas(self)
        self.ruler = Ruler(self)
        self.chord_lane = ChordLane(self)
        self.chord_lane_action = QAction("&Chord Lane", self)
        self.chord_lane_action.setObjectName("action_chord_lane")
        self.chord_lane_action.setCheckable(True)
        self.chord_lane_action.setChecked(True)
        self.chord_lane_action.setStatusTip("Show or hide the chord symbols above the notes")
        self.chord_lane_action.toggled.connect(self.show_chord_lane)
        self.keyboard = Keyboard(self)
        self.velocity_lane = VelocityLane(self)
        self.hbar = QScrollBar(Qt.Orientation.Horizontal, self)
        self.vbar = QScrollBar(Qt.Orientation.Vertical, self)
        self.editor = EditorActions(self)
        self.edit_actions = self.editor.actions
        self.toolbar = self._build_toolbar()
        self._build_layout()

        self.geom.changed.connect(self._view_changed)
        self.snap.changed.connect(self.canvas.update)
        self.hbar.valueChanged.connect(lambda v: self.geom.set_left_tick(v))
        self.vbar.valueChanged.connect(lambda v: self.geom.set_top(v))
        document.changed.connect(self._song_changed)
        document.song_replaced.connect(self._song_replaced)
        document.selection_changed.connect(self._selection_changed)
        document.track_flags_changed.connect(self._flags_changed)
        self._song_replaced()

    # ---- layout ----------------------------------------------------------------------------------
    def _build_toolbar(self) -> QToolBar:
        bar = QToolBar("Piano roll", self)
        bar.setObjectName("piano_roll_toolbar")
        group = QActionGroup(self)
        for name in ("tool_draw", "tool_select"):
            action = self.edit_actions[name]
            group.addAction(action)
            bar.addAction(action)
        bar.addSeparator()
        bar.addWidget(QLabel(" Grid "))
        self.snap_box = QComboBox(bar)
        self.snap_box.setObjectName("snap_box")
        self.snap_box.addItems(SNAP_CHOICES)
        self.snap_box.setCurrentText(self.snap.name)
        self.snap_box.setToolTip("Snap: notes are placed, moved and resized on this grid "
                                 "(hold Alt to place freely). T = triplets.")
        self.snap_box.currentTextChanged.connect(self.snap.set_name)
        self.snap.changed.connect(lambda: self.snap_box.setCurrentText(self.snap.name))
        bar.addWidget(self.snap_box)
        bar.addSeparator()
        for name in ("quantize", "duplicate", "zoom_in", "zoom_out", "zoom_fit", "ghost_notes"):
            bar.addAction(self.edit_actions[name])
        bar.addSeparator()
        self.follow_box = QCheckBox("Follow playhead", bar)
        self.follow_box.setChecked(self.follow_playhead)
        self.follow_box.toggled.connect(lambda on: setattr(self, "follow_playhead", on))
        bar.addWidget(self.follow_box)
        return bar

    def _build_layout(self) -> None:
        notes = QWidget(self)
        grid = QGridLayout(notes)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        self._corner = corner = QLabel("", notes)
        corner.setFixedWidth(self.keyboard.width())
        grid.addWidget(corner, 0, 0)
        grid.addWidget(self.ruler, 0, 1)
        self._chord_label = chords = QToolButton(notes)   # "Chords ▾": suggest, hide
        chords.setText("Chords")
        chords.setObjectName("chord_lane_button")
        chords.setStyleSheet("QToolButton { padding: 0px; } "
                             "QToolButton::menu-indicator { image: none; width: 0px; }")
        chords.setFixedSize(self.keyboard.width(), self.chord_lane.height())
        chords.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        chords.setToolTip(self.chord_lane.toolTip() + "\nClick here to suggest chords for the "
                          "melody or to hide the lane")
        menu = QMenu(chords)
        self.suggest_chords_action = menu.addAction("Suggest Chords",
                                                    self.chord_lane.suggest_requested.emit)
        menu.addAction(self.chord_lane_action)
        chords.setMenu(menu)
        grid.addWidget(chords, 1, 0)
        grid.addWidget(self.chord_lane, 1, 1)
        grid.addWidget(self.keyboard, 2, 0)
        grid.addWidget(self.canvas, 2, 1)
        grid.addWidget(self.vbar, 2, 2)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(2, 1)
        lane = QWidget(self)
        lane_row = QGridLayout(lane)
        lane_row.setContentsMargins(0, 0, 0, 0)
        lane_row.setSpacing(0)
        self._velocity_label = label = QLabel("Velocity", lane)
        label.setToolTip("Drag the bars to change velocities. New notes of a track get the "
                         "velocity last set in its lane (before that, its notes' median).")
        label.setObjectName("velocity_label")
        label.setFixedWidth(self.keyboard.width())
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lane_row.addWidget(label, 0, 0)
        lane_row.addWidget(self.velocity_lane, 0, 1)
        lane_row.addWidget(QWidget(lane), 0, 2)
        lane_row.setColumnMinimumWidth(2, self.vbar.sizeHint().width())
        lane_row.setColumnStretch(1, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(notes)
        self.splitter.addWidget(lane)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setSizes([600, 90])
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.splitter, 1)
        self._bottom = bottom = QGridLayout()
        bottom.setContentsMargins(self.keyboard.width(), 0, self.vbar.sizeHint().width(), 0)
        bottom.addWidget(self.hbar, 0, 0)
        layout.addLayout(bottom)

    # ---- document signals ------------------------------------------------------------------------
    def _song_changed(self) -> None:
        change = self.document.last_change
        ids = None if change is None else touched_track_ids(*change, self.document.song)
        self.columns.invalidate(ids)
        self.revision += 1
        self.chord_lane.song_changed()
        self._fit_keyboard()
        self._show_new_velocity()
        self._update_scroll_ranges()
        self.refresh()

    def _flags_changed(self) -> None:
        self.revision += 1
        self._fit_keyboard()
        self._show_new_velocity()
        self.refresh()

    def _show_new_velocity(self) -> None:
        """The label beside the velocity lane says what new notes of the current track get."""
        v = self.canvas.velocity_for(self.document.current_track_id)
        self._velocity_label.setText(f"Velocity\nnew: {v}")

    def _fit_keyboard(self) -> None:
        """A drum track (current) gets the wider keyboard that names its drums."""
        width = DRUM_WIDTH if self.keyboard.drums() else WIDTH
        if self.keyboard.width() != width:
            for w in (self.keyboard, self._corner, self._velocity_label, self._chord_label):
                w.setFixedWidth(width)
            self._bottom.setContentsMargins(width, 0, self.vbar.sizeHint().width(), 0)

    def _song_replaced(self) -> None:
        self.columns.clear()
        self.revision += 1
        self._loop = None
        self._range = None
        self.playhead = None
        self.set_ghost(None)
        self.canvas.gesture = None
        self.canvas.track_velocity.clear()
        self.chord_lane.song_replaced()
        self._fit_keyboard()
        self._show_new_velocity()
        self._selection_changed()
        self.show_song_start()
        self.loop_changed.emit()

    def _selection_changed(self) -> None:
        self.selection_revision += 1
        self.canvas.selection_changed()
        self.velocity_lane.update()

    def refresh(self) -> None:
        for w in (self.canvas, self.ruler, self.chord_lane, self.keyboard, self.velocity_lane):
            w.update()

    def show_chord_lane(self, on: bool) -> None:
        """Show or hide the chord lane (View > Chord Lane); the chords stay in the song."""
        self.chord_lane.setVisible(on)
        self._chord_label.setVisible(on)
        self.chord_lane_action.setChecked(on)

    def show_song_start(self) -> None:
        """Scroll to the start and to the middle of the song's pitch range."""
        song = self.document.song
        pitches = [n.pitch for t in song.tracks[:4] for n in t.notes[:2000]]
        self._update_scroll_ranges()
        self.geom.set_left_tick(0)
        self.geom.centre_on_pitch((min(pitches) + max(pitches)) / 2 if pitches else 64)

    def _update_scroll_ranges(self) -> None:
        song_end = self.document.song.end
        visible = int(self.geom.width / self.geom.px_per_tick)
        self.hbar.blockSignals(True)
        self.hbar.setRange(0, max(0, song_end + 8 * PPQ * 4 - visible // 2))
        self.hbar.setPageStep(max(1, visible))
        self.hbar.setSingleStep(max(1, visible // 20))
        self.hbar.setValue(int(self.geom.left_tick))
        self.hbar.blockSignals(False)
        self.vbar.blockSignals(True)
        self.vbar.setRange(0, int(max(0, self.geom.content_height - self.geom.height)))
        self.vbar.setPageStep(max(1, self.geom.height))
        self.vbar.setSingleStep(max(1, int(self.geom.key_height * 2)))
        self.vbar.setValue(int(self.geom.top))
        self.vbar.blockSignals(False)

    def _view_changed(self) -> None:
        self._update_scroll_ranges()
        self.refresh()

    # ---- view ------------------------------------------------------------------------------------
    def track_color(self, track) -> QColor:
        song = self.document.song
        index = next((i for i, t in enumerate(song.tracks) if t.id == track.id), 0)
        return palette.track_color(index, self.document.track_colors.get(track.id))

    # ---- ghost notes ------------------------------------------------------------------------------
    def set_ghost(self, candidate: Candidate | None, label: str = "") -> None:
        """Show `candidate` (a preview Song, or {track id: notes}) as ghost notes over the song:
        outlined and translucent in the track's colour, not selectable, not in the song or the
        undo stack. Of a Song, only the notes that differ from the song are shown. None clears."""
        self.ghosts = ghost_tracks(candidate, self.document.song)
        self.ghost_label = label if self.ghosts else ""
        self.ghost_revision += 1
        self.canvas.update()

    def set_ghost_visible(self, on: bool) -> None:
        """Show or hide the ghost notes (the G key); they are kept either way."""
        self.ghost_visible = bool(on)
        self.edit_actions["ghost_notes"].setChecked(self.ghost_visible)
        self.ghost_revision += 1
        self.canvas.update()
        if self.ghosts:
            self.message.emit("Ghost notes shown" if on else "Ghost notes hidden (G shows them)")

    def ghost_layers(self) -> list[tuple]:
        """(columns, colour) of each visible ghost track, for the canvas."""
        if not self.ghost_visible:
            return []
        tracks = {t.id: t for t in self.document.song.tracks}
        out = []
        for g in self.ghosts:
            if g.track_id in self.document.hidden:
                continue
            track = tracks.get(g.track_id)
            out.append((g.cols, self.track_color(track) if track is not None
                        else palette.track_color(g.index)))
        return out

    def set_tool(self, tool: str) -> None:
        if tool not in ("draw", "select"):
            raise ValueError(f"unknown tool {tool!r}")
        self.tool = tool
        self.edit_actions[f"tool_{tool}"].setChecked(True)

    def wheel(self, e: QWheelEvent, anchor, vertical: bool = True) -> None:
        """Wheel scrolls (Shift: sideways); Ctrl+wheel zooms time, Ctrl+Shift+wheel zooms pitch."""
        mods = e.modifiers()
        delta = e.angleDelta()
        dy = delta.y() or delta.x()
        if mods & Qt.KeyboardModifier.ControlModifier:
            factor = WHEEL_ZOOM ** (dy / 120)
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.geom.zoom_y(factor, anchor.y())
            else:
                self.geom.zoom_x(factor, anchor.x())
        elif mods & Qt.KeyboardModifier.ShiftModifier or delta.x() or not vertical:
            self.geom.set_left_tick(self.geom.left_tick - dy / 120 * self.geom.width * 0.1
                                    / self.geom.px_per_tick)
        else:
            self.geom.set_top(self.geom.top - dy / 120 * self.geom.key_height * 3)
        e.accept()

    def set_playhead(self, tick: int | None) -> None:
        """Draw the playhead at `tick` (None hides it); scrolls along when following."""
        self.playhead = None if tick is None else max(0, int(tick))
        if tick is not None and self.follow_playhead:
            x = self.geom.x_of(tick)
            if x < 0 or x > self.geom.width * 0.95:
                self.geom.set_left_tick(tick - self.geom.width * FOLLOW_MARGIN
                                        / self.geom.px_per_tick)
        for w in (self.canvas, self.ruler, self.chord_lane, self.velocity_lane):
            w.update()

    def loop_region(self) -> tuple[int, int] | None:
        return self._loop

    def set_loop_region(self, span: tuple[int, int] | None) -> None:
        span = None if span is None or span[1] <= span[0] else (int(span[0]), int(span[1]))
        if span != self._loop:
            self._loop = span
            self.loop_changed.emit()
            self.refresh()

    def time_range(self) -> tuple[int, int] | None:
        """The time range selected on the ruler (None when there is none)."""
        return self._range

    def set_time_range(self, span: tuple[int, int] | None, select_notes: bool = False) -> None:
        span = None if span is None or span[1] <= span[0] else (int(span[0]), int(span[1]))
        self._range = span
        if span is not None and select_notes:
            tracks = self.document.visible_tracks()
            ids = self.columns.ids_in(tracks, span[0], span[1], 0, 127)
            ids = {i for i in ids if span[0] <= self.document.song.find_note(i)[1].start}
            self.document.select(ids)
        self.refresh()

    def selection_range(self) -> tuple[int, int] | None:
        """The time range for generation: the ruler range, else the selected notes' extent."""
        if self._range is not None:
            return self._range
        return self.columns.extent(self.document.song.tracks, self.document.selected_note_ids)

    def view_state(self) -> dict:
        """Zoom, scroll, grid, tool and loop, as JSON-able values (saved in projects)."""
        g = self.geom
        return {"snap": self.snap.name, "tool": self.tool, "px_per_tick": g.px_per_tick,
                "key_height": g.key_height, "left_tick": g.left_tick, "top": g.top,
                "loop": list(self._loop) if self._loop else None,
                "follow": self.follow_playhead, "chord_lane": self.chord_lane_action.isChecked()}

    def restore_view_state(self, state: dict) -> None:
        """Apply what view_state() returned; unknown or bad values are ignored."""
        from studio.ui.editor import pianoroll_geometry as pg

        g = self.geom
        if state.get("snap") in SNAP_CHOICES:
            self.snap.set_name(state["snap"])
        if state.get("tool") in ("draw", "select"):
            self.set_tool(state["tool"])
        try:
            g.px_per_tick = min(pg.MAX_PX_PER_TICK, max(pg.MIN_PX_PER_TICK,
                                                        float(state.get("px_per_tick",
                                                                        g.px_per_tick))))
            g.key_height = min(pg.MAX_KEY_HEIGHT, max(pg.MIN_KEY_HEIGHT,
                                                      float(state.get("key_height",
                                                                      g.key_height))))
            g.set_left_tick(float(state.get("left_tick", g.left_tick)))
            g.set_top(float(state.get("top", g.top)))
            loop = state.get("loop")
            self.set_loop_region((int(loop[0]), int(loop[1])) if loop else None)
        except (TypeError, ValueError, IndexError):
            pass
        if isinstance(state.get("follow"), bool):
            self.follow_box.setChecked(state["follow"])
        if isinstance(state.get("chord_lane"), bool):
            self.show_chord_lane(state["chord_lane"])
        g.changed.emit()

    def report_error(self, text: str) -> None:
        self.message.emit(text)

    # ---- editing (keys of the canvas and the Edit menu) ------------------------------------------
    def nudge(self, dt: int, dp: int) -> None:
        self.editor.nudge(dt, dp)

    def resize_selection(self, d_dur: int) -> None:
        self.editor.resize(d_dur)

    def delete_selection(self) -> None:
        self.editor.delete()
