"""Preferences > MIDI & Audio: where playback goes, where recording comes from, the built-in synth.

The lists follow hot-plug (the port watcher) while the page is open. A remembered port that is
not connected stays in the list, marked, so choosing it again is one click when it is back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.midi.routing import BUILTIN, VIRTUAL
from studio.ui.playback.playback_controller import Playback

TITLE = "MIDI & Audio"


class MidiAudioPage(QWidget):
    def __init__(self, playback: Playback, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.playback = playback
        form = QFormLayout(self)
        self.output = QComboBox(self)
        self.output.setToolTip("Where playback goes: the built-in synth, a synth or program "
                               "on a MIDI port, or the virtual port \"Studio\" others connect to")
        form.addRow("Play through", self.output)
        self.synth = QCheckBox("Use the built-in synth when no MIDI port is available", self)
        self.synth.setChecked(playback.routing.synth_enabled)
        form.addRow("", self.synth)
        self.input = QComboBox(self)
        self.input.setToolTip("The keyboard or program to record from (what you play is heard)")
        form.addRow("Record from", self.input)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Status", self.status)
        self.test = QPushButton("Play a test chord", self)
        self.test.clicked.connect(self.play_test_chord)
        form.addRow("", self.test)
        self.refresh()
        self.output.activated.connect(self._output_chosen)
        self.input.activated.connect(self._input_chosen)
        self.synth.toggled.connect(playback.set_synth_enabled)
        playback.ports_changed.connect(self.refresh)
        playback.output_changed.connect(self.refresh)
        playback.message.connect(self._message)

    def _fill(self, combo: QComboBox, items: list[tuple[str, str]], current: str) -> None:
        combo.blockSignals(True)
        combo.clear()
        for text, value in items:
            combo.addItem(text, value)
        index = combo.findData(current)
        combo.setCurrentIndex(max(0, index))
        combo.blockSignals(False)

    def refresh(self, *_args) -> None:
        routing = self.playback.routing
        outputs = [("Built-in synth (General MIDI)", BUILTIN)]
        system = routing.watcher.system
        if system is not None and system.supports_virtual_ports:
            outputs.append(('Virtual port "Studio" (other programs connect to it)', VIRTUAL))
        outputs += [(name, name) for name in routing.outputs]
        if routing.preferred not in [v for _, v in outputs]:
            outputs.append((f"{routing.preferred} (not connected)", routing.preferred))
        self._fill(self.output, outputs, routing.preferred)
        inputs = [("None", "")] + [(name, name) for name in routing.inputs]
        if routing.preferred_input and routing.preferred_input not in routing.inputs:
            inputs.append((f"{routing.preferred_input} (not connected)", routing.preferred_input))
        self._fill(self.input, inputs, routing.preferred_input)
        system_text = f"MIDI system: {system.name}" if system is not None else routing.status
        audio = self.playback.audio
        audio_text = ""
        if audio is not None:
            audio_text = (f"Audio device: {audio.device_name}" if audio.running
                          else audio.error or "Audio device: closed (opens when the synth plays)")
        lines = [system_text, f"Playing through: {routing.current_output_name}"]
        if routing.synth_error:
            lines.append(f"Built-in synth: {routing.synth_error}")
        if audio_text:
            lines.append(audio_text)
        self.status.setText("\n".join(lines))

    def _message(self, text: str) -> None:
        QTimer.singleShot(0, self.refresh)

    def _output_chosen(self, index: int) -> None:
        self.playback.set_output_port(self.output.itemData(index))
        self.refresh()

    def _input_chosen(self, index: int) -> None:
        self.playback.set_input_port(self.input.itemData(index))
        self.refresh()

    def play_test_chord(self) -> None:
        for i, pitch in enumerate((60, 64, 67, 72)):
            QTimer.singleShot(i * 120, lambda p=pitch: self.playback.audition(p, 90, 700))


def page_factory(playback: Playback):
    """For `window.preferences_pages`: a factory(parent) -> QWidget."""
    return lambda parent=None: MidiAudioPage(playback, parent)


def show_dialog(playback: Playback, parent: QWidget | None = None) -> QDialog:
    """The page in a dialog of its own (Playback > MIDI & Audio Settings...)."""
    dialog = QDialog(parent)
    dialog.setWindowTitle(TITLE)
    layout = QVBoxLayout(dialog)
    layout.addWidget(MidiAudioPage(playback, dialog))
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.resize(560, 260)
    dialog.show()
    return dialog
