"""The forms of the pop modes: Accompany (a piano part under a melody) and Pop infill (melody,
bridge and piano of a range of bars). Both follow chord text when it is given, else the song's
chord lane (see `generation_forms` for what a form does)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QWidget

from studio.ui.generation.generation_forms import (
    InfillForm,
    MissingInput,
    ModeForm,
    chords_edit,
    track_label,
)


class AccompanyForm(ModeForm):
    mode = "accompany"
    note_text = ("A piano part (bass, chords and rhythm) under the current track, as a new "
                 "track. Leave the chords empty and the model suggests them.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.track = QLabel()
        self.chords = QLineEdit()
        self.chords.setObjectName("chords_edit")
        self.chords.setPlaceholderText("C G Am F  or  | C G | Am F |")
        self.chords.setToolTip("A chord a bar (repeated when shorter than the melody), or the "
                               "chords of each bar between bar lines; empty: the chord lane's "
                               "chords, or suggested chords where the lane has none")
        self.texture = QComboBox()
        self.texture.setObjectName("texture_combo")
        for text, value in (("As the model plays it", None),
                            ("Bars of its training songs", "songs"),
                            ("The network's own voicings", "model")):
            self.texture.addItem(text, value)
        self.texture.setToolTip("Bars of its training songs: the piano plays bars of the songs "
                                "the model learned from, as their pianists played them, moved "
                                "to your chords (the shipped pop accompanist does this). The "
                                "network's own voicings: it writes every chord shape itself, "
                                "on a 16th grid.")
        self.only_range = QCheckBox("Only the selected time range")
        self.form.addRow("Melody", self.track)
        self.form.addRow("Chords", self.chords)
        self.form.addRow("Piano", self.texture)
        self.form.addRow(self.only_range)

    def refresh(self, window) -> None:
        self.track.setText(track_label(window.document.song, window.document.current_track_id))
        self.chords.setPlaceholderText("chords from the chord lane" if window.document.song.chords
                                       else "C G Am F  or  | C G | Am F |")

    def fields(self, window) -> dict:
        out: dict = {"track_ids": (self.current_track_id(window),),
                     "chords": self.chords.text().strip() or None,
                     "texture": self.texture.currentData()}
        if self.only_range.isChecked():
            span = self.selection(window)
            if span is None:
                raise MissingInput("Select the time range to accompany: drag on the ruler or "
                                   "select notes (or untick 'Only the selected time range').")
            out["time_range"] = span
        return out


class PopInfillForm(InfillForm):
    mode = "pop-infill"
    note_text = ("Rewrites the selected bars of the ticked tracks of a pop song (melody, bridge, "
                 "piano); every note outside them, and every track not ticked, stays.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form.labelForField(self.voices).setText("Tracks")
        self.chords = chords_edit("The chords of the selected bars; empty: the chords the song's "
                              "piano plays there")
        self.form.addRow("Chords", self.chords)
        self.texture = QComboBox()
        self.texture.setObjectName("infill_texture_combo")
        for text, value in (("The song's own piano bars", "songs"),
                            ("The network's own voicings", "model")):
            self.texture.addItem(text, value)
        self.texture.setToolTip("The song's own piano bars: the new piano plays bars of the "
                                "song's piano part outside the selection, as its pianist played "
                                "them, moved to the chords of the selected bars (a song with "
                                "fewer than four such bars: bars of POP909's pianists). The "
                                "network's own voicings: it writes every chord shape itself, on "
                                "a 16th grid.")
        self.form.addRow("Piano", self.texture)

    def fields(self, window) -> dict:
        return {**super().fields(window), "chords": self.chords.text().strip() or None,
                "texture": self.texture.currentData()}
