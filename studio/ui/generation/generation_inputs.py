"""The small input widgets of the generation forms: a pitch box that speaks note names, a key
picker, and the sampling settings shared by every mode (temperature, top-k, top-p, seed,
number of variations, refinement passes)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QWidget,
)

from studio.music.keys import estimate_key, key_name, pitch_class_histogram, pitch_name
from studio.music.song import Song


class PitchSpin(QSpinBox):
    """A MIDI pitch shown and typed as a note name (C4 = 60, middle C)."""

    def __init__(self, value: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(0, 127)
        self.setValue(value)
        self.setAccelerated(True)

    def textFromValue(self, value: int) -> str:  # noqa: N802 (Qt name)
        return pitch_name(value)

    def valueFromText(self, text: str) -> int:  # noqa: N802 (Qt name)
        parsed = parse_pitch(text)
        return self.value() if parsed is None else parsed

    def validate(self, text: str, pos: int):
        from PySide6.QtGui import QValidator

        state = (QValidator.State.Acceptable if parse_pitch(text) is not None
                 else QValidator.State.Intermediate)
        return state, text, pos


def parse_pitch(text: str) -> int | None:
    """'C4' -> 60, 'F#3' -> 54, 'Bb2' -> 46, '60' -> 60; None when it is not a pitch."""
    text = text.strip()
    if text.isdigit():
        value = int(text)
        return value if 0 <= value <= 127 else None
    if not text or text[0].upper() not in "CDEFGAB":
        return None
    base = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[text[0].upper()]
    rest = text[1:]
    while rest[:1] in ("#", "b"):
        base += 1 if rest[0] == "#" else -1
        rest = rest[1:]
    try:
        octave = int(rest)
    except ValueError:
        return None
    value = (octave + 1) * 12 + base
    return value if 0 <= value <= 127 else None


def shrinkable(combo: QComboBox, characters: int = 10) -> QComboBox:
    """A combo box that may be narrower than its longest entry (the dock can be narrow)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    return combo


def song_key(song: Song, track_ids: tuple[int, ...] = ()) -> tuple[int, bool] | None:
    """The key that best fits the notes of these tracks (all tracks when none): (tonic, minor)."""
    notes = [n for t in song.tracks if not track_ids or t.id in track_ids for n in t.notes]
    if not notes:
        return None
    weights = pitch_class_histogram(np.array([n.pitch for n in notes]),
                                    np.array([n.duration for n in notes], dtype=np.float64))
    tonic, minor, _ = estimate_key(weights, fit_scale=True)
    return tonic, minor


class KeyCombo(QComboBox):
    """No key constraint, the key the music is in (estimated), or any of the 24 keys."""

    def __init__(self, parent: QWidget | None = None, allow_any: bool = True) -> None:
        super().__init__(parent)
        self._estimated: tuple[int, bool] | None = None
        if allow_any:
            self.addItem("Any (no constraint)", None)
        self.addItem("The music's own key", "estimated")
        for minor in (False, True):
            for tonic in range(12):
                self.addItem(key_name(tonic, minor), (tonic, minor))
        self.setToolTip("Keep the new notes in this key's scale")
        shrinkable(self)

    def set_estimated(self, key: tuple[int, bool] | None) -> None:
        """Show which key "the music's own key" stands for."""
        self._estimated = key
        index = self.findData("estimated")
        label = "The music's own key"
        label += f" ({key_name(*key)})" if key is not None else " (no notes yet: any)"
        self.setItemText(index, label)

    def key(self) -> tuple[int, bool] | None:
        data = self.currentData()
        if data == "estimated":
            return self._estimated
        return None if data is None else (int(data[0]), bool(data[1]))

    def select_key(self, key: tuple[int, bool] | None) -> None:
        for i in range(self.count()):
            data = self.itemData(i)
            if (data is None and key is None) or (isinstance(data, (list, tuple))
                                                  and key is not None
                                                  and tuple(data) == tuple(key)):
                self.setCurrentIndex(i)
                return


