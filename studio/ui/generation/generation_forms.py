"""One form per generation mode: what the musician chooses besides the model and the sampling.

Each form reads the editor (the current track, the ruler or note selection, the playhead) and
turns it into the fields of a `GenerationRequest` with `fields(window)`. Missing input that only
the editor can explain (nothing selected, no playhead) raises `MissingInput` with what to do;
everything else is checked by the generation core, whose `GenerationError` the panel shows.
`refresh(window)` updates what the form says about the song (track names, selected range).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QWidget,
)

from studio.music.positions import range_text
from studio.music.timing import bar_beat, bar_lines
from studio.ui.generation.generation_inputs import KeyCombo, RangeRow, shrinkable, song_key

MODE_TITLES = {
    "harmonize": "Harmonize (four voices)",
    "accompany": "Accompany (pop piano)",
    "melody": "New melody",
    "continue": "Continue",
    "infill": "Infill",
    "interpolate": "Interpolate",
    "pop-infill": "Pop infill (melody, bridge, piano)",
}


class MissingInput(Exception):
    """Something the musician must select in the editor first; the message says what."""


def describe_range(song, span: tuple[int, int]) -> str:
    """'bar 3 to bar 5 beat 2' for a tick range ('bar 1 beat 3 (a 1/16 note)' within a beat)."""
    return range_text(span[0], span[1], song.time_signatures)


def track_label(song, track_id: int | None) -> str:
    for t in song.tracks:
        if t.id == track_id:
            return t.name or "Untitled track"
    return "none"


def meter_words(song, tick: int = 0) -> str:
    """' bars', or ' bars of 2/4' where the meter at `tick` is not 4/4: the bar boxes count the
    song's own bars."""
    ts = song.time_signature_at(max(0, int(tick)))
    return " bars" if (ts.numerator, ts.denominator) == (4, 4) else \
        f" bars of {ts.numerator}/{ts.denominator}"


def track_length(song, track_id: int | None) -> str:
    """'Melody (12 bars of 2/4)': the track's name and length in the song's own bars."""
    track = next((t for t in song.tracks if t.id == track_id), None)
    if track is None or not track.notes:
        return track_label(song, track_id)
    end = max(n.end for n in track.notes)
    bar = bar_beat(max(0, end - 1), song.time_signatures)[0]
    first = bar_beat(min(n.start for n in track.notes), song.time_signatures)[0]
    return f"{track_label(song, track_id)} ({bar - first + 1}{meter_words(song, end - 1)})"


def bar_start(song, tick: int) -> int:
    """The bar line at or before `tick`."""
    return max((t for t in bar_lines(max(0, tick), song.time_signatures) if t <= tick),
               default=0)


def next_bar(song, tick: int) -> int:
    """The bar line at or after `tick`."""
    start = bar_start(song, tick)
    return start if start == tick else start + song.time_signature_at(start).bar_ticks


def playhead_of(window) -> int:
    playhead = getattr(window.piano_roll, "playhead", None)
    return int(playhead) if playhead is not None else 0


