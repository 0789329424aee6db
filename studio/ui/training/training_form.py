"""Forms generated from knobs (`studio.ml.knobs.knobs_of`): one control per setting, with its
range, its default, and a tooltip that explains it in plain words.

Whole numbers get a spin box, numbers a spin box that accepts any notation (1e-3) and steps
through 1, 2, 5, 10, ... when the knob is logarithmic (learning rates), switches a check box,
lists of choices a drop-down, free text a line. Advanced knobs sit behind "More settings". A family added to the
registry gets its form without any change here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.ml.knobs import Knob

INT_LIMIT = 2**31 - 1


def knob_tooltip(knob: Knob, default: Any | None = None) -> str:
    """The knob's help, then its default and range, for a tooltip."""
    default = knob.default if default is None else default
    lines = [knob.help, "", f"Default: {format_value(default)}."]
    if knob.choices:
        lines.append("Choices: " + ", ".join(map(format_value, knob.choices)) + ".")
    elif knob.low is not None and knob.high is not None:
        lines.append(f"From {format_value(knob.low)} to {format_value(knob.high)}.")
    return "\n".join(lines)


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class NumberBox(QDoubleSpinBox):
    """A spin box for real numbers written any way (0.001, 1e-3); a logarithmic one steps
    through 1, 2, 5, 10, 20, ..."""

    def __init__(self, knob: Knob) -> None:
        super().__init__()
        self.log = knob.log
        self.setDecimals(12)
        low = -1e12 if knob.low is None else knob.low
        high = 1e12 if knob.high is None else knob.high
        self.setRange(low, high)
        span = high - low
        self.setSingleStep(0.05 if span <= 1 else 0.1 if span <= 10 else 1.0)
        self.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt name)
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: D102
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            partial = stripped in ("", "-", ".", "-.") or stripped[-1:] in ("e", "E", "-", "+")
            state = QValidator.State.Intermediate if partial else QValidator.State.Invalid
            return state, text, pos
        ok = self.minimum() <= value <= self.maximum() and math.isfinite(value)
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802
        if not self.log:
            super().stepBy(steps)
            return
        value = self.value()
        for _ in range(abs(steps)):
            value = _next_125(value, up=steps > 0)
        self.setValue(min(self.maximum(), max(self.minimum(), value)))


def _next_125(value: float, *, up: bool) -> float:
    """The next value of the 1-2-5 series above (or below) `value`."""
    if value <= 0:
        return 1e-6 if up else value
    exponent = math.floor(math.log10(value))
    series = [m * 10.0 ** e for e in (exponent - 1, exponent, exponent + 1) for m in (1, 2, 5)]
    if up:
        return min(v for v in series if v > value * (1 + 1e-9))
    return max(v for v in series if v < value * (1 - 1e-9))


def control_for(knob: Knob) -> QWidget:
    """The control that edits one knob (not yet set to a value)."""
    if knob.choices:
        box = QComboBox()
        for choice in knob.choices:
            box.addItem(format_value(choice), choice)
        return box
    if knob.type is bool:
        return QCheckBox()
    if knob.type is str and knob.name.endswith("_track"):
        return TrackBox()
    if knob.type is str:
        return QLineEdit()
    if knob.type is int:
        spin = QSpinBox()
        spin.setRange(int(max(-INT_LIMIT, knob.low if knob.low is not None else -INT_LIMIT)),
                      int(min(INT_LIMIT, knob.high if knob.high is not None else INT_LIMIT)))
        return spin
    return NumberBox(knob)


class TrackBox(QComboBox):
    """A track setting (e.g. which track is the melody): type a name, or pick one of the track
    names of the chosen dataset (`set_names`, filled by the training set-up)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)

    def set_names(self, names: list[tuple[str, str]]) -> None:
        """Offer (track name, description) pairs; the text typed or chosen stays."""
        text = self.currentText()
        self.blockSignals(True)
        self.clear()
        for name, description in names:
            self.addItem(name, name)
            self.setItemData(self.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        self.setCurrentText(text)
        self.blockSignals(False)


def get_value(control: QWidget) -> Any:
    if isinstance(control, TrackBox):
        return control.currentText().strip()
    if isinstance(control, QComboBox):
        return control.currentData()
    if isinstance(control, QCheckBox):
        return control.isChecked()
    if isinstance(control, QLineEdit):
        return control.text()
    return control.value()


def set_value(control: QWidget, value: Any) -> None:
    if isinstance(control, TrackBox):
        control.setCurrentText(str(value))
    elif isinstance(control, QComboBox):
        control.setCurrentIndex(max(0, control.findData(value)))
    elif isinstance(control, QCheckBox):
        control.setChecked(bool(value))
    elif isinstance(control, QLineEdit):
        control.setText(str(value))
    else:
        control.setValue(value)


def changed_signal(control: QWidget):
    if isinstance(control, TrackBox):
        return control.currentTextChanged
    if isinstance(control, QComboBox):
        return control.currentIndexChanged
    if isinstance(control, QCheckBox):
        return control.toggled
    if isinstance(control, QLineEdit):
        return control.textChanged
    return control.valueChanged


class KnobForm(QWidget):
    """A form for a list of knobs: `values()`, `set_values()`, `reset()`; knobs named in
    `fixed` are shown but cannot be changed (e.g. the cell of the "gru" model)."""

    changed = Signal()

    def __init__(self, knobs: Iterable[Knob], defaults: dict[str, Any] | None = None, *,
                 fixed: Iterable[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.knobs = {k.name: k for k in knobs}
        self.defaults = {name: k.default for name, k in self.knobs.items()}
        self.defaults.update(defaults or {})
        self.controls: dict[str, QWidget] = {}
        main = QFormLayout()
        extra = QFormLayout()
        for k in self.knobs.values():
            control = control_for(k)
            control.setObjectName(f"knob_{k.name}")
            control.setToolTip(knob_tooltip(k, self.defaults[k.name]))
            control.setEnabled(k.name not in set(fixed))
            changed_signal(control).connect(self.changed)
            self.controls[k.name] = control
            (extra if k.advanced else main).addRow(k.title, control)
            label = (extra if k.advanced else main).labelForField(control)
            label.setToolTip(control.toolTip())
        for form in (main, extra):
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setContentsMargins(0, 0, 0, 0)
        self.more = QToolButton()
        self.more.setText("More settings")
        self.more.setCheckable(True)
        self.more.setAutoRaise(True)
        self.more.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.more.setToolTip("Settings most people leave as they are")
        self.extra = QWidget()
        self.extra.setLayout(extra)
        self.extra.setVisible(False)
        self.more.toggled.connect(self._show_more)
        self._show_more(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(main)
        layout.addWidget(self.more)
        layout.addWidget(self.extra)
        self.more.setVisible(extra.rowCount() > 0)
        self.reset()

    def _show_more(self, shown: bool) -> None:
        self.more.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.extra.setVisible(shown)

    def values(self) -> dict[str, Any]:
        return {name: get_value(c) for name, c in self.controls.items()}

    def set_values(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name in self.controls:
                set_value(self.controls[name], value)

    def reset(self) -> None:
        """Every control back to its default."""
        self.set_values(self.defaults)

    def track_boxes(self) -> dict[str, TrackBox]:
        """The controls of track settings (knobs named *_track), by knob name."""
        return {n: c for n, c in self.controls.items() if isinstance(c, TrackBox)}