class RangeRow(QWidget):
    """Lowest and highest note, optionally switched off (then no range constraint)."""

    def __init__(self, low: int, high: int, optional: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.enabled_box = QCheckBox() if optional else None
        if self.enabled_box is not None:
            self.enabled_box.setToolTip("Limit the new notes to this range")
            row.addWidget(self.enabled_box)
        self.low, self.high = PitchSpin(low), PitchSpin(high)
        self.low.setToolTip("The lowest note the model may write")
        self.high.setToolTip("The highest note the model may write")
        row.addWidget(self.low)
        row.addWidget(QLabel("to"))
        row.addWidget(self.high)
        row.addStretch(1)
        if self.enabled_box is not None:
            self.enabled_box.toggled.connect(self._sync)
            self._sync(False)

    def _sync(self, on: bool) -> None:
        self.low.setEnabled(on)
        self.high.setEnabled(on)

    def pitch_range(self) -> tuple[int, int] | None:
        if self.enabled_box is not None and not self.enabled_box.isChecked():
            return None
        low, high = self.low.value(), self.high.value()
        return (min(low, high), max(low, high))


class SamplingForm(QWidget):
    """How adventurous the model is, and how many variations to make."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.count = QSpinBox()
        self.count.setRange(1, 16)
        self.count.setValue(4)
        self.count.setToolTip("How many different versions to make; you audition them and keep "
                              "the one you like")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.05, 3.0)
        self.temperature.setSingleStep(0.05)
        self.temperature.setValue(1.0)
        self.temperature.setToolTip("Below 1: safer, more predictable music. Above 1: more "
                                    "surprising, and more mistakes")
        self.top_k = QSpinBox()
        self.top_k.setRange(0, 130)
        self.top_k.setValue(0)
        self.top_k.setSpecialValueText("all")
        self.top_k.setToolTip("Choose each note among only the k likeliest (all = no limit)")
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(0.05, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setValue(1.0)
        self.top_p.setToolTip("Choose each note among the likeliest ones that together make up "
                              "this share of the chances (1 = no limit)")
        self.seed = QSpinBox()
        self.seed.setRange(-1, 2**31 - 1)
        self.seed.setValue(-1)
        self.seed.setSpecialValueText("new each time")
        self.seed.setToolTip("The same number gives the same result again")
        self.iterations = QSpinBox()
        self.iterations.setRange(0, 1000)
        self.iterations.setSpecialValueText("model's default")
        self.iterations.setToolTip("Passes over the music for models that revise what they "
                                   "wrote (the CNN harmonizer); more passes, more polish")
        self.more = QToolButton()
        self.more.setObjectName("more_sampling")
        self.more.setCheckable(True)
        self.more.setAutoRaise(True)
        self.more.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.more.setText("More: top-k, top-p, seed")
        self.more.setToolTip("Finer control over how the model chooses its notes")
        form.addRow("Variations", self.count)
        form.addRow("Temperature", self.temperature)
        form.addRow(self.more)
        form.addRow("Top-k", self.top_k)
        form.addRow("Top-p", self.top_p)
        form.addRow("Seed", self.seed)
        form.addRow("Refinement", self.iterations)
        self.form = form
        self._iterations_wanted = True
        self.more.toggled.connect(self._show_more)
        self._show_more(False)

    def _show_more(self, on: bool) -> None:
        self.more.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        for widget in (self.top_k, self.top_p, self.seed):
            self.form.setRowVisible(widget, on)
        self.form.setRowVisible(self.iterations, on and self._iterations_wanted)

    def show_iterations(self, on: bool) -> None:
        """Refinement passes mean something only to models that revise (harmonize, infill)."""
        self._iterations_wanted = on
        self._show_more(self.more.isChecked())

    def options(self):
        """The settings as `studio.ml.family.SamplingOptions` (imported here: it needs torch,
        which the window does not load while it starts)."""
        from studio.ml.family import SamplingOptions

        return SamplingOptions(temperature=self.temperature.value(), top_k=self.top_k.value(),
                               top_p=self.top_p.value(), seed=self.seed.value(),
                               count=self.count.value(), iterations=self.iterations.value())