def _bars(value: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(1, 64)
    box.setValue(value)
    box.setSuffix(" bars")
    box.setToolTip(tip)
    return box


def chords_edit(tip: str) -> QLineEdit:
    """An optional chord text box (e.g. `| C | G | Am | F |`)."""
    return QLineEdit(placeholderText="| C | G | Am | F |  (optional)", toolTip=tip)


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName("form_note")
    return label


class ModeForm(QWidget):
    mode = ""
    note_text = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        if self.note_text:
            self.form.addRow(_note(self.note_text))

    def fields(self, window) -> dict:
        raise NotImplementedError

    def refresh(self, window) -> None:
        """Follow the editor: current track, selection, tracks of the song."""

    def reset(self) -> None:
        """Another song was opened: forget choices that were about the old one."""

    @staticmethod
    def current_track_id(window) -> int:
        track = window.document.current_track()
        if track is None:
            raise MissingInput("The song has no track yet: draw or open a melody first.")
        return track.id

    @staticmethod
    def selection(window) -> tuple[int, int] | None:
        # the editor, or a stand-in piano roll without a selection (tests of other features)
        selection_range = getattr(window.piano_roll, "selection_range", None)
        return selection_range() if callable(selection_range) else None


class MelodyForm(ModeForm):
    mode = "melody"
    note_text = "A new melody on a new track."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars = _bars(8, "How long the melody is")
        self.key = KeyCombo()
        self.key.setCurrentIndex(self.key.findData("estimated"))
        self.range = RangeRow(60, 81)
        self.start = shrinkable(QComboBox())
        self.start.addItem("The playhead", "playhead")
        self.start.addItem("After the end of the song", "end")
        self.start.setToolTip("Where the new melody begins: the bar of the playhead, or the bar "
                              "after the last note of the song")
        self.form.addRow("From", self.start)
        self.form.addRow("Length", self.bars)
        self.form.addRow("Key", self.key)
        self.form.addRow("Range", self.range)
        self.chords = chords_edit("Chords for the melody to follow, a bar of text per bar (repeated "
                              "when shorter); empty: a free melody")
        self.form.addRow("Over chords", self.chords)

    def start_tick(self, window) -> int:
        song = window.document.song
        if self.start.currentData() == "end":
            return next_bar(song, song.end)
        return bar_start(song, playhead_of(window))

    def refresh(self, window) -> None:
        song = window.document.song
        self.key.set_estimated(song_key(song))
        tick = self.start_tick(window)
        self.bars.setSuffix(meter_words(song, tick))
        self.start.setItemText(0, f"The playhead (bar {bar_beat(tick, song.time_signatures)[0]})"
                               if self.start.currentData() == "playhead" else "The playhead")

    def fields(self, window) -> dict:
        return {"bars": self.bars.value(), "key": self.key.key(),
                "pitch_range": self.range.pitch_range(), "playhead": self.start_tick(window),
                "chords": self.chords.text().strip() or None}


class ContinueForm(ModeForm):
    mode = "continue"
    note_text = "More of the current track, in its style."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.track = QLabel()
        self.start = shrinkable(QComboBox())
        self.start.addItem("The end of the track", "end")
        self.start.addItem("The end of the selection", "selection")
        self.start.addItem("The playhead", "playhead")
        self.start.setToolTip("Where the new bars begin: after the track's last note, after the "
                              "selected range (or selected notes), or at the playhead")
        self.bars = _bars(4, "How many bars to add")
        self.form.addRow("Track", self.track)
        self.form.addRow("From", self.start)
        self.form.addRow("Add", self.bars)
        self.chords = chords_edit("Chords for the new bars, from the bar where they begin; empty: "
                              "the model's own way")
        self.form.addRow("Over chords", self.chords)

    def refresh(self, window) -> None:
        song, track_id = window.document.song, window.document.current_track_id
        self.track.setText(track_length(song, track_id))
        track = next((t for t in song.tracks if t.id == track_id), None)
        self.bars.setSuffix(meter_words(song, track.end if track is not None else 0))

    def fields(self, window) -> dict:
        track_id = self.current_track_id(window)
        out = {"track_ids": (track_id,), "bars": self.bars.value(),
               "chords": self.chords.text().strip() or None}
        if self.start.currentData() == "end":
            pass   # the core continues after the track's last note
        elif self.start.currentData() == "selection":
            span = self.selection(window)
            if span is None:
                raise MissingInput("Select the notes to continue (or drag a range on the ruler), "
                                   "or continue from the playhead.")
            out["time_range"] = span
        else:
            playhead = getattr(window.piano_roll, "playhead", None)
            if playhead is None:
                raise MissingInput("Click the ruler to place the playhead where the new bars "
                                   "should begin.")
            out["playhead"] = int(playhead)
        return out


class HarmonizeForm(ModeForm):
    mode = "harmonize"
    note_text = "Alto, tenor and bass under the current track, as new tracks."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.track = QLabel()
        self.key = KeyCombo()
        self.key.setCurrentIndex(self.key.findData("estimated"))
        self.range = RangeRow(36, 74, optional=True)
        self.chromatic = QCheckBox("Chromatic notes")
        self.chromatic.setToolTip("Let the new voices use notes outside the key (secondary "
                                  "dominants, chromatic passing notes), as Bach does; unticked, "
                                  "every new note is in the key")
        self.only_range = QCheckBox()
        self.only_range.setToolTip("Re-harmonize only the range selected on the ruler (or the "
                                   "selected notes' extent); the rest stays as it is")
        self.form.addRow("Melody", self.track)
        self.form.addRow("Key", self.key)
        self.form.addRow("", self.chromatic)
        self.form.addRow("Range", self.range)
        self.form.addRow(self.only_range)

    def refresh(self, window) -> None:
        song, track_id = window.document.song, window.document.current_track_id
        self.track.setText(track_length(song, track_id))
        self.key.set_estimated(song_key(song, (track_id,) if track_id is not None else ()))
        span = self.selection(window)
        self.only_range.setText("Only " + (describe_range(song, span) if span
                                           else "a selected time range (none yet)"))

    def reset(self) -> None:
        # a range ticked for the old song would make Harmonize work on whatever note of the
        # new one happens to be selected (the last drawn note: one bar)
        self.only_range.setChecked(False)

    def fields(self, window) -> dict:
        track_id = self.current_track_id(window)
        out = {"track_ids": (track_id,), "key": self.key.key(),
               "pitch_range": self.range.pitch_range(), "chromatic": self.chromatic.isChecked()}
        if self.only_range.isChecked():
            span = self.selection(window)
            if span is None:
                raise MissingInput("Select the time range to re-harmonize: drag on the ruler or "
                                   "select notes (or untick 'Only the selected time range').")
            out["time_range"] = span
        return out


class InfillForm(ModeForm):
    mode = "infill"
    note_text = ("Rewrites the selected time range of the ticked voices; every note outside it "
                 "stays.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.voices = QListWidget()
        self.voices.setMaximumHeight(96)
        self.voices.setToolTip("The voices to rewrite inside the selected range")
        self.range_text = QLabel()
        self.range_text.setWordWrap(True)
        self.form.addRow("Voices", self.voices)
        self.form.addRow("Region", self.range_text)
        self._checked: set[int] = set()
        self._seen: set[int] = set()

    def refresh(self, window) -> None:
        song = window.document.song
        self._remember()
        self.voices.blockSignals(True)
        self.voices.clear()
        current = window.document.current_track_id
        for t in song.tracks:
            item = QListWidgetItem(t.name or "Untitled track")
            item.setData(Qt.ItemDataRole.UserRole, t.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            on = t.id in self._checked if t.id in self._seen else t.id == current
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.voices.addItem(item)
            self._seen.add(t.id)
        self.voices.blockSignals(False)
        self._remember()
        span = self.selection(window)
        self.range_text.setText(describe_range(song, span) if span
                                else "Nothing selected: drag on the ruler or select notes")

    def _remember(self) -> None:
        for i in range(self.voices.count()):
            item = self.voices.item(i)
            track_id = item.data(Qt.ItemDataRole.UserRole)
            if item.checkState() == Qt.CheckState.Checked:
                self._checked.add(track_id)
            else:
                self._checked.discard(track_id)

    def checked_track_ids(self) -> tuple[int, ...]:
        self._remember()
        return tuple(self.voices.item(i).data(Qt.ItemDataRole.UserRole)
                     for i in range(self.voices.count())
                     if self.voices.item(i).checkState() == Qt.CheckState.Checked)

    def set_checked(self, track_ids) -> None:
        wanted = set(track_ids)
        for i in range(self.voices.count()):
            item = self.voices.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in wanted
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self._remember()

    def fields(self, window) -> dict:
        ids = self.checked_track_ids()
        if not ids:
            raise MissingInput("Tick the voices to rewrite.")
        span = self.selection(window)
        if span is None:
            raise MissingInput("Select the region to rewrite: drag on the ruler or select "
                               "notes.")
        return {"track_ids": ids, "time_range": span}


class InterpolateForm(ModeForm):
    mode = "interpolate"
    note_text = "Melodies that morph step by step from the first melody to the second."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.first, self.second = shrinkable(QComboBox()), shrinkable(QComboBox())
        self.steps = QSpinBox()
        self.steps.setRange(1, 16)
        self.steps.setValue(5)
        self.steps.setToolTip("How many in-between melodies to make")
        self.form.addRow("From", self.first)
        self.form.addRow("To", self.second)
        self.form.addRow("Steps", self.steps)

    def refresh(self, window) -> None:
        song = window.document.song
        ids = [t.id for t in song.tracks]
        for box, fallback in ((self.first, 0), (self.second, 1)):
            chosen = box.currentData()
            box.blockSignals(True)
            box.clear()
            for t in song.tracks:
                box.addItem(t.name or "Untitled track", t.id)
            if chosen in ids:
                box.setCurrentIndex(ids.index(chosen))
            elif box is self.first and window.document.current_track_id in ids:
                box.setCurrentIndex(ids.index(window.document.current_track_id))
            elif len(ids) > fallback:
                box.setCurrentIndex(fallback)
            box.blockSignals(False)

    def fields(self, window) -> dict:
        first, second = self.first.currentData(), self.second.currentData()
        if first is None or second is None:
            raise MissingInput("Interpolation needs two melody tracks: open or draw two "
                               "melodies first.")
        if first == second:
            raise MissingInput("Choose two different melody tracks to interpolate between.")
        return {"track_ids": (first, second), "interpolation_steps": self.steps.value()}
