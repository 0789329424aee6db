"""Playback > Mixer: a volume and a pan slider per track.

The values are the track's CC 7 and CC 10 at its start (`studio.music.mix_and_meter`), so what
the mixer sets is heard in playback (sent at once while the song plays), in the audio export,
and written to MIDI files. Each slider move that ends (mouse release, a key, the wheel) is one
undo step; the rows follow the song (tracks added, removed, renamed, undo).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QSlider, QVBoxLayout, QWidget

from studio.music.mix_and_meter import CENTRE, DEFAULT_VOLUME, mix_edit, track_pan, track_volume


def pan_text(value: int) -> str:
    if value == CENTRE:
        return "C"
    return f"L{CENTRE - value}" if value < CENTRE else f"R{value - CENTRE}"


class MixerDialog(QDialog):
    def __init__(self, document, playback=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mixer_dialog")
        self.setWindowTitle("Mixer")
        self.document, self.playback = document, playback
        self.rows: dict[int, tuple[QSlider, QSlider, QLabel, QLabel]] = {}
        self.grid = QGridLayout()
        for column, title in enumerate(("Track", "Volume", "", "Pan", "")):
            self.grid.addWidget(QLabel(f"<b>{title}</b>"), 0, column)
        self.grid.setColumnStretch(1, 2)
        self.grid.setColumnStretch(3, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(self.grid)
        note = QLabel("Heard in playback and the audio export, written to MIDI files "
                      "(controllers 7 and 10). Double-click a slider to reset it.")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addStretch(1)
        self._rebuild_timer = QTimer(self, singleShot=True, interval=0)
        self._rebuild_timer.timeout.connect(self.rebuild)
        document.changed.connect(self._rebuild_timer.start)
        document.song_replaced.connect(self._rebuild_timer.start)
        self.rebuild()
        self.resize(460, 120 + 32 * len(self.rows))

    def rebuild(self) -> None:
        """One row per track, showing the song's values (after any edit, undo included)."""
        tracks = self.document.song.tracks
        if list(self.rows) != [t.id for t in tracks]:
            while self.grid.count() > 5:   # keep the titles
                item = self.grid.takeAt(5)
                if item.widget() is not None:
                    item.widget().deleteLater()
            self.rows.clear()
            for r, track in enumerate(tracks, start=1):
                self.rows[track.id] = self._row(r, track.id)
        for track in tracks:
            volume, pan, volume_label, pan_label = self.rows[track.id]
            for slider, value in ((volume, track_volume(track)), (pan, track_pan(track))):
                if not slider.isSliderDown():
                    slider.blockSignals(True)
                    slider.setValue(value)
                    slider.blockSignals(False)
            volume_label.setText(str(volume.value()))
            pan_label.setText(pan_text(pan.value()))
            name = self.grid.itemAtPosition(list(self.rows).index(track.id) + 1, 0).widget()
            name.setText(track.name or "Untitled track")

    def _row(self, r: int, track_id: int) -> tuple[QSlider, QSlider, QLabel, QLabel]:
        self.grid.addWidget(QLabel(), r, 0)
        volume, pan = _Slider(DEFAULT_VOLUME), _Slider(CENTRE)
        volume.setObjectName(f"volume_{track_id}")
        pan.setObjectName(f"pan_{track_id}")
        volume.setToolTip("Volume (CC 7): 0 silent, 100 the General MIDI default, 127 full")
        pan.setToolTip("Pan (CC 10): left, centre, right")
        volume_label, pan_label = QLabel(), QLabel()
        for label in (volume_label, pan_label):
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance("R63") + 4)
        self.grid.addWidget(volume, r, 1)
        self.grid.addWidget(volume_label, r, 2)
        self.grid.addWidget(pan, r, 3)
        self.grid.addWidget(pan_label, r, 4)
        for slider, kind in ((volume, "volume"), (pan, "pan")):
            slider.valueChanged.connect(
                lambda value, s=slider, k=kind: None if s.isSliderDown() else
                self.set_value(track_id, k, value))
            slider.sliderReleased.connect(
                lambda s=slider, k=kind: self.set_value(track_id, k, s.value()))
            slider.sliderMoved.connect(
                lambda value, lab=volume_label if kind == "volume" else pan_label, k=kind:
                lab.setText(str(value) if k == "volume" else pan_text(value)))
        return volume, pan, volume_label, pan_label

    def set_value(self, track_id: int, kind: str, value: int) -> bool:
        """Apply one volume or pan change to the song (one undo step)."""
        track = next((t for t in self.document.song.tracks if t.id == track_id), None)
        if track is None:
            return False
        current = track_volume(track) if kind == "volume" else track_pan(track)
        if current == value:
            return False
        edit = mix_edit(track, volume=value) if kind == "volume" else mix_edit(track, pan=value)
        self.document.apply(edit)
        if self.playback is not None:
            self.playback.send_mix(track_id)
        return True


class _Slider(QSlider):
    """0-127; a double-click puts it back at `default`."""

    def __init__(self, default: int) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.default = default
        self.setRange(0, 127)
        self.setPageStep(8)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.setValue(self.default)
